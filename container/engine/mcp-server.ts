/**
 * The hive engine's MCP telemetry server: newline-delimited JSON-RPC 2.0 over plain TCP, shaped like the
 * multi-agent container's port-9500 server (upstream-contracts.md section 3): 50 connections, 10 MiB
 * lines (bounded buffer, clear error, connection survives), optional token auth via `authenticate`,
 * connections closed a fixed time after connect, tool results as pretty JSON in result.content[0].text,
 * and push notifications broadcast to every authenticated connection (filterable with hive/subscribe).
 * Message shapes and validation come from @modelcontextprotocol/sdk; the socket handling is ours.
 */
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { JSONRPCNotificationSchema, JSONRPCRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './framing.js';
import type { RegistrySink } from './registry-sink.js';
import { SimError, type Simulation } from './sim.js';
import { PrebuiltText, TOOL_INDEX, toolList, type ToolContext } from './tools.js';

export const SERVER_NAME = 'hive-engine';
export const SERVER_VERSION = '0.1.0';
export const PROTOCOL_VERSION = '2024-11-05';
export const LIMIT_REACHED_LINE = '{"error":"Service unavailable - connection limit reached"}';

export type NotificationKind = 'log' | 'progress' | 'agents' | 'swarm' | 'message' | 'client_message';

export interface McpServerOptions {
  host: string;
  port: number;
  /** null: no auth. */
  authToken: string | null;
  maxConnections?: number;
  maxLineBytes?: number;
  /** Close every connection this long after it opened (upstream TCP_CONNECTION_TIMEOUT); 0 disables. */
  connectionTimeoutMs?: number;
  /** A runner's swarm is destroyed this long after its owning connection closed without re-attaching. */
  orphanGraceMs?: number;
  /** Notifications are skipped for a client with more than this many bytes queued (slow reader). */
  notifyHighWaterBytes?: number;
  /** A client with more than this queued is disconnected. */
  maxQueuedBytes?: number;
  /** Where sessions handed over with `session_run {detach: true}` are recorded; null refuses them. */
  registry?: RegistrySink | null;
}

interface Conn {
  id: number;
  socket: net.Socket;
  framer: LineFramer;
  authed: boolean;
  /** null: everything. */
  sessions: Set<string> | null;
  swarms: Set<string> | null;
  kinds: Set<NotificationKind> | null;
  owned: Set<string>;
  timer: NodeJS.Timeout | null;
}

const SubscribeSchema = z
  .object({
    sessionIds: z.array(z.string().max(256)).max(10_000).nullable().optional(),
    swarmIds: z.array(z.string().max(256)).max(10_000).nullable().optional(),
    kinds: z.array(z.enum(['log', 'progress', 'agents', 'swarm', 'message', 'client_message'])).nullable().optional(),
  })
  .loose();

export class McpTcpServer {
  private readonly server: net.Server;
  private readonly conns = new Set<Conn>();
  private nextId = 1;
  private readonly orphanTimers = new Map<string, NodeJS.Timeout>();
  private readonly owners = new Map<string, Conn>();
  readonly opts: Required<McpServerOptions>;
  stats = { connections: 0, rejected: 0, overflows: 0, invalid: 0, droppedNotifications: 0 };

  constructor(
    private readonly sim: Simulation,
    opts: McpServerOptions,
  ) {
    this.opts = {
      maxConnections: 50,
      maxLineBytes: DEFAULT_MAX_LINE_BYTES,
      connectionTimeoutMs: 5 * 60_000,
      orphanGraceMs: 15_000,
      notifyHighWaterBytes: 8 * 1024 * 1024,
      maxQueuedBytes: 64 * 1024 * 1024,
      registry: null,
      ...opts,
    };
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as net.AddressInfo;
        resolve({ host: addr.address, port: addr.port });
      });
    });
  }

  close(): Promise<void> {
    for (const t of this.orphanTimers.values()) clearTimeout(t);
    this.orphanTimers.clear();
    for (const c of this.conns) c.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** True when at least one client would receive a notification (lets the host skip serialising). */
  get hasListeners(): boolean {
    for (const c of this.conns) if (c.authed) return true;
    return false;
  }

  /** Sends one notification to every authenticated client whose filter matches. */
  broadcast(kind: NotificationKind, method: string, params: Record<string, unknown>, scope: { swarmId: string | null; sessionId: string | null }): void {
    let line: string | null = null;
    for (const c of this.conns) {
      if (!c.authed) continue;
      if (c.kinds && !c.kinds.has(kind)) continue;
      if (c.sessions && !(scope.sessionId && c.sessions.has(scope.sessionId))) continue;
      if (c.swarms && !(scope.swarmId && c.swarms.has(scope.swarmId))) continue;
      if (c.socket.writableLength > this.opts.notifyHighWaterBytes) {
        this.stats.droppedNotifications++;
        continue;
      }
      line ??= kind === 'client_message' ? `${JSON.stringify({ jsonrpc: '2.0', method, params })}\n` : serializeMessage({ jsonrpc: '2.0', method, params } as JSONRPCMessage);
      c.socket.write(line);
    }
  }

  private onConnection(socket: net.Socket): void {
    socket.setNoDelay(true);
    if (this.conns.size >= this.opts.maxConnections) {
      this.stats.rejected++;
      socket.on('error', () => socket.destroy());
      socket.end(`${LIMIT_REACHED_LINE}\n`);
      return;
    }
    this.stats.connections++;
    const conn: Conn = {
      id: this.nextId++,
      socket,
      framer: new LineFramer(this.opts.maxLineBytes),
      authed: this.opts.authToken === null,
      sessions: null,
      swarms: null,
      kinds: null,
      owned: new Set(),
      timer: null,
    };
    this.conns.add(conn);
    if (this.opts.connectionTimeoutMs > 0) {
      conn.timer = setTimeout(() => socket.end(), this.opts.connectionTimeoutMs);
      conn.timer.unref();
    }
    socket.on('data', (chunk: Buffer) => {
      conn.framer.push(
        chunk,
        (line) => this.onLine(conn, line),
        () => {
          this.stats.overflows++;
          this.sendRaw(conn, { jsonrpc: '2.0', error: { code: -32600, message: `Line exceeds the ${this.opts.maxLineBytes}-byte limit; discarded` } });
        },
      );
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose(conn));
  }

  private onClose(conn: Conn): void {
    if (conn.timer) clearTimeout(conn.timer);
    this.conns.delete(conn);
    for (const sessionId of conn.owned) {
      if (this.owners.get(sessionId) !== conn) continue;
      this.owners.delete(sessionId);
      // The runner is gone (or reconnecting): give it a grace period to re-attach before the swarm ends.
      const t = setTimeout(() => {
        this.orphanTimers.delete(sessionId);
        if (this.owners.has(sessionId)) return;
        const swarm = this.sim.swarmBySession(sessionId);
        if (swarm) {
          try {
            this.sim.destroy(swarm.id);
          } catch {
            // already gone
          }
        }
      }, this.opts.orphanGraceMs);
      t.unref();
      this.orphanTimers.set(sessionId, t);
    }
  }

  private send(conn: Conn, msg: JSONRPCMessage): void {
    this.write(conn, serializeMessage(msg));
  }

  /** Lines that are not strict JSON-RPC (upstream's id-less errors and plain `{"error":...}`). */
  private sendRaw(conn: Conn, msg: unknown): void {
    this.write(conn, `${JSON.stringify(msg)}\n`);
  }

  private write(conn: Conn, line: string): void {
    if (conn.socket.destroyed) return;
    if (conn.socket.writableLength > this.opts.maxQueuedBytes) {
      conn.socket.destroy();
      return;
    }
    conn.socket.write(line);
  }

  private error(conn: Conn, id: string | number | null, code: number, message: string): void {
    if (id === null) this.sendRaw(conn, { jsonrpc: '2.0', error: { code, message } });
    else this.send(conn, { jsonrpc: '2.0', id, error: { code, message } });
  }

  private onLine(conn: Conn, line: string): void {
    if (line.trim() === '') return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.stats.invalid++;
      this.sendRaw(conn, { jsonrpc: '2.0', error: { code: -32600, message: `Invalid JSON: ${(e as Error).message.slice(0, 200)}` } });
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.stats.invalid++;
      this.sendRaw(conn, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: expected a JSON-RPC object' } });
      return;
    }
    const obj = msg as Record<string, unknown>;
    const rawId = obj.id;
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
    if (typeof obj.method !== 'string') {
      // A response from the client (or garbage without a method): responses need no answer.
      if ('result' in obj || 'error' in obj) return;
      this.stats.invalid++;
      this.error(conn, id, -32600, 'Invalid Request: missing method');
      return;
    }
    // Upstream's own auth line carried no "jsonrpc" member; accept it without one.
    if (obj.jsonrpc === undefined) obj.jsonrpc = '2.0';
    const isRequest = rawId !== undefined && rawId !== null;
    const parsed = isRequest ? JSONRPCRequestSchema.safeParse(obj) : JSONRPCNotificationSchema.safeParse(obj);
    if (!parsed.success) {
      this.stats.invalid++;
      this.error(conn, id, -32600, `Invalid Request: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
      return;
    }
    const method = obj.method;
    const params = (typeof obj.params === 'object' && obj.params !== null ? obj.params : {}) as Record<string, unknown>;

    if (method === 'authenticate') {
      if (this.opts.authToken === null || this.tokenMatches(params.token)) {
        conn.authed = true;
        if (isRequest) this.send(conn, { jsonrpc: '2.0', id: id!, result: { authenticated: true } });
        else this.sendRaw(conn, { jsonrpc: '2.0', result: { authenticated: true } });
      } else {
        this.error(conn, id, -32000, 'Authentication failed: invalid token');
        conn.socket.end();
      }
      return;
    }
    if (!conn.authed) {
      this.error(conn, id, -32000, 'Authentication required');
      return;
    }
    if (!isRequest) return; // notifications/initialized and friends need no answer
    const reqId = id as string | number;
    try {
      const result = this.dispatch(conn, method, params);
      if (result === undefined) this.error(conn, reqId, -32601, `Method not found: ${method.slice(0, 100)}`);
      else this.send(conn, { jsonrpc: '2.0', id: reqId, result } as JSONRPCMessage);
    } catch (e) {
      if (e instanceof InvalidParams) this.error(conn, reqId, -32602, e.message);
      else this.error(conn, reqId, -32603, `Internal error: ${(e as Error).message.slice(0, 300)}`);
    }
  }

  private tokenMatches(token: unknown): boolean {
    if (typeof token !== 'string' || this.opts.authToken === null) return false;
    const a = Buffer.from(token);
    const b = Buffer.from(this.opts.authToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Returns the result object, or undefined for an unknown method. */
  private dispatch(conn: Conn, method: string, params: Record<string, unknown>): Record<string, unknown> | undefined {
    switch (method) {
      case 'initialize':
        return {
          protocolVersion: PROTOCOL_VERSION,
          serverInfo: { name: SERVER_NAME, version: SERVER_VERSION },
          capabilities: { tools: { listChanged: false }, logging: {}, experimental: { hivePush: { kinds: ['log', 'progress', 'agents', 'swarm', 'message'] } } },
        };
      case 'ping':
        return {};
      case 'tools/list':
        return { tools: toolList() };
      case 'tools/call':
        return this.callTool(conn, params);
      case 'hive/subscribe': {
        const p = SubscribeSchema.safeParse(params);
        if (!p.success) throw new InvalidParams(`Invalid params: ${p.error.issues[0]?.message ?? 'malformed'}`);
        conn.sessions = p.data.sessionIds ? new Set(p.data.sessionIds) : null;
        conn.swarms = p.data.swarmIds ? new Set(p.data.swarmIds) : null;
        conn.kinds = p.data.kinds ? new Set(p.data.kinds) : null;
        return { subscribed: true };
      }
      default:
        return undefined;
    }
  }

  private callTool(conn: Conn, params: Record<string, unknown>): Record<string, unknown> {
    const name = params.name;
    if (typeof name !== 'string') throw new InvalidParams('Invalid params: tools/call needs a tool name');
    const def = TOOL_INDEX.get(name);
    if (!def) throw new InvalidParams(`Unknown tool: ${name.slice(0, 100)}`);
    const args = def.schema.safeParse(params.arguments ?? {});
    if (!args.success) {
      const issue = args.error.issues[0];
      throw new InvalidParams(`Invalid arguments for ${name}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'malformed'}`);
    }
    const ctx: ToolContext = {
      sim: this.sim,
      startedAt: this.sim.startedAt,
      registry: this.opts.registry,
      releaseSession: (sessionId) => {
        // The engine owns it now: no connection's close ends it.
        const prev = this.owners.get(sessionId);
        if (prev) prev.owned.delete(sessionId);
        this.owners.delete(sessionId);
        const t = this.orphanTimers.get(sessionId);
        if (t) clearTimeout(t);
        this.orphanTimers.delete(sessionId);
      },
      attachSession: (sessionId) => {
        const prev = this.owners.get(sessionId);
        if (prev && prev !== conn) prev.owned.delete(sessionId);
        this.owners.set(sessionId, conn);
        conn.owned.add(sessionId);
        const t = this.orphanTimers.get(sessionId);
        if (t) clearTimeout(t);
        this.orphanTimers.delete(sessionId);
        conn.sessions = new Set([...(conn.sessions ?? []), sessionId]);
        conn.kinds ??= new Set(['swarm', 'log']);
      },
    };
    try {
      const result = def.run(args.data as never, ctx);
      const text = result instanceof PrebuiltText ? result.text : JSON.stringify(result, null, 2);
      return { content: [{ type: 'text', text }] };
    } catch (e) {
      if (e instanceof SimError) {
        return { content: [{ type: 'text', text: JSON.stringify({ success: false, error: e.message }, null, 2) }], isError: true };
      }
      throw e;
    }
  }
}

class InvalidParams extends Error {}
