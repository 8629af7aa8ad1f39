import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ACTION_ROUTES, type ActionRoute } from './routes';
import { actionSchemas, errorSchema, listQuerySchema, openSchema, reportQuerySchema, stageSchema, severitySchema } from './schemas';
import { ACTIONS, ACTION_STAGES, ACTION_TYPES, DEADLINE_KINDS, DEADLINE_VIEW_NAMES, DEFAULT_TEAM, refusalsOf, PAUSE_REASONS, SEGMENTS, type ActionType } from '../playbook';
import { ACTION_UPDATES } from '../workflows/messages';
import { deliveriesQuerySchema, deliverySchema } from './webhooks';

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const isoOrNull = z.string().nullable();
const iso = z.string().openapi({ format: 'date-time', example: '2026-12-01T15:00:00Z' });
const person = z.object({ name: z.string(), email: z.string() });
const pausedSchema = z
  .object({ since: z.string(), reason: z.enum(PAUSE_REASONS), until: isoOrNull, note: isoOrNull, by: isoOrNull, remaining: z.record(z.string(), z.number()).openapi({ description: 'Seconds left on each clock the pause holds' }) })
  .nullable();
const deadlineNames = Object.values(DEADLINE_VIEW_NAMES);
const deadlinesSchema = z.object(Object.fromEntries(deadlineNames.map((k) => [k, isoOrNull])) as Record<(typeof deadlineNames)[number], typeof isoOrNull>).openapi({ description: 'Open deadlines (ISO) or null' });
/** The case view: its main fields (the README lists them all; more may be added). */
const caseView = z
  .object({
    id: z.string().openapi({ example: 'acme-7c1e04b9d2' }),
    workflowId: z.string().openapi({ example: 'escalation-acme-7c1e04b9d2' }),
    stage: stageSchema,
    status: z.enum(['open', 'closed']),
    severity: severitySchema,
    title: z.string(),
    impact: z.string(),
    customer: z.object({ id: z.string(), name: z.string(), segment: z.enum(SEGMENTS), arr: z.number(), healthScore: z.number() }).passthrough(),
    contact: person.extend({ timezone: z.string().optional() }),
    csm: person,
    openedAt: iso,
    acknowledgedAt: isoOrNull,
    firstResponseAt: isoOrNull,
    resolvedAt: isoOrNull,
    confirmedAt: isoOrNull,
    closedAt: isoOrNull,
    closeReason: isoOrNull,
    deadlines: deadlinesSchema,
    nextDeadline: z.object({ kind: z.enum(DEADLINE_KINDS), dueAt: iso }).nullable(),
    paused: pausedSchema,
    pausedSeconds: z.number(),
    calendar: z.string().nullable(),
    team: z.string().openapi({ description: 'The team the case belongs to (`default` for cases opened before teams)' }),
    formerTeams: z.array(z.string()).openapi({ description: 'Teams it was transferred away from: they keep read access' }),
    breaches: z.array(z.object({ kind: z.enum(DEADLINE_KINDS), dueAt: iso, at: iso })),
    internalEscalations: z.array(z.object({ trigger: z.string(), to: z.array(z.string()), at: iso, note: z.string() }).passthrough()),
    messages: z.array(z.object({ id: z.string(), kind: z.string(), channel: z.enum(['email', 'slack']), to: z.array(z.string()), at: iso, status: z.enum(['pending', 'sent', 'skipped', 'failed']), reason: z.string().optional() }).passthrough()),
    tasks: z.array(z.object({ kind: z.string(), dueAt: iso, doneAt: iso.optional(), notes: z.string().optional() })),
    timeline: z.array(
      z.object({
        at: iso,
        type: z.string(),
        actor: z.union([z.string(), z.object({ name: z.string(), email: z.string() })]).optional().openapi({ description: 'Who acted: a person signed in as { name, email }; an API key, a Slack user or the customer by name' }),
        summary: z.string(),
      }),
    ),
    replies: z.array(z.object({ at: iso, from: z.string(), text: z.string(), subject: z.string().optional() })),
    csat: z.object({ score: z.number(), comment: z.string().optional(), at: iso }).nullable(),
    outcome: z.object({ churned: z.boolean(), note: z.string().optional(), at: iso }).nullable(),
    rulesVersion: z.number(),
    playbook: z.object({ allowedActions: z.array(z.string()) }).passthrough().nullable(),
    stale: z
      .object({ readAt: iso, note: z.string() })
      .nullable()
      .openapi({ description: 'Null: the case as its workflow holds it now. Set when the worker did not answer within 750 ms (a burst of deadlines) and events were added since this process last read the case: that earlier read, with when it was read' }),
  })
  .passthrough()
  .openapi('Escalation', { description: 'The case view (README, "The API")' });
