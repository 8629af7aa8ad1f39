import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../config/logger';
import { redactTokens } from './errors';

type Level = 'debug' | 'info' | 'error';

/**
 * One line per change at info; successful reads (the bulk of the traffic) at debug; failures as errors.
 * A client that hung up before the answer is a line of its own ("request aborted"), at info.
 */
export function requestLevel(method: string, status: number): Level {
  if (status >= 500) return 'error';
  return status < 400 && (method === 'GET' || method === 'HEAD') ? 'debug' : 'info';
}

/**
 * One short line per request when it ends: method, url (link tokens redacted), status, time and the case
 * it touched; `/healthz` is not logged. Nothing is built for a line whose level is off, so a read at the
 * default level costs a timestamp (pino-http made two child loggers per request, logged or not).
 */
export function requestLog(logger: Logger): RequestHandler {
  let lastId = 0;
  return (req, res, next) => {
    if (req.url === '/healthz') return next();
    const id = ++lastId;
    const began = performance.now();
    res.once('close', () => line(logger, req, res, id, began));
    next();
  };
}

function line(logger: Logger, req: Request, res: Response, id: number, began: number): void {
  const finished = res.writableFinished;
  const level: Level = finished ? requestLevel(req.method, res.statusCode) : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const caseId: unknown = res.locals?.caseId ?? req.params?.id;
  logger[level](
    {
      req: { id, method: req.method, url: redactTokens(req.originalUrl ?? req.url) },
      res: { statusCode: res.statusCode },
      responseTime: Math.round(performance.now() - began),
      ...(caseId !== undefined ? { caseId } : {}),
    },
    !finished ? 'request aborted' : level === 'error' ? 'request errored' : 'request completed',
  );
}
