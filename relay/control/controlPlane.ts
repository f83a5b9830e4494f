/**
 * The control plane: picks a driver and a backend, runs every exec through timeout + bounded output +
 * retry + circuit breaker, keeps the session list cached (one exec per refresh, refreshed on events),
 * discovers swarm ids after a spawn answered, reaps, watches the container (Docker events + a probe),
 * restores running sessions after a container restart, and reports health and metrics.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import type { InitializeSwarmBody } from '../../shared/api.js';
import { SESSION_UUID_PATTERN, SWARM_ID_PATTERN } from '../../shared/api.js';
import type { Session, SessionStatus, SwarmConfig, Priority } from '../../shared/model/session.js';
import { SESSION_STATUSES, TERMINAL_SESSION_STATUSES } from '../../shared/model/session.js';
import type { BreakerState, DegradedMode, Health, PlaneHealth } from '../../shared/model/health.js';
import type { ActivityEvent } from '../../shared/protocol/messages.js';
import { ControlError, asControlError, CONTROL_ERROR_KINDS, type ControlErrorKind } from './errors.js';
import type { ExecDriver, ExecResult } from './exec.js';
import { CircuitBreaker, ExecMetrics, RateLimiter, Semaphore, withRetry, EXEC_LATENCY_BUCKETS_MS } from './resilience.js';
import { StateStore } from './stateStore.js';
import type { Backend, RunOptions, SpawnRequest } from './backends/types.js';
import { SessionManagerBackend, SESSION_MANAGER_PATH } from './backends/sessionManager.js';
import { ClaudeFlowBackend } from './backends/claudeFlow.js';
import { DockerDriver, type DockerEvent } from './drivers/docker.js';
import { LocalDriver } from './drivers/local.js';
import { EmbeddedEngine } from './embedded.js';
import { localSessionManagerCli, repoRoot } from './paths.js';

export type ControlHealth = Health['control'];

/** Pushed to clients as a `session` message (plus the whole session for deltas). */
export interface SessionChange {
  uuid: string;
  swarmId: string | null;
  status: SessionStatus;
  replaces: string | null;
  session: Session;
}

/** An activity event without seq/time (the stream server's ring assigns those). */
export type ControlActivity = Pick<ActivityEvent, 'kind' | 'level' | 'message' | 'sessionUuid' | 'swarmId'> & { time: number };

export interface ControlEvents {
  session: [SessionChange];
  sessionRemoved: [{ uuid: string }];
  activity: [ControlActivity];
  health: [ControlHealth];
  /** The exec-read agents changed (claude-flow backend). */
  agents: [];
}

/** Hooks the telemetry plane provides for the MCP side of spawn-agent-hybrid and task submission. */
export interface McpTools {
  agentSpawn(a: { type: string; name?: string; swarmId: string }): Promise<{ agentId: string | null; message?: string }>;
  taskOrchestrate(a: { task: string; priority: Priority; swarmId: string }): Promise<{ taskId: string | null; message?: string }>;
}

export interface ControlTiming {
  /** Health probe period. Default 5000 ms. */
  probeMs: number;
  /** Reaper period. Default 30000 ms. */
  reapMs: number;
  /** Exec-read agents refresh (claude-flow backend only). Default 5000 ms. */
  agentsMs: number;
  /** Cleanup period (removes finished sessions older than cleanupMaxAgeHours). Default 1 h. */
  cleanupMs: number;
  cleanupMaxAgeHours: number;
  /** A cached list younger than this is served without an exec. Default 2000 ms. */
  listTtlMs: number;
  /** Give up waiting for a swarm id after this long. Default 60000 ms. */
  discoverMaxMs: number;
  /** Breaker stays open this long before a half-open probe. Default 5000 ms. */
  breakerOpenMs: number;
  /** Resubscribe to Docker events after this delay when the stream ends. Default 1000 ms. */
  eventsRetryMs: number;
  /** Execs running at once (each is a process in the container). Default 8. */
  execConcurrency: number;
  /** Execs allowed to wait for a slot before callers get 429. Default 5000. */
  execQueue: number;
}

const DEFAULT_TIMING: ControlTiming = {
  probeMs: 5000,
  reapMs: 30_000,
  agentsMs: 5_000,
  cleanupMs: 3_600_000,
  cleanupMaxAgeHours: 24,
  listTtlMs: 2000,
  discoverMaxMs: 60_000,
  breakerOpenMs: 5000,
  eventsRetryMs: 1000,
  execConcurrency: 8,
  execQueue: 5000,
};

export interface ControlPlaneDeps {
  config: RelayConfig;
  logger: Logger;
  /** Tests and benches: use this driver instead of choosing one (null: none, read-only). */
  driver?: ExecDriver | null;
  /** Tests: use this backend instead of probing for one. */
  backend?: (run: (argv: readonly string[], o: RunOptions) => Promise<ExecResult>, store: StateStore) => Backend;
  /** argv prefix running the session manager with the local driver. Default [node, dist/container/session-manager/cli.js]. */
  localSessionManager?: string[];
  /** Start the embedded engine with the local driver (default config.embedded). */
  embedded?: boolean;
  timing?: Partial<ControlTiming>;
}

export interface ControlPerformance {
  execLatencyMs: { p50: number | null; p95: number | null; count: number };
  execFailures: Record<string, number>;
}

