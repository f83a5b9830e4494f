/**
 * The fleet (issue 14, docs/fleet.md section 1): one control plane and one telemetry per target, made
 * exactly as a lone relay makes its one pair (`configForTarget`), so the planes know nothing of fleets.
 * Targets start concurrently and independently: a target whose engine is unreachable or whose
 * certificates are bad stays `starting` with its reason and is retried on its own, while the others
 * serve. There is no lock shared between targets: each plane has its own exec pipeline (slots, breaker,
 * retries), container watch, restore and backend detection, each telemetry its own MCP client and
 * reconnect machine. Fleet-wide reads only read the planes' caches.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { configForTarget, type RelayConfig } from '../config.js';
import type { TargetConfig } from '../targets.js';
import { engineKey, resolveMcpEndpoint } from '../targets.js';
import { chooseDriver, createControlPlane, ControlError, ExecFamilies, type ControlPlane, type ControlPlaneDeps, type ExecDriver } from '../control/index.js';
import { Semaphore } from '../control/resilience.js';
import { createTelemetry, openStdioMcp, type ControlView, type Telemetry } from '../telemetry/index.js';
import { NodeIdStore } from '../graph/nodeIds.js';
import { combineHealth, countActiveSessions } from '../health.js';
import { describeEndpoint } from '../control/drivers/dockerConnection.js';
import type { Session } from '../../shared/model/session.js';
import type { GraphSnapshot } from '../../shared/protocol/messages.js';
import { Discovery, TARGET_LABEL, type DiscoveryOptions } from './discovery.js';
import type { DegradedMode, Health, PlaneHealth, TargetHealth } from '../../shared/model/health.js';
import type { TargetLifecycle, TargetSource } from '../../shared/model/target.js';
import { pickTarget, type PickCandidate } from './pick.js';
import { outSnapshot, type IdScope } from './ids.js';

/** A target whose planes could not be made is tried again this often. */
export const TARGET_RETRY_MS = 10_000;
/** In fleet mode the relay starts serving after this long even if some target is still starting. */
export const FLEET_START_WAIT_MS = 20_000;
/** How long a target's engine has to describe its container when the target starts. */
export const ENGINE_ANSWER_MS = 5_000;
/** Unknown-target messages list at most this many names. */
const MAX_NAMES_SHOWN = 20;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}

export interface TargetRuntime {
  readonly config: TargetConfig;
  readonly source: TargetSource;
  /** Position among the targets (HIVE_TARGETS order; discovered ones after). */
  readonly order: number;
  readonly scope: IdScope;
  /** Null until the target's planes are made (while its engine or certificates fail). */
  control: ControlPlane | null;
  telemetry: Telemetry | null;
  lifecycle: TargetLifecycle;
  /** Why the planes are not made yet, for health. */
  startError: string | null;
  /** A gone target's graph as it was when it left (ids already mapped out): its swarms stay, shown stale. */
  lastSnapshot: GraphSnapshot | null;
}

export type ReadyTarget = TargetRuntime & { control: ControlPlane; telemetry: Telemetry };

export function isReady(rt: TargetRuntime): rt is ReadyTarget {
  return rt.control !== null && rt.telemetry !== null;
}

export interface FleetOptions {
  /** Test seams for every target's plane (a recording driver, a backend, timings); `driver` applies to single mode only. */
  control?: Partial<Omit<ControlPlaneDeps, 'config' | 'logger'>>;
  /** Tests: a fleet target's driver instead of its engine (e.g. the kit's session manager as local processes); undefined: its engine. */
  targetDriver?: (target: TargetConfig) => ExecDriver | null | undefined;
  /** Tests: label discovery's engine client (relay/fleet/discovery.ts DiscoveryOptions.engineClient). */
  discovery?: DiscoveryOptions;
}

