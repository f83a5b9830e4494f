/**
 * Maps every failure an HTTP handler can meet to a status and the one error body shape
 * `{ error: { code, message } }` (codes from shared/api.ts ErrorCodeSchema). Exported for the lead's server.
 */
import type { ErrorRequestHandler, Request, Response } from 'express';
import { ZodError } from 'zod';
import type { ErrorBody, ErrorCode } from '../../shared/api.js';
import { MAX_BODY_BYTES } from '../../shared/api.js';
import { ControlError, CONTROL_ERROR_HTTP } from '../control/errors.js';

export interface HttpError {
  status: number;
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

/** A failure a route already knows the status and code of (401, 404, 409, ...). */
export class RouteError extends Error {
  override name = 'RouteError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** First zod issue as one line a person can act on ("maxAgents: Too big: expected number to be <=20"). */
export function zodMessage(err: ZodError): string {
  const i = err.issues[0];
  if (!i) return 'invalid request';
  const where = i.path.length > 0 ? `${i.path.join('.')}: ` : '';
  return `${where}${i.message}`.slice(0, 500);
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof RouteError) return { status: err.status, code: err.code, message: err.message };
  if (err instanceof ControlError) {
    const m = CONTROL_ERROR_HTTP[err.kind];
    return { status: m.status, code: m.code, message: err.message, ...(err.details.retryAfterSeconds ? { retryAfterSeconds: err.details.retryAfterSeconds } : {}) };
  }
  if (err instanceof ZodError) return { status: 400, code: 'bad-request', message: zodMessage(err) };
  // body-parser's errors carry a `type` and a status.
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.too.large') return { status: 413, code: 'payload-too-large', message: `request body is over ${MAX_BODY_BYTES} bytes` };
  if (e?.type === 'entity.parse.failed') return { status: 400, code: 'bad-request', message: 'request body is not valid JSON' };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, code: e.status === 413 ? 'payload-too-large' : 'bad-request', message: (e.message ?? 'bad request').slice(0, 300) };
  }
  return { status: 500, code: 'internal', message: 'internal error (see the relay log)' };
}

export function sendError(res: Response, err: unknown): void {
  const h = toHttpError(err);
  if (h.retryAfterSeconds) res.setHeader('Retry-After', String(h.retryAfterSeconds));
  const body: ErrorBody = { error: { code: h.code, message: h.message } };
  res.status(h.status).json(body);
}

/** Express error middleware using the mapping above; logs 5xx (the request is passed for its `req.log`). */
export function errorHandler(log?: (err: unknown, status: number, req: Request) => void): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const h = toHttpError(err);
    if (h.status >= 500) log?.(err, h.status, req);
    sendError(res, err);
  };
}