export interface ControlMetricsSnapshot {
  /** Cumulative counts per upper bound (ms), Prometheus-style. */
  execLatencyBucketsMs: { le: number; count: number }[];
  execLatencyCount: number;
  execLatencySumMs: number;
  failuresByKind: Record<ControlErrorKind, number>;
  breaker: BreakerState;
  sessionsByStatus: Record<SessionStatus, number>;
  state: PlaneHealth;
}

const DEFAULT_AGENT_TYPES = ['coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer'];

export class ControlPlane {
  readonly events = new EventEmitter<ControlEvents>();
  readonly breaker: CircuitBreaker;
  readonly metrics = new ExecMetrics();
  readonly store: StateStore;
  readonly timing: ControlTiming;
  readonly hiveRoot: string;
  private backendImpl: Backend | null = null;
  private detecting: Promise<Backend | null> | null = null;
  private readonly limiter: RateLimiter;
  private readonly slots: Semaphore;
  private readonly cache = new Map<string, Session>();
  private cacheAt = 0;
  private listOk = false;
  private refreshing: Promise<void> | null = null;
  private readonly pending = new Map<string, number>();
  private discoverTimer: NodeJS.Timeout | null = null;
  private discoverDelay = 250;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private lastError: string | null = null;
  private execLatencyMs: number | null = null;
  private probeFailed = false;
  private dockerReachable = true;
  private containerRunning: boolean | null = null;
  private containerPaused = false;
  private containerStartedAt: string | null = null;
  private cpuPercent: number | null = null;
  private memoryBytes: number | null = null;
  private unsubscribeEvents: (() => void) | null = null;
  private eventsTimer: NodeJS.Timeout | null = null;
  private restoreCandidates: Session[] = [];
  private lastHealthKey = '';
  private mcpTools: McpTools | null = null;
  private statsBusy = false;
  engine: EmbeddedEngine | null = null;

  constructor(
    readonly config: RelayConfig,
    readonly logger: Logger,
    readonly driver: ExecDriver | null,
    private readonly deps: ControlPlaneDeps,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.breaker = new CircuitBreaker({ threshold: 5, openMs: this.timing.breakerOpenMs });
    this.breaker.onChange = (s) => {
      this.activity('health', s === 'closed' ? 'info' : 'warn', `control breaker ${s}`);
      this.emitHealth();
    };
    this.limiter = new RateLimiter(config.spawnRatePerMin);
    this.slots = new Semaphore(this.timing.execConcurrency, this.timing.execQueue);
    this.store = new StateStore(config.stateDir, (err) => logger.warn({ err }, 'control state store'));
    this.hiveRoot = path.join(config.stateDir, 'hive');
    this.events.setMaxListeners(50);
  }

  // ---------- public surface ----------

  get readOnly(): boolean {
    return this.driver === null;
  }

  get backendName(): 'session-manager' | 'claude-flow' | 'none' {
    return this.backendImpl?.name ?? 'none';
  }

  /** Subscribes; returns an unsubscribe. */
  on<K extends keyof ControlEvents>(event: K, fn: (...a: ControlEvents[K]) => void): () => void {
    this.events.on(event, fn as never);
    return () => this.events.off(event, fn as never);
  }

  setMcpTools(tools: McpTools | null): void {
    this.mcpTools = tools;
  }

  health(): ControlHealth {
    return {
      state: this.state(),
      driver: this.driver?.kind ?? 'none',
      backend: this.backendName,
      container: this.driver?.container ?? null,
      execLatencyMs: this.execLatencyMs,
      breaker: this.breaker.state,
      lastError: this.lastError,
      containerCpuPercent: this.cpuPercent,
      containerMemoryBytes: this.memoryBytes,
    };
  }

  private state(): PlaneHealth {
    if (!this.driver) return 'unavailable';
    if (this.driver.kind === 'docker' && (!this.dockerReachable || this.containerRunning === false || this.containerPaused)) return 'unavailable';
    if (this.breaker.state === 'open') return 'unavailable';
    if (this.breaker.state === 'half-open' || this.probeFailed || this.backendImpl === null) return 'degraded';
    return 'healthy';
  }

  /** The control plane's share of Health.degraded, from the state it holds (relay/health.ts adds telemetry's). */
  degraded(): DegradedMode[] {
    const out: DegradedMode[] = [];
    if (!this.driver) {
      out.push({ code: 'read-only', message: 'HIVE_DRIVER=none: swarms cannot be spawned or stopped from here.', stillWorks: 'Telemetry: watching agents and sessions.', action: 'Start the relay with HIVE_DRIVER=auto, docker or local to control swarms.' });
      return out;
    }
    if (this.driver.kind === 'docker' && !this.dockerReachable) {
      out.push({ code: 'docker-unavailable', message: 'The Docker engine does not answer.', stillWorks: 'Telemetry from MCP, and the last known session list (stale).', action: 'Start Docker (or check DOCKER_HOST / permissions on /var/run/docker.sock).' });
    } else if (this.driver.kind === 'docker' && (this.containerRunning === false || this.containerPaused)) {
      out.push({
        code: 'container-down',
        message: `Container ${this.driver.container} is ${this.containerPaused ? 'paused' : 'not running'}.`,
        stillWorks: 'Cached sessions (stale); telemetry if MCP answers.',
        action: this.containerPaused ? `docker unpause ${this.driver.container}` : `Start it: docker start ${this.driver.container} (or npm run container:up).`,
      });
    }
    if (this.breaker.state !== 'closed') {
      out.push({ code: 'breaker-open', message: `Commands in the container failed ${this.breaker.threshold} times in a row; the relay pauses them. Last error: ${this.lastError ?? 'unknown'}`, stillWorks: 'Telemetry and the cached session list.', action: 'Check the container logs; the relay retries by itself every few seconds.' });
    }
    return out;
  }

