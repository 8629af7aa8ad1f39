/**
 * The field kit every payload schema is made of: free text trimmed and bounded, one-line text, ISO
 * times, time zones, who acted. Pure zod, no Node built-ins: the workflow's validators use it too.
 *
 * Only workflows/schemas.ts imports this module (and so zod), and only the preloaded validation module
 * imports that: zod is evaluated once per workflow thread, not once per case (test/workflow/shared-modules.test.ts).
 * The action registry takes the kit, zod included, as an argument for the same reason.
 *
 * Builders, not schema objects: the SDK freezes what a preloaded workflow module exports, and zod
 * writes what it derives onto its schemas, so schemas are made by the module that keeps them.
 */
import { z } from 'zod';
import { TEXT_LIMITS } from './limits';

/** Whether Intl knows the zone; the answers are kept (a few hundred zones exist, and asking builds a formatter). */
const knownZones = new Map<string, boolean>();
function isTimeZone(tz: string): boolean {
  let known = knownZones.get(tz);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      known = true;
    } catch {
      known = false;
    }
    if (knownZones.size < 1_000) knownZones.set(tz, known);
  }
  return known;
}

/** The kit: each call makes a new schema. */
export function fieldKit() {
  const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
  const line = (max: number = TEXT_LIMITS.line) => text(max).regex(/^[^\r\n]*$/, 'must be one line');
  const long = () => text(TEXT_LIMITS.long);
  const short = () => text(TEXT_LIMITS.short);
  /** An ISO date or date-time, stored as a full ISO date-time. */
  const isoTime = () =>
    z
      .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time, e.g. 2026-12-01T15:00:00Z' })
      .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s).toISOString())
      .meta({ type: 'string', format: 'date-time', example: '2026-12-01T15:00:00Z' });
  const timeZone = () => z.string().max(100).refine(isTimeZone, { message: 'expected an IANA time zone such as America/New_York' });
  const overrideLint = () => z.boolean().optional().describe('Send even though the playbook lint refuses the wording (422 otherwise).');
  const by = () => line().optional().describe('Who acted (defaults to the API key’s name)');
  return { z, text, line, long, short, isoTime, timeZone, overrideLint, by };
}
export type FieldKit = ReturnType<typeof fieldKit>;
