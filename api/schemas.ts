import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { isoTime, segmentSchema, severitySchema, stageSchema } from '../workflows/messages';

extendZodWithOpenApi(z);

// The payload schemas live beside the workflow's messages: the workflow's validators check every
// update with the same ones.
export { actionSchemas, openSchema, severitySchema, stageSchema, taskKindSchema, type OpenBody } from '../workflows/messages';

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
export const listQuerySchema = z.object({
  stage: stageSchema.optional(),
  severity: severitySchema.optional(),
  customerId: z.string().trim().min(1).max(200).regex(/^[^\r\n]*$/, 'must be one line').optional(),
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
    segment: segmentSchema.optional(),
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
