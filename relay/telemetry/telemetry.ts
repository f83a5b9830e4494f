/**
 * The telemetry plane: the persistent MCP client plus the one agent graph, fed by push notifications
 * when the server sends them (notifications.ts) and by polling otherwise (poller.ts), with the selected
 * agents' metrics polled faster (selectedMetrics.ts) and the control plane's sessions (controlSync.ts).
 * This file wires them and answers health and metrics.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import type { RequestContext } from '../context.js';
import type { Health, Session } from '../../shared/model/index.js';
import type { GraphSnapshot } from '../../shared/protocol/messages.js';
import { AgentGraph, type ChangeCause, type ChangeSet, type GraphEvent } from '../graph/graph.js';
import { NodeIdStore, type NodeIdSource } from '../graph/nodeIds.js';
import { McpClient, type McpClientState } from './client.js';
import { followControl, type ControlView } from './controlSync.js';
import { MessageFeed } from './messageFeed.js';
import type { TelemetryMetrics } from './metrics.js';
import { Notifications, type PushState } from './notifications.js';
import { Poller } from './poller.js';
import { SelectedMetrics, type PerformanceSample } from './selectedMetrics.js';
import { TcpTransport, type TransportFactory } from './transport.js';
import { ToolSupport, ToolUnsupportedError, type ToolVerdict } from './toolSupport.js';
import { TaskProgressMemo, mapTaskList, tasksUnsupported, unsupportedTasks } from './tasks.js';
import type { BackendKind, TasksList } from '../../shared/model/index.js';

export type TelemetryHealth = Health['telemetry'];

export type TelemetryEvents = {
  /** One per graph batch: the delta and whether it is structural. */
  change: [ChangeSet];
  event: [GraphEvent];
  health: [TelemetryHealth];
  /** A session changed; `cause` names the request that changed it, when one did. */
  session: [Session, ChangeCause];
  performance: [PerformanceSample[]];
};

export interface Telemetry {
  snapshot(opts?: { includeMock?: boolean }): GraphSnapshot;
  on<K extends keyof TelemetryEvents>(event: K, listener: (...args: TelemetryEvents[K]) => void): unknown;
  off<K extends keyof TelemetryEvents>(event: K, listener: (...args: TelemetryEvents[K]) => void): unknown;
  /** An agent now in the graph (the stream filters edges by their endpoints' swarm and mock flag). */
  agent(id: string): Readonly<{ swarmId: string | null; mock: boolean }> | undefined;
  health(): TelemetryHealth;
  metrics(): TelemetryMetrics;
  /** The MCP latency window's samples (ms), for the Prometheus summary. */
  latencySamples(): readonly number[];
  /**
   * tools/call on the live connection; rejects with McpUnavailableError when not connected. With `ctx`
   * (a request caused the call) the call and its outcome are logged with the request's logger.
   */
  callTool(name: string, args?: Record<string, unknown>, ctx?: RequestContext): Promise<unknown>;
  /** Agents some client selected: their agent_metrics are polled at up to config.mcp.metricsHz. */
  setSelectedAgents(ids: Iterable<string>): void;
  /**
   * A session's tasks (./tasks.ts): from `source.taskList` when the backend holds the connection that
   * knows them (claude-flow 3.x), else this connection's `task_list {sessionId}` where the backend kind
   * reports tasks there (the kit), else supported:false saying why. MCP down: rejects (503).
   */
  sessionTasks?(uuid: string, source: { kind: BackendKind | null; taskList: (() => Promise<unknown>) | null }, ctx?: RequestContext): Promise<TasksList>;
  /** Tools the current connection's server lacks or stubs, no longer called until the next connection or backend. */
  toolsOff?(): { tool: string; verdict: ToolVerdict }[];
  /** Node ids of the agents now in the graph. */
  readonly nodeIdsInUse: ReadonlySet<number>;
  /** True for any node id ever handed out (still remembered): frames racing a removal stay valid. */
  knownNodeId(nodeId: number): boolean;
  readonly config: { host: string; port: number };
  close(): Promise<void>;
}

export interface TelemetryOptions {
  config: RelayConfig;
  logger: Logger;
  control?: ControlView | null;
  /** Tests: replace the TCP transport. */
  transportFactory?: TransportFactory;
  /** Tests: keep node ids in memory (default: persisted under config.stateDir). */
  persistNodeIds?: boolean;
  /** A fleet target's view of the relay's one store (NodeIdStore.scoped, docs/fleet.md). Default: its own store. */
  nodeIds?: NodeIdSource;
}

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  return new TelemetryImpl(opts);
}

