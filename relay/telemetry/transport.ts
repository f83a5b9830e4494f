/**
 * The MCP client's transport: a tiny interface (start/send/close + onmessage/onerror/onclose, as the MCP
 * SDK's Transport) and its newline-JSON-over-TCP implementation. A transport is one connection; the
 * client makes a new one for every reconnect, so a stale socket can never deliver into a new session.
 */
import net from 'node:net';
import { LineFramer, MAX_LINE_BYTES, serializeLine } from './framing.js';

/** Something wrong with one inbound line; the connection stays up. */
export class LineError extends Error {
  override name = 'LineError';
  constructor(
    readonly reason: 'oversize' | 'invalid-json',
    message: string,
  ) {
    super(message);
  }
}

export interface Transport {
  /** Opens the connection; resolves once it can send. Rejects if it cannot connect. */
  start(): Promise<void>;
  send(message: unknown): Promise<void>;
  close(): Promise<void>;
  /** One parsed JSON value per line (not yet validated: callers classify it). */
  onmessage?: (message: unknown) => void;
  /** LineError for a rejected line (connection stays up); other errors precede onclose. */
  onerror?: (error: Error) => void;
  /** Called exactly once, after start() resolved, when the connection ends for any reason. */
  onclose?: () => void;
}

export type TransportFactory = () => Transport;

/** Shared by transports: frames bytes into lines and lines into JSON values. */
export function createLineDecoder(t: Pick<Transport, 'onmessage' | 'onerror'>, maxLineBytes = MAX_LINE_BYTES): LineFramer {
  return new LineFramer((e) => {
    if (e.kind === 'oversize') {
      t.onerror?.(new LineError('oversize', `line of ${e.bytes} bytes over the ${maxLineBytes}-byte cap rejected`));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(e.line);
    } catch {
      t.onerror?.(new LineError('invalid-json', `non-JSON line: ${JSON.stringify(e.line.slice(0, 120))}`));
      return;
    }
    try {
      t.onmessage?.(value);
    } catch (err) {
      // A handler bug must not take the connection (or the process) down with it.
      t.onerror?.(new LineError('invalid-json', `message handler failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  }, maxLineBytes);
}

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Give up connecting after this long. */
  connectTimeoutMs?: number;
  maxLineBytes?: number;
}

/** Default time allowed for the TCP connect itself. */
export const CONNECT_TIMEOUT_MS = 5000;

export class TcpTransport implements Transport {
  onmessage?: (message: unknown) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private socket: net.Socket | null = null;
  private closed = false;

  constructor(private readonly opts: TcpTransportOptions) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const framer = createLineDecoder(this, this.opts.maxLineBytes);
      const socket = net.connect({ host: this.opts.host, port: this.opts.port });
      this.socket = socket;
      socket.setNoDelay(true);
      let connected = false;
      const timer = setTimeout(() => {
        socket.destroy(new Error(`connect to ${this.opts.host}:${this.opts.port} timed out`));
      }, this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => framer.push(chunk));
      socket.on('error', (err) => {
        clearTimeout(timer);
        if (!connected) reject(err);
        else this.onerror?.(err);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        framer.reset();
        if (!connected) {
          reject(new Error('connection closed before it opened'));
          return;
        }
        if (this.closed) return;
        this.closed = true;
        this.onclose?.();
      });
    });
  }

  send(message: unknown): Promise<void> {
    const socket = this.socket;
    if (!socket || this.closed || socket.destroyed) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      socket.write(serializeLine(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) {
      if (!this.closed && socket) {
        this.closed = true;
        this.onclose?.();
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
