import express, { type Request, type RequestHandler } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import swaggerUi from 'swagger-ui-express';
import type { z } from 'zod';
import { BODY_LIMIT_BYTES, CASE_ID_PATTERN } from '../playbook';
import { ACTION_ROUTES } from './routes';
import type { Logger } from '../config/logger';
import { exposition, requestMetrics, type Metrics } from '../config/metrics';
import { authenticate, requireRole, type ApiKey } from './auth';
import { holds, requireAct, requireRead, teamScope } from './access';
import type { Sessions } from './sessions';
import { HttpError, errorMiddleware, notFound, redactTokens, wrap } from './errors';
import { linkOutcomePage } from './link-pages';
import { checkCustomerLink, linkOrRole, mountLinks } from './customer-links';
import { mountBoard } from './board/routes';
import { mountStatusPage } from './status-page';
import { mountWebhooks, type WebhookDeliveries } from './webhooks';
import { signStatusLink, statusUrl } from '../config/links';
import { buildOpenApi } from './openapi';
import { requestLog } from './request-log';
import { actionSchemas, listQuerySchema, openSchema, parseQuery, reportQuerySchema } from './schemas';
import type { EscalationService } from './service';
import { INBOUND_LIMIT_BYTES, receiveReply } from './inbound';
import { slackEvents, type SlackEventsDeps } from './slack-events';

export interface AppDeps {
  service: EscalationService;
  keys: ApiKey[];
  linkSecret: string;
  logger: Logger;
  /** Requests a minute one client may make to the customer links (default 30). */
  linkRequestsPerMinute?: number;
  /** Requests a minute one status page link takes (default 60). */
  statusRequestsPerMinute?: number;
  /** The calendars a case may open with (the config's): the API document lists their names. */
  calendars?: string[];
  /** The configured teams' ids: the API document lists them, the board offers them. */
  teams?: readonly string[];
  /** PUBLIC_BASE_URL: https there turns on upgrade-insecure-requests and HSTS. */
  publicBaseUrl?: string;
  /** SLACK_SIGNING_SECRET set: Slack's interactivity at /slack/events (404 otherwise). */
  slack?: Omit<SlackEventsDeps, 'service' | 'logger'>;
  /** EMAIL_FROM: its local part names the `+<caseId>` reply address. */
  emailFrom?: string;
  /** OIDC_ISSUER set: people sign in with the identity provider, and a session cookie authenticates them. */
  sessions?: Sessions;
  /** Request and open counters; `/metrics` is served here unless `metricsOnApi` is false (METRICS_PORT set). */
  metrics?: Metrics;
  metricsOnApi?: boolean;
  /** The webhook deliveries (config `webhooks`): `/webhooks/deliveries`. */
  webhooks?: WebhookDeliveries;
}


export { redactTokens };

/** The Idempotency-Key header: 1 to 255 printable characters. */
function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key !== undefined && (key.length < 1 || key.length > 255)) {
    throw new HttpError(400, 'invalid_input', 'Idempotency-Key must be 1 to 255 characters', [{ field: 'Idempotency-Key', message: 'length 1..255' }]);
  }
  return key;
}

function caseId(req: Request): string {
  const id = String(req.params.id);
  if (!CASE_ID_PATTERN.test(id)) throw notFound(id);
  return id;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  return schema.parse(value ?? {});
}

