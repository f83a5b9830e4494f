/**
 * Telemetry: the persistent MCP client plus the one agent graph, fed by push notifications when the
 * server sends them and by polling otherwise. Public surface for the relay's composition root.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import { SessionSchema, type Health, type Session } from '../../shared/model/index.js';
import type { GraphSnapshot, PerformanceMessage } from '../../shared/protocol/messages.js';
import { McpClient, type McpClientState } from './client.js';
import { TcpTransport, type TransportFactory } from './transport.js';
import { AgentGraph, type GraphDelta, type GraphEvent } from './graph.js';
import { NodeIdStore } from './nodeIds.js';
import { agentArray, isObject, normalizeAgent, normalizeMessage, normalizeSwarm, swarmArray, toNumber, toStr } from './normalize.js';

export { AgentGraph, type GraphDelta, type GraphEvent } from './graph.js';
export { McpClient, RECONNECT, MAX_IN_FLIGHT } from './client.js';

export type TelemetryHealth = Health['telemetry'];
export type PerformanceSample = PerformanceMessage['samples'][number];

/** An agent the control plane read by exec (claude-flow's `hive-mind status`); no metrics. */
export interface ExecAgentInfo {
  id?: string;
  swarmId: string | null;
  sessionUuid?: string | null;
  name: string;
  type: string;
  status: string;
}

/**
 * The narrow view of the control plane telemetry needs. `on` is EventEmitter-compatible; `agents` and
 * `execAgents` are optional (only a claude-flow backend has exec-only agents).
 */
export interface ControlView {
  sessions(): Session[];
  on(event: 'session', listener: (s: Session) => void): unknown;
  on(event: 'agents', listener: () => void): unknown;
  off?(event: 'session' | 'agents', listener: (...args: never[]) => void): unknown;
  execAgents?(): ExecAgentInfo[];
}

export interface TelemetryMetrics {
  state: McpClientState;
  connects: number;
  reconnects: number;
  requests: number;
  requestFailures: number;
  requestTimeouts: number;
  inFlight: number;
  linesRejected: number;
  notifications: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyCount: number;
  agents: number;
  edges: number;
  rejectedAgents: number;
  rejectedFields: number;
  ageMs: number | null;
}

type Events = {
  delta: [GraphDelta];
  event: [GraphEvent];
  health: [TelemetryHealth];
  session: [Session];
  performance: [PerformanceSample[]];
};

export interface Telemetry {
  snapshot(opts?: { includeMock?: boolean }): GraphSnapshot;
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): unknown;
  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): unknown;
  health(): TelemetryHealth;
  metrics(): TelemetryMetrics;
  /** Prometheus text lines (no trailing newline), for the lead's /metrics. */
  prometheus(): string;
  /** tools/call on the live connection; rejects with McpUnavailableError when not connected. */
  callTool(name: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Agents some client selected: their agent_metrics are polled at up to config.mcp.metricsHz. */
  setSelectedAgents(ids: Iterable<string>): void;
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
}

/** With push on, the full poll only reconciles drift: at most this often. */
export const PUSH_RECONCILE_MS = 10_000;
/** Max agents whose metrics are polled at once (matches the subscribe schema's selection cap). */
export const MAX_SELECTED = 32;
/** How often the control plane's session list is reconciled, beside its events. */
const SESSION_RECONCILE_MS = 5_000;

const MCP_LEVELS: Record<string, GraphEvent['level']> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  alert: 'error',
  emergency: 'error',
};

export function createTelemetry(opts: TelemetryOptions): Telemetry {
  return new TelemetryImpl(opts);
}

class TelemetryImpl extends EventEmitter<Events> implements Telemetry {
  private readonly log: Logger;
  private readonly client: McpClient;
  private readonly graph: AgentGraph;
  private readonly nodeIds: NodeIdStore;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private metricsTimer: ReturnType<typeof setInterval> | null = null;
  private sessionTimer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
  private closed = false;
  /** Push seen on the current connection, per kind. */
  private pushAgents = false;
  private pushMessages = false;
  private swarmListWorks: boolean | null = null;
  private messagesWork: boolean | null = null;
  private messageCursor: number | null = null;
  private lastFullPoll = 0;
  private selected: string[] = [];
  private metricsBusy = new Set<string>();
  private lastHealthKey = '';
  private readonly unsubscribe: (() => void)[] = [];
  readonly config: { host: string; port: number };

