import express, { type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import type { z } from 'zod';
import { BODY_LIMIT_BYTES, type Action } from '../playbook';
import { ACTION_ROUTES } from './routes';
import { LinkError, verifyLink, type LinkAction } from '../config/links';
import type { Logger } from '../config/logger';
import { authenticate, requireRole, type ApiKey, type ApiRole } from './auth';
import { HttpError, errorMiddleware, notFound, redactTokens } from './errors';
import { linkDonePage, linkPage } from './link-pages';
import { buildOpenApi } from './openapi';
import { actionSchemas, listQuerySchema, openSchema, parseQuery, reportQuerySchema, taskKindSchema } from './schemas';
import type { EscalationService } from './service';

export interface AppDeps {
  service: EscalationService;
  keys: ApiKey[];
  linkSecret: string;
  logger: Logger;
  /** Requests a minute one client may make to the customer links (default 30). */
  linkRequestsPerMinute?: number;
}

type ActionType = Action['type'];

const ID = /^[\w.:-]{1,120}$/;
const wrap =
  (fn: (req: Request, res: express.Response) => Promise<unknown>): RequestHandler =>
  (req, res, next) => {
    fn(req, res).catch(next);
  };

export { redactTokens };

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
  app.use(
    pinoHttp({
      logger,
      // Every request line carries the case it touched.
      customProps: (req, res) => ({ caseId: (res as express.Response).locals?.caseId ?? (req as Request).params?.id }),
      autoLogging: { ignore: (req) => req.url === '/healthz' },
      // Link tokens are credentials: never in the logs.
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: redactTokens(req.url) }),
      },
    }),
  );
  app.use(helmet({ contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'style-src': ["'self'", "'unsafe-inline'"] } } }));
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));
  app.use(authenticate(keys));

  const linkLimiter = rateLimit({ windowMs: 60_000, limit: deps.linkRequestsPerMinute ?? 30, standardHeaders: 'draft-7', legacyHeaders: false, handler: (_req, _res, next) => next(new HttpError(429, 'rate_limited', 'Too many requests; try again in a minute')) });

  app.get('/healthz', wrap(async (_req, res) => {
    const temporal = await service.healthy();
    res.status(temporal ? 200 : 503).json({ status: temporal ? 'ok' : 'degraded', temporal: temporal ? 'reachable' : 'unreachable' });
  }));
  const openapi = buildOpenApi();
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }));

  app.post('/escalations', requireRole('agent'), wrap(async (req, res) => {
    const body = parse(openSchema, req.body);
    const key = req.get('idempotency-key');
    if (key !== undefined && (key.length < 1 || key.length > 255)) {
      throw new HttpError(400, 'invalid_input', 'Idempotency-Key must be 1 to 255 characters', [{ field: 'Idempotency-Key', message: 'length 1..255' }]);
    }
    const { created, case: view } = await service.open(body, key);
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
      const raw = route.action === 'complete_task' ? { ...(req.body ?? {}), kind: parse(taskKindSchema, req.params.kind) } : req.body;
      const args: Record<string, unknown> = { ...parse(actionSchemas[route.action], raw) };
      const customer = req.principal?.role === 'customer';
      if (customer) checkLinkMatches(res.locals.linkAction as LinkAction, route.action, args);
      args.by = customer ? 'customer' : ((args.by as string | undefined) ?? req.principal!.name);
      res.json(await service.act(id, route.action, args as never));
    }));
  }

  app.get('/reports/escalations', requireRole('viewer'), wrap(async (req, res) => {
    res.json(await service.report(parseQuery(reportQuerySchema, req.query as Record<string, unknown>)));
  }));

  mountLinks(app, deps, linkLimiter);
  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'No such endpoint')));
  app.use(errorMiddleware(logger));
  return app;
}

/** An agent key, or a customer link token (`?token=`) for this case and one of these actions. */
function linkOrRole(role: ApiRole, actions: LinkAction[], secret: string, limiter: RequestHandler): RequestHandler {
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

/** The pages behind the links in customer emails. GET only shows; the page's button POSTs. */
function mountLinks(app: Router, deps: AppDeps, limiter: RequestHandler): void {
  const read = (req: Request) => verifyLink(deps.linkSecret, String(req.params.token));
  app.get('/links/:token', limiter, wrap(async (req, res) => {
    let link;
    try {
      link = read(req);
    } catch (err) {
      const e = linkHttpError(err);
      res.status(e.status).type('html').send(linkDonePage('This link cannot be used', e.message));
      return;
    }
    const view = await deps.service.get(link.caseId);
    res.type('html').send(linkPage({ action: link.action, title: view.title, contactName: view.contact.name }));
  }));
  app.post('/links/:token', limiter, wrap(async (req, res) => {
    let link;
    try {
      link = read(req);
    } catch (err) {
      throw linkHttpError(err);
    }
    const body = (req.body ?? {}) as Record<string, unknown>; // no body, or a type no parser took
    const comment = typeof body.comment === 'string' && body.comment.trim() ? body.comment.trim().slice(0, 4000) : undefined;
    const json = req.is('application/json') !== false && req.is('application/json') !== null;
    let message: string;
    if (link.action === 'csat') {
      const score = parse(actionSchemas.csat, { score: Number(body.score), comment });
      await deps.service.act(link.caseId, 'csat', { ...score, by: 'customer' });
      message = 'Thank you for your rating.';
    } else {
      const resolved = link.action === 'confirm';
      await deps.service.act(link.caseId, 'confirmation', { resolved, ...(comment ? { comment } : {}), by: 'customer' });
      message = resolved ? 'Thank you for confirming. We will check in again soon.' : 'Thank you for telling us. We are on it and will update you shortly.';
    }
    if (json) res.json({ ok: true, message });
    else res.type('html').send(linkDonePage('Thank you', message));
  }));
}
