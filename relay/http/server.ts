/**
 * The relay's HTTP surface: one Express 5 app with a correlation id per request (./requestId.ts), token
 * auth, a 64 KB JSON body cap, one error shape (`{ error: { code, message } }`), /health, /metrics, the
 * OpenAPI description (./openapi.ts) and the built client. The planes contribute their routers (control,
 * telemetry); this file owns only what every route shares.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import { MAX_BODY_BYTES } from '../../shared/api.js';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import type { PlaneHealth } from '../../shared/model/health.js';
import { RouteError, sendError, toHttpError } from './errors.js';
import { requestContext } from './requestId.js';
import { openApiRouter } from './openapi.js';

export { RouteError } from './errors.js';

export const RELAY_VERSION = '0.1.0';

export interface AppDeps {
  config: RelayConfig;
  logger: Logger;
  /** Routers of the planes, mounted in order at `/`. */
  routers: express.Router[];
  /** Overall status for /health. */
  status(): PlaneHealth;
  /** Prometheus text exposition for /metrics (prom-client's `registry.metrics()` is async). */
  metrics(): string | Promise<string>;
  /** Content type of that text; default the Prometheus text format 0.0.4. */
  metricsContentType?: string;
  startedAt: number;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && crypto.timingSafeEqual(ab, bb);
}

/** Token from `Authorization: Bearer`, or `?token=` (browsers cannot set headers on a WebSocket). */
export function requestToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string' && h.startsWith('Bearer ')) return h.slice(7).trim();
  const url = new URL(req.url ?? '/', 'http://relay');
  return url.searchParams.get('token');
}

export function tokenOk(config: RelayConfig, req: IncomingMessage): boolean {
  if (!config.token) return true;
  const t = requestToken(req);
  return t !== null && safeEqual(t, config.token);
}

/**
 * Origins allowed to open the WebSocket: the relay's own (same host header), loopback dev servers, and
 * ALLOWED_ORIGINS. Requests without an Origin (non-browser clients) are allowed; the token guards them.
 */
export function originOk(config: RelayConfig, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (config.allowedOrigins.includes(origin)) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (req.headers.host && o.host === req.headers.host) return true;
  return !config.token && (o.hostname === '127.0.0.1' || o.hostname === 'localhost' || o.hostname === '[::1]');
}

export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // First, so that every later line (auth refusals, body-parser errors) carries the request's id.
  app.use(requestContext(logger));
  app.use((req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });

  // Everything but the static client needs the token when one is set.
  const guarded = (req: Request, res: Response, next: NextFunction) => {
    if (tokenOk(config, req)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer');
    sendError(res, new RouteError(401, 'unauthorized', 'missing or wrong bearer token (RELAY_TOKEN)'));
  };
  app.use(['/api', '/health', '/metrics'], guarded);
  app.use('/api', express.json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));

  app.get('/health', (_req, res) => {
    res.json({ status: deps.status(), version: RELAY_VERSION, protocolVersion: PROTOCOL_VERSION, uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000) });
  });
  app.get('/metrics', async (_req, res) => {
    const text = await deps.metrics();
    res.setHeader('Content-Type', deps.metricsContentType ?? 'text/plain; version=0.0.4; charset=utf-8');
    res.send(text);
  });
  // Guarded like /health (under /api): public exactly when the relay runs without RELAY_TOKEN.
  app.use(openApiRouter(RELAY_VERSION));

  for (const r of deps.routers) app.use(r);

  app.use('/api', (req, res) => sendError(res, new RouteError(404, 'not-found', `no route ${req.method} ${req.originalUrl.split('?')[0]}`)));

  // The built client, with index.html for client-side routes.
  const index = path.join(config.staticDir, 'index.html');
  app.use(express.static(config.staticDir, { index: 'index.html', maxAge: '1h', setHeaders: (res, p) => p.endsWith('.html') && res.setHeader('Cache-Control', 'no-cache') }));
  app.get(/^\/(?!api\/|wss$).*/, (_req, res) => {
    if (fs.existsSync(index)) res.sendFile(index);
    else sendError(res, new RouteError(404, 'not-found', `client not built: run "npm start" (it builds ${path.relative(process.cwd(), config.staticDir)})`));
  });

  // One error shape for everything (control errors, zod, body-parser): see ./errors.ts for the mapping.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (toHttpError(err).status >= 500) (req.log ?? logger).error({ err, path: req.path }, 'unhandled error in route');
    sendError(res, err);
  });
  return app;
}