  constructor(private readonly opts: TelemetryOptions) {
    super();
    const { config, logger } = opts;
    this.log = logger.child({ part: 'telemetry' });
    this.config = { host: config.mcp.host, port: config.mcp.port };
    this.nodeIds = new NodeIdStore(opts.persistNodeIds === false ? null : config.stateDir, (e) =>
      this.log.warn({ err: String(e) }, 'node id store'),
    );
    this.graph = new AgentGraph(this.nodeIds);
    this.graph.on('delta', (d) => this.emit('delta', d));
    this.graph.on('event', (e) => this.emit('event', e));
    this.graph.on('session', (s) => this.emit('session', s));
    this.client = new McpClient({
      transportFactory: opts.transportFactory ?? (() => new TcpTransport({ host: config.mcp.host, port: config.mcp.port })),
      logger: this.log,
      authToken: config.mcp.authToken,
      requestTimeoutMs: config.mcp.requestTimeoutMs,
    });
    this.client.on('state', (s) => this.onState(s));
    this.client.on('notification', (m, p) => this.onNotification(m, p));
    this.attachControl(opts.control ?? null);
    this.client.start();
    this.metricsTimer = setInterval(() => this.pollMetrics(), Math.round(1000 / config.mcp.metricsHz));
    this.metricsTimer.unref?.();
  }

  get nodeIdsInUse(): ReadonlySet<number> {
    return this.graph.nodeIdsInUse;
  }

  knownNodeId(nodeId: number): boolean {
    return this.nodeIds.hasNumber(nodeId);
  }

  // ---- control plane ----

  private attachControl(control: ControlView | null): void {
    if (!control) return;
    const syncSessions = () => {
      try {
        const list = control.sessions().filter((s) => SessionSchema.safeParse(s).success);
        this.graph.reconcileSessions(list);
      } catch (e) {
        this.log.warn({ err: String(e) }, 'control.sessions() failed');
      }
    };
    const onSession = (s: Session) => {
      if (SessionSchema.safeParse(s).success) this.graph.upsertSession(s);
      else this.log.warn('control plane sent an invalid session; ignored');
    };
    const onAgents = () => this.syncExecAgents(control);
    control.on('session', onSession);
    control.on('agents', onAgents);
    this.unsubscribe.push(() => {
      control.off?.('session', onSession as (...args: never[]) => void);
      control.off?.('agents', onAgents as (...args: never[]) => void);
    });
    syncSessions();
    this.syncExecAgents(control);
    this.sessionTimer = setInterval(syncSessions, SESSION_RECONCILE_MS);
    this.sessionTimer.unref?.();
  }