export function createApp(deps: AppDeps): express.Express {
  const { service, keys, linkSecret, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  if (deps.metrics) app.use(requestMetrics(deps.metrics));
  app.use(requestLog(logger));
  // Upgrading requests to https only where the service is served over https: over plain HTTP behind a
  // proxy (the compose setup) the upgrade would break /docs and the link pages' buttons.
  const https = (deps.publicBaseUrl ?? '').startsWith('https:');
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"], 'upgrade-insecure-requests': https ? [] : null } },
      strictTransportSecurity: https,
    }),
  );
  // Before the body parsers: Bolt verifies Slack's signature over the raw body.
  if (deps.slack) app.use(slackEvents({ ...deps.slack, service, logger }));
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));
  // People's sessions (OIDC_ISSUER): the cookie is read before the keys; the sign-in routes.
  if (deps.sessions) {
    app.use(deps.sessions.middleware());
    app.use(deps.sessions.routes());
  }
  app.use(authenticate(keys));

  const linkLimiter = rateLimit({
    windowMs: 60_000,
    limit: deps.linkRequestsPerMinute ?? 30,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (req, res, next) => {
      // A person on a link page gets a page; an API client the contract's error.
      if (/^\/links\//i.test(req.path) && req.is('application/json') !== 'application/json') return void res.status(429).type('html').send(linkOutcomePage('rate_limited'));
      next(new HttpError(429, 'rate_limited', 'Too many requests; try again in a minute'));
    },
  });

  app.get('/healthz', wrap(async (_req, res) => {
    const temporal = await service.healthy();
    res.status(temporal ? 200 : 503).json({ status: temporal ? 'ok' : 'degraded', temporal: temporal ? 'reachable' : 'unreachable' });
  }));
  if (deps.metrics && deps.metricsOnApi !== false) {
    const metrics = deps.metrics;
    // For Prometheus: aggregate counts only, no case data; public like /healthz.
    app.get('/metrics', wrap(async (_req, res) => {
      res.type(metrics.registry.contentType).send(await exposition(metrics));
    }));
  }
  const openapi = buildOpenApi({ serverUrl: deps.publicBaseUrl, calendars: deps.calendars, teams: deps.teams, webhookEndpoints: deps.webhooks?.config.endpoints.map((e) => e.id) });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));

  app.post('/escalations', requireRole('agent'), wrap(async (req, res) => {
    const body = parse(openSchema, req.body);
    const team = service.teamForOpen(body.team);
    if (!holds(req.principal!, team.id, 'agent')) {
      throw new HttpError(403, 'forbidden', `Opening a case in team ${team.id} needs the agent role there`, [{ field: 'team', message: 'not one of your teams as an agent' }]);
    }
    const { created, case: view } = await service.open(body, idempotencyKey(req), team);
    if (created) deps.metrics?.casesOpened.inc({ severity: view.severity, segment: body.customer.segment, team: team.id });
    res.locals.caseId = view.id;
    res.status(created ? 201 : 200).location(`/escalations/${view.id}`).json(view);
  }));
  app.get('/escalations', requireRole('viewer'), wrap(async (req, res) => {
    const q = parseQuery(listQuerySchema, req.query as Record<string, unknown>);
    service.requireFilterTeam(q.team);
    res.json(await service.list(q, teamScope(req.principal!, q.team)));
  }));
  app.get('/escalations/:id', requireRole('viewer'), wrap(async (req, res) => {
    const id = caseId(req);
    const view = await service.get(id);
    requireRead(req.principal!, id, view);
    res.json(view);
  }));

  for (const route of ACTION_ROUTES) {
    const guard: RequestHandler = route.link ? linkOrRole(route.role, route.link, linkSecret, linkLimiter) : requireRole(route.role);
    app.post(route.path, guard, wrap(async (req, res) => {
      const id = caseId(req);
      // Fields the path carries (a task's kind) join the body and are checked with it.
      const raw = route.pathFields.length > 0 ? { ...(req.body ?? {}), ...Object.fromEntries(route.pathFields.map((f) => [f, req.params[f]])) } : req.body;
      const args: Record<string, unknown> = { ...parse(actionSchemas[route.action], raw) };
      const customer = req.principal?.role === 'customer';
      if (customer) await checkCustomerLink(res, service, id, route.action, args);
      else requireAct(req.principal!, id, await service.teamsOf(id), route.role);
      if (route.action === 'transfer') service.requireTeam(args.team as string, 'team');
      // A person signed in is on the record as themselves, whatever the body says; a key's caller may name who acted.
      const person = req.principal?.person;
      args.by = customer ? 'customer' : person ? `${person.name} <${person.email}>` : ((args.by as string | undefined) ?? req.principal!.name);
      const summary = await service.act(id, route.action, args as never, idempotencyKey(req));
      if (route.action !== 'rotate_status_link') return void res.json(summary);
      // The new link, for the agent to share (the next customer email carries it too).
      const { statusLinkGen } = await service.get(id);
      const base = deps.publicBaseUrl ?? `${req.protocol}://${req.get('host')}`;
      res.json({ ...summary, statusUrl: statusUrl(base, signStatusLink(linkSecret, id, statusLinkGen)) });
    }));
  }

  const inboundBody = express.raw({ type: () => true, limit: INBOUND_LIMIT_BYTES });
  app.post('/inbound/email', requireRole('agent', 'inbound'), inboundBody, wrap(async (req, res) => {
    if (!req.is('message/rfc822')) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the raw email as Content-Type: message/rfc822', [{ field: 'Content-Type', message: 'expected message/rfc822' }]);
    }
    const p = req.principal!;
    const allowed = p.role === 'inbound' ? undefined : async (id: string) => requireAct(p, id, await service.teamsOf(id), 'agent');
    res.json(await receiveReply(service, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), deps.emailFrom ?? 'escalations@localhost', allowed));
  }));

  mountBoard(app, deps.teams, deps.sessions ? 'oidc' : 'key');

  app.get('/reports/escalations', requireRole('viewer'), wrap(async (req, res) => {
    const q = parseQuery(reportQuerySchema, req.query as Record<string, unknown>);
    service.requireFilterTeam(q.team);
    res.json(await service.report(q, teamScope(req.principal!, q.team)));
  }));

  mountLinks(app, deps, linkLimiter);
  mountStatusPage(app, { service, linkSecret, requestsPerMinute: deps.statusRequestsPerMinute });
  mountWebhooks(app, deps.webhooks);
  refuseOtherMethods(app, openapi.paths ?? {});
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'No such endpoint')));
  app.use(errorMiddleware(logger));
  return app;
}

/**
 * A method a documented path does not take is answered 405 with the methods it does take (`Allow`),
 * not 404: the path exists. Mounted after every route, so only what no route answered gets here.
 */
function refuseOtherMethods(app: express.Express, paths: Record<string, object>): void {
  for (const [template, operations] of Object.entries(paths)) {
    const methods = Object.keys(operations).map((m) => m.toUpperCase());
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    app.all(template.replace(/\{(\w+)\}/g, ':$1'), (_req, _res, next) => {
      next(new HttpError(405, 'method_not_allowed', `This path takes ${allow}`, undefined, { Allow: allow }));
    });
  }
}



