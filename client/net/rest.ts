/**
 * REST client generated from the shared route table (shared/api.ts): one `call(name, ...)` typed by
 * `routes`, so the client can only call routes the relay registers, with the casing the relay expects.
 * Bodies are validated with the route's schema before sending (the messages become form validation
 * messages); responses are validated before use. Sends `Authorization: Bearer <token>` when the page
 * was opened with `?token=`.
 */
import { z } from 'zod';
import { routes, routePath, ErrorBodySchema, type RouteName, type RouteBody, type RouteResponse } from '../../shared/index.js';

export class RestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    /** Field-level validation messages (client-side validation or the relay's bad-request). */
    readonly issues: string[] = [],
  ) {
    super(message);
    this.name = 'RestError';
  }
}

export interface RestClientOptions {
  /** Origin + prefix, '' for the page's own origin. */
  baseUrl?: string;
  token?: string | null;
  fetch?: typeof fetch;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
}

type CallArgs<N extends RouteName> = (RouteBody<N> extends never ? { body?: undefined } : { body: RouteBody<N> }) & {
  params?: Record<string, string>;
  signal?: AbortSignal;
};

/** The first bytes of a route's raw body (a session's file): bounded, never the whole of a big file. */
export interface BytesRead {
  contentType: string;
  bytes: Uint8Array;
  /** More bytes followed than were read. */
  truncated: boolean;
  /** Content-Length when the relay sent one. */
  total: number | null;
}

export interface RestClient {
  call<N extends RouteName>(name: N, args?: CallArgs<N>): Promise<RouteResponse<N>>;
  /** Reads at most `maxBytes` of a route's raw body, then cancels the rest of the download. */
  readBytes(name: RouteName, args: { params?: Record<string, string>; maxBytes: number; signal?: AbortSignal }): Promise<BytesRead>;
  /** The route's URL for the browser to follow itself (a download link): the token travels as `?token=`. */
  link(name: RouteName, params?: Record<string, string>): string;
}

/** Validates a route body the way the relay will, returning person-readable messages. */
export function validateBody<N extends RouteName>(name: N, body: unknown): { ok: true; value: unknown } | { ok: false; issues: string[] } {
  const def = routes[name] as { body?: z.ZodType };
  if (!def.body) return { ok: true, value: undefined };
  const r = def.body.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)) };
}

export function createRestClient(opts: RestClientOptions = {}): RestClient {
  const base = opts.baseUrl ?? '';
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const timeoutMs = opts.timeoutMs ?? 30_000;

  /** Turns a non-OK answer into a RestError with the relay's code and message. */
  const failure = async (res: Response): Promise<RestError> => {
    const text = await res.text().catch(() => '');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the status alone says it
    }
    const err = ErrorBodySchema.safeParse(json);
    return err.success ? new RestError(err.data.error.message, res.status, err.data.error.code) : new RestError(`HTTP ${res.status}`, res.status, 'internal');
  };

  return {
    link(name, params = {}) {
      const url = base + routePath(routes[name].path, params);
      return opts.token ? `${url}?token=${encodeURIComponent(opts.token)}` : url;
    },

    async readBytes(name, args) {
      const headers: Record<string, string> = {};
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), timeoutMs);
      args.signal?.addEventListener('abort', () => ctrl.abort(), { once: true });
      try {
        let res: Response;
        try {
          res = await doFetch(base + routePath(routes[name].path, args.params ?? {}), { method: 'GET', headers, signal: ctrl.signal });
        } catch (e) {
          throw new RestError(ctrl.signal.aborted ? 'request timed out or was cancelled' : `relay unreachable: ${(e as Error).message}`, 0, ctrl.signal.aborted ? 'timeout' : 'network');
        }
        if (!res.ok) throw await failure(res);
        const lengthHeader = res.headers.get('content-length');
        const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
        const out = new Uint8Array(Math.max(0, args.maxBytes));
        let have = 0;
        let truncated = false;
        const reader = res.body?.getReader();
        while (reader) {
          const { done, value } = await reader.read();
          if (done) break;
          const room = out.length - have;
          out.set(value.subarray(0, room), have);
          have += Math.min(room, value.length);
          if (value.length > room) {
            truncated = true;
            // The rest is not wanted: stop the download instead of reading a 16 MiB file to show 64 KiB.
            await reader.cancel().catch(() => {});
            break;
          }
        }
        if (!truncated && total !== null && total > have) truncated = true;
        return { contentType: res.headers.get('content-type') ?? '', bytes: out.subarray(0, have), truncated, total };
      } finally {
        clearTimeout(timer);
      }
    },

    async call(name, args) {
      const def = routes[name] as { method: string; path: string; body?: z.ZodType; response: z.ZodType };
      const a = (args ?? {}) as { body?: unknown; params?: Record<string, string>; signal?: AbortSignal };
      let body: string | undefined;
      if (def.body) {
        const v = validateBody(name, a.body ?? {});
        if (!v.ok) throw new RestError(v.issues.join('; '), 0, 'bad-request', v.issues);
        body = JSON.stringify(v.value);
      }
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), timeoutMs);
      a.signal?.addEventListener('abort', () => ctrl.abort(), { once: true });
      let res: Response;
      try {
        res = await doFetch(base + routePath(def.path, a.params ?? {}), { method: def.method.toUpperCase(), headers, body, signal: ctrl.signal });
      } catch (e) {
        throw new RestError(ctrl.signal.aborted ? 'request timed out or was cancelled' : `relay unreachable: ${(e as Error).message}`, 0, ctrl.signal.aborted ? 'timeout' : 'network');
      } finally {
        clearTimeout(timer);
      }
      let json: unknown = null;
      const text = await res.text();
      if (text) {
        try {
          json = JSON.parse(text);
        } catch {
          throw new RestError(`relay sent non-JSON (${res.status})`, res.status, 'parse-error');
        }
      }
      if (!res.ok) {
        const err = ErrorBodySchema.safeParse(json);
        if (err.success) throw new RestError(err.data.error.message, res.status, err.data.error.code);
        throw new RestError(`HTTP ${res.status}`, res.status, 'internal');
      }
      const parsed = def.response.safeParse(json);
      if (!parsed.success) throw new RestError(`unexpected response from ${def.path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, res.status, 'parse-error');
      return parsed.data as never;
    },
  };
}
