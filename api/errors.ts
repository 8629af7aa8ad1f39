import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { FAILURE_TYPES } from '../workflows/messages';
import { fieldErrors } from '../workflows/schemas';
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

/**
 * Link tokens are credentials: never in a log line, whatever the path's case, the parameter's
 * repetition or the status. (Every `/links/<token>` segment and every `token=` parameter.)
 */
export function redactTokens(url: string): string {
  // Customer link tokens, and the sign-in callback's authorization code and state (never in a log).
  return url.replace(/\/links\/[^/?#]*/gi, '/links/[redacted]').replace(/([?&;](?:token|code|state|id_token|access_token)=)[^&#;]*/gi, '$1[redacted]');
}

export const notFound = (id: string) => new HttpError(404, 'not_found', `No escalation with id ${id}`);

export const zodDetails = (err: ZodError) => fieldErrors(err);

const BY_FAILURE_TYPE: Record<string, [number, string]> = {
  [FAILURE_TYPES.conflict]: [409, 'stage_conflict'],
  [FAILURE_TYPES.lint]: [422, 'message_lint'],
  [FAILURE_TYPES.invalid]: [400, 'invalid_input'],
  [FAILURE_TYPES.limit]: [422, 'limit_reached'],
};

/**
 * The failure type of an update Temporal rejected because the worker completed the workflow task that
 * carried it without accepting or rejecting it (the server's `unprocessedUpdateFailure`). Not applied.
 */
export const UNPROCESSED_UPDATE = 'UnprocessedUpdate';

/** gRPC RESOURCE_EXHAUSTED: Temporal's rate limits refused the call (503 with Retry-After, not 500). */
const THROTTLED = 8;

/** gRPC codes of Temporal failing a call on its own side (UNKNOWN, ABORTED, INTERNAL): 503, not 500. */
const TEMPORAL_FAILED = new Set([2, 10, 13]);

/** gRPC codes that mean "Temporal (or every worker) is away, or busy": 503 with Retry-After, never the caller's fault. */
export const UNAVAILABLE = new Set([14 /* UNAVAILABLE */, 4 /* DEADLINE_EXCEEDED */, 1 /* CANCELLED: our own deadline */, THROTTLED]);

/** A gRPC code that is Temporal's trouble (away, busy or failing), not what the caller sent (a cursor, say). */
export const temporalsTrouble = (code: number): boolean => UNAVAILABLE.has(code) || TEMPORAL_FAILED.has(code);

/** body-parser's and the router's client errors, by their `type`, with the code we answer. */
const CLIENT_ERRORS: Record<string, string> = {
  'entity.parse.failed': 'invalid_json',
  'entity.too.large': 'too_large',
  'parameters.too.many': 'too_large',
  'charset.unsupported': 'unsupported_media_type',
  'encoding.unsupported': 'unsupported_media_type',
  'request.aborted': 'invalid_body',
  'request.size.invalid': 'invalid_body',
  'entity.verify.failed': 'invalid_body',
};

/** Maps whatever a handler threw to the status codes of CONTRACT.md. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) return new HttpError(400, 'invalid_input', 'The request is not valid', zodDetails(err));
  const body = err as { type?: string; status?: number; statusCode?: number; code?: string; message?: string };
  if (body?.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'The body is not valid JSON');
  if (body?.type === 'entity.too.large') return new HttpError(413, 'too_large', 'The body is too large');
  if (body?.type === 'parameters.too.many') return new HttpError(413, 'too_large', 'The body has too many parameters');
  // A path part that is not valid %-encoding (the router's decode) is the client's error.
  if (err instanceof URIError) return new HttpError(400, 'invalid_path', 'The path is not valid URL encoding');
  // A body that claims a compression it does not have (zlib's errors carry no status).
  if (typeof body?.code === 'string' && /^Z_/.test(body.code)) return new HttpError(400, 'invalid_body', 'The body is not encoded as its Content-Encoding says');
  const status = body?.status ?? body?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = CLIENT_ERRORS[body.type ?? ''] ?? (status === 415 ? 'unsupported_media_type' : status === 413 ? 'too_large' : 'invalid_request');
    return new HttpError(status, code, body.message && (err as { expose?: boolean }).expose !== false ? body.message : 'The request is not valid');
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    // Still moving to its new run after the API's own tries (api/service.ts, whileMoving).
    if (err.cause.type === FAILURE_TYPES.moving) return new HttpError(503, 'temporal_unavailable', err.cause.message, undefined, { 'Retry-After': '1' });
    // The worker dropped it (api/service.ts, whileMoving): rejected by Temporal, so nothing of it is in the case.
    if (err.cause.type === UNPROCESSED_UPDATE) return new HttpError(503, 'temporal_unavailable', 'No worker answered the action, so it was not applied; try again', undefined, { 'Retry-After': '1' });
    const mapped = BY_FAILURE_TYPE[err.cause.type ?? ''];
    if (mapped) return new HttpError(mapped[0], mapped[1], err.cause.message, err.cause.details?.[0] ?? undefined);
  }
  if (err instanceof WorkflowNotFoundError) return new HttpError(404, 'not_found', 'No such escalation');
  // No worker took the action within the bound: it may still land (retry with the same Idempotency-Key).
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new HttpError(503, 'temporal_unavailable', 'No worker took the action in time; retry with the same Idempotency-Key', undefined, { 'Retry-After': '5' });
  }
  const grpc = err instanceof ServiceError ? err.cause : err;
  // Temporal refusing the namespace more calls for now (its rate limits, e.g. a few visibility calls a
  // second per frontend): not the caller's fault, and over in a moment.
  if (isGrpcServiceError(grpc) && grpc.code === THROTTLED) {
    return new HttpError(503, 'temporal_unavailable', 'Temporal is throttling requests for now; try again shortly', undefined, { 'Retry-After': '2' });
  }
  // Temporal failing a call on its side (a store call cancelled under load, an internal error): not the
  // caller's fault; an action may or may not have landed, so it is retried with the same Idempotency-Key.
  if (isGrpcServiceError(grpc) && TEMPORAL_FAILED.has(grpc.code)) {
    return new HttpError(503, 'temporal_unavailable', `Temporal could not complete the request (${grpc.details || 'no detail'}); try again shortly (an action with the same Idempotency-Key)`, undefined, { 'Retry-After': '5' });
  }
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
    if (e.status >= 500) {
      // Only what cannot carry a link token: the redacted URL and the error's redacted message.
      const cause = err as { name?: string; message?: string; code?: unknown; cause?: { name?: string; type?: string; message?: string } };
      // What Temporal's error wraps (an update's failure, a call's gRPC error): the kind and message that say
      // why, under a key of its own (pino's `err` serializer keeps only an error's own fields).
      const inner = cause?.cause && { type: cause.cause.name, failureType: cause.cause.type, message: redactTokens(String(cause.cause.message)) };
      logger.error({ err: { type: cause?.name, code: cause?.code, message: redactTokens(String(cause?.message ?? err)) }, ...(inner ? { cause: inner } : {}), url: redactTokens(req.originalUrl ?? req.url) }, 'request failed');
    }
    res.status(e.status).set(e.headers).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
  };
}

/** An async route handler whose rejection goes to the error middleware. */
export const wrap =
  (fn: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
  (req, res, next) => {
    fn(req, res).catch(next);
  };
