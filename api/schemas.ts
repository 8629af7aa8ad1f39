import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { CATEGORIES, INTERNAL_TRIGGERS, NOTE_KINDS, SEVERITIES, STAGES, TASK_KINDS } from '../playbook';

extendZodWithOpenApi(z);

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const line = (max: number) => text(max).regex(/^[^\r\n]*$/, 'must be one line');
/** An ISO date or date-time, stored as a full ISO date-time. */
const isoTime = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'expected an ISO 8601 date or date-time, e.g. 2026-12-01T15:00:00Z' })
  .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s).toISOString())
  .openapi({ type: 'string', format: 'date-time', example: '2026-12-01T15:00:00Z' });
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as America/New_York' },
);
const overrideLint = z.boolean().optional().openapi({ description: 'Send even though the playbook lint refuses the wording (422 otherwise).' });

export const severitySchema = z.enum(SEVERITIES).openapi('Severity');
export const stageSchema = z.enum(STAGES).openapi('Stage');

export const openSchema = z
  .object({
    customer: z.object({
      id: line(200),
      name: line(200),
      segment: z.enum(['smb', 'mid-market', 'enterprise']),
      arr: z.number().nonnegative().max(1e12),
      healthScore: z.number().min(0).max(100),
      renewalDate: isoTime.optional(),
      nextQbrDate: isoTime.optional(),
    }),
    contact: z.object({ name: line(200), email: z.email(), timezone: timeZone.optional() }),
    csm: z.object({ name: line(200), email: z.email() }),
    severity: severitySchema,
    category: z.enum(CATEGORIES),
    trigger: line(200).openapi({ description: 'One of the playbook triggers of the category (id or label), or free text' }),
    title: line(200),
    impact: text(2000),
    description: text(10_000).optional(),
    neededBy: isoTime.optional(),
    workaround: text(2000).optional(),
    flags: z.object({ executiveInvolved: z.boolean().optional(), churnThreat: z.boolean().optional() }).optional(),
  })
  .openapi('OpenEscalation');
export type OpenBody = z.infer<typeof openSchema>;

export const actionSchemas = {
  acknowledge: z.object({ by: line(200).optional(), note: text(4000).optional(), nextUpdateAt: isoTime.optional(), overrideLint }).openapi('Acknowledge'),
  note: z.object({ text: text(10_000), kind: z.enum(NOTE_KINDS).optional() }).openapi('Note'),
  update: z
    .object({
      known: text(4000),
      unknown: text(4000).optional(),
      doing: text(4000).optional(),
      eta: text(500).optional(),
      workaround: text(4000).optional(),
      nextUpdateAt: isoTime.optional().openapi({ description: 'Required by the playbook lint (422 without it)' }),
      overrideLint,
    })
    .openapi('ProgressUpdate'),
  severity: z.object({ severity: severitySchema, reason: text(2000) }).openapi('SeverityChange'),
  internal_escalation: z
    .object({
      trigger: z.enum(INTERNAL_TRIGGERS),
      note: text(4000),
      ask: text(2000).optional(),
      includeIfNeeded: z.boolean().optional().openapi({ description: 'Also involve the "if needed" roles (legal for billing/contract)' }),
    })
    .openapi('InternalEscalation'),
  resolve: z.object({ rootCause: text(4000), fix: text(4000), prevention: text(4000), overrideLint }).openapi('Resolution'),
  confirmation: z.object({ resolved: z.boolean(), comment: text(4000).optional() }).openapi('Confirmation'),
  complete_task: z.object({ notes: text(4000) }).openapi('TaskCompletion'),
  csat: z.object({ score: z.number().int().min(0).max(10), comment: text(4000).optional() }).openapi('Csat'),
  outcome: z.object({ churned: z.boolean(), note: text(4000).optional() }).openapi('Outcome'),
  close: z.object({ reason: text(2000) }).openapi('Close'),
} as const;

export const taskKindSchema = z.enum(TASK_KINDS);

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
export const listQuerySchema = z.object({
  stage: stageSchema.optional(),
  severity: severitySchema.optional(),
  customerId: line(200).optional(),
  breached: boolParam.optional(),
  status: z.enum(['open', 'closed']).optional(),
  cursor: z.string().max(4000).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const reportQuerySchema = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    segment: z.enum(['smb', 'mid-market', 'enterprise']).optional(),
    severity: severitySchema.optional(),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['from'] });
export type ReportQuery = z.infer<typeof reportQuerySchema>;

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');
