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
import { CATEGORIES, INTERNAL_TRIGGERS, NOTE_KINDS, PAUSE_REASONS, REPLY_CHARS, SEGMENTS, SEVERITIES, STAGES, TASK_KINDS, TEXT_LIMITS } from '../playbook';

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
/** The payload schemas: the open's and each action's. */
export function buildSchemas() {
  const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
  const line = (max: number = TEXT_LIMITS.line) => text(max).regex(/^[^\r\n]*$/, 'must be one line');
  const long = () => text(TEXT_LIMITS.long);
  const short = () => text(TEXT_LIMITS.short);
  /** An ISO date or date-time, stored as a full ISO date-time. */
  const isoTime = z
    .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time, e.g. 2026-12-01T15:00:00Z' })
    .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s).toISOString())
    .meta({ type: 'string', format: 'date-time', example: '2026-12-01T15:00:00Z' });
  const timeZone = z.string().max(100).refine(isTimeZone, { message: 'expected an IANA time zone such as America/New_York' });
  const overrideLint = z.boolean().optional().describe('Send even though the playbook lint refuses the wording (422 otherwise).');
  const by = line().optional().describe('Who acted (defaults to the API key’s name)');

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
    contact: z.object({ name: line(), email: z.email(), timezone: timeZone.optional() }),
    csm: z.object({ name: line(), email: z.email(), timezone: timeZone.optional() }),
    severity: severitySchema,
    category: z.enum(CATEGORIES),
    trigger: line().describe('One of the playbook triggers of the category (id or label), or free text'),
    title: line(),
    impact: short(),
    description: text(TEXT_LIMITS.description).optional(),
    neededBy: isoTime.optional(),
    workaround: short().optional(),
    flags: z.object({ executiveInvolved: z.boolean().optional(), churnThreat: z.boolean().optional() }).optional(),
    calendar: line(100).optional().describe('A calendar of the escalation config (the customer’s region); default: policy.calendar'),
  });

  /** Each action's payload, as the API accepts it and the workflow's validator checks it. */
  const actionSchemas = {
    acknowledge: z.object({ by, note: long().optional(), nextUpdateAt: isoTime.optional(), overrideLint }),
    note: z.object({ by, text: text(TEXT_LIMITS.note), kind: z.enum(NOTE_KINDS).optional() }),
    update: z.object({
      by,
      known: long(),
      unknown: long().optional(),
      doing: long().optional(),
      eta: text(500).optional(),
      workaround: long().optional(),
      nextUpdateAt: isoTime.optional().describe('Required by the playbook lint (422 without it)'),
      overrideLint,
    }),
    severity: z.object({ by, severity: severitySchema, reason: short() }),
    internal_escalation: z.object({
      by,
      trigger: z.enum(INTERNAL_TRIGGERS),
      note: long(),
      ask: short().optional(),
      includeIfNeeded: z.boolean().optional().describe('Also involve the "if needed" roles (legal for billing/contract)'),
    }),
    resolve: z.object({ by, rootCause: long(), fix: long(), prevention: long(), overrideLint }),
    confirmation: z.object({ by, resolved: z.boolean(), comment: long().optional() }),
    complete_task: z.object({ by, kind: taskKindSchema, notes: long() }),
    csat: z.object({ by, score: z.number().int().min(0).max(10), comment: long().optional() }),
    outcome: z.object({ by, churned: z.boolean(), note: long().optional() }),
    close: z.object({ by, reason: short() }),
    pause: z.object({
      by,
      reason: z.enum(PAUSE_REASONS),
      note: short().optional(),
      until: isoTime.optional().describe('Resume by itself at this time (also on resume, or when the customer replies)'),
    }),
    resume: z.object({ by, note: short().optional() }),
    reply: z.object({
      by,
      from: line(320),
      // The inbound path cuts a longer reply to this (the whole email stays in the mailbox it came from).
      text: text(REPLY_CHARS),
      subject: line(998).optional(),
      messageId: line(998).optional(),
    }),
  } as const;

  return { isoTime, severitySchema, stageSchema, segmentSchema, taskKindSchema, openSchema, actionSchemas };
}
export type Schemas = ReturnType<typeof buildSchemas>;
export type OpenBody = z.infer<Schemas['openSchema']>;
export type ActionSchemas = Schemas['actionSchemas'];

/** Field-level reasons of a refused payload: `[{ field, message }]`. */
export function fieldErrors(err: z.ZodError): { field: string; message: string }[] {
  return err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}
