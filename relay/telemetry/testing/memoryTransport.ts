/**
 * In-memory transport pair for unit tests of the MCP client: the client side is a real Transport
 * whose bytes go through the same line framing as TCP; the server side is driven by the test
 * (raw lines in, parsed messages out). Delivery is asynchronous (a resolved promise), like a socket.
 */
import { createLineDecoder, type Transport } from '../transport.js';

export interface MemoryServerEnd {
  /** Raw bytes to the client (include the newline yourself, or split a line across calls). */
  write(raw: string | Buffer): void;
  /** Messages the client sent, parsed. */
  received: unknown[];
  onmessage?: (msg: unknown) => void;
  /** Ends the connection from the server side. */
  close(): void;
  readonly closed: boolean;
}

export interface MemoryPairOptions {
  /** Make start() fail (server down). */
  refuse?: boolean;
  maxLineBytes?: number;
}

export function createMemoryPair(opts: MemoryPairOptions = {}): { client: Transport; server: MemoryServerEnd } {
  let open = false;
  let closed = false;
  const later = (fn: () => void) => void Promise.resolve().then(fn);
  const client: Transport = {
    start() {
      if (opts.refuse) return Promise.reject(new Error('ECONNREFUSED (memory)'));
      open = true;
      return Promise.resolve();
    },
    send(message) {
      if (!open || closed) return Promise.reject(new Error('not connected'));
      const msg = JSON.parse(JSON.stringify(message)) as unknown;
      later(() => {
        if (closed) return;
        server.received.push(msg);
        server.onmessage?.(msg);
      });
      return Promise.resolve();
    },
    close() {
      end();
      return Promise.resolve();
    },
  };
  const decoder = createLineDecoder(client, opts.maxLineBytes);
  const end = () => {
    if (closed) return;
    closed = true;
    if (open) later(() => client.onclose?.());
  };
  const server: MemoryServerEnd = {
    received: [],
    write(raw) {
      if (closed) return;
      // Bytes already written arrive before the close, as on a socket.
      later(() => decoder.push(raw));
    },
    close: end,
    get closed() {
      return closed;
    },
  };
  return { client, server };
}

/** Makes a memory server end answer like a Recording (same rules as the TCP replay server). */
export function attachRecording(server: MemoryServerEnd, rec: import('./recordings.js').Recording, opts: { auth?: boolean } = {}): void {
  let authed = !((opts.auth ?? true) && rec.authToken !== undefined);
  const send = (lines: string[], id: unknown) => {
    for (const l of lines) server.write(l.replaceAll('{{id}}', JSON.stringify(id ?? null)) + '\n');
  };
  if (rec.onConnect.length) send(rec.onConnect, null);
  server.onmessage = (raw) => {
    const msg = raw as Record<string, unknown>;
    const method = typeof msg.method === 'string' ? msg.method : '';
    const params = (msg.params ?? {}) as Record<string, unknown>;
    if (!authed) {
      if (method === 'authenticate' && params.token === rec.authToken) authed = true;
      else {
        send([`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32000,"message":"${method === 'authenticate' ? 'Invalid token' : 'Authentication required'}"}}`], msg.id);
        if (method === 'authenticate') server.close();
        return;
      }
    }
    const key = method === 'tools/call' ? `tools/call:${String(params.name)}` : method;
    const lines = rec.replies[key] ?? (msg.id === undefined ? [] : rec.fallback(key));
    send(lines, msg.id);
  };
}
