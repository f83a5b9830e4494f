/**
 * The fleet's telemetry as the stream and the HTTP routes take it (`Telemetry`): every target's graph
 * merged on the way out, its ids stamped with the target and, in fleet mode, qualified (./ids.ts); ids
 * coming in (`agent(id)`, `setSelectedAgents`) mapped back to (target, raw id) by their prefix. With one
 * target (single mode) it passes through, stamping `target` only.
 */
import { EventEmitter } from 'node:events';
import type { RequestContext } from '../context.js';
import type { Telemetry, TelemetryEvents, TelemetryMetrics } from '../telemetry/index.js';
import type { GraphSnapshot } from '../../shared/protocol/messages.js';
import type { BackendKind, TasksList } from '../../shared/model/index.js';
import { McpUnavailableError } from '../telemetry/index.js';
import { isReady, type Fleet, type ReadyTarget, type TargetRuntime } from './fleet.js';
import { outDelta, outEvent, outSession, outSnapshot, splitQualifiedId } from './ids.js';

/** The union of every target's node ids in use, read live (the stream checks uploads and pins against it). */
class NodeIdsInUse implements ReadonlySet<number> {
  constructor(private readonly sets: () => ReadonlySet<number>[]) {}
  get size(): number {
    let n = 0;
    for (const s of this.sets()) n += s.size;
    return n;
  }
  has(v: number): boolean {
    return this.sets().some((s) => s.has(v));
  }
  *values(): SetIterator<number> {
    for (const s of this.sets()) yield* s.values();
  }
  keys(): SetIterator<number> {
    return this.values();
  }
  *entries(): SetIterator<[number, number]> {
    for (const v of this.values()) yield [v, v];
  }
  forEach(fn: (v: number, k: number, set: ReadonlySet<number>) => void): void {
    for (const v of this.values()) fn(v, v, this);
  }
  [Symbol.iterator](): SetIterator<number> {
    return this.values();
  }
}

function withoutMock(g: GraphSnapshot, includeMock: boolean): GraphSnapshot {
  if (includeMock) return g;
  const agents = g.agents.filter((a) => !a.mock);
  const ids = new Set(agents.map((a) => a.id));
  return { agents, edges: g.edges.filter((e) => ids.has(e.source) && ids.has(e.target)), sessions: g.sessions, swarms: g.swarms.filter((s) => !s.mock) };
}

/** Before any target's telemetry exists: nothing happened yet. */
const EMPTY_METRICS: TelemetryMetrics = {
  state: 'idle',
  connects: 0,
  reconnects: 0,
  requests: 0,
  requestFailures: 0,
  requestTimeouts: 0,
  inFlight: 0,
  linesRejected: 0,
  notifications: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  latencyCount: 0,
  agents: 0,
  edges: 0,
  rejectedAgents: 0,
  rejectedFields: 0,
  ageMs: null,
};

export class FleetTelemetry extends EventEmitter<TelemetryEvents> implements Telemetry {
  readonly nodeIdsInUse: ReadonlySet<number>;
  private readonly offs = new Map<string, () => void>();

  constructor(private readonly fleet: Fleet) {
    super();
    this.nodeIdsInUse = new NodeIdsInUse(() => fleet.ready().map((rt) => rt.telemetry.nodeIdsInUse));
    for (const rt of fleet.ready()) this.follow(rt);
    fleet.on('ready', (rt) => this.follow(rt));
    fleet.on('gone', (rt) => this.unfollow(rt));
    fleet.on('expired', (rt) => this.dropStale(rt));
  }

