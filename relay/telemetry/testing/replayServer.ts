/**
 * A real TCP server that replays a Recording: reads newline JSON requests and writes the recorded
 * reply lines, either whole or cut into small chunks written separately (so the client sees lines
 * split across reads), and optionally closes every connection N ms after it opened (upstream's
 * TCP_CONNECTION_TIMEOUT). For integration tests and benchmarks; binds 127.0.0.1 on a free port.
 */
import net from 'node:net';
import { LineFramer } from '../framing.js';
import type { Recording } from './recordings.js';

export interface ReplayServerOptions {
  /** Bytes per write when splitting; 0 writes every reply line whole. */
  chunkSize?: number;
  /** Close each connection this long after it opened. */
  closeAfterMs?: number;
  /** Enforce the recording's authToken (default true when it has one). */
  auth?: boolean;
}

export interface ReplayServer {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Every parsed message received, in order. */
  received: { conn: number; msg: Record<string, unknown> }[];
  /** Writes raw text to every open connection (a push). */
  broadcast(raw: string): void;
  /** Ends every open connection now. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startReplayServer(rec: Recording, opts: ReplayServerOptions = {}): Promise<ReplayServer> {
  const sockets = new Set<net.Socket>();
  const state: ReplayServer = {
    port: 0,
    connections: 0,
    received: [],
    broadcast(raw) {
      for (const s of sockets) void write(s, raw);
    },
    dropAll() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const chunk = opts.chunkSize ?? 0;
  const enforceAuth = (opts.auth ?? true) && rec.authToken !== undefined;

  async function write(s: net.Socket, text: string): Promise<void> {
    if (s.destroyed) return;
    if (chunk <= 0) {
      s.write(text);
      return;
    }
    const buf = Buffer.from(text, 'utf8');
    for (let i = 0; i < buf.length; i += chunk) {
      if (s.destroyed) return;
      s.write(buf.subarray(i, i + chunk));
      await new Promise((r) => setImmediate(r));
    }
  }

  const server = net.createServer((s) => {
    const conn = ++state.connections;
    sockets.add(s);
    s.setNoDelay(true);
    let authed = !enforceAuth;
    // Writes are chained so split chunks of consecutive replies never interleave.
    let chain: Promise<void> = Promise.resolve();
    const send = (lines: string[], id: unknown) => {
      const text = lines.map((l) => l.replaceAll('{{id}}', JSON.stringify(id ?? null)) + '\n').join('');
      chain = chain.then(() => write(s, text));
    };
    const timer = opts.closeAfterMs ? setTimeout(() => s.destroy(), opts.closeAfterMs) : null;
    s.on('close', () => {
      if (timer) clearTimeout(timer);
      sockets.delete(s);
    });
    s.on('error', () => undefined);
    const framer = new LineFramer((e) => {
      if (e.kind !== 'line') return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(e.line) as Record<string, unknown>;
      } catch {
        send(['{"jsonrpc":"2.0","error":{"code":-32600,"message":"Invalid Request"}}'], null);
        return;
      }
      state.received.push({ conn, msg });
      const method = typeof msg.method === 'string' ? msg.method : '';
      const params = (msg.params ?? {}) as Record<string, unknown>;
      if (!authed) {
        if (method === 'authenticate' && params.token === rec.authToken) {
          authed = true;
        } else if (method === 'authenticate') {
          send([`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32000,"message":"Invalid token"}}`], msg.id);
          chain = chain.then(() => void s.end());
          return;
        } else {
          send([`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32000,"message":"Authentication required"}}`], msg.id);
          return;
        }
      }
      const key = method === 'tools/call' ? `tools/call:${String(params.name)}` : method;
      const lines = rec.replies[key] ?? (msg.id === undefined ? [] : rec.fallback(key));
      if (lines.length) send(lines, msg.id);
    });
    s.on('data', (d) => framer.push(d));
    if (rec.onConnect.length) send(rec.onConnect, null);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}
