/**
 * The control plane's facade: one instance per exec target. It wires the parts (the exec pipeline, the
 * backend slot, the session cache, the commands, restore, health and, for a Docker driver, the container
 * watch), runs their timers, and is the one surface the HTTP routes, the stream, app.ts, tests and benches
 * use. Nothing here is module-level: everything target-specific comes in through the constructor (the
 * driver and its container, the backend, the state dir, the logger), so a second plane over another
 * Docker target is a second `new ControlPlane(...)`.
 *
 * Every command that HTTP calls takes the request's context as its LAST, optional parameter (see
 * ./commands.ts): its execs and retries are logged with the request's reqId, its events carry requestId.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import type { RequestContext } from '../context.js';
import type { InitializeSwarmBody } from '../../shared/api.js';
import type { Session, SessionStatus, Priority } from '../../shared/model/session.js';
import type { DegradedMode } from '../../shared/model/health.js';
import { asControlError } from './errors.js';
import type { ExecDriver } from './exec.js';
import { CircuitBreaker, ExecMetrics, RateLimiter, type Semaphore } from './resilience.js';
import { StateStore } from './stateStore.js';
import type { Backend, ExecAgent, RunFn } from './backends/types.js';
import { SessionManagerBackend } from './backends/sessionManager.js';
import type { HiveMetrics } from './parsers.js';
import { type EmbeddedEngine, startEmbeddedEngine } from './embedded.js';
import { DEFAULT_TIMING, type ControlTiming } from './timing.js';
import { PlaneEvents, type ControlEvents, type ControlHealth } from './planeEvents.js';
import { PlaneStatus, type BackendName } from './planeHealth.js';
import { ExecPipeline } from './execPipeline.js';
import { BackendSlot, type BackendFactory } from './backendDetect.js';
import { SessionCache } from './sessionCache.js';
import { ControlCommands, type McpTools, type SpawnAgentBody, type SpawnOptions } from './commands.js';
import { Restorer } from './restore.js';
import type { ContainerWatch, WatchHost } from './containerWatch.js';
import { ExecFamilies, type ControlPerformance } from './metrics.js';
import type { SessionMcp, SessionMcpOpener, SessionMcpSpec } from './backends/sessionMcp.js';
import { openDockerExecStream, openLocalExecStream, type ExecStream } from './drivers/execStream.js';
import { DockerDriver } from './drivers/docker.js';
import { LogReader, type LogQuery, type LogRead } from './console/logRead.js';
import { watchLocalFile, watchOverExec, type LogWatch, type LogWatchCallbacks } from './console/logWatch.js';
import { OutputFiles, type OpenedFile } from './outputFiles/outputFiles.js';
import type { FilesList } from '../../shared/model/console.js';
import { DEFAULT_TARGET_NAME } from '../../shared/model/target.js';

export interface ControlPlaneDeps {
  config: RelayConfig;
  logger: Logger;
  /** Tests and benches: use this driver instead of choosing one (null: none, read-only). */
  driver?: ExecDriver | null;
  /** Tests: use this backend instead of probing for one. */
  backend?: BackendFactory;
  /** argv prefix running the session manager with the local driver. Default [node, dist/container/session-manager/cli.js]. */
  localSessionManager?: string[];
  /** Start the embedded engine with the local driver (default config.embedded). */
  embedded?: boolean;
  /** This plane's record (uuid -> swarm id) and embedded hive root. Default config.stateDir; a second plane over another target passes its own. */
  stateDir?: string;
  timing?: Partial<ControlTiming>;
  /** The relay's exec families, made once for every target (prom-client registers a family once). Default: the plane's own. */
  execFamilies?: ExecFamilies;
  /** Exec slots shared with the other targets on this target's Docker engine (relay/fleet/fleet.ts). */
  engineSlots?: Semaphore;
}

