import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { buildSchemas } from '../workflows/schemas';
import { HttpError } from './errors';
import { TEAM_ID_PATTERN } from '../playbook';

extendZodWithOpenApi(z);

// The payload schemas live beside the workflow's messages: the workflow's validators check every
// update with the same ones (workflows/validation.ts).
export const { email, actionSchemas, openSchema, severitySchema, stageSchema, taskKindSchema, segmentSchema, isoTime } = buildSchemas();
export type { OpenBody } from '../workflows/schemas';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A query parameter's text: one value, no control characters (they never reach a visibility query). */
const param = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'must not contain control characters');
const teamParam = z.string().regex(TEAM_ID_PATTERN, 'a team id: 1 to 40 of a-z, 0-9 and -');
/** A list's cursor as this API writes them (api/cursors.ts): every list of the API takes the same. */
export const cursorParam = param(4000).regex(/^[A-Za-z0-9_-]+\.[0-9a-f]{16}$/, 'not a cursor from this API');
export const listQuerySchema = z.object({
  stage: stageSchema.optional(),
  severity: severitySchema.optional(),
  customerId: param(200).optional(),
  csm: email().optional().describe("The CSM's email"),
  breached: boolParam.optional(),
  status: z.enum(['open', 'closed']).optional(),
  team: teamParam.optional().describe('Only the cases this team owns now (one of your teams)'),
  sort: z.enum(['nextDeadline']).optional().describe('nextDeadline: soonest first, cases without one last'),
  cursor: cursorParam.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const reportQuerySchema = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    segment: segmentSchema.optional(),
    severity: severitySchema.optional(),
    team: teamParam.optional().describe('Only the cases this team owns now (one of your teams)'),
  })
  .refine((q) => !q.from || !q.to || q.from < q.to, { message: 'from must be before to', path: ['from'] });
export type ReportQuery = z.infer<typeof reportQuerySchema>;

/**
 * A query string checked against its schema: an unknown parameter is a 400 naming it (a typo must not
 * widen a list to everyone's cases), a repeated one a 400 too.
 */
export function parseQuery<S extends z.ZodObject>(schema: S, query: Record<string, unknown>): z.infer<S> {
  const known = new Set(Object.keys(schema.shape));
  const issues = [
    ...Object.keys(query)
      .filter((k) => !known.has(k))
      .map((k) => ({ field: k, message: `unknown query parameter (known: ${[...known].join(', ')})` })),
    ...Object.entries(query)
      .filter(([k, v]) => known.has(k) && typeof v !== 'string')
      .map(([k]) => ({ field: k, message: 'give it once' })),
  ];
  if (issues.length > 0) throw new HttpError(400, 'invalid_input', 'The query is not valid', issues);
  return schema.parse(query);
}

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');