const listItem = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    title: z.string().nullable(),
    customer: z.object({ id: z.string().nullable(), name: z.string().nullable(), segment: z.string().nullable() }),
    stage: stageSchema.nullable(),
    status: z.enum(['open', 'closed']).nullable(),
    severity: severitySchema.nullable(),
    team: z.string(),
    csm: z.string().nullable(),
    breached: z.boolean(),
    breaches: z.array(z.string()),
    openedAt: isoOrNull,
    nextDeadline: isoOrNull,
  })
  .passthrough()
  .openapi('EscalationListItem');
const durations = z.object({ count: z.number(), p50Minutes: z.number().nullable(), p90Minutes: z.number().nullable(), withinTarget: z.number().nullable() });
const metrics = z
  .object({
    cases: z.number(),
    timeToAcknowledge: durations.extend({ target: z.string() }),
    timeToResolution: z.object({ bySeverity: z.record(z.string(), durations.extend({ window: z.string(), excludingPaused: durations, pausedShare: z.number().nullable() })) }),
    csat: z.object({ target: z.number(), responses: z.number(), average: z.number().nullable(), atOrAboveTarget: z.number().nullable() }),
    churn: z.object({ target: z.number(), decided: z.number(), churned: z.number(), rate: z.number().nullable() }),
    breaches: z.object({ total: z.number(), byKind: z.record(z.string(), z.number()) }),
  })
  .passthrough();
const report = metrics
  .extend({ period: z.object({ from: isoOrNull, to: isoOrNull }), bySegment: z.record(z.string(), metrics), bySeverity: z.record(z.string(), metrics) })
  .openapi('EscalationReport');

/** What a client would really send: the /docs page shows these, not generated strings. */
export const EXAMPLES = {
  open: {
    customer: { id: 'acme', name: 'Acme Corp', segment: 'enterprise', arr: 240000, healthScore: 62, renewalDate: '2027-03-31' },
    contact: { name: 'Dana Reyes', email: 'dana@acme.example', timezone: 'America/New_York' },
    csm: { name: 'Sam Carter', email: 'sam@vendor.example' },
    severity: 'critical',
    category: 'technical',
    trigger: 'Data missing or incorrect',
    title: 'Data sync failing',
    impact: 'Their finance team cannot close the month',
    workaround: 'Manual CSV export',
  },
  /** Each action's, from the action registry. */
  actions: Object.fromEntries(ACTION_TYPES.map((t) => [t, ACTIONS[t].example])) as unknown as Record<ActionType, Record<string, unknown>>,
};
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
/** The fields a schema's `pick` keeps or its `omit` drops. */
const fieldMask = (fields: string[]) => Object.fromEntries(fields.map((f) => [f, true])) as Record<string, true> & Record<number, never>;
// Named once per process (zod's registry keeps one schema per id): the bodies as clients send them,
// from the same schemas the workflow's validators use (fields the path carries are not in the body).
const OPEN_BODY = openSchema.meta({ id: 'OpenEscalation', example: EXAMPLES.open });
const ACTION_BODIES = Object.fromEntries(
  ACTION_ROUTES.map((r) => [r.action, bodyOfRoute(r).meta({ id: ACTIONS[r.action].body, example: ACTIONS[r.action].example })]),
) as unknown as Record<ActionType, z.ZodType>;
function bodyOfRoute(r: ActionRoute): z.ZodObject {
  const schema: z.ZodObject = actionSchemas[r.action];
  return r.pathFields.length > 0 ? schema.omit(fieldMask(r.pathFields)) : schema;
}
/** The same key makes the same request once: an open names the same case, an action lands once. */
const IDEMPOTENCY = z.object({ 'Idempotency-Key': z.string().min(1).max(255).optional().openapi({ description: 'The same key → the same case (an open answers 200) or the same action, once; 1 to 255 characters' }) });
const REFUSALS = { message_lint: 'Refused by the playbook message lint (message_lint)', limit_reached: 'the case reached one of its limits (limit_reached)' } as const;
const errors = {
  400: json(errorSchema, 'Invalid input, with field-level details'),
  401: json(errorSchema, 'No or bad credentials'),
  403: json(errorSchema, 'Role or link not allowed'),
  404: json(errorSchema, 'Unknown case'),
  503: json(errorSchema, 'Temporal unreachable or throttling, or no worker answering a read or an action in time (temporal_unavailable; an action refused without being applied says so), or the case\'s workflow failing on the worker (case_unavailable); Retry-After'),
};
/** What a request with a body may also be answered. */
const bodyErrors = {
  413: json(errorSchema, 'The body is too large (too_large)'),
  415: json(errorSchema, 'The body is not of the type the operation takes'),
};
/** A body is required when its schema refuses an empty object; else a request may leave it out. */
const bodyOf = (schema: z.ZodType) => ({ required: !schema.safeParse({}).success, content: { 'application/json': { schema } } });
/** From the case an open answers to what can be done with it: Schemathesis follows these in its stateful phase. */
const CASE_LINKS = Object.fromEntries([
  ['getEscalation', { operationId: 'getEscalation', parameters: { id: '$response.body#/id' } }],
  ...ACTION_ROUTES.map((r) => [ACTIONS[r.action].update, { operationId: ACTIONS[r.action].update, parameters: { id: '$response.body#/id' } }]),
]);