/** The narrow view telemetry needs of a control plane: sessions, and a plain Session per change. */
export function controlView(control: ControlPlane): ControlView & { dispose(): void } {
  const bus = new EventEmitter();
  const offSession = control.on('session', (c: { session: Session; requestId?: string }) => bus.emit('session', c.session, { requestId: c.requestId }));
  const offAgents = control.on('agents', () => bus.emit('agents'));
  const backend = () => {
    const b = control.health().backendInfo;
    return b ? { kind: b.kind, version: b.version } : null;
  };
  // Health changes carry the backend: telemetry is told when its kind or version changed.
  let backendKey = JSON.stringify(backend());
  const offHealth = control.on('health', () => {
    const key = JSON.stringify(backend());
    if (key === backendKey) return;
    backendKey = key;
    bus.emit('backend');
  });
  return {
    sessions: () => control.sessions().sessions,
    execAgents: () => control.execAgents(),
    backend,
    on: (event: 'session' | 'agents' | 'backend', listener: (...args: never[]) => void) => bus.on(event, listener as (...a: unknown[]) => void),
    off: (event: 'session' | 'agents' | 'backend', listener: (...args: never[]) => void) => bus.off(event, listener as (...a: unknown[]) => void),
    dispose: () => {
      offSession();
      offAgents();
      offHealth();
    },
  } as ControlView & { dispose(): void };
}

/** A target's control plane speaks MCP through its own telemetry (spawn-agent, tasks) and its per-session stdio servers. */
function wirePlanes(control: ControlPlane, telemetry: Telemetry, config: RelayConfig, logger: Logger): void {
  control.setMcpTools({
    agentSpawn: async (a, ctx) => {
      const r = (await telemetry.callTool('agent_spawn', a, ctx)) as { agentId?: string; agent?: { id?: string }; message?: string } | null;
      return { agentId: r?.agentId ?? r?.agent?.id ?? null, message: r?.message ?? 'agent spawned through MCP' };
    },
    taskOrchestrate: async (a, ctx) => {
      const r = (await telemetry.callTool('task_orchestrate', a, ctx)) as { taskId?: string; message?: string } | null;
      return { taskId: r?.taskId ?? null, message: r?.message ?? 'task submitted through MCP' };
    },
  });
  // claude-flow 3.x's MCP has no TCP and sees a hive only in its directory: the control plane runs one
  // per running session over an exec stream, spoken to with telemetry's stdio client.
  control.setStdioMcp((open) => openStdioMcp({ open, logger: logger.child({ part: 'session-mcp' }), requestTimeoutMs: config.mcp.requestTimeoutMs }));
}

const RUNNING_STATUSES: readonly Session['status'][] = ['spawning', 'created', 'starting', 'running', 'paused'];
const RANK: Record<PlaneHealth, number> = { healthy: 0, degraded: 1, unavailable: 2 };

type FleetEvents = {
  /** A target's planes are made (at start, after a retry, or a discovered container joined). */
  ready: [ReadyTarget];
  /** A discovered target's container was removed: planes closed, its swarms kept as stale. */
  gone: [TargetRuntime];
  /** A gone target stayed gone for HIVE_STALE_TTL: it and its stale swarms are dropped. */
  expired: [TargetRuntime];
};

export class Fleet extends EventEmitter<FleetEvents> {
  /** Fleet mode: HIVE_TARGETS (or discovery) set; ids leaving a target are qualified. */
  readonly qualify: boolean;
  private readonly runtimes = new Map<string, TargetRuntime>();
  private readonly disposers = new Map<string, () => void>();
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly staleTimers = new Map<string, NodeJS.Timeout>();
  /** Session uuid -> target, from every plane's events and lists. */
  private readonly sessionTargets = new Map<string, string>();
  /** The relay's one node id store in fleet mode (single mode: the telemetry keeps its own, as before). */
  private readonly nodeIds: NodeIdStore | null;
  private discovery: Discovery | null = null;
  private closed = false;
  /** Every target's plane observes its execs here under its name (/metrics: one family, a `target` label). */
  readonly execFamilies = new ExecFamilies();
  /**
   * One exec bound per Docker engine (HIVE_ENGINE_EXECS), shared by every target on it: each plane keeps
   * its own 8, so ten targets on one engine could otherwise run 80 execs there at once (keyed by engineKey).
   */
  private readonly engineSlots = new Map<string, Semaphore>();
  private slotsFor(t: TargetConfig): Semaphore {
    const key = engineKey(t.docker);
    let s = this.engineSlots.get(key);
    // The queue is the planes' own business (each bounds its own); this one only has to hold them all.
    if (!s) this.engineSlots.set(key, (s = new Semaphore(this.config.engineExecs, Number.MAX_SAFE_INTEGER)));
    return s;
  }

  private constructor(
    readonly config: RelayConfig,
    private readonly logger: Logger,
    private readonly opts: FleetOptions,
  ) {
    super();
    // No configured target at all (HIVE_TARGETS=[]) is a fleet too: whatever joins is a labelled target.
    this.qualify = config.targets.length === 0 || config.targets.some((t) => t.source === 'HIVE_TARGETS');
    this.nodeIds = this.qualify ? new NodeIdStore(config.stateDir, (e) => logger.warn({ err: String(e) }, 'node id store')) : null;
  }