class TelemetryImpl extends EventEmitter<TelemetryEvents> implements Telemetry {
  private readonly log: Logger;
  private readonly client: McpClient;
  private readonly graph: AgentGraph;
  private readonly nodeIds: NodeIdSource;
  private readonly push: PushState = { agents: false, messages: false };
  private readonly poller: Poller;
  private readonly notifications: Notifications;
  private readonly selected: SelectedMetrics;
  private readonly unfollow: () => void;
  private readonly tools = new ToolSupport();
  /** Progress notifications per task id, for tasks whose list entry has no figure (./tasks.ts). */
  private readonly taskProgress = new TaskProgressMemo();
  private backendKey: string | null = null;
  private closed = false;
  private lastHealthKey = '';
  readonly config: { host: string; port: number };

  constructor(opts: TelemetryOptions) {
    super();
    const { config, logger } = opts;
    this.log = logger.child({ part: 'telemetry' });
    this.config = { host: config.mcp.host, port: config.mcp.port };
    this.nodeIds = opts.nodeIds ?? new NodeIdStore(opts.persistNodeIds === false ? null : config.stateDir, (e) => this.log.warn({ err: String(e) }, 'node id store'));
    this.graph = new AgentGraph(this.nodeIds);
    this.graph.on('change', (cs) => this.emit('change', cs));
    this.graph.on('event', (e) => this.emit('event', e));
    this.graph.on('session', (s, cause) => this.emit('session', s, cause));
    this.client = new McpClient({
      transportFactory: opts.transportFactory ?? (() => new TcpTransport({ host: config.mcp.host, port: config.mcp.port })),
      logger: this.log,
      authToken: config.mcp.authToken,
      requestTimeoutMs: config.mcp.requestTimeoutMs,
    });
    const messages = new MessageFeed(this.graph);
    const control = opts.control ?? null;
    const backendKind = () => control?.backend?.()?.kind ?? null;
    this.poller = new Poller(this.client, this.graph, messages, this.push, config.mcp.pollMs, this.log, () => this.emitHealthIfChanged(), this.tools, backendKind);
    this.notifications = new Notifications(this.graph, messages, this.push, () => this.emitHealthIfChanged());
    this.client.on('state', (s) => this.onState(s));
    this.client.on('notification', (method, params) => this.onNotification(method, params));
    const unfollowControl = control ? followControl(control, this.graph, this.log) : () => {};
    // Another backend (a restarted container running another claude-flow) may have other tools: ask again.
    const onBackend = () => {
      const b = control?.backend?.() ?? null;
      const key = b ? `${b.kind}@${b.version ?? '?'}` : null;
      if (key === this.backendKey) return;
      // The poller forgets its tool verdicts (and what it learnt from them) and polls at once.
      if (this.backendKey !== null) this.poller.reset();
      this.backendKey = key;
    };
    onBackend();
    control?.on('backend', onBackend);
    this.unfollow = () => {
      unfollowControl();
      control?.off?.('backend', onBackend as (...args: never[]) => void);
    };
    this.client.start();
    this.selected = new SelectedMetrics(this.client, this.graph, config.mcp.metricsHz, (samples) => this.emit('performance', samples), this.tools);
  }

  get nodeIdsInUse(): ReadonlySet<number> {
    return this.graph.nodeIdsInUse;
  }

  knownNodeId(nodeId: number): boolean {
    return this.nodeIds.hasNumber(nodeId);
  }

  agent(id: string): Readonly<{ swarmId: string | null; mock: boolean }> | undefined {
    return this.graph.agents.get(id);
  }

  private onState(s: McpClientState): void {
    if (s === 'ready') {
      // A new connection: push is re-detected, and polling catches up on whatever changed meanwhile.
      this.push.agents = false;
      this.push.messages = false;
      this.poller.reset();
    }
    this.emitHealthIfChanged();
  }

  private onNotification(method: string, params: unknown): void {
    if (method === 'notifications/progress') this.taskProgress.note(params);
    try {
      this.notifications.handle(method, params, (m) => this.log.debug({ method: m.slice(0, 100) }, 'notification ignored'));
    } catch (e) {
      this.log.warn({ method: method.slice(0, 100), err: String(e) }, 'notification handling failed');
    }
  }