  /** The cached list (never execs); `stale` when the last refresh failed or none succeeded yet. */
  /** Agents read by exec (claude-flow containers); empty for the session manager, whose agents come from MCP. */
  execAgents(): import('./backends/types.js').ExecAgent[] {
    return this.backendImpl?.execAgents?.() ?? [];
  }

  sessions(): { sessions: Session[]; stale: boolean } {
    return { sessions: [...this.cache.values()].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)), stale: !this.listOk };
  }

  /** The list, refreshed with one exec when the cache is older than listTtlMs; stale cache when that fails. */
  async listSessions(): Promise<{ sessions: Session[]; stale: boolean }> {
    if (this.driver && Date.now() - this.cacheAt > this.timing.listTtlMs) {
      await this.refresh().catch(() => undefined);
    }
    return this.sessions();
  }

  async getSession(uuid: string): Promise<Session> {
    assertUuid(uuid);
    if (!this.driver) {
      const s = this.cache.get(uuid);
      if (!s) throw new ControlError('session-not-found', `no session ${uuid}`);
      return s;
    }
    const b = await this.requireBackend();
    try {
      const s = this.merge(await b.get(uuid));
      this.upsert(s);
      return s;
    } catch (err) {
      const ce = asControlError(err);
      if (ce.kind === 'session-not-found') {
        const cached = this.cache.get(uuid);
        // Between `create` answering and the registry listing it, the relay already knows the session.
        if (cached?.status === 'spawning') return cached;
      }
      throw ce;
    }
  }

  /** Spawns a swarm: `create` (answered at once with the uuid), then `start` detached. */
  async spawnSwarm(body: InitializeSwarmBody, o: { replaces?: string | null; rateLimit?: boolean } = {}): Promise<{ uuid: string; status: SessionStatus; swarmId: null }> {
    this.assertWritable();
    if (o.rateLimit !== false) this.limiter.take();
    const b = await this.requireBackend();
    const config: SwarmConfig = {
      topology: body.topology,
      maxAgents: body.maxAgents,
      strategy: body.strategy,
      priority: body.priority,
      enableNeural: body.enableNeural,
      agentTypes: body.agentTypes,
    };
    const req: SpawnRequest = { task: body.customPrompt, config, replaces: o.replaces ?? null };
    const uuid = await b.create(req);
    const now = Date.now();
    const session: Session = {
      uuid,
      swarmId: null,
      task: req.task,
      priority: config.priority === 'critical' ? 'high' : config.priority,
      status: 'spawning',
      createdAt: now,
      updatedAt: now,
      lastActivity: now,
      config,
      backend: b.name,
      progress: null,
      agentCount: null,
      replaces: req.replaces,
    };
    this.upsert(session);
    this.store.update(uuid, { swarmId: null }, b.name);
    this.activity('spawn', 'info', `spawning swarm for session ${uuid}${req.replaces ? ` (replaces ${req.replaces})` : ''}`, uuid, null);
    this.pending.set(uuid, now);
    b.start(uuid, req).then(
      () => this.scheduleDiscovery(true),
      (err: unknown) => {
        const ce = asControlError(err);
        this.pending.delete(uuid);
        const cur = this.cache.get(uuid);
        if (cur) this.upsert({ ...cur, status: 'failed', updatedAt: Date.now() });
        this.activity('error', 'error', `session ${uuid} failed to start: ${ce.message}`, uuid, null);
      },
    );
    return { uuid, status: 'spawning', swarmId: null };
  }

  async stopSession(uuid: string) {
    return this.action(uuid, 'stop');
  }
  async pauseSession(uuid: string) {
    return this.action(uuid, 'pause');
  }
  async resumeSession(uuid: string) {
    return this.action(uuid, 'resume');
  }

  private async action(uuid: string, verb: 'stop' | 'pause' | 'resume'): Promise<{ uuid: string; status: SessionStatus }> {
    assertUuid(uuid);
    this.assertWritable();
    const b = await this.requireBackend();
    const status = await b[verb](uuid);
    this.pending.delete(uuid);
    const cur = this.cache.get(uuid);
    if (cur) this.upsert({ ...cur, status, updatedAt: Date.now() });
    this.activity('status', 'info', `session ${uuid} ${status}`, uuid, cur?.swarmId ?? null);
    void this.refresh().catch(() => undefined);
    return { uuid, status };
  }

  /** spawn-agent-hybrid: MCP agent_spawn into a running swarm, or a new one-agent swarm through exec. */
  async spawnAgent(body: { agentType: string; swarmId?: string; sessionUuid?: string; method: 'docker' | 'mcp' | 'hybrid'; name?: string }): Promise<{
    success: boolean;
    methodUsed: 'docker' | 'mcp';
    agentId: string | null;
    swarmId: string | null;
    message: string;
  }> {
    let swarmId = body.swarmId ?? null;
    if (!swarmId && body.sessionUuid) swarmId = (await this.getSession(body.sessionUuid)).swarmId;
    if (body.method !== 'docker') {
      const tools = this.mcpTools;
      const why = !tools ? 'the MCP telemetry connection is not available' : !swarmId ? 'no swarm id given (or the session has none yet)' : null;
      if (why === null) {
        try {
          const r = await tools!.agentSpawn({ type: body.agentType, ...(body.name ? { name: body.name } : {}), swarmId: swarmId! });
          this.activity('spawn', 'info', `agent ${body.agentType} spawned in ${swarmId} via MCP`, body.sessionUuid ?? null, swarmId);
          return { success: true, methodUsed: 'mcp', agentId: r.agentId, swarmId, message: r.message ?? `spawned ${body.agentType} in ${swarmId}` };
        } catch (err) {
          if (body.method === 'mcp') throw new ControlError('mcp-unavailable', `MCP agent_spawn failed: ${(err as Error).message}`);
        }
      } else if (body.method === 'mcp') {
        throw new ControlError(tools ? 'bad-request' : 'mcp-unavailable', `cannot spawn through MCP: ${why}`);
      }
    }
    const label = body.name ? ` named ${body.name.replace(/[\u0000-\u001f]/g, ' ')}` : '';
    const r = await this.spawnSwarm({
      topology: 'star',
      maxAgents: 3,
      strategy: 'adaptive',
      priority: 'medium',
      enableNeural: true,
      agentTypes: [body.agentType],
      customPrompt: `Run a ${body.agentType} agent${label}`,
    });
    return { success: true, methodUsed: 'docker', agentId: null, swarmId: null, message: `session ${r.uuid} is spawning; its swarm id follows as a session event` };
  }

  async submitTask(uuid: string, body: { task: string; priority: Priority }): Promise<{ accepted: boolean; taskId: string | null; message: string }> {
    assertUuid(uuid);
    this.assertWritable();
    const s = await this.getSession(uuid);
    if (TERMINAL_SESSION_STATUSES.includes(s.status)) throw new ControlError('conflict', `session ${uuid} is ${s.status}`);
    if (!s.swarmId) throw new ControlError('conflict', `session ${uuid} has no swarm id yet; try again when it is running`);
    if (!this.mcpTools) throw new ControlError('mcp-unavailable', 'tasks go to the swarm through MCP, which is not connected');
    const r = await this.mcpTools.taskOrchestrate({ task: body.task, priority: body.priority, swarmId: s.swarmId });
    this.activity('task-start', 'info', `task submitted to ${s.swarmId}`, uuid, s.swarmId);
    return { accepted: true, taskId: r.taskId, message: r.message ?? 'task accepted' };
  }

  performance(): ControlPerformance {
    return {
      execLatencyMs: { p50: this.metrics.percentile(0.5), p95: this.metrics.percentile(0.95), count: this.metrics.count },
      execFailures: Object.fromEntries(this.metrics.failures),
    };
  }

  metricsSnapshot(): ControlMetricsSnapshot {
    const byStatus = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
    for (const s of this.cache.values()) byStatus[s.status]++;
    const failures = Object.fromEntries(CONTROL_ERROR_KINDS.map((k) => [k, this.metrics.failures.get(k) ?? 0])) as Record<ControlErrorKind, number>;
    return {
      execLatencyBucketsMs: EXEC_LATENCY_BUCKETS_MS.map((le, i) => ({ le, count: this.metrics.buckets[i]! })),
      execLatencyCount: this.metrics.count,
      execLatencySumMs: this.metrics.sumMs,
      failuresByKind: failures,
      breaker: this.breaker.state,
      sessionsByStatus: byStatus,
      state: this.state(),
    };
  }

  /**
   * Swarm-level figures: sessions by status and known agents from the registry; claude-flow's own
   * `hive-mind metrics` when that is the backend. Unknown stays null.
   */
  async swarmMetrics(): Promise<{ backend: string; sessionsByStatus: Record<SessionStatus, number>; agents: number | null; claudeFlow: import('./parsers.js').HiveMetrics | null }> {
    const { sessions } = await this.listSessions();
    const byStatus = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
    let agents: number | null = null;
    for (const s of sessions) {
      byStatus[s.status]++;
      if (s.agentCount !== null && !TERMINAL_SESSION_STATUSES.includes(s.status)) agents = (agents ?? 0) + s.agentCount;
    }
    const b = this.backendImpl;
    const claudeFlow = b?.metrics ? await b.metrics().catch(() => null) : null;
    return { backend: this.backendName, sessionsByStatus: byStatus, agents, claudeFlow };
  }

  /** Removes finished sessions older than the age (session manager `cleanup`). */
  async cleanup(maxAgeHours = this.timing.cleanupMaxAgeHours): Promise<number | null> {
    this.assertWritable();
    const n = await (await this.requireBackend()).cleanup(maxAgeHours);
    await this.refresh().catch(() => undefined);
    return n;
  }

  /** Marks sessions whose process is gone as interrupted. */
  async reap(): Promise<string[]> {
    if (!this.driver) return [];
    const uuids = await (await this.requireBackend()).reap();
    for (const u of uuids) this.activity('status', 'warn', `session ${u} had no live process: marked interrupted`, u, this.cache.get(u)?.swarmId ?? null);
    if (uuids.length > 0) await this.refresh().catch(() => undefined);
    return uuids;
  }

  // ---------- exec path ----------

  /** Every exec goes through here: breaker, timeout, output cap, retry for transient failures, metrics. */
  readonly run = async (argv: readonly string[], o: RunOptions): Promise<ExecResult> => {
    const driver = this.driver;
    if (!driver) throw readOnlyError();
    return withRetry(
      async () => {
        this.breaker.acquire();
        const release = await this.slots.acquire();
        // The breaker may have opened while this call waited for a slot.
        if (this.breaker.state === 'open') {
          try {
            this.breaker.acquire();
          } catch (err) {
            release();
            throw err;
          }
        }
        try {
          const r = await driver.exec(argv, {
            timeoutMs: o.timeoutMs ?? this.config.exec.timeoutMs,
            maxOutputBytes: this.config.exec.maxOutputBytes,
            ...(o.env ? { env: o.env } : {}),
            ...(o.detached ? { detached: true } : {}),
          });
          this.metrics.observe(r.durationMs);
          this.breaker.success();
          return r;
        } catch (err) {
          const ce = asControlError(err);
          this.metrics.fail(ce.kind);
          this.lastError = ce.message;
          // The breaker guards against a container that is up but whose execs fail or hang. Docker gone or
          // the container down are states of their own (dockerReachable, containerRunning) with their own
          // banner and recovery; counting them would open the breaker and add a wrong "check the container
          // logs" mode on top, and turn the next spawns' docker-unavailable into circuit-open.
          if (ce.kind !== 'output-too-large' && ce.kind !== 'docker-unavailable' && ce.kind !== 'container-not-running') this.breaker.failure();
          if (ce.kind === 'docker-unavailable') this.dockerReachable = false;
          if (ce.kind === 'container-not-running') {
            // Docker refuses an exec in a paused container with 409 "... is paused": that container is
            // still running, and only `unpause` (which clears containerPaused) brings it back. Marking it
            // not running would keep control unavailable after the unpause until the next probe.
            if (this.containerPaused || /\bis paused\b/i.test(ce.message)) this.containerPaused = true;
            else this.containerRunning = false;
          }
          this.emitHealth();
          throw ce;
        } finally {
          release();
        }
      },
      { isTransient: (e) => e.kind === 'docker-unavailable' || (o.idempotent && e.kind === 'timeout') },
    );
  };

  private assertWritable(): void {
    if (!this.driver) throw readOnlyError();
  }

  private async requireBackend(): Promise<Backend> {
    if (this.backendImpl) return this.backendImpl;
    const b = await this.detectBackend();
    if (b) return b;
    if (this.driver?.kind === 'docker' && this.containerRunning === false) {
      throw new ControlError('container-not-running', `container ${this.driver.container} is not running; start it (npm run container:up) and try again`);
    }
    throw new ControlError(
      'command-failed',
      this.driver?.kind === 'local'
        ? `the session manager is not built (${localSessionManagerCli()} is missing); run npm run build`
        : `neither ${SESSION_MANAGER_PATH} nor claude-flow was found in container ${this.driver?.container ?? '?'}`,
    );
  }

  /** Session manager first (probe the script), else a bare claude-flow CLI. Null when neither answers. */
  detectBackend(): Promise<Backend | null> {
    if (this.backendImpl) return Promise.resolve(this.backendImpl);
    if (this.detecting) return this.detecting;
    this.detecting = (async () => {
      try {
        if (!this.driver) return null;
        if (this.deps.backend) return (this.backendImpl = this.deps.backend(this.run, this.store));
        if (this.driver.kind === 'local') {
          const prefix = this.deps.localSessionManager ?? [process.execPath, localSessionManagerCli()];
          if (!this.deps.localSessionManager && !fs.existsSync(prefix[1]!)) return null;
          return (this.backendImpl = new SessionManagerBackend(this.run, prefix));
        }
        const t = await this.run(['test', '-x', SESSION_MANAGER_PATH], { idempotent: true, timeoutMs: 5000 });
        if (t.exitCode === 0) return (this.backendImpl = new SessionManagerBackend(this.run, [SESSION_MANAGER_PATH]));
        const cf = await this.run(['claude-flow', '--version'], { idempotent: true, timeoutMs: 15_000 });
        if (cf.exitCode === 0) return (this.backendImpl = new ClaudeFlowBackend({ run: this.run, store: this.store, driverKind: 'docker' }));
        return null;
      } catch (err) {
        this.logger.debug({ err }, 'backend detection failed');
        return null;
      } finally {
        this.detecting = null;
        if (this.backendImpl) this.emitHealth();
      }
    })();
    return this.detecting;
  }

  // ---------- session cache ----------

  /** Fills what the registry lacks from the relay's own record (swarm id survives a relay restart). */
  private merge(s: Session): Session {
    const stored = this.store.get(s.uuid);
    if (s.swarmId && stored?.swarmId !== s.swarmId) this.store.update(s.uuid, { swarmId: s.swarmId }, s.backend);
    if (!s.swarmId && stored?.swarmId) return { ...s, swarmId: stored.swarmId };
    return s;
  }

  private upsert(s: Session): void {
    const prev = this.cache.get(s.uuid);
    this.cache.set(s.uuid, s);
    if (!prev || prev.status !== s.status || prev.swarmId !== s.swarmId) {
      this.events.emit('session', { uuid: s.uuid, swarmId: s.swarmId, status: s.status, replaces: s.replaces, session: s });
      if (prev && !prev.swarmId && s.swarmId) this.activity('status', 'info', `session ${s.uuid} runs swarm ${s.swarmId}`, s.uuid, s.swarmId);
    }
  }

  /** One exec re-reads every session (single-flight: concurrent callers share it). */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const b = await this.requireBackend();
        const { sessions, skipped } = await b.list();
        if (skipped > 0) this.logger.warn({ skipped }, 'registry entries the relay cannot show');
        const seen = new Set<string>();
        for (const raw of sessions) {
          const s = this.merge(raw);
          seen.add(s.uuid);
          // The registry has not caught up with a spawn the relay just answered: keep "spawning".
          const cur = this.cache.get(s.uuid);
          this.upsert(cur?.status === 'spawning' && s.status === 'created' ? { ...s, status: 'spawning' } : s);
        }
        for (const [uuid, s] of this.cache) {
          if (seen.has(uuid)) continue;
          if (s.status === 'spawning' && Date.now() - (s.createdAt ?? 0) < 30_000) continue;
          this.cache.delete(uuid);
          this.events.emit('sessionRemoved', { uuid });
        }
        this.cacheAt = Date.now();
        if (!this.listOk) {
          this.listOk = true;
          this.emitHealth();
        }
      } catch (err) {
        this.listOk = false;
        throw err;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Swarm ids arrive after the spawn answered: refresh with backoff (250 ms doubling to 5 s) while any are pending. */
  private scheduleDiscovery(reset = false): void {
    if (this.closed) return;
    if (reset) this.discoverDelay = 250;
    if (this.discoverTimer) {
      if (!reset) return;
      clearTimeout(this.discoverTimer);
    }
    this.discoverTimer = setTimeout(() => {
      this.discoverTimer = null;
      void this.discover();
    }, this.discoverDelay);
    this.discoverTimer.unref?.();
    this.discoverDelay = Math.min(5000, this.discoverDelay * 2);
  }

  private async discover(): Promise<void> {
    if (this.pending.size === 0 || this.closed) return;
    try {
      await this.refresh();
      const b = this.backendImpl;
      const waiting = [...this.pending.keys()].filter((u) => !this.cache.get(u)?.swarmId);
      if (b?.discover && waiting.length > 0) {
        await b.discover(waiting);
        await this.refresh();
      }
    } catch (err) {
      this.logger.debug({ err }, 'swarm id discovery');
    }
    const now = Date.now();
    for (const [uuid, since] of this.pending) {
      const s = this.cache.get(uuid);
      if (s?.swarmId || (s && TERMINAL_SESSION_STATUSES.includes(s.status))) this.pending.delete(uuid);
      else if (now - since > this.timing.discoverMaxMs) {
        this.pending.delete(uuid);
        this.activity('error', 'warn', `session ${uuid}: no swarm id after ${Math.round(this.timing.discoverMaxMs / 1000)} s`, uuid, null);
      }
    }
    if (this.pending.size > 0) this.scheduleDiscovery();
  }

  // ---------- health, events, restore ----------

  private activity(kind: ControlActivity['kind'], level: ControlActivity['level'], message: string, sessionUuid: string | null = null, swarmId: string | null = null): void {
    this.events.emit('activity', { kind, level, message: message.slice(0, 8192), sessionUuid, swarmId, time: Date.now() });
  }

  private emitHealth(): void {
    const h = this.health();
    const key = `${h.state}|${h.breaker}|${h.backend}|${this.containerRunning}|${this.containerPaused}|${this.dockerReachable}`;
    if (key === this.lastHealthKey) return;
    this.lastHealthKey = key;
    this.events.emit('health', h);
  }

  /** Called with each Docker event for our container (within a second of it happening). */
  handleContainerEvent(e: DockerEvent): void {
    // `kill` fires for any signal and `oom` may not end the container: only `die`/`destroy` mean down.
    const down = e.action === 'die' || e.action === 'destroy';
    this.logger.info({ action: e.action }, 'container event');
    if (e.action === 'oom') this.activity('health', 'error', `container ${this.driver?.container} ran out of memory`);
    if (down) {
      if (this.containerRunning !== false) this.containerDown(`container ${e.action}`, true);
    } else if (e.action === 'pause') {
      this.containerPaused = true;
      this.lastError = `container ${this.driver?.container ?? ''} is paused`;
      this.activity('health', 'warn', `container ${this.driver?.container} paused`);
      this.emitHealth();
    } else if (e.action === 'unpause') {
      this.containerPaused = false;
      this.activity('health', 'info', `container ${this.driver?.container} unpaused`);
      this.emitHealth();
    } else if (e.action === 'start' || e.action === 'restart') {
      if (e.action === 'start' || this.containerRunning !== true) void this.containerBack();
    }
  }

  /** True when the last "down" certainly ended the container's processes (die, new StartedAt), not just our view of it. */
  private downCertain = false;

  private containerDown(why: string, certain: boolean): void {
    if (this.containerRunning !== false) this.downCertain = certain;
    else this.downCertain ||= certain;
    // Only sessions that were actually running (or starting) come back; a `created` one was never started.
    const running = [...this.cache.values()].filter((s) => s.status === 'running' || s.status === 'starting');
    // Keep the earliest snapshot: a second "down" event (stop then die) must not overwrite it with nothing.
    if (this.containerRunning !== false || this.restoreCandidates.length === 0) this.restoreCandidates = running;
    this.containerRunning = false;
    this.containerPaused = false;
    this.listOk = false;
    this.lastError = `${why}: container ${this.driver?.container ?? ''} is not running`;
    this.activity('health', 'error', `${why}: control unavailable (${running.length} running session(s) affected)`);
    this.emitHealth();
  }

  private backInFlight: Promise<void> | null = null;
  private readonly restoring = new Set<string>();

  /** Container is back: re-read the registry, reap the sessions that died with it, restore the running ones. */
  private containerBack(): Promise<void> {
    if (this.backInFlight) return this.backInFlight;
    this.backInFlight = this.containerBackOnce().finally(() => (this.backInFlight = null));
    return this.backInFlight;
  }

  private async containerBackOnce(): Promise<void> {
    this.containerRunning = true;
    this.containerPaused = false;
    this.dockerReachable = true;
    this.breaker.reset();
    this.activity('health', 'info', `container ${this.driver?.container} is running`);
    this.emitHealth();
    try {
      if (this.driver?.kind === 'docker') {
        const st = await (this.driver as DockerDriver).inspectState().catch(() => null);
        if (st) this.containerStartedAt = st.startedAt;
      }
      // When the container certainly restarted, its sessions' processes are gone: re-spawn at once
      // (the issue wants them back within 5 s) while reap + re-read run beside it. Otherwise (Docker
      // was only unreachable) read the registry first and restore only what really stopped.
      const early = this.downCertain ? this.restore() : null;
      const wrapper = this.driver?.kind === 'docker' && 'probeTimeoutWrapper' in this.driver ? (this.driver as DockerDriver).probeTimeoutWrapper() : null;
      await this.detectBackend();
      await this.reap().catch((err: unknown) => this.logger.debug({ err }, 'reap after restart'));
      await this.refresh().catch(() => undefined);
      await (early ?? this.restore());
      await wrapper;
    } catch (err) {
      this.logger.warn({ err }, 'after container start');
    }
  }

  private async restore(): Promise<void> {
    const candidates = this.restoreCandidates;
    const certain = this.downCertain;
    this.restoreCandidates = [];
    this.downCertain = false;
    if (!this.config.restore || candidates.length === 0) return;
    // In parallel (the exec semaphore bounds it): ten sessions must not take ten create round trips.
    await Promise.all(candidates.map((old) => this.restoreOne(old, certain)));
  }

  private async restoreOne(old: Session, certain: boolean): Promise<void> {
    if (this.store.get(old.uuid)?.replacedBy || this.restoring.has(old.uuid)) return;
    const now = this.cache.get(old.uuid);
    // Still genuinely running (e.g. only the relay saw a blip): nothing to restore.
    if (!certain && now && (now.status === 'running' || now.status === 'paused')) return;
    this.restoring.add(old.uuid);
    try {
      const c = old.config ?? {};
      const r = await this.spawnSwarm(
        {
          topology: c.topology ?? 'mesh',
          maxAgents: Math.min(20, Math.max(3, c.maxAgents ?? 8)),
          strategy: c.strategy ?? 'adaptive',
          priority: c.priority ?? old.priority,
          enableNeural: c.enableNeural ?? true,
          agentTypes: c.agentTypes && c.agentTypes.length > 0 ? c.agentTypes : DEFAULT_AGENT_TYPES,
          customPrompt: old.task || 'restored session',
        },
        { replaces: old.uuid, rateLimit: false },
      );
      this.store.update(old.uuid, { replacedBy: r.uuid }, old.backend);
      this.activity('spawn', 'info', `restored session ${old.uuid} as ${r.uuid}`, r.uuid, null);
    } catch (err) {
      this.activity('error', 'error', `could not restore session ${old.uuid}: ${asControlError(err).message}`, old.uuid, old.swarmId);
    } finally {
      this.restoring.delete(old.uuid);
    }
  }

  /** Periodic probe: container state, one exec's latency, stats (docker); a list refresh (local). */
  async probe(): Promise<void> {
    if (!this.driver || this.closed) return;
    try {
      if (this.driver.kind === 'docker') {
        const d = this.driver as DockerDriver;
        let st;
        try {
          st = await d.inspectState();
          this.dockerReachable = true;
        } catch (err) {
          const ce = asControlError(err);
          if (ce.kind === 'docker-unavailable') {
            if (this.dockerReachable) this.activity('health', 'error', ce.message);
            this.dockerReachable = false;
            if (this.containerRunning !== false) this.containerDown('Docker engine unreachable', false);
          }
          this.lastError = ce.message;
          this.probeFailed = true;
          return;
        }
        if (!st.running || st.paused) {
          if (st.paused) {
            this.containerPaused = true;
            this.lastError = `container ${d.container} is paused`;
          }
          else if (this.containerRunning !== false) this.containerDown(`container ${st.exists ? 'not running' : 'does not exist'}`, true);
          return;
        }
        this.containerPaused = false;
        // A restart the event stream missed shows as a new StartedAt.
        const restarted = this.containerStartedAt !== null && st.startedAt !== this.containerStartedAt;
        if (this.containerRunning !== true || restarted) {
          if (restarted && this.containerRunning === true) this.containerDown('container restarted', true);
          this.containerStartedAt = st.startedAt;
          await this.containerBack();
        }
        const r = await this.run(['true'], { idempotent: true, timeoutMs: Math.min(5000, this.config.exec.timeoutMs) });
        this.execLatencyMs = Math.round(r.durationMs * 10) / 10;
        this.probeFailed = false;
        this.readStats(d);
        if (Date.now() - this.cacheAt > this.timing.listTtlMs) await this.refresh();
      } else {
        const t0 = performance.now();
        await this.refresh();
        this.execLatencyMs = Math.round((performance.now() - t0) * 10) / 10;
        this.probeFailed = false;
      }
    } catch (err) {
      this.probeFailed = true;
      this.lastError = asControlError(err).message;
    } finally {
      this.emitHealth();
    }
  }

  private readStats(d: DockerDriver): void {
    if (this.statsBusy) return;
    this.statsBusy = true;
    d.stats()
      .then((s) => {
        this.cpuPercent = s.cpuPercent === null ? null : Math.round(s.cpuPercent * 10) / 10;
        this.memoryBytes = s.memoryBytes;
      })
      .catch(() => {
        this.cpuPercent = null;
        this.memoryBytes = null;
      })
      .finally(() => (this.statsBusy = false));
  }

  private async subscribeDockerEvents(): Promise<void> {
    if (this.closed || this.driver?.kind !== 'docker') return;
    const d = this.driver as DockerDriver;
    try {
      this.unsubscribeEvents = await d.subscribeEvents(
        (e) => this.handleContainerEvent(e),
        () => {
          this.unsubscribeEvents = null;
          if (this.closed) return;
          // The stream ends when dockerd goes away: probe now (marks it unavailable) and resubscribe.
          void this.probe();
          this.eventsTimer = setTimeout(() => void this.subscribeDockerEvents(), this.timing.eventsRetryMs);
        },
      );
      if (!this.dockerReachable) void this.probe();
    } catch {
      this.eventsTimer = setTimeout(() => void this.subscribeDockerEvents(), this.timing.eventsRetryMs);
    }
  }

  /** Starts timers, subscriptions and (local + embedded) the engine. */
  async start(): Promise<void> {
    if (!this.driver) {
      this.emitHealth();
      return;
    }
    if (this.driver.kind === 'local' && (this.deps.embedded ?? this.config.embedded)) {
      if (EmbeddedEngine.available()) {
        this.engine = new EmbeddedEngine({
          hiveRoot: this.hiveRoot,
          port: this.config.mcp.port,
          authToken: this.config.mcp.authToken,
          logger: this.logger.child({ part: 'embedded-engine' }),
          onState: (s) => this.activity('health', s.running ? 'info' : 'warn', s.running ? `embedded engine running (pid ${s.pid})` : `embedded engine stopped: ${s.lastExit}`),
        });
        this.engine.start();
      } else {
        this.logger.warn('embedded engine not built (dist/container/engine/main.js missing): no live swarm until `npm run build`');
      }
    }
    if (this.driver.kind === 'docker') {
      await this.probe();
      await this.subscribeDockerEvents();
    } else {
      this.containerRunning = null;
    }
    const backend = await this.detectBackend();
    // Ask our kit what it can do once, up front, so the first spawn already costs one exec.
    if (backend instanceof SessionManagerBackend) await backend.capabilities();
    await this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'first session list failed'));
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.logger.debug({ err }, 'control timer')), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.timing.probeMs, () => this.probe());
    every(this.timing.reapMs, () => this.reap());
    // claude-flow's MCP never sees hive-mind swarms: their agents come from `hive-mind status` (~1 s a call).
    const withAgents: Backend | null = backend;
    if (withAgents?.refreshAgents) every(this.timing.agentsMs, async () => (await withAgents.refreshAgents!()) && this.events.emit('agents'));
    every(this.timing.cleanupMs, () => this.cleanup());
    this.emitHealth();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.discoverTimer) clearTimeout(this.discoverTimer);
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    this.unsubscribeEvents?.();
    this.store.flush();
    await this.engine?.stop();
    await this.driver?.close();
    this.events.removeAllListeners();
  }
}

