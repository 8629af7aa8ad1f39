/**
 * The workflow's check of an action's payload: the API's own schemas (workflows/schemas.ts), built once
 * per workflow thread and shared by every case the worker holds.
 *
 * Every worker preloads this module (worker/workflow-source.ts), so zod and the schemas are evaluated
 * once per thread instead of once per case in the SDK's reusable V8 context: a cached case held about
 * 1.3 MB of heap with its own copies, 0.25 MB without (scripts/bench.ts, part `memory`).
 *
 * Safe to share: the schemas keep no state of a case; what zod derives and caches on them is the same
 * for every case. They stay in this module's scope and only functions are exported, because the SDK
 * deep-freezes a preloaded module's exports and zod must still be able to write its caches.
 */
import type { Action } from '../playbook';
import { buildSchemas, fieldErrors } from './schemas';

const { actionSchemas } = buildSchemas();

export type ActionCheck = { ok: true; action: Action } | { ok: false; details: { field: string; message: string }[] };

/** An action's payload as the API would accept it (trimmed, times made full ISO), or the fields it fails on. */
export function checkAction(type: Action['type'], args: unknown): ActionCheck {
  const parsed = actionSchemas[type].safeParse(args ?? {});
  if (!parsed.success) return { ok: false, details: fieldErrors(parsed.error) };
  return { ok: true, action: { ...parsed.data, type } as Action };
}
