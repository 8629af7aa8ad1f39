import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { FAILURE_TYPES, fieldErrors } from '../workflows/messages';
import type { Logger } from '../config/logger';

/** An error with its HTTP status and the contract's `{ error: { code, message, details } }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (id: string) => new HttpError(404, 'not_found', `No escalation with id ${id}`);

export const zodDetails = (err: ZodError) => fieldErrors(err);

const BY_FAILURE_TYPE: Record<string, [number, string]> = {
  [FAILURE_TYPES.conflict]: [409, 'stage_conflict'],
  [FAILURE_TYPES.lint]: [422, 'message_lint'],
  [FAILURE_TYPES.invalid]: [400, 'invalid_input'],
  [FAILURE_TYPES.limit]: [422, 'limit_reached'],
};

const UNAVAILABLE = new Set([14 /* UNAVAILABLE */, 4 /* DEADLINE_EXCEEDED */]);

/** Maps whatever a handler threw to the status codes of CONTRACT.md. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) return new HttpError(400, 'invalid_input', 'The request is not valid', zodDetails(err));
  const body = err as { type?: string; status?: number };
  if (body?.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'The body is not valid JSON');
  if (body?.type === 'entity.too.large') return new HttpError(413, 'too_large', 'The body is too large');
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const mapped = BY_FAILURE_TYPE[err.cause.type ?? ''];
    if (mapped) return new HttpError(mapped[0], mapped[1], err.cause.message, err.cause.details?.[0] ?? undefined);
  }
  if (err instanceof WorkflowNotFoundError) return new HttpError(404, 'not_found', 'No such escalation');
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (isGrpcServiceError(grpc) && UNAVAILABLE.has(grpc.code)) {
    return new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable; try again shortly', undefined, { 'Retry-After': '5' });
  }
  if (err instanceof ServiceError && /connect|unavailable|ECONNREFUSED/i.test(err.message)) {
    return new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable; try again shortly', undefined, { 'Retry-After': '5' });
  }
  return new HttpError(500, 'internal', 'Something went wrong on our side');
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toHttpError(err);
    if (e.status >= 500) logger.error({ err, path: req.path, caseId: req.params?.id }, 'request failed');
    res.status(e.status).set(e.headers).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
  };
}
