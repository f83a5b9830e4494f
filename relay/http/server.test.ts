import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { RouteError, createApp, originOk } from './server.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function start(env: Record<string, string> = {}) {
  const config = loadConfig({ STATIC_DIR: '/nonexistent-hivescope-static', ...env }, '/tmp');
  const router = express.Router();
  const seen: unknown[] = [];
  router.post('/api/echo', (req, res) => {
    seen.push(req.body);
    res.json({ got: req.body });
  });
  router.get('/api/boom', () => {
    throw new RouteError(409, 'conflict', 'already stopping');
  });
  router.get('/api/crash', () => {
    throw new Error('secret internal detail');
  });
  const app = createApp({ config, logger: pino({ level: 'silent' }), routers: [router], status: () => 'healthy', metrics: () => 'x 1\n', startedAt: Date.now() });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen, config };
}

const json = (body: string, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('relay HTTP shell', () => {
  it('serves /health and /metrics', async () => {
    const { base } = await start();
    const h = await (await fetch(`${base}/health`)).json();
    expect(h).toMatchObject({ status: 'healthy', protocolVersion: 1 });
    const m = await fetch(`${base}/metrics`);
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await m.text()).toBe('x 1\n');
  });

  it('answers malformed JSON with 400 and the shared error shape, and loses nothing', async () => {
    const { base, seen } = await start();
    const r = await fetch(`${base}/api/echo`, json('{"a": '));
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: { code: 'bad-request', message: 'request body is not valid JSON' } });
    expect(seen).toEqual([]);
    const ok = await fetch(`${base}/api/echo`, json('{"a":"\\u0000$(id)"}'));
    expect(await ok.json()).toEqual({ got: { a: '\u0000$(id)' } });
  });

  it('refuses bodies over 64 KB with 413', async () => {
    const { base, seen } = await start();
    const r = await fetch(`${base}/api/echo`, json(JSON.stringify({ t: 'x'.repeat(10 * 1024 * 1024) })));
    expect(r.status).toBe(413);
    expect((await r.json()).error.code).toBe('payload-too-large');
    expect(seen).toEqual([]);
  });

  it('maps thrown RouteErrors and hides internal ones', async () => {
    const { base } = await start();
    const a = await fetch(`${base}/api/boom`);
    expect(a.status).toBe(409);
    expect(await a.json()).toEqual({ error: { code: 'conflict', message: 'already stopping' } });
    const b = await fetch(`${base}/api/crash`);
    expect(b.status).toBe(500);
    expect(JSON.stringify(await b.json())).not.toContain('secret');
  });

  it('unknown API routes are JSON 404s; the unbuilt client says how to build it', async () => {
    const { base } = await start();
    const r = await fetch(`${base}/api/nope`);
    expect(r.status).toBe(404);
    expect((await r.json()).error.code).toBe('not-found');
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(404);
    expect((await page.json()).error.message).toMatch(/npm start/);
  });

  it('with RELAY_TOKEN every API call needs the bearer token', async () => {
    const token = 'a-long-enough-test-token';
    const { base } = await start({ RELAY_TOKEN: token });
    expect((await fetch(`${base}/health`)).status).toBe(401);
    expect((await fetch(`${base}/api/echo`, json('{}'))).status).toBe(401);
    expect((await fetch(`${base}/health`, { headers: { authorization: 'Bearer wrong-token-of-same-len' } })).status).toBe(401);
    expect((await fetch(`${base}/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/health?token=${token}`)).status).toBe(200);
  });
});

describe('config', () => {
  it('refuses a non-loopback bind without a token, and a short token', () => {
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(/RELAY_TOKEN/);
    expect(() => loadConfig({ HOST: '0.0.0.0', RELAY_TOKEN: 'short' })).toThrow(/16 characters/);
    expect(loadConfig({ HOST: '0.0.0.0', RELAY_TOKEN: 'x'.repeat(16) }).host).toBe('0.0.0.0');
  });
  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', HIVE_DRIVER: 'ssh', HIVE_CONTAINER: 'a;rm -rf /' })).toThrow(/PORT[\s\S]*HIVE_DRIVER[\s\S]*HIVE_CONTAINER/);
  });
  it('applies documented defaults', () => {
    const c = loadConfig({}, '/x');
    expect(c).toMatchObject({ host: '127.0.0.1', port: 3000, token: null, driver: 'auto', container: 'multi-agent-container', restore: true, stateDir: '/x/.hivescope' });
    expect(c.mcp).toMatchObject({ host: '127.0.0.1', port: 9500, pollMs: 1000 });
  });
});

describe('WebSocket origin check', () => {
  const req = (origin: string | undefined, host = '127.0.0.1:3000') => ({ headers: { origin, host } }) as unknown as http.IncomingMessage;
  it('allows same host, loopback dev servers without a token, listed origins; refuses others', () => {
    const c = loadConfig({});
    expect(originOk(c, req(undefined))).toBe(true);
    expect(originOk(c, req('http://127.0.0.1:3000'))).toBe(true);
    expect(originOk(c, req('http://localhost:5173'))).toBe(true);
    expect(originOk(c, req('https://evil.example'))).toBe(false);
    expect(originOk(c, req('not a url'))).toBe(false);
    const t = loadConfig({ RELAY_TOKEN: 'x'.repeat(20), ALLOWED_ORIGINS: 'https://ops.example' });
    expect(originOk(t, req('http://localhost:5173'))).toBe(false);
    expect(originOk(t, req('https://ops.example'))).toBe(true);
  });
});