export class ControlPlane {
  readonly events = new PlaneEvents();
  readonly breaker: CircuitBreaker;
  /** The exec families this plane observes into under its target's name: the relay's (deps), else its own. */
  readonly execFamilies: ExecFamilies;
  readonly metrics: ExecMetrics;
  readonly store: StateStore;
  readonly timing: ControlTiming;
  readonly hiveRoot: string;
  /** Every exec goes through here: breaker, timeout, output cap, retry for transient failures, metrics. */
  readonly run: RunFn;
  engine: EmbeddedEngine | null = null;
  private readonly status: PlaneStatus;
  private readonly backend: BackendSlot;
  private readonly cache: SessionCache;
  private readonly commands: ControlCommands;
  private readonly restorer: Restorer;
  private readonly watch: ContainerWatch | null;
  private mcpTools: McpTools | null = null;
  /** Builds an MCP client over a stream the plane opens (set by the relay: the control plane speaks no MCP). */
  private stdioMcp: ((open: () => Promise<ExecStream>) => SessionMcp) | null = null;
  /** Every per-session MCP server opened, so close() ends them all whichever backend opened them. */
  private readonly sessionServers = new Set<SessionMcp>();
  private readonly logs: LogReader;
  /** Every log watch open, so close() ends them (the live log closes its own when nobody follows). */
  private readonly logWatches = new Set<LogWatch>();
  private readonly outputs: OutputFiles;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(
    readonly config: RelayConfig,
    readonly logger: Logger,
    readonly driver: ExecDriver | null,
    private readonly deps: ControlPlaneDeps,
  ) {
    const timing = (this.timing = { ...DEFAULT_TIMING, ...deps.timing });
    this.execFamilies = deps.execFamilies ?? new ExecFamilies();
    this.metrics = new ExecMetrics(this.execFamilies.bind(config.targets[0]?.name ?? DEFAULT_TARGET_NAME));
    const stateDir = deps.stateDir ?? config.stateDir;
    const events = this.events;
    this.store = new StateStore(stateDir, (err) => logger.warn({ err }, 'control state store'));
    this.hiveRoot = path.join(stateDir, 'hive');
    const breaker = (this.breaker = new CircuitBreaker({ threshold: 5, openMs: timing.breakerOpenMs }));
    const status = (this.status = new PlaneStatus({ driver, breaker, backendName: () => this.backend.name, backendInfo: () => this.backend.current?.describe?.() ?? null, emit: (h) => events.emit('health', h) }));
    breaker.onChange = (s) => {
      events.activity('health', s === 'closed' ? 'info' : 'warn', `control breaker ${s}`);
      status.changed();
    };
    const pipeline = new ExecPipeline({
      driver,
      exec: config.exec,
      logger,
      breaker,
      metrics: this.metrics,
      status,
      concurrency: timing.execConcurrency,
      queue: timing.execQueue,
      engineSlots: deps.engineSlots,
      onFailure: (ce) => this.watch?.execFailed(ce),
    });
    this.run = pipeline.run;
    this.backend = new BackendSlot({
      driver,
      run: this.run,
      store: this.store,
      logger,
      factory: deps.backend,
      localSessionManager: deps.localSessionManager,
      containerStopped: () => this.watch?.stopped ?? false,
      onDetected: () => status.changed(),
      sessionMcp: () => this.sessionMcpOpener(),
    });
    this.logs = new LogReader({
      run: this.run,
      locate: async (uuid, ctx) => {
        const b = await this.backend.require(ctx);
        return b.logFile ? b.logFile(uuid, ctx) : { path: null, reason: 'no-log', message: `the ${b.name} backend keeps no log the relay can read` };
      },
    });
    this.outputs = new OutputFiles({
      run: this.run,
      driver: () => this.driver,
      maxOutputBytes: config.exec.maxOutputBytes,
      locate: async (uuid, ctx) => {
        const b = await this.backend.require(ctx);
        if (b.outputDir) return b.outputDir(uuid, ctx);
        await this.commands.getSession(uuid, ctx);
        return { dir: null, message: `the ${b.name} backend keeps no output directory the relay knows` };
      },
    });
    this.cache = new SessionCache({ backend: this.backend, store: this.store, events, logger, timing, onListOk: () => status.changed() });
    this.commands = new ControlCommands({
      writable: driver !== null,
      limiter: new RateLimiter(config.spawnRatePerMin),
      backend: this.backend,
      cache: this.cache,
      store: this.store,
      events,
      mcpTools: () => this.mcpTools,
      cleanupMaxAgeHours: timing.cleanupMaxAgeHours,
    });
    this.restorer = new Restorer({ enabled: config.restore, store: this.store, cache: this.cache, events, spawn: (body, o) => this.commands.spawnSwarm(body, o) });
    this.watch = driver?.watch?.(this.watchHost()) ?? null;
    status.target = this.watch;
  }

