/**
 * A small newline JSON-RPC client for the hive engine's TCP server, used by the session runner, the
 * session manager's pause/resume/stop and the tests. One persistent connection; requests are matched
 * by id; notifications go to `onNotification`; `callTool` unwraps result.content[0].text.
 */
import net from 'node:net';
import { LineFramer } from './framing.js';

// No runtime import of @modelcontextprotocol/sdk here: its types module loads zod, which would double
// the start-up time of every `hive-session-manager start`/`stop`/`pause`. The framing is one line of JSON.

export interface McpClientOptions {
  host: string;
  port: number;
  authToken?: string | null;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class McpError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
  ) {
    super(message);
  }
}

export class McpClient {
  private socket: net.Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private framer = new LineFramer(64 * 1024 * 1024);
  onNotification: (method: string, params: Record<string, unknown>) => void = () => undefined;
  onClose: () => void = () => undefined;
  /** Lines that are not JSON-RPC responses or notifications (e.g. the connection-limit line). */
  onRawLine: (line: unknown) => void = () => undefined;

  constructor(private readonly opts: McpClientOptions) {}

  async connect(): Promise<void> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: this.opts.host, port: this.opts.port });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.framer = new LineFramer(64 * 1024 * 1024);
    socket.on('data', (chunk: Buffer) =>
      this.framer.push(
        chunk,
        (line) => this.onLine(line),
        () => undefined,
      ),
    );
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.socket = null;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new McpError('connection closed', null));
      }
      this.pending.clear();
      this.onClose();
    });
    if (this.opts.authToken) await this.request('authenticate', { token: this.opts.authToken });
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.destroyed;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  request(method: string, params?: Record<string, unknown>): Promise<unknown> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new McpError('not connected', null));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new McpError(`${method} timed out`, null));
      }, this.opts.timeoutMs ?? 10_000);
      this.pending.set(id, { resolve, reject, timer });
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`);
    });
  }

  /** Calls a tool and parses its JSON text; a tool-level error (isError) rejects with its message. */
  async callTool<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const result = (await this.request('tools/call', { name, arguments: args })) as { content?: Array<{ text?: string }>; isError?: boolean };
    const text = result.content?.[0]?.text ?? 'null';
    const parsed = JSON.parse(text) as T;
    if (result.isError) throw new McpError((parsed as { error?: string }).error ?? `${name} failed`, null);
    return parsed;
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      const err = msg.error as { code?: number; message?: string } | undefined;
      if (err) p.reject(new McpError(err.message ?? 'error', err.code ?? null));
      else p.resolve(msg.result);
      return;
    }
    if (typeof msg.method === 'string') {
      this.onNotification(msg.method, (msg.params ?? {}) as Record<string, unknown>);
      return;
    }
    this.onRawLine(msg);
  }
}

/** MCP connection settings from the same environment the engine reads (MCP_TCP_PORT before MCP_PORT, as main.ts). */
export function mcpEnv(env: NodeJS.ProcessEnv = process.env): { host: string; port: number; authToken: string | null } {
  const host = env.MCP_HOST && env.MCP_HOST !== '0.0.0.0' ? env.MCP_HOST : '127.0.0.1';
  const port = Number(env.MCP_TCP_PORT || env.MCP_PORT || 9500);
  let authToken: string | null = env.MCP_AUTH_TOKEN || null;
  if (!authToken && /^(1|true|yes)$/i.test(env.WS_AUTH_ENABLED ?? '') && env.WS_AUTH_TOKEN) authToken = env.WS_AUTH_TOKEN;
  return { host, port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 9500, authToken };
}