/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(o: { serverUrl?: string; calendars?: string[]; teams?: readonly string[]; webhookEndpoints?: readonly string[] } = {}) {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'API key (API_KEYS)' });
  const security = [{ apiKey: [] }];

  const id = z.object({ id: z.string().openapi({ example: 'acme-7c1e04b9d2' }) });

  registry.registerPath({
    method: 'post',
    path: '/escalations',
    operationId: 'openEscalation',
    summary: 'Open an escalation',
    security,
    request: {
      headers: IDEMPOTENCY,
      body: bodyOf(OPEN_BODY),
    },
    responses: {
      201: { ...json(caseView, 'Opened (Location header)'), links: CASE_LINKS },
      200: { ...json(caseView, 'Already opened with this Idempotency-Key'), links: CASE_LINKS },
      409: json(errorSchema, 'Key reused with a different body'),
      ...errors,
      ...bodyErrors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/escalations',
    operationId: 'listEscalations',
    summary: 'List escalations (from Temporal visibility)',
    security,
    request: { query: listQuerySchema },
    responses: {
      200: json(
        z
          .object({
            items: z.array(listItem),
            nextCursor: z.string().nullable(),
            listedAt: iso.openapi({ description: 'When these cases were read from Temporal: a list sorted by nextDeadline may be answered from a read up to 30 s old while it is read again' }),
          })
          .openapi('EscalationPage'),
        'A page',
      ),
      ...errors,
    },
  });
  registry.registerPath({ method: 'get', path: '/escalations/{id}', operationId: 'getEscalation', summary: 'One escalation', security, request: { params: id }, responses: { 200: json(caseView, 'The case'), ...errors } });
  for (const r of ACTION_ROUTES) {
    const schema: z.ZodObject = actionSchemas[r.action];
    const params = r.pathFields.length > 0 ? id.extend(schema.pick(fieldMask(r.pathFields)).shape) : id;
    const refusedBy = refusalsOf(r.action);
    registry.registerPath({
      method: 'post',
      path: r.template,
      // The workflow update's name: acknowledge, addNote, progressUpdate, …
      operationId: ACTION_UPDATES[r.action].name,
      summary: r.summary,
      description: `Role: ${r.role}${r.link ? ` — or a customer link: ?token=<token> (${r.link.join(', ')})` : ''}`,
      security,
      request: { params, headers: IDEMPOTENCY, body: bodyOf(ACTION_BODIES[r.action]) },
      responses: {
        200: json(actionSummary, 'The case after the action, with `warnings` from the message lint'),
        409: json(errorSchema, `Not allowed in the current stage (allowed in: ${ACTION_STAGES[r.action].join(', ')})`),
        ...(refusedBy.length > 0 ? { 422: json(errorSchema, refusedBy.map((x) => REFUSALS[x]).join('; ')) } : {}),
        ...(r.link ? { 429: json(errorSchema, 'Too many requests with customer links (Retry-After)') } : {}),
        ...bodyErrors,
        ...errors,
      },
    });
  }
  registry.registerPath({
    method: 'get',
    path: '/reports/escalations',
    operationId: 'getReport',
    summary: "The playbook's four metrics over a period",
    security,
    request: { query: reportQuerySchema as unknown as z.ZodObject },
    responses: { 200: json(report, 'Metrics: overall, by segment and by severity'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/inbound/email',
    operationId: 'receiveCustomerReply',
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
  registry.registerPath({
    method: 'get',
    path: '/webhooks/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'Webhook deliveries with every attempt (admin of every team the endpoint serves)',
    security,
    request: { query: deliveriesQuerySchema },
    responses: { 200: json(z.object({ items: z.array(deliverySchema), nextCursor: z.string().nullable() }).openapi('WebhookDeliveryPage'), 'A page (one stream of deliveries per case and endpoint at a time)'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/webhooks/deliveries/{id}/retry',
    operationId: 'retryWebhookDelivery',
    summary: 'Send a delivery again with the same webhook-id (a new round of the retry schedule)',
    security,
    request: { params: z.object({ id: z.string().openapi({ example: 'msg_crm_acme-7c1e04b9d2_3' }) }) },
    responses: { 202: json(deliverySchema, 'Pending again'), 409: json(errorSchema, 'It is pending already'), ...errors },
  });
  registry.registerPath({ method: 'get', path: '/healthz', operationId: 'health', summary: 'Whether Temporal is reachable', responses: { 200: { description: 'ok' }, 503: { description: 'Temporal unreachable' } } });

  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Escalation service', version: '0.1.0', description: 'Customer escalations as durable Temporal workflows.' },
    servers: [{ url: o.serverUrl ?? '/', description: o.serverUrl ? 'PUBLIC_BASE_URL' : 'this server' }],
  });
  // Only the configured calendars open a case: their names, or no such field where none is configured.
  const open = doc.components?.schemas?.OpenEscalation as { properties?: Record<string, Record<string, unknown>> } | undefined;
  if (open?.properties?.calendar) {
    if (o.calendars?.length) open.properties.calendar = { ...open.properties.calendar, enum: o.calendars };
    else delete open.properties.calendar;
  }
  // Only the configured teams: an open's and a transfer's, and the list's and report's filter.
  if (o.teams?.length) {
    const teams = [...o.teams];
    const transfer = doc.components?.schemas?.Transfer as { properties?: Record<string, Record<string, unknown>> } | undefined;
    for (const body of [open, transfer]) if (body?.properties?.team) body.properties.team = { ...body.properties.team, enum: teams };
    // A filter may name `default` too: the cases of before teams are its own.
    const filters = [...new Set([...teams, DEFAULT_TEAM])];
    for (const path of ['/escalations', '/reports/escalations']) {
      const params = (doc.paths?.[path]?.get?.parameters ?? []) as { name?: string; schema?: Record<string, unknown> }[];
      for (const p of params) if (p.name === 'team' && p.schema) p.schema = { ...p.schema, enum: filters };
    }
  }
  // Only the configured endpoints may be named; with none configured, the filter is not offered.
  const hookParams = (doc.paths?.['/webhooks/deliveries']?.get?.parameters ?? []) as { name?: string; schema?: Record<string, unknown> }[];
  const endpointParam = hookParams.find((p) => p.name === 'endpoint');
  if (endpointParam?.schema) {
    if (o.webhookEndpoints?.length) endpointParam.schema = { ...endpointParam.schema, enum: [...o.webhookEndpoints] };
    else hookParams.splice(hookParams.indexOf(endpointParam), 1);
  }
  return doc;
}