  // ---------- state and events ----------

  get readOnly(): boolean {
    return this.driver === null;
  }

  get backendName(): BackendName {
    return this.backend.name;
  }

  /** Subscribes; returns an unsubscribe. */
  on<K extends keyof ControlEvents>(event: K, fn: (...a: ControlEvents[K]) => void): () => void {
    return this.events.subscribe(event, fn);
  }

  setMcpTools(tools: McpTools | null): void {
    this.mcpTools = tools;
  }

  /** How to speak MCP over a command's stdio (the relay passes telemetry's stdio client). */
  setStdioMcp(make: ((open: () => Promise<ExecStream>) => SessionMcp) | null): void {
    this.stdioMcp = make;
  }

  /**
   * A long-lived command in the target with stdin open and its output streamed (docker exec -i, or a
   * local child): argv only, never through a shell.
   */
  openExecStream(argv: readonly string[], o: { cwd?: string; env?: Record<string, string> } = {}): Promise<ExecStream> {
    const d = this.driver;
    if (d instanceof DockerDriver) return openDockerExecStream(d.docker, d.container, argv, o);
    if (d?.kind === 'local') return openLocalExecStream(argv, o);
    return Promise.reject(new Error('no exec driver'));
  }

  /** Opens an MCP server for a session (claude-flow 3.x); null until the relay set the stdio client. */
  private sessionMcpOpener(): SessionMcpOpener | null {
    const make = this.stdioMcp;
    if (!make || !this.driver || this.closed) return null;
    return (spec: SessionMcpSpec) => {
      const m = make(() => this.openExecStream(spec.argv, { cwd: spec.cwd, env: spec.env }));
      this.sessionServers.add(m);
      return { get state() { return m.state; }, get reconnects() { return m.reconnects; }, callTool: (n, a, t) => m.callTool(n, a, t), close: async () => { this.sessionServers.delete(m); await m.close(); } };
    };
  }

  health(): ControlHealth {
    return this.status.health();
  }

  /** The control plane's share of Health.degraded, from the state it holds (relay/health.ts adds telemetry's). */
  degraded(): DegradedMode[] {
    return this.status.degraded();
  }

  /** Agents read by exec (claude-flow containers); empty for the session manager, whose agents come from MCP. */
  execAgents(): ExecAgent[] {
    return this.backend.current?.execAgents?.() ?? [];
  }

  /** The cached list (never execs); `stale` when the last refresh failed or none succeeded yet. */
  sessions(): { sessions: Session[]; stale: boolean } {
    return this.cache.sessions();
  }

  performance(): ControlPerformance {
    return {
      execLatencyMs: { p50: this.metrics.percentile(0.5), p95: this.metrics.percentile(0.95), count: this.metrics.count },
      execFailures: Object.fromEntries(this.metrics.failures),
    };
  }

  // ---------- commands (ctx last: see ./commands.ts) ----------

