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
import { TEAM_ID_PATTERN } from './state';

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

/**
 * Not blank: at least one character that JavaScript's trim keeps. Written out rather than `\S`, so the
 * API document's pattern means the same in every regex engine that reads it (Python's `\s` differs).
 */
export const NOT_BLANK = '[^\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]';

/** The time zones the API document lists, made once. */
let zones: string[] | undefined;
const ZONES = () => (zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]);

/** The kit: each call makes a new schema. */
export function fieldKit() {
  /**
   * Free text: its length counted as sent (the API document's maxLength), then trimmed; blank is refused.
   * (Counting after the trim let a text over its maxLength through when it had spaces around it.)
   */
  const text = (max: number, oneLine = false) => {
    const sent = z.string().max(max, `must be at most ${max} characters`).regex(new RegExp(NOT_BLANK), 'must not be empty');
    // One pattern in the document for both rules (it keeps one per string): one line with something on it.
    return (oneLine ? sent.regex(new RegExp(`^[^\\r\\n]*${NOT_BLANK}[^\\r\\n]*$`), 'must be one line') : sent).trim();
  };
  const line = (max: number = TEXT_LIMITS.line) => text(max, true);
  const long = () => text(TEXT_LIMITS.long);
  const short = () => text(TEXT_LIMITS.short);
  /** An ISO date or date-time, stored as a full ISO date-time. */
  const isoTime = () =>
    z
      .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time, e.g. 2026-12-01T15:00:00Z' })
      .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s).toISOString())
      .meta({ type: 'string', format: 'date-time', example: '2026-12-01T15:00:00Z' });
  /** The zones the document lists (the runtime's canonical IANA names, and UTC); their aliases (US/Eastern) are accepted too. */
  const timeZone = () =>
    z
      .string()
      .max(100)
      .refine(isTimeZone, { message: 'expected an IANA time zone such as America/New_York' })
      .meta({ enum: ZONES(), description: 'An IANA time zone (its aliases, such as US/Eastern, are accepted too)' });
  const overrideLint = () => z.boolean().optional().describe('Send even though the playbook lint refuses the wording (422 otherwise).');
  const by = () => line().optional().describe('Who acted (defaults to the API key’s name)');
  /**
   * An email address as zod checks it: its pattern is the document's (not `format: email`, which other
   * validators read more loosely or more strictly than zod does).
   */
  const email = () => z.string().max(320).regex(z.regexes.email, 'Invalid email address');
  /** A team's id (its pattern made here: a preloaded module's regex is frozen, and zod writes its lastIndex). */
  const teamId = () => z.string().regex(new RegExp(TEAM_ID_PATTERN.source), 'a team id: 1 to 40 of a-z, 0-9 and -');
  return { z, text, line, long, short, isoTime, timeZone, overrideLint, by, email, teamId };
}
export type FieldKit = ReturnType<typeof fieldKit>;
