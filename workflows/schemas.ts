/**
 * The payloads of the workflow's updates and of an open, as zod schemas: the API validates requests
 * with them and the workflow's update validators check every update with them again, so a client
 * that skips the API (CLI, UI, another SDK) cannot put a malformed action into a case.
 * Pure zod: no Node built-ins, safe in the workflow sandbox. OpenAPI names are given in api/openapi.ts.
 *
 * A builder rather than module-level schemas: the API builds them once (api/schemas.ts), and the
 * worker builds them once per workflow thread for every case it holds (workflows/validation.ts,
 * preloaded). The SDK freezes what a preloaded module exports, and zod writes what it derives onto
 * its schema objects, so no schema object is ever exported from a module the workflow loads.
 */
import { z } from 'zod';
import { CATEGORIES, SEGMENTS, SEVERITIES, STAGES, TASK_KINDS, TEXT_LIMITS, actionSchemasOf } from '../playbook';
import { fieldKit } from '../playbook/inputs';

/** The payload schemas: the open's and each action's (from the action registry, playbook/registry.ts). */
export function buildSchemas() {
  const k = fieldKit();
  const { text, line, short } = k;
  const isoTime = k.isoTime();
  const timeZone = k.timeZone();

  const severitySchema = z.enum(SEVERITIES);
  const stageSchema = z.enum(STAGES);
  const segmentSchema = z.enum(SEGMENTS);
  const taskKindSchema = z.enum(TASK_KINDS);

  const openSchema = z.object({
    customer: z.object({
      id: line(),
      name: line(),
      segment: segmentSchema,
      arr: z.number().nonnegative().max(1e12),
      healthScore: z.number().min(0).max(100),
      renewalDate: isoTime.optional(),
      nextQbrDate: isoTime.optional(),
    }),
    contact: z.object({ name: line(), email: k.email(), timezone: timeZone.optional() }),
    csm: z.object({ name: line(), email: k.email(), timezone: timeZone.optional() }),
    severity: severitySchema,
    category: z.enum(CATEGORIES),
    trigger: line().describe('One of the playbook triggers of the category (id or label), or free text'),
    title: line(),
    impact: short(),
    description: text(TEXT_LIMITS.description).optional(),
    neededBy: isoTime.optional(),
    workaround: short().optional(),
    flags: z.object({ executiveInvolved: z.boolean().optional(), churnThreat: z.boolean().optional() }).optional(),
    calendar: line(100).optional().describe('A calendar of the escalation config (the customer’s region); default: the team’s, or policy.calendar'),
    team: k
      .teamId()
      .optional()
      .describe('The team the case belongs to (its people, channel, policy and calendar); required when more than one team is configured and no defaultTeam'),
  });

  /** Each action's payload, as the API accepts it and the workflow's validator checks it. */
  const actionSchemas = actionSchemasOf(k);

  return { email: k.email, isoTime, severitySchema, stageSchema, segmentSchema, taskKindSchema, openSchema, actionSchemas };
}
export type Schemas = ReturnType<typeof buildSchemas>;
export type OpenBody = z.infer<Schemas['openSchema']>;
export type ActionSchemas = Schemas['actionSchemas'];

/** Field-level reasons of a refused payload: `[{ field, message }]`. */
export function fieldErrors(err: z.ZodError): { field: string; message: string }[] {
  return err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}
