import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTION_ROUTES } from './routes';
import { actionSchemas, errorSchema, listQuerySchema, openSchema, reportQuerySchema, stageSchema, severitySchema } from './schemas';
import { ACTION_STAGES, type ActionType } from '../playbook';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const caseView = z.object({}).passthrough().openapi('Escalation', { description: 'The case view (see README)' });
const isoOrNull = z.string().nullable();
const actionSummary = z
  .object({
    id: z.string(),
    stage: stageSchema,
    status: z.enum(['open', 'closed']),
    severity: severitySchema,
    deadlines: z.record(z.string(), isoOrNull),
    paused: z
      .object({ since: z.string(), reason: z.string(), until: isoOrNull, note: isoOrNull, by: isoOrNull, remaining: z.record(z.string(), z.number()) })
      .nullable(),
    warnings: z.array(z.object({ code: z.string(), field: z.string(), message: z.string() }).passthrough()),
  })
  .openapi('ActionSummary', { description: 'The case after the action (compact: GET the case for the whole view)' });
const ACTION_NAMES: Record<ActionType, string> = {
  acknowledge: 'Acknowledge',
  note: 'Note',
  update: 'ProgressUpdate',
  severity: 'SeverityChange',
  internal_escalation: 'InternalEscalation',
  resolve: 'Resolution',
  confirmation: 'Confirmation',
  complete_task: 'TaskCompletion',
  csat: 'Csat',
  outcome: 'Outcome',
  close: 'Close',
  pause: 'Pause',
  resume: 'Resume',
  reply: 'CustomerReply',
};
// Named once per process (zod's registry keeps one schema per id): the bodies as clients send them,
// from the same schemas the workflow's validators use (the task kind is in the path).
const OPEN_BODY = openSchema.meta({ id: 'OpenEscalation' });
const ACTION_BODIES = Object.fromEntries(
  (Object.keys(ACTION_NAMES) as ActionType[]).map((a) => [
    a,
    (a === 'complete_task' ? actionSchemas.complete_task.omit({ kind: true }) : actionSchemas[a]).meta({ id: ACTION_NAMES[a] }),
  ]),
) as unknown as Record<ActionType, z.ZodType>;
const LIMITED: ActionType[] = ['note', 'update', 'severity', 'internal_escalation', 'resolve', 'complete_task', 'csat', 'outcome', 'pause', 'resume'];
const errors = {
  400: json(errorSchema, 'Invalid input, with field-level details'),
  401: json(errorSchema, 'No or bad credentials'),
  403: json(errorSchema, 'Role or link not allowed'),
  404: json(errorSchema, 'Unknown case'),
  503: json(errorSchema, 'Temporal unreachable (Retry-After)'),
};


/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function buildOpenApi() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'API key (API_KEYS)' });
  const security = [{ apiKey: [] }];

  const id = z.object({ id: z.string().openapi({ example: 'acme-7c1e04b9d2' }) });

  registry.registerPath({
    method: 'post',
    path: '/escalations',
    summary: 'Open an escalation',
    security,
    request: {
      headers: z.object({ 'Idempotency-Key': z.string().optional().openapi({ description: 'Same key → the same case (200)' }) }),
      body: { content: { 'application/json': { schema: OPEN_BODY } } },
    },
    responses: { 201: json(caseView, 'Opened (Location header)'), 200: json(caseView, 'Already opened with this Idempotency-Key'), 409: json(errorSchema, 'Key reused with a different body'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/escalations',
    summary: 'List escalations (from Temporal visibility)',
    security,
    request: { query: listQuerySchema },
    responses: { 200: json(z.object({ items: z.array(z.object({}).passthrough()), nextCursor: z.string().nullable() }), 'A page'), ...errors },
  });
  registry.registerPath({ method: 'get', path: '/escalations/{id}', summary: 'One escalation', security, request: { params: id }, responses: { 200: json(caseView, 'The case'), ...errors } });
  for (const r of ACTION_ROUTES) {
    const path = r.path.replace(':id', '{id}').replace(':kind', '{kind}');
    const params = r.action === 'complete_task' ? id.extend({ kind: z.enum(['follow_up', 'recovery_call', 'health_check', 'qbr_review']) }) : id;
    registry.registerPath({
      method: 'post',
      path,
      summary: r.summary,
      description: `Role: ${r.role}${r.link ? ` — or a customer link: ?token=<token> (${r.link.join(', ')})` : ''}`,
      security,
      request: { params, body: { content: { 'application/json': { schema: ACTION_BODIES[r.action] } } } },
      responses: {
        200: json(actionSummary, 'The case after the action, with `warnings` from the message lint'),
        409: json(errorSchema, `Not allowed in the current stage (allowed in: ${ACTION_STAGES[r.action].join(', ')})`),
        ...(['acknowledge', 'update', 'resolve'].includes(r.action) || LIMITED.includes(r.action)
          ? { 422: json(errorSchema, [['acknowledge', 'update', 'resolve'].includes(r.action) ? 'Refused by the playbook message lint (message_lint)' : '', LIMITED.includes(r.action) ? 'the case reached one of its limits (limit_reached)' : ''].filter(Boolean).join('; ')) }
          : {}),
        ...errors,
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/reports/escalations',
    summary: "The playbook's four metrics over a period",
    security,
    request: { query: reportQuerySchema as unknown as z.ZodObject },
    responses: { 200: json(z.object({}).passthrough(), 'Metrics'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/inbound/email',
    summary: "A customer's email reply, matched to its case",
    description:
      'Role: inbound (or agent). The raw RFC 822 message, matched by In-Reply-To/References to the case emails or by the `+<caseId>` Reply-To address; its new text (quoted history and signature removed) goes on the timeline, the CSM is told, a paused case resumes. The same Message-ID twice is recorded once.',
    security,
    request: { body: { content: { 'message/rfc822': { schema: z.string().openapi({ format: 'binary' }) } } } },
    responses: {
      200: json(z.object({ caseId: z.string(), matchedBy: z.enum(['thread', 'address']) }), 'Recorded on the case'),
      409: json(errorSchema, 'The case is closed'),
      415: json(errorSchema, 'Not message/rfc822'),
      422: json(errorSchema, 'unmatched_reply (no case named) or empty_reply (no new text): nothing recorded'),
      ...errors,
    },
  });
  registry.registerPath({ method: 'get', path: '/healthz', summary: 'Whether Temporal is reachable', responses: { 200: { description: 'ok' }, 503: { description: 'Temporal unreachable' } } });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Escalation service', version: '0.1.0', description: 'Customer escalations as durable Temporal workflows.' },
  });
}