  listSessions(ctx?: RequestContext): Promise<{ sessions: Session[]; stale: boolean }> {
    return this.commands.listSessions(ctx);
  }
  getSession(uuid: string, ctx?: RequestContext): Promise<Session> {
    return this.commands.getSession(uuid, ctx);
  }
  spawnSwarm(body: InitializeSwarmBody, o: SpawnOptions = {}, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus; swarmId: null }> {
    return this.commands.spawnSwarm(body, o, ctx);
  }
  stopSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.commands.stopSession(uuid, ctx);
  }
  pauseSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.commands.pauseSession(uuid, ctx);
  }
  resumeSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.commands.resumeSession(uuid, ctx);
  }
  spawnAgent(body: SpawnAgentBody, ctx?: RequestContext): ReturnType<ControlCommands['spawnAgent']> {
    return this.commands.spawnAgent(body, ctx);
  }
  submitTask(uuid: string, body: { task: string; priority: Priority }, ctx?: RequestContext): ReturnType<ControlCommands['submitTask']> {
    return this.commands.submitTask(uuid, body, ctx);
  }
  swarmMetrics(ctx?: RequestContext): Promise<{ backend: string; sessionsByStatus: Record<SessionStatus, number>; agents: number | null; claudeFlow: HiveMetrics | null }> {
    return this.commands.swarmMetrics(ctx);
  }
  cleanup(maxAgeHours?: number, ctx?: RequestContext): Promise<number | null> {
    return this.commands.cleanup(maxAgeHours, ctx);
  }
  reap(ctx?: RequestContext): Promise<string[]> {
    return this.commands.reap(ctx);
  }

  /**
   * A byte range of the session's log (relay/control/console/logRead.ts). Throws LogUnavailable when the
   * relay cannot reach one (the reason says why), ControlError for an unknown session.
   */
  readLog(uuid: string, q: LogQuery, ctx?: RequestContext): Promise<LogRead> {
    return this.logs.read(uuid, q, ctx);
  }

  /**
   * Watches a log file the reads found (relay/control/console/logWatch.ts): a wake-up signal for the live
   * log, never a read. Null where it cannot run (no driver, the plane closed).
   */
  watchLog(file: string, cb: LogWatchCallbacks): LogWatch | null {
    const d = this.driver;
    if (!d || this.closed) return null;
    const w = d instanceof DockerDriver ? watchOverExec((argv, env) => this.openExecStream(argv, { env }), file, cb) : d.kind === 'local' ? watchLocalFile(file, cb) : null;
    if (!w) return null;
    this.logWatches.add(w);
    // Held until it is gone, so close() also waits for watchers still exiting.
    return { close: () => w.close().finally(() => this.logWatches.delete(w)) };
  }

  /** The session's output directory, bounded (relay/control/outputFiles). OutputFileError says why not. */
  listFiles(uuid: string, ctx?: RequestContext): Promise<FilesList> {
    return this.outputs.list(uuid, ctx);
  }

  /** One produced file, opened for streaming after both path gates; `path` as the route decoded it. */
  openFile(uuid: string, path: unknown, ctx?: RequestContext): Promise<OpenedFile> {
    return this.outputs.open(uuid, path, ctx);
  }

  /**
   * Where this session's tasks come from: the backend's own connection (`taskList`, claude-flow 3.x) or,
   * with none, the relay's main MCP connection judged by the backend kind. Throws for an unknown session.
   */
  async taskSource(uuid: string, ctx?: RequestContext): Promise<{ kind: import('../../shared/model/health.js').BackendKind | null; taskList: (() => Promise<unknown>) | null }> {
    await this.commands.getSession(uuid, ctx);
    const b = this.backend.current;
    return { kind: b?.describe?.().kind ?? null, taskList: b?.taskList ? () => b.taskList!(uuid, ctx) : null };
  }

  /** Session manager first (probe the script), else a bare claude-flow CLI. Null when neither answers. */
  detectBackend(ctx?: RequestContext): Promise<Backend | null> {
    return this.backend.detect(ctx);
  }

  /** One exec re-reads every session (single-flight: concurrent callers share it). */
  refresh(ctx?: RequestContext): Promise<void> {
    return this.cache.refresh(ctx);
  }

  // ---------- lifecycle ----------

  /** Periodic probe: container state, one exec's latency, stats (docker); a list refresh (local). */
  async probe(): Promise<void> {
    if (!this.driver || this.closed) return;
    const { status } = this;
    try {
      if (this.watch) await this.watch.probe();
      else {
        const t0 = performance.now();
        await this.cache.refresh();
        status.execLatencyMs = Math.round((performance.now() - t0) * 10) / 10;
        status.probeFailed = false;
      }
    } catch (err) {
      status.probeFailed = true;
      status.lastError = asControlError(err).message;
    } finally {
      status.changed();
    }
  }

  /** Starts timers, the container watch (docker) and (local + embedded) the engine. */
  async start(): Promise<void> {
    if (!this.driver) {
      this.status.changed();
      return;
    }
    if (this.driver.kind === 'local' && (this.deps.embedded ?? this.config.embedded)) {
      this.engine = startEmbeddedEngine({
        hiveRoot: this.hiveRoot,
        port: this.config.mcp.port,
        authToken: this.config.mcp.authToken,
        logger: this.logger.child({ part: 'embedded-engine' }),
        onState: (s) => this.events.activity('health', s.running ? 'info' : 'warn', s.running ? `embedded engine running (pid ${s.pid})` : `embedded engine stopped: ${s.lastExit}`),
      });
    }
    await this.watch?.start();
    const backend = await this.backend.detect();
    // Ask our kit what it can do once, up front, so the first spawn already costs one exec.
    if (backend instanceof SessionManagerBackend) await backend.capabilities();
    await this.cache.refresh().catch((err: unknown) => this.logger.warn({ err }, 'first session list failed'));
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.logger.debug({ err }, 'control timer')), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.timing.probeMs, () => this.probe());
    every(this.timing.reapMs, () => this.reap());
    // claude-flow's MCP never sees hive-mind swarms: their agents come from `hive-mind status` (~1 s a call).
    // Read the current backend each time: it may be detected after start, or again after a restart.
    every(this.timing.agentsMs, async () => (await this.backend.current?.refreshAgents?.()) && this.events.emit('agents'));
    every(this.timing.cleanupMs, () => this.cleanup());
    this.status.changed();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.cache.close();
    this.watch?.close();
    await Promise.all([...this.sessionServers].map((m) => m.close().catch(() => undefined)));
    await Promise.all([...this.logWatches].map((w) => w.close()));
    this.logWatches.clear();
    this.sessionServers.clear();
    this.store.flush();
    await this.engine?.stop();
    await this.driver?.close();
    this.events.removeAllListeners();
  }

  /** What the container watch is told and may do; the generic consequences of "down" and "back" live here. */
  private watchHost(): WatchHost {
    return {
      logger: this.logger,
      status: this.status,
      eventsRetryMs: this.timing.eventsRetryMs,
      activity: (kind, level, message) => this.events.activity(kind, level, message),
      ping: () => this.run(['true'], { idempotent: true, timeoutMs: Math.min(5000, this.config.exec.timeoutMs) }),
      probe: () => this.probe(),
      down: (certain, first) => {
        this.cache.markStale();
        return this.restorer.noteDown(certain, first);
      },
      up: () => this.breaker.reset(),
      recover: () => this.recover(),
      refreshIfExpired: () => this.cache.refreshIfExpired(),
    };
  }

  /**
   * The container runs again: re-read the registry, reap the sessions that died with it, restore the
   * running ones. When it certainly restarted, its sessions' processes are gone: re-spawn at once (back
   * within 5 s) while reap and re-read run beside it. Otherwise (Docker was only unreachable) read the
   * registry first and restore only what really stopped.
   */
  private async recover(): Promise<void> {
    const early = this.restorer.certain ? this.restorer.run() : null;
    // A restarted container may run another image (another claude-flow): probe again.
    await (this.restorer.certain ? this.backend.redetect() : this.backend.detect());
    await this.commands.reap().catch((err: unknown) => this.logger.debug({ err }, 'reap after restart'));
    await this.cache.refresh().catch(() => undefined);
    await (early ?? this.restorer.run());
  }
}