  /**
   * Single mode: the one target's planes are made before this resolves (as the relay always did). Fleet
   * mode: every target starts at once; this resolves when all have, or after FLEET_START_WAIT_MS with
   * the slow ones still `starting` (they join when ready).
   */
  static async start(config: RelayConfig, logger: Logger, opts: FleetOptions = {}): Promise<Fleet> {
    const fleet = new Fleet(config, logger, opts);
    const starts = config.targets.map((t, i) => fleet.add(t, t.source === 'single' ? 'single' : 'config', i));
    if (!fleet.qualify) {
      await Promise.all(starts);
      return fleet;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(starts), new Promise<void>((r) => (timer = setTimeout(r, FLEET_START_WAIT_MS)))]);
    clearTimeout(timer);
    // Labelled containers on the configured targets' engines join by themselves (./discovery.ts), unless HIVE_DISCOVER=0.
    if (config.discover) {
      fleet.discovery = new Discovery(fleet, logger.child({ part: 'discovery' }), opts.discovery);
      fleet.discovery.start();
    }
    return fleet;
  }

  get targets(): ReadonlyMap<string, TargetRuntime> {
    return this.runtimes;
  }

  /**
   * The first target (HIVE_TARGETS order): what the top-level health and old clients describe. Undefined
   * only in a fleet of labelled containers alone (HIVE_TARGETS=[]) while none has joined.
   */
  get primary(): TargetRuntime | undefined {
    return this.runtimes.values().next().value;
  }

  /** The first target's made planes (RelayHandle.control, single mode's routes); none at all: the no-target 503. */
  readyPrimary(): ReadyTarget {
    const rt = this.primary;
    if (!rt) throw this.noTargetError();
    return this.readyTarget(rt.config.name);
  }

  /**
   * A fleet of labelled containers alone (HIVE_TARGETS=[]) with none running or starting: why, for the
   * spawn's 503 and the health (one whose container was removed may still be listed, `gone`). Null
   * whenever a target is configured (its own health says what is wrong) or a labelled one is live.
   */
  noTargetYet(): string | null {
    if (this.config.targets.length > 0) return null;
    for (const rt of this.runtimes.values()) if (rt.lifecycle !== 'gone') return null;
    return `no container labelled ${TARGET_LABEL} runs on ${describeEndpoint(null)}, and HIVE_TARGETS=[] configures none`;
  }

  private noTargetError(): ControlError {
    const why = this.noTargetYet() ?? 'no targets';
    return new ControlError('no-healthy-target', `no target yet: ${why}; start one with docker run --label ${TARGET_LABEL}=<name> ... and it joins by itself`);
  }

  /** Targets whose planes are made, in order. */
  ready(): ReadyTarget[] {
    return [...this.runtimes.values()].filter(isReady);
  }

  /** A target by name; unknown: ControlError('unknown-target') (404) listing the names that exist. */
  resolve(name: string): TargetRuntime {
    const rt = this.runtimes.get(name);
    if (rt) return rt;
    const names = [...this.runtimes.keys()];
    const more = names.length > MAX_NAMES_SHOWN ? ` and ${names.length - MAX_NAMES_SHOWN} more` : '';
    throw new ControlError('unknown-target', `unknown target "${name}"; targets: ${names.length === 0 ? 'none yet' : names.slice(0, MAX_NAMES_SHOWN).join(', ')}${more}`);
  }

  /** A target's made planes, or a 503 saying why they are not. */
  readyTarget(name: string): ReadyTarget {
    const rt = this.resolve(name);
    if (isReady(rt)) return rt;
    if (rt.lifecycle === 'gone') throw new ControlError('container-not-running', `target "${name}" is gone (its labelled container was removed)`);
    throw new ControlError('docker-unavailable', `target "${name}" is not reachable yet${rt.startError ? `: ${rt.startError}` : ''}`);
  }

  /** The pick policy (./pick.ts) over the targets' current health; none healthy: 503 naming each one's state. */
  pick(): { target: ReadyTarget; reason: string } {
    if (this.noTargetYet() !== null) throw this.noTargetError();
    const candidates: PickCandidate[] = [...this.runtimes.values()].map((rt) => ({
      name: rt.config.name,
      source: rt.source === 'label' ? 'label' : 'config',
      order: rt.order,
      control: rt.control && rt.lifecycle === 'running' ? rt.control.health().state : 'unavailable',
      telemetry: rt.telemetry && rt.lifecycle === 'running' ? rt.telemetry.health().state : 'disconnected',
      runningSessions: rt.control ? rt.control.sessions().sessions.filter((s) => RUNNING_STATUSES.includes(s.status)).length : 0,
    }));
    const r = pickTarget(candidates);
    if (!r.ok) throw new ControlError('no-healthy-target', r.reason);
    return { target: this.readyTarget(r.name), reason: r.reason };
  }

  /** Which target holds a session (from events and the planes' cached lists); undefined when none does. */
  targetOfSession(uuid: string): ReadyTarget | undefined {
    const known = this.sessionTargets.get(uuid);
    if (known !== undefined) {
      const rt = this.runtimes.get(known);
      if (rt && isReady(rt)) return rt;
    }
    for (const rt of this.ready()) {
      if (rt.control.sessions().sessions.some((s) => s.uuid === uuid)) {
        this.noteSession(uuid, rt.config.name);
        return rt;
      }
    }
    return undefined;
  }

  /** Records where a session lives (a spawn's answer, a plane's event). A uuid on two targets goes to the first seen. */
  noteSession(uuid: string, target: string): void {
    const prev = this.sessionTargets.get(uuid);
    if (prev === target) return;
    if (prev !== undefined && this.runtimes.has(prev)) {
      this.logger.warn({ uuid, targets: [prev, target] }, 'session uuid seen on two targets; routed to the first');
      return;
    }
    if (this.sessionTargets.size >= 100_000) this.sessionTargets.delete(this.sessionTargets.keys().next().value!);
    this.sessionTargets.set(uuid, target);
  }

  /** Adds a target and starts its planes (retried on its own until they are made). */
  async add(target: TargetConfig, source: TargetSource, order = this.runtimes.size): Promise<void> {
    const existing = this.runtimes.get(target.name);
    if (existing && existing.lifecycle !== 'gone') throw new Error(`target ${target.name} already exists`);
    const rt: TargetRuntime = {
      config: target,
      source,
      order: existing?.order ?? order,
      scope: { target: target.name, qualify: this.qualify },
      control: null,
      telemetry: null,
      lifecycle: 'starting',
      startError: null,
      lastSnapshot: existing?.lastSnapshot ?? null,
    };
    this.runtimes.set(target.name, rt);
    await this.startPlanes(rt);
  }

  /** A discovered target left: planes closed, the runtime kept as `gone` (its swarms stay, stale). */
  async remove(name: string): Promise<void> {
    const rt = this.runtimes.get(name);
    if (!rt || rt.lifecycle === 'gone') return;
    rt.lifecycle = 'gone';
    if (rt.telemetry) rt.lastSnapshot = outSnapshot(rt.scope, rt.telemetry.snapshot({ includeMock: true }));
    clearTimeout(this.retryTimers.get(name));
    this.retryTimers.delete(name);
    await this.closePlanes(rt);
    this.emit('gone', rt);
    if (this.config.staleTtlMs > 0 && !this.closed) {
      clearTimeout(this.staleTimers.get(name));
      const t = setTimeout(() => {
        this.staleTimers.delete(name);
        // Only the runtime that left: a container back under the name since then is a new one.
        if (this.closed || this.runtimes.get(name) !== rt || rt.lifecycle !== 'gone') return;
        this.runtimes.delete(name);
        this.logger.info({ target: name }, `target gone for ${this.config.staleTtlMs / 1000} s: it and its stale swarms are dropped`);
        this.emit('expired', rt);
      }, this.config.staleTtlMs);
      t.unref();
      this.staleTimers.set(name, t);
    }
  }

  private async startPlanes(rt: TargetRuntime): Promise<void> {
    const log = this.logger.child({ target: rt.config.name });
    try {
      let control: ControlPlane;
      let tc: RelayConfig;
      if (rt.source === 'single') {
        // Exactly the lone relay of before fleets: the plane chooses its driver, telemetry keeps its own node ids.
        tc = this.config;
        control = await createControlPlane({ config: tc, logger: this.logger, ...this.opts.control, execFamilies: this.execFamilies, engineSlots: this.slotsFor(rt.config) });
      } else {
        const base = configForTarget(this.config, rt.config);
        const seam = this.opts.targetDriver?.(rt.config);
        const driver = seam !== undefined ? seam : await chooseDriver(base, log, rt.config);
        // The container's environment names its MCP port (MCP_TCP_PORT) unless the configuration does. An
        // engine that does not answer (down, or hanging) is a failed start, retried later: guessing the
        // default port would leave telemetry on the wrong one once the engine is back.
        let env: string[] | null = null;
        if (driver && !rt.config.mcp.explicit && 'containerEnv' in driver) {
          try {
            env = await withTimeout((driver as { containerEnv(): Promise<string[] | null> }).containerEnv(), ENGINE_ANSWER_MS, `the engine did not answer within ${ENGINE_ANSWER_MS / 1000} s`);
          } catch (err) {
            await driver.close().catch(() => undefined);
            throw err;
          }
        }
        tc = configForTarget(this.config, rt.config, resolveMcpEndpoint(rt.config, env));
        const { driver: _single, ...seams } = this.opts.control ?? {};
        control = await createControlPlane({ config: tc, logger: log, ...seams, driver, execFamilies: this.execFamilies, engineSlots: this.slotsFor(rt.config) });
      }
      if (this.closed || rt.lifecycle === 'gone') {
        await control.close();
        return;
      }
      const view = controlView(control);
      const telemetry = createTelemetry({
        config: tc,
        logger: rt.source === 'single' ? this.logger.child({ part: 'telemetry' }) : log.child({ part: 'telemetry' }),
        control: view,
        ...(this.nodeIds ? { nodeIds: this.nodeIds.scoped(rt.config.name) } : {}),
      });
      wirePlanes(control, telemetry, tc, log);
      const offSession = control.on('session', (c: { session: Session }) => this.noteSession(c.session.uuid, rt.config.name));
      for (const s of control.sessions().sessions) this.noteSession(s.uuid, rt.config.name);
      this.disposers.set(rt.config.name, () => {
        offSession();
        view.dispose();
      });
      rt.control = control;
      rt.telemetry = telemetry;
      rt.lifecycle = 'running';
      rt.startError = null;
      log.info({ docker: describeEndpoint(rt.config.docker), container: rt.config.container, mcp: `${tc.mcp.host}:${tc.mcp.port}` }, 'target started');
      this.emit('ready', rt as ReadyTarget);
    } catch (err) {
      rt.startError = err instanceof Error ? err.message : String(err);
      if (rt.source === 'single') throw err;
      log.warn({ err: rt.startError }, `target could not start; retrying in ${TARGET_RETRY_MS / 1000} s`);
      if (this.closed) return;
      const t = setTimeout(() => {
        this.retryTimers.delete(rt.config.name);
        if (!this.closed && rt.lifecycle === 'starting') void this.startPlanes(rt);
      }, TARGET_RETRY_MS);
      t.unref();
      this.retryTimers.set(rt.config.name, t);
    }
  }

  private async closePlanes(rt: TargetRuntime): Promise<void> {
    const { control, telemetry } = rt;
    rt.control = null;
    rt.telemetry = null;
    this.disposers.get(rt.config.name)?.();
    this.disposers.delete(rt.config.name);
    await telemetry?.close();
    await control?.close();
  }

  /** One target's health (Health.targets[]). */
  targetHealth(rt: TargetRuntime): TargetHealth {
    const base = { name: rt.config.name, source: rt.source, lifecycle: rt.lifecycle, docker: describeEndpoint(rt.config.docker), container: rt.config.container };
    if (!isReady(rt)) {
      const why = rt.lifecycle === 'gone' ? 'its labelled container was removed' : (rt.startError ?? 'starting');
      return {
        ...base,
        status: 'unavailable',
        control: { state: 'unavailable', backend: 'none', backendInfo: null, execLatencyMs: null, breaker: 'closed', lastError: rt.startError },
        telemetry: { state: 'disconnected', host: rt.config.mcp.host, port: rt.config.mcp.port, latencyMs: null, ageMs: null },
        activeSessions: 0,
        degraded: [
          {
            code: rt.lifecycle === 'gone' ? 'container-down' : 'docker-unavailable',
            message: `Target ${rt.config.name} is not available: ${why}.`,
            stillWorks: 'The other targets; its swarms are shown as last known (stale).',
            action: rt.lifecycle === 'gone' ? 'Start a container labelled org.hivescope.target again to bring it back.' : 'Check the engine and its certificates; the relay retries by itself.',
          },
        ],
      };
    }
    const h = this.planeHealth(rt, 0);
    return {
      ...base,
      status: h.status,
      control: { state: h.control.state, backend: h.control.backend, backendInfo: h.control.backendInfo ?? null, execLatencyMs: h.control.execLatencyMs, breaker: h.control.breaker, lastError: h.control.lastError },
      telemetry: { state: h.telemetry.state, host: h.telemetry.host, port: h.telemetry.port, latencyMs: h.telemetry.latencyMs, ageMs: h.telemetry.ageMs },
      activeSessions: h.activeSessions,
      degraded: h.degraded,
    };
  }

  private planeHealth(rt: ReadyTarget, websocketClients: number): Health {
    return combineHealth(rt.control.health(), rt.control.degraded(), rt.telemetry.health(), websocketClients, countActiveSessions(rt.control.sessions().sessions));
  }

  /**
   * The relay's health: the first target's planes at the top (what old clients read), every target in
   * `targets`. Fleet status: healthy when all are, unavailable only when none is reachable, else degraded
   * (one target down must not make the relay look down). A fleet of labelled containers alone with none
   * live is unavailable too, its top saying how one joins (noTargetHealth).
   */
  health(websocketClients: number): Health {
    const targets = [...this.runtimes.values()].map((rt) => this.targetHealth(rt));
    const primary = this.primary;
    const none = this.noTargetYet();
    if (!primary || none !== null) {
      // A fleet of labelled containers alone with none live: nothing answers, so `unavailable` as for a
      // fleet whose every target is down; the one degraded mode says how a target joins. A removed one is
      // still listed in `targets` (gone, its swarms stale) until HIVE_STALE_TTL.
      return { ...this.noTargetHealth(websocketClients, none ?? 'no targets'), targets };
    }
    const top: Health = isReady(primary)
      ? this.planeHealth(primary, websocketClients)
      : {
          status: 'unavailable',
          serverTime: Date.now(),
          control: { state: 'unavailable', driver: 'none', backend: 'none', backendInfo: null, container: primary.config.container, execLatencyMs: null, breaker: 'closed', lastError: primary.startError, containerCpuPercent: null, containerMemoryBytes: null },
          telemetry: { state: 'disconnected', host: primary.config.mcp.host, port: primary.config.mcp.port, latencyMs: null, reconnects: 0, ageMs: null, push: false, lastError: null },
          websocketClients,
          activeSessions: 0,
          degraded: targets[0]!.degraded,
        };
    if (!this.qualify) return { ...top, targets };
    const worst = Math.max(...targets.map((t) => RANK[t.status]));
    const best = Math.min(...targets.map((t) => RANK[t.status]));
    const status: PlaneHealth = worst === 0 ? 'healthy' : best === 2 ? 'unavailable' : 'degraded';
    return { ...top, status, activeSessions: targets.reduce((n, t) => n + t.activeSessions, 0), targets };
  }

  /** The top-level health of a fleet with no live target: no container, MCP where a labelled one would be looked for. */
  private noTargetHealth(websocketClients: number, why: string): Health {
    const mode: DegradedMode = {
      // An existing code, so clients that know the codes show it: no swarm container is running.
      code: 'container-down',
      message: `No target yet: ${why}.`,
      stillWorks: 'The page, the stream and the API (lists are empty); a removed target\'s swarms are shown as last known.',
      action: `Start a swarm container labelled ${TARGET_LABEL}=<name> (docker run -d --label ${TARGET_LABEL}=<name> ...; its MCP port from MCP_TCP_PORT, or a label org.hivescope.mcp=host:port); it joins within seconds.`,
    };
    return {
      status: 'unavailable',
      serverTime: Date.now(),
      control: { state: 'unavailable', driver: 'none', backend: 'none', backendInfo: null, container: null, execLatencyMs: null, breaker: 'closed', lastError: null, containerCpuPercent: null, containerMemoryBytes: null },
      telemetry: { state: 'disconnected', host: this.config.mcp.host, port: this.config.mcp.port, latencyMs: null, reconnects: 0, ageMs: null, push: false, lastError: null },
      websocketClients,
      activeSessions: 0,
      degraded: [mode],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const discovery = this.discovery?.close();
    for (const t of [...this.retryTimers.values(), ...this.staleTimers.values()]) clearTimeout(t);
    this.retryTimers.clear();
    this.staleTimers.clear();
    await Promise.all([discovery, ...[...this.runtimes.values()].map((rt) => this.closePlanes(rt))]);
    this.nodeIds?.saveNow();
    this.removeAllListeners();
  }
}
