import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import swaggerUi from 'swagger-ui-express';
import type { z } from 'zod';
import { BODY_LIMIT_BYTES, CASE_ID_PATTERN, allowedIn, type Action, type CaseView } from '../playbook';
import { ACTION_ROUTES } from './routes';
import { LinkError, verifyLink, type LinkAction } from '../config/links';
import type { Logger } from '../config/logger';
import { exposition, requestMetrics, type Metrics } from '../config/metrics';
import { authenticate, requireRole, type ApiKey, type ApiRole } from './auth';
import { HttpError, errorMiddleware, notFound, redactTokens, toHttpError } from './errors';
import { linkDonePage, linkOutcomeMessage, linkOutcomePage, linkPage, type LinkOutcome } from './link-pages';
import { buildOpenApi } from './openapi';
import { requestLog } from './request-log';
import { actionSchemas, listQuerySchema, openSchema, parseQuery, reportQuerySchema } from './schemas';
import type { EscalationService } from './service';
import { INBOUND_LIMIT_BYTES, receiveReply } from './inbound';
import { slackEvents, type SlackEventsDeps } from './slack-events';
import { boardForms } from './board/forms';

export interface AppDeps {
  service: EscalationService;
  keys: ApiKey[];
  linkSecret: string;
  logger: Logger;
  /** Requests a minute one client may make to the customer links (default 30). */
  linkRequestsPerMinute?: number;
  /** The calendars a case may open with (the config's): the API document lists their names. */
  calendars?: string[];
  /** PUBLIC_BASE_URL: https there turns on upgrade-insecure-requests and HSTS. */
  publicBaseUrl?: string;
  /** SLACK_SIGNING_SECRET set: Slack's interactivity at /slack/events (404 otherwise). */
  slack?: Omit<SlackEventsDeps, 'service' | 'logger'>;
  /** EMAIL_FROM: its local part names the `+<caseId>` reply address. */
  emailFrom?: string;
  /** Request and open counters; `/metrics` is served here unless `metricsOnApi` is false (METRICS_PORT set). */
  metrics?: Metrics;
  metricsOnApi?: boolean;
}

type ActionType = Action['type'];

const ID = CASE_ID_PATTERN;
const wrap =
  (fn: (req: Request, res: express.Response) => Promise<unknown>): RequestHandler =>
  (req, res, next) => {
    fn(req, res).catch(next);
  };

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
  if (!ID.test(id)) throw notFound(id);
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
  const openapi = buildOpenApi({ serverUrl: deps.publicBaseUrl, calendars: deps.calendars });
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));

  app.post('/escalations', requireRole('agent'), wrap(async (req, res) => {
    const body = parse(openSchema, req.body);
    const { created, case: view } = await service.open(body, idempotencyKey(req));
    if (created) deps.metrics?.casesOpened.inc({ severity: view.severity, segment: body.customer.segment });
    res.locals.caseId = view.id;
    res.status(created ? 201 : 200).location(`/escalations/${view.id}`).json(view);
  }));
  app.get('/escalations', requireRole('viewer'), wrap(async (req, res) => {
    res.json(await service.list(parseQuery(listQuerySchema, req.query as Record<string, unknown>)));
  }));
  app.get('/escalations/:id', requireRole('viewer'), wrap(async (req, res) => {
    res.json(await service.get(caseId(req)));
  }));

  for (const route of ACTION_ROUTES) {
    const guard: RequestHandler = route.link ? linkOrRole(route.role, route.link, linkSecret, linkLimiter) : requireRole(route.role);
    app.post(route.path, guard, wrap(async (req, res) => {
      const id = caseId(req);
      // Fields the path carries (a task's kind) join the body and are checked with it.
      const raw = route.pathFields.length > 0 ? { ...(req.body ?? {}), ...Object.fromEntries(route.pathFields.map((f) => [f, req.params[f]])) } : req.body;
      const args: Record<string, unknown> = { ...parse(actionSchemas[route.action], raw) };
      const customer = req.principal?.role === 'customer';
      if (customer) {
        checkLinkMatches(res.locals.linkAction as LinkAction, route.action, args);
        const blocked = whyNot(res.locals.link as ReturnType<typeof verifyLink>, await service.get(id));
        if (blocked) throw new HttpError(OUTCOME_STATUS[blocked], `link_${blocked}`, linkOutcomeMessage(blocked));
      }
      args.by = customer ? 'customer' : ((args.by as string | undefined) ?? req.principal!.name);
      res.json(await service.act(id, route.action, args as never, idempotencyKey(req)));
    }));
  }

  const inboundBody = express.raw({ type: () => true, limit: INBOUND_LIMIT_BYTES });
  app.post('/inbound/email', requireRole('agent', 'inbound'), inboundBody, wrap(async (req, res) => {
    if (!req.is('message/rfc822')) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the raw email as Content-Type: message/rfc822', [{ field: 'Content-Type', message: 'expected message/rfc822' }]);
    }
    res.json(await receiveReply(service, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), deps.emailFrom ?? 'escalations@localhost'));
  }));

  mountBoard(app);

  app.get('/reports/escalations', requireRole('viewer'), wrap(async (req, res) => {
    res.json(await service.report(parseQuery(reportQuerySchema, req.query as Record<string, unknown>)));
  }));

  mountLinks(app, deps, linkLimiter);
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

