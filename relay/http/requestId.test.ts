// Correlation ids: every response carries X-Request-Id (a valid incoming one, else a fresh UUID), and the
// log lines the request causes carry it as reqId, through pino child loggers.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { createApp } from './server.js';
import { contextOf, REQUEST_ID_PATTERN, acceptRequestId } from './requestId.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** Resolves once a log line matching `pred` is written (the access line follows the response's end). */
async function logged(lines: Record<string, unknown>[], pred: (l: Record<string, unknown>) => boolean): Promise<void> {
  const end = Date.now() + 5_000;
  while (!lines.some(pred)) {
    if (Date.now() > end) throw new Error('log line not written');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A relay HTTP shell logging into memory, with one route that logs through the request's context. */
async function start() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const config = loadConfig({ STATIC_DIR: '/nonexistent-hivescope-static' }, '/tmp');
  const router = express.Router();
  const seen: (string | undefined)[] = [];
  router.get('/api/work', (req, res) => {
    const ctx = contextOf(req);
    seen.push(ctx?.requestId);
    ctx?.log.info({ step: 'exec' }, 'plane work');
    res.json({ ok: true });
  });
  router.get('/api/crash', () => {
    throw new Error('boom');
  });
  const app = createApp({ config, logger, routers: [router], status: () => 'healthy', metrics: () => '', startedAt: Date.now() });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines, seen, port: (server.address() as AddressInfo).port };
}


describe('X-Request-Id', () => {
  it('takes a valid incoming id, returns it, and every log line of the request carries it', async () => {
    const { base, lines, seen } = await start();
    const id = 'client-7f3a.01:retry-2_x';
    const r = await fetch(`${base}/api/work`, { headers: { 'X-Request-Id': id } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe(id);
    expect(seen).toEqual([id]);
    await logged(lines, (l) => l.reqId === id && l.msg === 'http request');
    const mine = lines.filter((l) => l.reqId === id);
    expect(mine.map((l) => l.msg)).toEqual(['plane work', 'http request']);
    expect(mine[1]).toMatchObject({ method: 'GET', path: '/api/work', status: 200 });
    // Bound by a child logger (a field), never concatenated into the message.
    expect(lines.every((l) => !String(l.msg).includes(id))).toBe(true);
  });

  it('makes a fresh id when none comes, a different one per request', async () => {
    const { base, lines } = await start();
    const a = (await fetch(`${base}/api/work`)).headers.get('x-request-id');
    const b = (await fetch(`${base}/api/work`)).headers.get('x-request-id');
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
    await logged(lines, (l) => l.reqId === a && l.msg === 'http request');
    expect(lines.filter((l) => l.reqId === a)).toHaveLength(2);
  });

  it('replaces an oversized, unicode or hostile id with a fresh one and never echoes it', async () => {
    const { base, port, lines } = await start();
    const hostile = ['x'.repeat(10 * 1024), 'x'.repeat(129), '', ' ', 'a b', 'a/b', '<script>', 'id"}', '${jndi:ldap://x}'];
    for (const h of hostile) {
      const r = await fetch(`${base}/api/work`, { headers: { 'X-Request-Id': h } });
      const got = r.headers.get('x-request-id');
      expect(got, JSON.stringify(h.slice(0, 40))).toMatch(UUID);
    }
    // fetch refuses CRLF and non-Latin-1 in headers; send those bytes on a raw socket.
    const raw = async (headerValue: Buffer): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1');
        let text = '';
        sock.on('data', (d) => (text += d.toString('latin1')));
        sock.on('end', () => resolve(text));
        sock.on('error', reject);
        sock.write(Buffer.concat([Buffer.from('GET /api/work HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: '), headerValue, Buffer.from('\r\n\r\n')]));
      });
    const unicode = await raw(Buffer.from('réq-✓-id', 'utf8'));
    const unicodeId = /x-request-id: (.*)\r\n/i.exec(unicode)?.[1];
    expect(unicodeId).toMatch(UUID);
    // A CRLF ends the header: what follows is another header of the request, never ours in the response.
    const crlf = await raw(Buffer.from('abc\r\nSet-Cookie: owned=1'));
    expect(crlf).not.toMatch(/set-cookie/i);
    expect(/x-request-id: (.*)\r\n/i.exec(crlf)?.[1]).toBe('abc');
    const bareCr = await raw(Buffer.from('abc\rSet-Cookie: owned=1'));
    expect(bareCr).not.toMatch(/set-cookie/i);
    await logged(lines, (l) => l.reqId === 'abc' && l.msg === 'http request');
    for (const l of lines) expect(String(l.reqId)).toMatch(REQUEST_ID_PATTERN);
  });

  it('carries the id on error responses and the error log line', async () => {
    const { base, lines } = await start();
    const r = await fetch(`${base}/api/crash`, { headers: { 'X-Request-Id': 'crash-1' } });
    expect(r.status).toBe(500);
    expect(r.headers.get('x-request-id')).toBe('crash-1');
    await logged(lines, (l) => l.reqId === 'crash-1' && l.msg === 'http request');
    expect(lines.filter((l) => l.reqId === 'crash-1').map((l) => [l.level, l.msg])).toEqual([
      [50, 'unhandled error in route'],
      [40, 'http request'],
    ]);
  });

  it('accepts exactly the documented pattern', () => {
    expect(acceptRequestId('a')).toBe('a');
    expect(acceptRequestId('A-z_0.9:x')).toBe('A-z_0.9:x');
    expect(acceptRequestId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(acceptRequestId('x'.repeat(129))).toMatch(UUID);
    expect(acceptRequestId(['a', 'b'])).toMatch(UUID);
    expect(acceptRequestId(undefined)).toMatch(UUID);
    expect(acceptRequestId('a\nb')).toMatch(UUID);
  });
});