  private emitHealthIfChanged(): void {
    const h = this.health();
    const key = `${h.state}|${h.push}|${h.lastError}`;
    if (key === this.lastHealthKey) return;
    this.lastHealthKey = key;
    this.emit('health', h);
  }

  setSelectedAgents(ids: Iterable<string>): void {
    this.selected.set(ids);
  }

  toolsOff(): { tool: string; verdict: ToolVerdict }[] {
    return this.tools.list();
  }

  snapshot(opts?: { includeMock?: boolean }): GraphSnapshot {
    return this.graph.snapshot(opts);
  }

  health(): TelemetryHealth {
    const s = this.client.state;
    const state: TelemetryHealth['state'] =
      s === 'ready' ? 'connected' : s === 'closed' || s === 'idle' ? 'disconnected' : this.client.stats.connects > 0 || s === 'backoff' ? 'reconnecting' : 'connecting';
    const at = this.graph.lastTelemetryAt;
    return {
      state,
      host: this.config.host,
      port: this.config.port,
      latencyMs: this.client.latency().p50,
      reconnects: this.client.stats.reconnects,
      ageMs: at === null ? null : Math.max(0, Date.now() - at),
      push: this.push.agents,
      lastError: this.client.lastError,
    };
  }

  metrics(): TelemetryMetrics {
    const l = this.client.latency();
    const st = this.client.stats;
    const at = this.graph.lastTelemetryAt;
    return {
      state: this.client.state,
      connects: st.connects,
      reconnects: st.reconnects,
      requests: st.requests,
      requestFailures: st.failures,
      requestTimeouts: st.timeouts,
      inFlight: this.client.inFlight,
      linesRejected: st.linesRejected,
      notifications: st.notifications,
      latencyP50Ms: l.p50,
      latencyP95Ms: l.p95,
      latencyCount: l.count,
      agents: this.graph.agents.size,
      edges: this.graph.edges.size,
      rejectedAgents: this.graph.rejected.agents,
      rejectedFields: this.graph.rejected.fields,
      ageMs: at === null ? null : Date.now() - at,
    };
  }

  latencySamples(): readonly number[] {
    return this.client.latencySamples();
  }

  async callTool(name: string, args: Record<string, unknown> = {}, ctx?: RequestContext): Promise<unknown> {
    if (!ctx) return this.client.callTool(name, args);
    const log = ctx.log.child({ part: 'telemetry' });
    const t0 = performance.now();
    try {
      const out = await this.client.callTool(name, args);
      log.info({ tool: name, ms: Math.round(performance.now() - t0) }, 'MCP call');
      return out;
    } catch (e) {
      log.warn({ tool: name, ms: Math.round(performance.now() - t0), err: e instanceof Error ? e.message : String(e) }, 'MCP call failed');
      throw e;
    }
  }

  async sessionTasks(uuid: string, source: { kind: BackendKind | null; taskList: (() => Promise<unknown>) | null }, ctx?: RequestContext): Promise<TasksList> {
    if (source.taskList) return mapTaskList(await source.taskList(), this.taskProgress);
    const why = tasksUnsupported(source.kind);
    if (why) return unsupportedTasks(why);
    let raw: unknown;
    const t0 = performance.now();
    try {
      raw = await this.tools.call(this.client, 'task_list', { sessionId: uuid });
    } catch (e) {
      ctx?.log.warn({ tool: 'task_list', ms: Math.round(performance.now() - t0), err: e instanceof Error ? e.message : String(e) }, 'MCP call failed');
      if (e instanceof ToolUnsupportedError) return unsupportedTasks('the kit engine in the container has no task_list tool (an image from before the session console): rebuild the kit image');
      throw e;
    }
    if (typeof raw === 'object' && raw !== null && (raw as { sessionKnown?: unknown }).sessionKnown === false) {
      return unsupportedTasks('the kit engine holds no swarm for this session any more: it forgets a finished swarm 30 minutes after it ends, and every swarm when it restarts');
    }
    return mapTaskList(raw, this.taskProgress);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.poller.close();
    this.selected.close();
    this.unfollow();
    await this.client.close();
    this.nodeIds.saveNow();
  }
}