/**
 * The team's board (GET /board): a page and a small script over this JSON API, read once at start.
 * Loading it needs no key; everything it shows or does is an API call with the key the person signs in with.
 */
function mountBoard(app: express.Express): void {
  const file = (name: string) => readFileSync(join(__dirname, 'board', name), 'utf8');
  const page = file('index.html');
  const assets: Record<string, [string, string]> = { 'board.js': ['text/javascript', file('board.js')], 'board.css': ['text/css', file('board.css')] };
  const html: RequestHandler = (_req, res) => void res.type('html').set('cache-control', 'no-cache').send(page);
  const forms = boardForms();
  app.get('/board', html);
  app.get('/board/forms.json', (_req, res) => void res.set('cache-control', 'no-cache').json(forms));
  app.get('/board/cases/:id', html);
  app.get('/board/:asset', (req, res, next) => {
    const asset = assets[String(req.params.asset)];
    if (!asset) return next();
    res.type(asset[0]).set('cache-control', 'no-cache').send(asset[1]);
  });
}

/** An agent key, or a customer link token (`?token=`) for this case and one of these actions. */
function linkOrRole(role: ApiRole, actions: readonly LinkAction[], secret: string, limiter: RequestHandler): RequestHandler {
  const byRole = requireRole(role);
  return (req, res, next) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (!token) return byRole(req, res, next);
    limiter(req, res, () => {
      try {
        const link = verifyLink(secret, token, { caseId: String(req.params.id) });
        if (!actions.includes(link.action)) throw new LinkError('wrong_action', `This link is for "${link.action}"`);
        req.principal = { name: 'customer', role: 'customer' };
        res.locals.linkAction = link.action;
        res.locals.link = link;
        next();
      } catch (err) {
        next(linkHttpError(err));
      }
    });
  };
}

/** A confirm link can only say "resolved", a not-fixed link only "not resolved". */
function checkLinkMatches(link: LinkAction, action: ActionType, args: Record<string, unknown>): void {
  if (action === 'confirmation' && (link === 'confirm') !== (args.resolved === true)) {
    throw new HttpError(403, 'link_wrong_action', `This link cannot record resolved=${String(args.resolved)}`);
  }
}

export function linkHttpError(err: unknown): HttpError {
  if (err instanceof LinkError) {
    return new HttpError(403, err.reason === 'expired' ? 'link_expired' : err.reason === 'invalid' ? 'link_invalid' : `link_${err.reason}`, err.message);
  }
  return err instanceof HttpError ? err : new HttpError(403, 'link_invalid', 'This link is not valid');
}

/**
 * The pages behind the links in customer emails. GET only shows, and offers a button only when the
 * step still applies; the button POSTs. Single use: a confirm or not-fixed link answers for the
 * resolution it was sent with, once (the case moves on); a CSAT link records one score (an agent may
 * still change it through the API). Every outcome is a page for a person, or JSON for a JSON client.
 */
