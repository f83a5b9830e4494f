/**
 * Correlation ids at the HTTP edge: every request gets one `RequestContext` (relay/context.ts). A valid
 * incoming `X-Request-Id` is kept so a caller can follow its own id through our logs; anything else
 * (absent, too long, control characters, non-ASCII) is replaced by a fresh UUID and never echoed, because
 * the id goes back in a response header and into every log line the request causes. The access line is
 * written once per request, when the response ends, with the request's child logger.
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import type { RequestContext } from '../context.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requestContext()`; absent on routers mounted without it (unit tests). */
    requestId?: string;
    /** `logger.child({ reqId: requestId })`, set by `requestContext()`. */
    log?: Logger;
  }
}

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** What an incoming id may look like: bounded, printable ASCII that is safe in a header and a log line. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The incoming id when it is one we accept, else a new one. */
export function acceptRequestId(incoming: unknown): string {
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : crypto.randomUUID();
}

/** The request's context, for the planes' commands; undefined where the middleware did not run. */
export function contextOf(req: Request): RequestContext | undefined {
  return req.requestId !== undefined && req.log !== undefined ? { requestId: req.requestId, log: req.log } : undefined;
}

/**
 * The first middleware of the app: binds the id and child logger to the request, returns the id in the
 * response header, and writes the access line (debug for successes, info for 4xx, warn for 5xx, so a
 * default `info` log shows refusals and failures without one line per page asset).
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = acceptRequestId(req.headers['x-request-id']);
    const log = logger.child({ reqId: requestId });
    req.requestId = requestId;
    req.log = log;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = process.hrtime.bigint();
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      const status = res.statusCode;
      const line = { method: req.method, path: req.path, status, ms: Number(process.hrtime.bigint() - started) / 1e6, aborted: !res.writableFinished };
      if (status >= 500) log.warn(line, 'http request');
      else if (status >= 400) log.info(line, 'http request');
      else log.debug(line, 'http request');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