  private syncExecAgents(control: ControlView): void {
    if (!control.execAgents) return;
    let list: ExecAgentInfo[];
    try {
      list = control.execAgents();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'control.execAgents() failed');
      return;
    }
    const patches = list
      .map((a) => normalizeAgent({ ...a, id: a.id ?? `${a.swarmId ?? 'unknown'}/${a.name}` }))
      .filter((p): p is NonNullable<typeof p> => p !== null);
    this.graph.reconcileAgents(patches, 'exec', 'exec');
  }

  // ---- connection state ----

  private onState(s: McpClientState): void {
    if (s === 'ready') {
      this.pushAgents = false;
      this.pushMessages = false;
      this.swarmListWorks = null;
      this.messagesWork = null;
      // Catch up on whatever changed while disconnected.
      this.schedulePoll(0);
    }
    this.emitHealthIfChanged();
  }

  private emitHealthIfChanged(): void {
    const h = this.health();
    const key = `${h.state}|${h.push}|${h.lastError}`;
    if (key === this.lastHealthKey) return;
    this.lastHealthKey = key;
    this.emit('health', h);
  }

  private schedulePoll(delay: number): void {
    if (this.closed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollLoop();
    }, delay);
    this.pollTimer.unref?.();
  }

  private async pollLoop(): Promise<void> {
    if (this.closed) return;
    const pollMs = this.opts.config.mcp.pollMs;
    if (this.client.state === 'ready' && !this.polling) {
      const push = this.pushAgents;
      const due = !push || Date.now() - this.lastFullPoll >= PUSH_RECONCILE_MS;
      this.polling = true;
      try {
        if (due) await this.pollOnce();
        else if (!this.pushMessages) await this.pollMessages();
      } catch (e) {
        this.log.debug({ err: String(e) }, 'poll failed');
      } finally {
        this.polling = false;
      }
    }
    this.schedulePoll(pollMs);
  }

  /** One full poll: agents, swarms, messages. Exposed to tests through the timer only. */
  private async pollOnce(): Promise<void> {
    const [agents, swarms] = await Promise.allSettled([
      this.client.callTool('agent_list', {}),
      this.swarmListWorks === false ? Promise.resolve(null) : this.client.callTool('swarm_list', {}),
    ]);
    if (agents.status === 'fulfilled') {
      const arr = agentArray(agents.value);
      if (arr) {
        // claude-flow puts the swarm id once at the top, not on each agent.
        const top = isObject(agents.value) ? toStr(agents.value.swarmId ?? agents.value.swarm_id, 256) : undefined;
        const patches = arr.slice(0, 20_000).map(normalizeAgent);
        const good = patches.filter((p): p is NonNullable<typeof p> => p !== null);
        if (typeof top === 'string' && top) for (const p of good) if (p.swarmId === undefined) p.swarmId = top;
        for (const p of good) if (p.swarmId === 'mock-swarm') p.mock = true;
        this.graph.rejected.agents += patches.length - good.length;
        this.graph.reconcileAgents(good, 'mcp', 'mcp');
        this.graph.initialSynced = true;
        this.lastFullPoll = Date.now();
        // An empty answer is still fresh telemetry (an idle engine is not a stale one).
        this.graph.lastTelemetryAt = this.lastFullPoll;
      } else this.log.debug('agent_list answer has no agent array');
    }
    const list = swarms.status === 'fulfilled' ? swarmArray(swarms.value) : null;
    if (list) {
      this.swarmListWorks = true;
      this.graph.batch(() => {
        const listed = new Set<string>();
        for (const s of list.slice(0, 2000)) {
          const p = normalizeSwarm(s);
          if (!p) continue;
          listed.add(p.id);
          this.graph.applySwarm(p);
        }
        this.graph.reconcileSwarms(listed);
      });
    } else {
      this.swarmListWorks = false;
      try {
        const st = await this.client.callTool('swarm_status', {});
        const p = normalizeSwarm(st);
        if (p) this.graph.applySwarm(p);
      } catch {
        // swarm_status is optional telemetry; agent_list already ran.
      }
    }
    // Even with pushed messages, a full poll catches up on what was missed while disconnected (the cursor dedupes).
    await this.pollMessages();
    this.emitHealthIfChanged();
  }

  private async pollMessages(): Promise<void> {
    if (this.messagesWork === false) return;
    let payload: unknown;
    try {
      payload = await this.client.callTool('agent_messages', this.messageCursor === null ? { limit: 500 } : { since: this.messageCursor, limit: 500 });
    } catch {
      return;
    }
    if (!isObject(payload) || !Array.isArray(payload.messages)) {
      this.messagesWork = false;
      return;
    }
    this.messagesWork = true;
    const cursor = toNumber(payload.cursor);
    this.ingestMessages(payload.messages.slice(0, 5000));
    if (typeof cursor === 'number') this.messageCursor = cursor;
  }

  private ingestMessages(list: unknown[]): void {
    const now = Date.now();
    this.graph.batch(() => {
      for (const raw of list) {
        const m = normalizeMessage(raw, now);
        if (!m) {
          this.graph.rejected.messages++;
          continue;
        }
        // Push and poll can overlap: seqs at or below the cursor were counted already.
        if (m.seq !== null && this.messageCursor !== null && m.seq <= this.messageCursor) continue;
        this.graph.recordMessage(m);
        if (m.seq !== null) this.messageCursor = Math.max(this.messageCursor ?? 0, m.seq);
      }
    });
  }

  // ---- push ----

  private onNotification(method: string, params: unknown): void {
    this.graph.lastTelemetryAt = Date.now();
    try {
      this.handleNotification(method, params);
    } catch (e) {
      this.log.warn({ method: method.slice(0, 100), err: String(e) }, 'notification handling failed');
    }
  }

  private handleNotification(method: string, params: unknown): void {
    const p = isObject(params) ? params : {};
    const swarmId = toStr(p.swarmId ?? p.swarm_id, 256) ?? null;
    const sessionUuid = toStr(p.sessionId ?? p.session_id, 64) ?? null;
    const agentId = toStr(p.agentId ?? p.agent_id, 256) ?? null;
    switch (method) {
      case 'notifications/hive/agents': {
        this.pushAgents = true;
        this.graph.batch(() => {
          const agents = Array.isArray(p.agents) ? p.agents.slice(0, 20_000) : [];
          for (const raw of agents) {
            const patch = normalizeAgent(raw);
            if (!patch) {
              this.graph.rejected.agents++;
              continue;
            }
            if (patch.swarmId === undefined && swarmId) patch.swarmId = swarmId;
            if (patch.sessionUuid === undefined && sessionUuid) patch.sessionUuid = sessionUuid;
            this.graph.applyAgent(patch, 'mcp-push', 'mcp');
          }
          const removed = Array.isArray(p.removed) ? p.removed : [];
          for (const id of removed.slice(0, 20_000)) if (typeof id === 'string') this.graph.removeAgent(id);
        });
        this.graph.initialSynced = true;
        this.emitHealthIfChanged();
        return;
      }
      case 'notifications/hive/swarm': {
        const s = normalizeSwarm(p);
        if (s) this.graph.applySwarm(s);
        return;
      }
      case 'notifications/hive/message': {
        this.pushMessages = true;
        this.ingestMessages([p]);
        return;
      }
      case 'notifications/message': {
        const data = p.data;
        const d = isObject(data) ? data : {};
        const text = typeof data === 'string' ? data : typeof d.text === 'string' ? d.text : JSON.stringify(data ?? null);
        this.graph.addEvent({
          time: Date.now(),
          kind: 'log',
          level: MCP_LEVELS[String(p.level)] ?? 'info',
          message: text.slice(0, 8192),
          agentId: toStr(d.agentId ?? d.agent_id, 256) ?? agentId,
          swarmId: toStr(d.swarmId ?? d.swarm_id, 256) ?? swarmId,
          sessionUuid: toStr(d.sessionId ?? d.session_id, 64) ?? sessionUuid,
          progress: null,
        });
        return;
      }
      case 'notifications/progress': {
        const progress = toNumber(p.progress);
        const total = toNumber(p.total);
        let ratio: number | null = null;
        if (typeof progress === 'number') {
          if (typeof total === 'number' && total > 0) ratio = progress / total;
          else if (progress >= 0 && progress <= 1) ratio = progress;
        }
        if (ratio !== null) ratio = Math.min(1, Math.max(0, ratio));
        const token = toStr(p.progressToken, 256);
        this.graph.addEvent({
          time: Date.now(),
          kind: 'progress',
          level: 'info',
          message: (toStr(p.message, 8192) ?? `${token ?? 'task'}: ${ratio === null ? 'progress' : `${Math.round(ratio * 100)}%`}`) || 'progress',
          agentId,
          swarmId,
          sessionUuid,
          progress: ratio,
        });
        return;
      }
      case 'notification': {
        // Upstream agents' client messages.
        if (p.type !== 'client_message') return;
        const msg = p.message;
        this.graph.addEvent({
          time: toNumber(p.timestamp) ?? Date.now(),
          kind: 'message',
          level: 'info',
          message: (typeof msg === 'string' ? msg : JSON.stringify(msg ?? null)).slice(0, 8192),
          agentId,
          swarmId,
          sessionUuid,
          progress: null,
        });
        return;
      }
      default:
        this.log.debug({ method: method.slice(0, 100) }, 'notification ignored');
    }
  }

  // ---- selected-agent metrics ----

  setSelectedAgents(ids: Iterable<string>): void {
    this.selected = [...new Set(ids)].filter((id) => typeof id === 'string' && id.length <= 256).slice(0, MAX_SELECTED);
  }

  private pollMetrics(): void {
    if (this.client.state !== 'ready' || this.selected.length === 0) return;
    for (const id of this.selected) {
      if (this.metricsBusy.has(id) || !this.graph.agents.has(id)) continue;
      this.metricsBusy.add(id);
      this.client
        .callTool('agent_metrics', { agentId: id })
        .then((payload) => {
          if (!isObject(payload)) return; // claude-flow's stub answers plain text: no metrics
          const inner = isObject(payload.agent) ? payload.agent : payload;
          const patch = normalizeAgent({ ...inner, id });
          if (!patch) return;
          this.graph.applyAgent({ id, metrics: patch.metrics, rejected: patch.rejected }, 'mcp');
          const a = this.graph.agents.get(id);
          if (a) {
            this.emit('performance', [
              { agentId: id, time: Date.now(), cpuUsage: a.cpuUsage, memoryUsage: a.memoryUsage, tokenRate: a.tokenRate, tokens: a.tokens },
            ]);
          }
        })
        .catch(() => undefined)
        .finally(() => this.metricsBusy.delete(id));
    }
  }

  // ---- public ----

  snapshot(opts?: { includeMock?: boolean }): GraphSnapshot {
    return this.graph.snapshot(opts);
  }

  health(): TelemetryHealth {
    const s = this.client.state;
    const state: TelemetryHealth['state'] =
      s === 'ready'
        ? 'connected'
        : s === 'closed' || s === 'idle'
          ? 'disconnected'
          : this.client.stats.connects > 0 || s === 'backoff'
            ? 'reconnecting'
            : 'connecting';
    const at = this.graph.lastTelemetryAt;
    return {
      state,
      host: this.config.host,
      port: this.config.port,
      latencyMs: this.client.latency().p50,
      reconnects: this.client.stats.reconnects,
      ageMs: at === null ? null : Math.max(0, Date.now() - at),
      push: this.pushAgents,
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

  prometheus(): string {
    const m = this.metrics();
    const n = (v: number | null) => (v === null ? 'NaN' : String(v));
    return [
      '# TYPE hivescope_mcp_connected gauge',
      `hivescope_mcp_connected ${m.state === 'ready' ? 1 : 0}`,
      '# TYPE hivescope_mcp_reconnects_total counter',
      `hivescope_mcp_reconnects_total ${m.reconnects}`,
      '# TYPE hivescope_mcp_requests_total counter',
      `hivescope_mcp_requests_total ${m.requests}`,
      '# TYPE hivescope_mcp_request_failures_total counter',
      `hivescope_mcp_request_failures_total ${m.requestFailures}`,
      '# TYPE hivescope_mcp_lines_rejected_total counter',
      `hivescope_mcp_lines_rejected_total ${m.linesRejected}`,
      '# TYPE hivescope_mcp_latency_ms summary',
      `hivescope_mcp_latency_ms{quantile="0.5"} ${n(m.latencyP50Ms)}`,
      `hivescope_mcp_latency_ms{quantile="0.95"} ${n(m.latencyP95Ms)}`,
      '# TYPE hivescope_graph_agents gauge',
      `hivescope_graph_agents ${m.agents}`,
      '# TYPE hivescope_graph_edges gauge',
      `hivescope_graph_edges ${m.edges}`,
      '# TYPE hivescope_telemetry_age_ms gauge',
      `hivescope_telemetry_age_ms ${n(m.ageMs)}`,
    ].join('\n');
  }

  callTool(name: string, args: Record<string, unknown> = {}): Promise<unknown> {
    return this.client.callTool(name, args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    if (this.sessionTimer) clearInterval(this.sessionTimer);
    for (const u of this.unsubscribe) u();
    await this.client.close();
    this.nodeIds.saveNow();
  }
}