function readOnlyError(): ControlError {
  return new ControlError('read-only', 'the relay runs with HIVE_DRIVER=none (telemetry only): set HIVE_DRIVER=auto, docker or local to control swarms');
}

export function assertUuid(uuid: string): void {
  if (typeof uuid !== 'string' || !SESSION_UUID_PATTERN.test(uuid)) throw new ControlError('bad-request', 'not a session uuid');
}

export function assertSwarmId(id: string): void {
  if (typeof id !== 'string' || !SWARM_ID_PATTERN.test(id)) throw new ControlError('bad-request', 'not a swarm id');
}

/** Chooses the driver from config.driver (auto: docker when the container runs, else local). */
export async function chooseDriver(config: RelayConfig, logger: Logger): Promise<ExecDriver | null> {
  const local = () =>
    new LocalDriver({
      env: { HIVE_ROOT: path.join(config.stateDir, 'hive'), MCP_HOST: '127.0.0.1', MCP_PORT: String(config.mcp.port), ...(config.mcp.authToken ? { MCP_AUTH_TOKEN: config.mcp.authToken } : {}) },
      cwd: repoRoot(),
    });
  switch (config.driver) {
    case 'none':
      return null;
    case 'docker':
      return new DockerDriver(config.container);
    case 'local':
      return local();
    default: {
      const d = new DockerDriver(config.container);
      try {
        const st = await Promise.race([d.inspectState(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('docker inspect timed out')), 2000).unref())]);
        if (st.running) {
          logger.info({ container: config.container }, 'control driver: docker');
          return d;
        }
        logger.info({ container: config.container }, 'control driver: local (container not running)');
      } catch (err) {
        logger.info({ err: (err as Error).message }, 'control driver: local (Docker not reachable)');
      }
      await d.close();
      return local();
    }
  }
}
