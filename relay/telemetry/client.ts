/**
 * Persistent MCP client over one newline-JSON connection, with an explicit reconnect state machine.
 *
 *   idle -> connecting -> [authenticating] -> initializing -> ready
 *                 \______________\_________________\__________\--> backoff -> connecting ...
 *   any -> closed (close() only)
 *
 * Written to work unchanged against three servers (upstream-contracts.md section 3, claude-flow-2.7.md):
 * the kit's engine; an upstream-style TCP front that answers `initialize` without `capabilities`, may
 * answer `authenticate` without an id and closes every connection 5 minutes after it opened; and
 * claude-flow's own server, which sends an unprompted message at start, answers
 * `notifications/initialized` with an error that has no id, and may emit non-JSON lines.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { LatencyWindow, type LatencyStats } from './latency.js';
import { reconnectDelay } from './reconnect.js';
import { errorMessage, isObject, McpBusyError, McpRpcError, McpTimeoutError, McpUnavailableError, replyToServerRequest, toRpcError, unwrapToolResult } from './rpc.js';
import { LineError, type Transport, type TransportFactory } from './transport.js';

export { RECONNECT } from './reconnect.js';
export { McpBusyError, McpRpcError, McpTimeoutError, McpUnavailableError, unwrapToolResult } from './rpc.js';

export type McpClientState = 'idle' | 'connecting' | 'authenticating' | 'initializing' | 'ready' | 'backoff' | 'closed';

/** Requests allowed in flight at once; more are refused (McpBusyError) rather than queued without bound. */
export const MAX_IN_FLIGHT = 32;
/**
 * How long a request made while the client is reconnecting waits for the connection to be ready
 * (the upstream 5-minute close should be invisible to callers) before failing with McpUnavailableError.
 */
export const READY_WAIT_MS = 3000;
/** Consecutive request timeouts after which the connection is presumed half-open and replaced. */
export const TIMEOUTS_BEFORE_RECONNECT = 2;
/** Latency samples kept for p50/p95. */
const LATENCY_SAMPLES = 256;
export const MCP_PROTOCOL_VERSION = '2024-11-05';

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  startedAt: number;
}

export interface McpClientOptions {
  transportFactory: TransportFactory;
  logger: Logger;
  authToken?: string | null;
  requestTimeoutMs: number;
  maxInFlight?: number;
  /** Injected for deterministic jitter in tests. */
  random?: () => number;
  clientInfo?: { name: string; version: string };
}

export interface McpClientStats {
  connects: number;
  /** Connections lost after having been opened (each is followed by a reconnect). */
  reconnects: number;
  requests: number;
  failures: number;
  timeouts: number;
  linesRejected: number;
  orphanErrors: number;
  notifications: number;
}

type Events = {
  state: [McpClientState];
  notification: [method: string, params: unknown];
  ready: [];
};

export class McpClient extends EventEmitter<Events> {
  private _state: McpClientState = 'idle';
  private transport: Transport | null = null;
  /** Bumped per connection attempt; callbacks from older transports are ignored. */
  private generation = 0;
  private attempt = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private authWaiter: Pending | null = null;
  private backoffTimer: ReturnType<typeof setTimeout> | null = null;
  private consecutiveTimeouts = 0;
  private readonly latencies = new LatencyWindow(LATENCY_SAMPLES);
  private readonly random: () => number;
  readonly stats: McpClientStats = {
    connects: 0,
    reconnects: 0,
    requests: 0,
    failures: 0,
    timeouts: 0,
    linesRejected: 0,
    orphanErrors: 0,
    notifications: 0,
  };
  lastError: string | null = null;
  serverInfo: { name?: string; version?: string } | null = null;
  /** null when the server's initialize answer carried none (upstream) or initialize failed. */
  serverCapabilities: Record<string, unknown> | null = null;
  /** Delay chosen for the pending reconnect (for tests and health). */
  lastBackoffMs = 0;
  readyAt: number | null = null;

  constructor(private readonly opts: McpClientOptions) {
    super();
    this.random = opts.random ?? Math.random;
  }