function mountLinks(app: Router, deps: AppDeps, limiter: RequestHandler): void {
  app.get('/links/:token', limiter, wrap(async (req, res) => {
    const link = readLink(deps.linkSecret, String(req.params.token));
    if (typeof link === 'string') return void res.status(OUTCOME_STATUS[link]).type('html').send(linkOutcomePage(link));
    const view = await deps.service.get(link.caseId);
    const blocked = whyNot(link, view);
    if (blocked) return void res.status(OUTCOME_STATUS[blocked]).type('html').send(linkOutcomePage(blocked));
    res.type('html').send(linkPage({ action: link.action, title: view.title, contactName: view.contact.name }));
  }));
  app.post('/links/:token', limiter, wrap(async (req, res) => {
    const json = req.is('application/json') === 'application/json';
    const answer = (outcome: Exclude<LinkOutcome, 'done'>) => {
      if (json) throw new HttpError(OUTCOME_STATUS[outcome], `link_${outcome}`, linkOutcomeMessage(outcome));
      res.status(OUTCOME_STATUS[outcome]).type('html').send(linkOutcomePage(outcome));
    };
    const link = readLink(deps.linkSecret, String(req.params.token));
    if (typeof link === 'string') return answer(link);
    const body = (req.body ?? {}) as Record<string, unknown>; // no body, or a type no parser took
    const comment = typeof body.comment === 'string' && body.comment.trim() ? body.comment.trim().slice(0, 4000) : undefined;
    let message: string;
    try {
      const blocked = whyNot(link, await deps.service.get(link.caseId));
      if (blocked) return answer(blocked);
      if (link.action === 'csat') {
        const score = actionSchemas.csat.safeParse({ score: typeof body.score === 'string' && body.score.trim() ? Number(body.score) : body.score, comment });
        if (!score.success) {
          if (json) throw score.error;
          return answer('invalid_input');
        }
        await deps.service.act(link.caseId, 'csat', { ...score.data, by: 'customer' });
        message = 'Thank you for your rating.';
      } else {
        const resolved = link.action === 'confirm';
        await deps.service.act(link.caseId, 'confirmation', { resolved, ...(comment ? { comment } : {}), by: 'customer' });
        message = resolved ? 'Thank you for confirming. We will check in again soon.' : 'Thank you for telling us. We are on it and will update you shortly.';
      }
    } catch (err) {
      const e = toHttpError(err);
      if (json || e.status < 400) throw err;
      return answer(e.status === 409 ? 'no_longer_possible' : e.status === 400 ? 'invalid_input' : e.status === 404 ? 'invalid' : 'unavailable');
    }
    if (json) res.json({ ok: true, message });
    else res.type('html').send(linkDonePage('Thank you', message));
  }));
}

const OUTCOME_STATUS: Record<Exclude<LinkOutcome, 'done'>, number> = {
  already_recorded: 409,
  no_longer_possible: 409,
  earlier_resolution: 409,
  expired: 403,
  not_allowed: 403,
  invalid: 403,
  rate_limited: 429,
  invalid_input: 400,
  unavailable: 503,
};

function readLink(secret: string, token: string): ReturnType<typeof verifyLink> | Exclude<LinkOutcome, 'done'> {
  try {
    return verifyLink(secret, token);
  } catch (err) {
    return err instanceof LinkError && err.reason === 'expired' ? 'expired' : 'invalid';
  }
}

/** Why the link's step does not apply to the case now, or undefined when it does. */
function whyNot(link: ReturnType<typeof verifyLink>, view: CaseView): Exclude<LinkOutcome, 'done'> | undefined {
  if (link.action === 'csat') {
    if (view.csat) return 'already_recorded';
    return allowedIn('csat', view.stage) ? undefined : 'no_longer_possible';
  }
  if (link.resolution && view.resolvedAt && link.resolution !== view.resolvedAt) return 'earlier_resolution';
  if (allowedIn('confirmation', view.stage)) return link.resolution && !view.resolvedAt ? 'earlier_resolution' : undefined;
  return view.confirmedAt || view.stage === 'communicate' ? 'already_recorded' : 'no_longer_possible';
}
