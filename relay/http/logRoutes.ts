/**
 * GET /api/sessions/:uuid/log: a byte range of a session's log (relay/control/console). Params and query
 * are validated with the route table's schemas, and `from` / `max` must be plain decimal digits (zod's
 * number coercion alone would read '' as 0 and '0x10' as 16). A log the relay cannot reach answers
 * `log-unavailable` with its reason: 503 when the container is unreachable, 404 when there is no file.
 */
import express, { type Request, type Response } from 'express';
import { routes, type ErrorBody } from '../../shared/api.js';
import { LogUnavailable, type ControlPlane } from '../control/index.js';
import { ControlError } from '../control/errors.js';
import { errorHandler, zodMessage } from './errors.js';
import { contextOf } from './requestId.js';

const DIGITS = /^\d{1,16}$/;

export interface LogRoutesOptions {
  logError?: (err: unknown, status: number, req: Request) => void;
}

export function logRoutes(control: Pick<ControlPlane, 'readLog'>, opts: LogRoutesOptions = {}): express.Router {
  const r = express.Router();
  const route = routes.sessionLog;

  r.get(route.path, async (req: Request, res: Response) => {
    const params = route.params.safeParse(req.params);
    if (!params.success) throw new ControlError('bad-request', zodMessage(params.error));
    const raw = req.query as Record<string, unknown>;
    for (const k of ['from', 'max'] as const) {
      if (raw[k] !== undefined && (typeof raw[k] !== 'string' || !DIGITS.test(raw[k]))) throw new ControlError('bad-request', `${k}: must be a whole number of bytes (decimal digits)`);
    }
    const q = route.query.safeParse(raw);
    if (!q.success) throw new ControlError('bad-request', zodMessage(q.error));
    try {
      const { chunk } = await control.readLog(params.data.uuid, { from: q.data.from, max: q.data.max, logId: q.data.logId ?? null }, contextOf(req));
      res.status(route.status).json(chunk);
    } catch (err) {
      if (!(err instanceof LogUnavailable)) throw err;
      const body: ErrorBody = { error: { code: 'log-unavailable', message: err.message, reason: err.reason } };
      res.status(err.reason === 'container-unreachable' ? 503 : 404).json(body);
    }
  });

  r.use(errorHandler(opts.logError));
  return r;
}