  get state(): McpClientState {
    return this._state;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  latency(): LatencyStats {
    return this.latencies.stats();
  }

  /** The latency window's raw samples (ms), oldest first. */
  latencySamples(): readonly number[] {
    return this.latencies.samples();
  }

  start(): void {
    if (this._state !== 'idle') return;
    void this.connect();
  }

  async close(): Promise<void> {
    if (this._state === 'closed') return;
    this.generation++;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.rejectAll(new McpUnavailableError('client closed'));
    const t = this.transport;
    this.transport = null;
    this.setState('closed');
    if (t) await t.close().catch(() => undefined);
  }

  /**
   * JSON-RPC request on the ready connection. While reconnecting it waits up to READY_WAIT_MS for the
   * connection (bounded like requests in flight); a closed or idle client fails at once.
   */
  async request(method: string, params?: unknown, timeoutMs?: number): Promise<unknown> {
    if (this._state !== 'ready') await this.waitReady();
    return this.rawRequest(method, params, timeoutMs);
  }

  private readyWaiters = 0;

  private waitReady(): Promise<void> {
    const state = this._state;
    if (state === 'closed' || state === 'idle') return Promise.reject(new McpUnavailableError(`MCP not connected (${state})`));
    const max = this.opts.maxInFlight ?? MAX_IN_FLIGHT;
    if (this.readyWaiters + this.pending.size >= max) return Promise.reject(new McpBusyError(`${max} MCP requests already waiting`));
    this.readyWaiters++;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('state', onState);
        this.readyWaiters--;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onState = (s: McpClientState) => {
        if (s === 'closed') done(new McpUnavailableError('client closed'));
      };
      const timer = setTimeout(() => done(new McpUnavailableError(`MCP not connected (${this._state}) after ${READY_WAIT_MS} ms`)), READY_WAIT_MS);
      this.on('ready', onReady);
      this.on('state', onState);
    });
  }

  /**
   * tools/call, returning the tool's payload: `content[0].text` parsed as JSON when it is JSON, the
   * text itself when not (claude-flow's stubs), or the bare result for servers that return it unwrapped.
   */
  async callTool(name: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<unknown> {
    const result = await this.request('tools/call', { name, arguments: args }, timeoutMs);
    return unwrapToolResult(result);
  }

  notify(method: string, params?: unknown): void {
    const t = this.transport;
    if (!t) return;
    const msg: Record<string, unknown> = { jsonrpc: '2.0', method };
    if (params !== undefined) msg.params = params;
    t.send(msg).catch(() => undefined);
  }

  // ---- state machine ----

  private setState(s: McpClientState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  private async connect(): Promise<void> {
    if (this._state === 'closed') return;
    const gen = ++this.generation;
    this.setState('connecting');
    const t = this.opts.transportFactory();
    this.transport = t;
    t.onmessage = (m) => {
      if (gen === this.generation) this.handleMessage(m);
    };
    t.onerror = (e) => {
      if (gen !== this.generation) return;
      if (e instanceof LineError) {
        this.stats.linesRejected++;
        this.opts.logger.warn({ reason: e.reason }, `MCP line rejected: ${e.message}`);
      } else {
        this.lastError = e.message;
      }
    };
    t.onclose = () => {
      if (gen === this.generation) this.drop(gen, this.lastError ?? 'connection closed');
    };
    try {
      await t.start();
    } catch (e) {
      if (gen !== this.generation) return;
      this.lastError = errorMessage(e);
      this.transport = null;
      this.scheduleReconnect(false);
      return;
    }
    if (gen !== this.generation) {
      await t.close().catch(() => undefined);
      return;
    }
    this.stats.connects++;
    try {
      if (this.opts.authToken) {
        this.setState('authenticating');
        try {
          const r = await this.rawRequest('authenticate', { token: this.opts.authToken });
          if (isObject(r) && r.authenticated === false) throw new McpRpcError(-32000, 'authentication rejected');
        } catch (e) {
          // A server without auth may not know the method: carry on. Anything else is a refusal.
          if (!(e instanceof McpRpcError && e.code === -32601)) throw e;
        }
      }
      if (gen !== this.generation) return;
      this.setState('initializing');
      try {
        const init = await this.rawRequest('initialize', {
          protocolVersion: MCP_PROTOCOL_VERSION,
          capabilities: {},
          clientInfo: this.opts.clientInfo ?? { name: 'hivescope-relay', version: '0.1.0' },
        });
        if (isObject(init)) {
          this.serverInfo = isObject(init.serverInfo) ? (init.serverInfo as { name?: string; version?: string }) : null;
          this.serverCapabilities = isObject(init.capabilities) ? init.capabilities : null;
        }
        this.notify('notifications/initialized');
      } catch (e) {
        // Upstream-style servers accept tools/call without initialize; only a dead link is fatal here.
        if (!(e instanceof McpRpcError)) throw e;
        this.opts.logger.info({ err: e.message }, 'MCP initialize refused; continuing without it');
      }
      if (gen !== this.generation) return;
      this.attempt = 0;
      this.consecutiveTimeouts = 0;
      this.lastError = null;
      this.readyAt = Date.now();
      this.setState('ready');
      this.emit('ready');
    } catch (e) {
      if (gen !== this.generation) return;
      this.lastError = errorMessage(e);
      this.drop(gen, this.lastError);
    }
  }

  /** Ends the current connection (if `gen` is still current) and schedules the next one. */
  private drop(gen: number, reason: string): void {
    if (gen !== this.generation || this._state === 'closed' || this._state === 'backoff') return;
    const wasReady = this._state === 'ready';
    this.lastError ??= reason;
    this.generation++;
    const t = this.transport;
    this.transport = null;
    this.rejectAll(new McpUnavailableError(`MCP connection lost: ${reason}`));
    if (t) void t.close().catch(() => undefined);
    this.stats.reconnects++;
    this.opts.logger.info({ reason, wasReady }, 'MCP connection lost; reconnecting');
    this.scheduleReconnect(wasReady);
  }

  private scheduleReconnect(afterReady: boolean): void {
    if (this._state === 'closed') return;
    const delay = reconnectDelay(afterReady, this.attempt, this.random);
    if (!afterReady) this.attempt++;
    this.lastBackoffMs = delay;
    this.setState('backoff');
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      void this.connect();
    }, delay);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    this.authWaiter = null;
  }

  private rawRequest(method: string, params?: unknown, timeoutMs?: number): Promise<unknown> {
    const t = this.transport;
    if (!t) return Promise.reject(new McpUnavailableError('MCP not connected'));
    const max = this.opts.maxInFlight ?? MAX_IN_FLIGHT;
    if (this.pending.size >= max) return Promise.reject(new McpBusyError(`${max} MCP requests already in flight`));
    const id = this.nextId++;
    const gen = this.generation;
    this.stats.requests++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        if (this.authWaiter?.timer === timer) this.authWaiter = null;
        this.stats.timeouts++;
        this.stats.failures++;
        reject(new McpTimeoutError(`${method} timed out after ${timeoutMs ?? this.opts.requestTimeoutMs} ms`));
        if (++this.consecutiveTimeouts >= TIMEOUTS_BEFORE_RECONNECT) this.drop(gen, 'requests timing out');
      }, timeoutMs ?? this.opts.requestTimeoutMs);
      const p: Pending = { method, resolve, reject, timer, startedAt: performance.now() };
      this.pending.set(id, p);
      if (method === 'authenticate') this.authWaiter = p;
      const msg: Record<string, unknown> = { jsonrpc: '2.0', id, method };
      if (params !== undefined) msg.params = params;
      t.send(msg).catch((e: unknown) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        this.stats.failures++;
        reject(new McpUnavailableError(errorMessage(e)));
      });
    });
  }

  private settle(id: number, p: Pending, msg: Record<string, unknown>): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (this.authWaiter === p) this.authWaiter = null;
    this.consecutiveTimeouts = 0;
    const ms = performance.now() - p.startedAt;
    this.latencies.add(ms);
    if ('error' in msg && msg.error !== undefined && msg.error !== null) {
      this.stats.failures++;
      const err = toRpcError(msg.error);
      // Recorded synchronously: a server that refuses a token closes right after saying so.
      if (p.method === 'authenticate' && err.code !== -32601) this.lastError = `authentication failed: ${err.message}`;
      p.reject(err);
    } else p.resolve(msg.result);
  }

  private handleMessage(m: unknown, inBatch = false): void {
    if (Array.isArray(m)) {
      // JSON-RPC batch: a bounded number of members, one level only (nested arrays are garbage).
      if (!inBatch) for (const x of m.slice(0, 100)) this.handleMessage(x, true);
      return;
    }
    if (!isObject(m)) {
      this.opts.logger.debug({ type: typeof m }, 'MCP line is not an object; ignored');
      return;
    }
    const id = m.id;
    if (typeof m.method === 'string') {
      if (id !== undefined && id !== null) {
        this.transport?.send(replyToServerRequest(id, m.method)).catch(() => undefined);
        return;
      }
      this.stats.notifications++;
      this.emit('notification', m.method, m.params);
      return;
    }
    if (typeof id === 'number' || typeof id === 'string') {
      const key = typeof id === 'number' ? id : Number(id);
      const p = this.pending.get(key);
      if (p) this.settle(key, p, m);
      else this.opts.logger.debug({ id }, 'MCP reply for an unknown id; ignored');
      return;
    }
    // No id: the upstream front's bare replies, or claude-flow's error for notifications/initialized.
    if (this.authWaiter && this._state === 'authenticating') {
      const p = this.authWaiter;
      for (const [k, v] of this.pending) if (v === p) this.settle(k, p, m);
      return;
    }
    if ('error' in m) {
      this.stats.orphanErrors++;
      const text = typeof m.error === 'string' ? m.error : isObject(m.error) && typeof m.error.message === 'string' ? m.error.message : 'error';
      // claude-flow answers notifications/initialized this way: harmless. A bare string error
      // (upstream "MCP not ready", "connection limit reached") precedes a close: keep it for health.
      if (typeof m.error === 'string') this.lastError = m.error.slice(0, 500);
      this.opts.logger.debug({ error: text.slice(0, 200) }, 'MCP error without id');
      return;
    }
    this.opts.logger.debug('MCP message without method or id; ignored');
  }
}

