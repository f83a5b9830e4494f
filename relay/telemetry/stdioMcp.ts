/**
 * MCP over a command's stdio (claude-flow 3.x's `claude-flow mcp start`, which has no TCP): a Transport
 * over any byte stream that can be opened, written and closed (the control plane's exec stream: a docker
 * exec with stdin attached), with the same newline framing and line bound as the TCP transport, and a
 * small client for one such server (the per-session MCP of a 3.x session). Each (re)connect opens a
 * new stream, so a server that exited is started again by the client's reconnect state machine.
 */
import type { Logger } from 'pino';
import { McpClient, type McpClientState } from './client.js';
import { createLineDecoder, type Transport } from './transport.js';
import { serializeLine } from './framing.js';

/** The byte stream a stdio server is reached through (structurally the control plane's ExecStream). */
export interface ByteStream {
  write(text: string): Promise<void>;
  close(graceMs?: number): Promise<void>;
  onstdout?: (chunk: Buffer) => void;
  onstderr?: (chunk: Buffer) => void;
  onclose?: (err: Error | null) => void;
}

/** Longest stdout line taken (3.x's tools/list is 274 KB; agent_list of 2000 agents ~400 KB). */
export const STDIO_MAX_LINE_BYTES = 4 * 1024 * 1024;
/** stderr kept for the log: the last line, at most this long (3.x writes one INFO line at start). */
const STDERR_TAIL_BYTES = 2048;

export class StreamTransport implements Transport {
  onmessage?: (message: unknown) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  private stream: ByteStream | null = null;
  private closed = false;
  /** The last bytes the server wrote to stderr (why it ended, when it did). */
  stderrTail = '';

  constructor(
    private readonly open: () => Promise<ByteStream>,
    private readonly maxLineBytes = STDIO_MAX_LINE_BYTES,
  ) {}

  async start(): Promise<void> {
    const framer = createLineDecoder(this, this.maxLineBytes);
    const s = await this.open();
    this.stream = s;
    s.onstdout = (b) => framer.push(b);
    s.onstderr = (b) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    };
    s.onclose = (err) => {
      framer.reset();
      if (err) this.onerror?.(err);
      if (this.closed) return;
      this.closed = true;
      this.onclose?.();
    };
  }

  send(message: unknown): Promise<void> {
    if (!this.stream || this.closed) return Promise.reject(new Error('not connected'));
    return this.stream.write(serializeLine(message));
  }

  async close(): Promise<void> {
    await this.stream?.close();
  }
}

/** What a caller needs of one stdio MCP server. */
export interface StdioMcp {
  readonly state: McpClientState;
  /** Connections lost after having been opened (the server exited). */
  readonly reconnects: number;
  callTool(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

export interface StdioMcpOptions {
  open: () => Promise<ByteStream>;
  logger: Logger;
  requestTimeoutMs: number;
  /** Requests in flight at once on this server. Default 8. */
  maxInFlight?: number;
}

/** Starts connecting at once (the first open runs the command). */
export function openStdioMcp(o: StdioMcpOptions): StdioMcp {
  const client = new McpClient({ transportFactory: () => new StreamTransport(o.open), logger: o.logger, requestTimeoutMs: o.requestTimeoutMs, maxInFlight: o.maxInFlight ?? 8 });
  client.start();
  return {
    get state() {
      return client.state;
    },
    get reconnects() {
      return client.stats.reconnects;
    },
    callTool: (name, args, timeoutMs) => client.callTool(name, args, timeoutMs),
    close: () => client.close(),
  };
}