  /** A gone target expired (HIVE_STALE_TTL): its last graph leaves the merged one in one change set. */
  private dropStale(rt: TargetRuntime): void {
    const before = rt.lastSnapshot;
    rt.lastSnapshot = null;
    if (!before) return;
    // Session uuids are not qualified: one another target also reports stays.
    const now = this.snapshot({ includeMock: true });
    const left = <T>(xs: T[], ys: T[], key: (x: T) => string) => {
      const keep = new Set(ys.map(key));
      return xs.map(key).filter((k) => !keep.has(k));
    };
    this.emit('change', {
      delta: {
        upserts: { agents: [], edges: [], sessions: [], swarms: [] },
        removals: { agents: left(before.agents, now.agents, (a) => a.id), edges: left(before.edges, now.edges, (e) => e.id), sessions: left(before.sessions, now.sessions, (s) => s.uuid), swarms: left(before.swarms, now.swarms, (s) => s.id) },
      },
      structural: true,
      topology: true,
    });
  }

  /** Re-emits one target's telemetry, mapped outwards. */
  private follow(rt: ReadyTarget): void {
    this.unfollow(rt);
    const { scope } = rt;
    const t = rt.telemetry;
    if (rt.lastSnapshot) {
      // Back after being gone: what it showed before gives way to what it holds now.
      const before = rt.lastSnapshot;
      rt.lastSnapshot = null;
      const now = outSnapshot(scope, t.snapshot({ includeMock: true }));
      const gone = <T>(xs: T[], ys: T[], key: (x: T) => string) => {
        const keep = new Set(ys.map(key));
        return xs.map(key).filter((k) => !keep.has(k));
      };
      this.emit('change', {
        delta: {
          upserts: { agents: now.agents, edges: now.edges, sessions: now.sessions, swarms: now.swarms },
          removals: { agents: gone(before.agents, now.agents, (a) => a.id), edges: gone(before.edges, now.edges, (e) => e.id), sessions: gone(before.sessions, now.sessions, (s) => s.uuid), swarms: gone(before.swarms, now.swarms, (s) => s.id) },
        },
        structural: true,
        topology: true,
      });
    }
    const on = <K extends keyof TelemetryEvents>(ev: K, fn: (...a: TelemetryEvents[K]) => void) => {
      t.on(ev, fn);
      return () => t.off(ev, fn);
    };
    const offs = [
      on('change', (cs) => this.emit('change', { ...cs, delta: outDelta(scope, cs.delta) })),
      on('event', (e) => this.emit('event', outEvent(scope, e))),
      on('session', (s, cause) => this.emit('session', outSession(scope, s), cause)),
      on('health', (h) => this.emit('health', h)),
      on('performance', (samples) => this.emit('performance', scope.qualify ? samples.map((p) => ({ ...p, agentId: `${scope.target}:${p.agentId}` })) : samples)),
    ];
    this.offs.set(scope.target, () => offs.forEach((f) => f()));
  }

  private unfollow(rt: TargetRuntime): void {
    this.offs.get(rt.config.name)?.();
    this.offs.delete(rt.config.name);
  }

  /** The target and raw id of an id that left a target; single mode: the one target. */
  private route(id: string): { rt: ReadyTarget; raw: string } | null {
    if (!this.fleet.qualify) {
      const rt = this.fleet.primary;
      return rt && isReady(rt) ? { rt, raw: id } : null;
    }
    const parts = splitQualifiedId(id);
    if (!parts) return null;
    const rt = this.fleet.targets.get(parts.target);
    return rt && isReady(rt) ? { rt, raw: parts.raw } : null;
  }

  /** The first target if ready, else the first ready one; none (no target yet, or none made): null. */
  private get first(): ReadyTarget | null {
    const rt = this.fleet.primary;
    return rt && isReady(rt) ? rt : (this.fleet.ready()[0] ?? null);
  }

  snapshot(opts?: { includeMock?: boolean }): GraphSnapshot {
    const out: GraphSnapshot = { agents: [], edges: [], sessions: [], swarms: [] };
    for (const rt of this.fleet.targets.values()) {
      // A gone target's last graph stays (the page greys it by Health.targets[].lifecycle).
      const g = isReady(rt) ? outSnapshot(rt.scope, rt.telemetry.snapshot(opts)) : rt.lastSnapshot ? withoutMock(rt.lastSnapshot, opts?.includeMock ?? false) : null;
      if (!g) continue;
      out.agents.push(...g.agents);
      out.edges.push(...g.edges);
      out.sessions.push(...g.sessions);
      out.swarms.push(...g.swarms);
    }
    return out;
  }

