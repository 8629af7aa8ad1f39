import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTION_ROUTES } from './routes';
import { actionSchemas, errorSchema, listQuerySchema, openSchema, reportQuerySchema } from './schemas';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const caseView = z.object({}).passthrough().openapi('Escalation', { description: 'The case view (see README)' });
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
  const id = z.object({ id: z.string().openapi({ example: 'esc-3f2a…' }) });

  registry.registerPath({
    method: 'post',
    path: '/escalations',
    summary: 'Open an escalation',
    security,
    request: {
      headers: z.object({ 'Idempotency-Key': z.string().optional().openapi({ description: 'Same key → the same case (200)' }) }),
      body: { content: { 'application/json': { schema: openSchema } } },
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
      request: { params, body: { content: { 'application/json': { schema: actionSchemas[r.action] } } } },
      responses: {
        200: json(caseView, 'The case after the action, with `warnings` from the message lint'),
        409: json(errorSchema, 'Not allowed in the current stage'),
        ...(['acknowledge', 'update', 'resolve'].includes(r.action) ? { 422: json(errorSchema, 'Refused by the playbook message lint') } : {}),
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
  registry.registerPath({ method: 'get', path: '/healthz', summary: 'Whether Temporal is reachable', responses: { 200: { description: 'ok' }, 503: { description: 'Temporal unreachable' } } });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Escalation service', version: '0.1.0', description: 'Customer escalations as durable Temporal workflows.' },
  });
}