  agent(id: string): Readonly<{ swarmId: string | null; mock: boolean }> | undefined {
    const r = this.route(id);
    const a = r?.rt.telemetry.agent(r.raw);
    if (!a || !r) return undefined;
    return r.rt.scope.qualify && a.swarmId !== null ? { swarmId: `${r.rt.scope.target}:${a.swarmId}`, mock: a.mock } : a;
  }

  health(): ReturnType<Telemetry['health']> {
    const rt = this.first;
    if (rt) return rt.telemetry.health();
    // No target at all (HIVE_TARGETS=[] before one joins): where a labelled container's MCP is looked for.
    const p = this.fleet.primary?.config.mcp ?? this.fleet.config.mcp;
    return { state: 'disconnected', host: p.host, port: p.port, latencyMs: null, reconnects: 0, ageMs: null, push: false, lastError: null };
  }

  /** The first target's figures (the fleet's per-target figures are in Health.targets). */
  metrics(): TelemetryMetrics {
    const rt = this.first;
    if (rt) return rt.telemetry.metrics();
    return EMPTY_METRICS;
  }

  latencySamples(): readonly number[] {
    return this.first?.telemetry.latencySamples() ?? [];
  }

  /** A tool on the target that owns the agent or swarm the arguments name (fleet mode), else the first target. */
  callTool(name: string, args: Record<string, unknown> = {}, ctx?: RequestContext): Promise<unknown> {
    const id = typeof args.agentId === 'string' ? args.agentId : typeof args.swarmId === 'string' ? args.swarmId : null;
    if (this.fleet.qualify && id !== null) {
      const r = this.route(id);
      if (!r) return Promise.reject(new McpUnavailableError(`no target holds ${id}`));
      const key = typeof args.agentId === 'string' ? 'agentId' : 'swarmId';
      return r.rt.telemetry.callTool(name, { ...args, [key]: r.raw }, ctx);
    }
    const rt = this.first;
    if (!rt) return Promise.reject(new McpUnavailableError('no target is connected'));
    return rt.telemetry.callTool(name, args, ctx);
  }

  setSelectedAgents(ids: Iterable<string>): void {
    const byTarget = new Map<ReadyTarget, string[]>();
    for (const rt of this.fleet.ready()) byTarget.set(rt, []);
    for (const id of ids) {
      const r = this.route(id);
      if (r) byTarget.get(r.rt)?.push(r.raw);
    }
    for (const [rt, raw] of byTarget) rt.telemetry.setSelectedAgents(raw);
  }

  sessionTasks(uuid: string, source: { kind: BackendKind | null; taskList: (() => Promise<unknown>) | null }, ctx?: RequestContext): Promise<TasksList> {
    const rt = this.fleet.targetOfSession(uuid) ?? this.first;
    if (!rt?.telemetry.sessionTasks) return Promise.reject(new McpUnavailableError('no target is connected'));
    return rt.telemetry.sessionTasks(uuid, source, ctx);
  }

  toolsOff(): ReturnType<NonNullable<Telemetry['toolsOff']>> {
    return this.fleet.ready().flatMap((rt) => rt.telemetry.toolsOff?.() ?? []);
  }

  knownNodeId(nodeId: number): boolean {
    return this.fleet.ready().some((rt) => rt.telemetry.knownNodeId(nodeId));
  }

  get config(): { host: string; port: number } {
    const { host, port } = this.health();
    return { host, port };
  }

  /** The planes are closed by the fleet; this only stops following them. */
  async close(): Promise<void> {
    for (const off of this.offs.values()) off();
    this.offs.clear();
  }
}
