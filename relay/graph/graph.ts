/**
 * The one agent graph: control-plane sessions + MCP telemetry (+ exec-only agents of claude-flow
 * containers) merged into the shared model (Agent, Edge, Session, Swarm).
 *
 * Every change goes through a batch that ends in at most one `change` (a ChangeSet: the delta, upserts
 * and removals keyed by id, and whether it is structural) plus `event`s for what a person would want in
 * the activity log (spawn, status change, task start and finish, errors). Metrics carry their source in
 * `agent.sources`; a metric no source reported stays null.
 *
 * How urgent a change is, decided here where the previous state is at hand: topology when an agent,
 * edge, swarm or session appears or goes or a session changes; structural when that or an agent's or a
 * swarm's status changes. Everything else (metrics, counters, message counts) is a metric update the
 * stream may throttle.
 */
import { EventEmitter } from 'node:events';
import {
  AGENT_METRIC_KEYS,
  AgentSchema,
  unknownAgent,
  type Agent,
  type Edge,
  type MetricSource,
  type Session,
  type Swarm,
} from '../../shared/model/index.js';
import type { GraphSnapshot } from '../../shared/protocol/messages.js';
import { ChangeSetAccumulator, type ChangeSet } from './changeSet.js';
import { activityEntry, agentEvents, type EventDraft, type GraphEvent } from './activity.js';
import { EdgeIndex } from './edges.js';
import type { AgentPatch, MessagePatch, SwarmPatch } from './normalize.js';
import type { NodeIdSource } from './nodeIds.js';

export { MAX_EDGES, MAX_UNMATCHED_MESSAGES, UNMATCHED_MESSAGE_TTL_MS } from './edges.js';
export type { ChangeSet, GraphDelta } from './changeSet.js';
export type { GraphEvent } from './activity.js';

export const MOCK_SWARM_ID = 'mock-swarm';
/** Graph-wide bounds, so a hostile or buggy server cannot grow the relay without limit. */
export const MAX_AGENTS = 20_000;
export const MAX_SWARMS = 2_000;
export const MAX_SESSIONS = 2_000;

/** Where an agent came from, which decides who may remove it. */
type Origin = 'mcp' | 'exec';

/** What caused a change, when a request did (its correlation id travels to the activity entry). */
export interface ChangeCause {
  requestId?: string;
}

/** Input the graph refused, by kind (for logs and metrics). */
export type RejectedKind = 'agents' | 'fields' | 'messages';

type Events = {
  change: [ChangeSet];
  event: [GraphEvent];
  session: [Session, ChangeCause];
};

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const NO_SWARM = '\u0000';

export class AgentGraph extends EventEmitter<Events> {
  private readonly agentMap = new Map<string, Agent>();
  private readonly sessionMap = new Map<string, Session>();
  private readonly swarmMap = new Map<string, Swarm>();
  /** Node ids of the agents now in the graph (inbound position frames are checked against it). */
  readonly nodeIdsInUse = new Set<number>();
  private readonly origin = new Map<string, Origin>();
  private readonly counts = { agents: 0, fields: 0, messages: 0 };
  private readonly edgeIndex: EdgeIndex;
  /** The open batch's changes; emitted and emptied when the outermost batch ends. */
  private readonly changes = new ChangeSetAccumulator();
  private readonly hierarchyDirty = new Set<string>();
  private agentAdded = false;
  private depth = 0;
  private synced = false;
  private telemetryAt: number | null = null;

  constructor(
    private readonly nodeIds: NodeIdSource,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.edgeIndex = new EdgeIndex(this.counts, now);
  }

  get agents(): ReadonlyMap<string, Agent> {
    return this.agentMap;
  }
  get edges(): ReadonlyMap<string, Edge> {
    return this.edgeIndex.edges;
  }
  get sessions(): ReadonlyMap<string, Session> {
    return this.sessionMap;
  }
  get swarms(): ReadonlyMap<string, Swarm> {
    return this.swarmMap;
  }

  /** Before the first full sync, new agents are the existing population, not spawns. */
  get initialSynced(): boolean {
    return this.synced;
  }
  /** A complete agent list (a full poll, a push of the population) has been applied. */
  markInitialSynced(): void {
    this.synced = true;
  }

  /** Counts of input rejected (for logs and metrics). */
  get rejected(): Readonly<Record<RejectedKind, number>> {
    return this.counts;
  }
  /** Input refused before it reached the graph (an agent the normaliser could not read, a bad message). */
  countRejected(kind: RejectedKind, n = 1): void {
    this.counts[kind] += n;
  }

  /** ms since epoch of the last telemetry-originated change or confirmation. */
  get lastTelemetryAt(): number | null {
    return this.telemetryAt;
  }
  /** Telemetry confirmed the graph (an answer, even an empty one, or a notification). */
  touchTelemetry(at: number = this.now()): void {
    this.telemetryAt = at;
  }

  snapshot(opts: { includeMock?: boolean } = {}): GraphSnapshot {
    const includeMock = opts.includeMock ?? true;
    const agents = [...this.agentMap.values()].filter((a) => includeMock || !a.mock);
    const visible = new Set(agents.map((a) => a.id));
    return {
      agents,
      edges: [...this.edges.values()].filter((e) => visible.has(e.source) && visible.has(e.target)),
      sessions: [...this.sessionMap.values()],
      swarms: [...this.swarmMap.values()].filter((s) => includeMock || !s.mock),
    };
  }

  /** Runs `fn` as one change set: one `change` at the end (nested batches join the outer one). */
  batch<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.flush();
    }
  }

  /** The open batch's change set (every mutation runs inside batch()). */
  private get cs(): ChangeSetAccumulator {
    if (this.depth === 0) throw new Error('graph change outside batch()');
    return this.changes;
  }

  private event(e: EventDraft): void {
    this.emit('event', activityEntry(e, this.now()));
  }

  // ---- agents ----

  /** Applies a normalized agent; returns false when the result would not be a valid Agent. */
  applyAgent(patch: AgentPatch, source: MetricSource, origin: Origin = 'mcp'): boolean {
    return this.batch(() => {
      this.counts.fields += patch.rejected.length;
      const prev = this.agentMap.get(patch.id);
      if (!prev && this.agentMap.size >= MAX_AGENTS) {
        this.counts.agents++;
        return false;
      }
      const now = this.now();
      const next: Agent = prev
        ? { ...prev, sources: { ...prev.sources } }
        : unknownAgent(patch.id, this.nodeIds.get(patch.id, () => this.agentMap.keys()), now);
      if (patch.name !== undefined) next.name = patch.name;
      else if (!prev) next.name = patch.id;
      if (patch.type !== undefined) next.type = patch.type;
      if (patch.status !== undefined) next.status = patch.status;
      if (patch.swarmId !== undefined) next.swarmId = patch.swarmId;
      if (patch.sessionUuid !== undefined) next.sessionUuid = patch.sessionUuid;
      if (patch.parentQueenId !== undefined) next.parentQueenId = patch.parentQueenId;
      if (patch.capabilities !== undefined) next.capabilities = patch.capabilities;
      if (patch.createdAt !== undefined) next.createdAt = patch.createdAt;
      if (patch.lastActive !== undefined) next.lastActive = patch.lastActive;
      if (patch.mock !== undefined) next.mock = patch.mock;
      if (next.swarmId === MOCK_SWARM_ID) next.mock = true;
      const values = next as unknown as Record<string, unknown>;
      for (const k of AGENT_METRIC_KEYS) {
        if (!(k in patch.metrics)) continue;
        const v = patch.metrics[k];
        values[k] = v ?? null;
        if (v === null || v === undefined) delete next.sources[k];
        else next.sources[k] = source;
      }
      if (next.sessionUuid === null && next.swarmId !== null) next.sessionUuid = this.sessionForSwarm(next.swarmId);
      if (source !== 'exec') this.telemetryAt = now;
      if (prev && sameJson({ ...prev, updatedAt: 0 }, { ...next, updatedAt: 0 })) return true;
      next.updatedAt = now;
      const checked = AgentSchema.safeParse(next);
      if (!checked.success) {
        this.counts.agents++;
        return false;
      }
      this.agentMap.set(next.id, next);
      if (!prev) {
        this.agentAdded = true;
        this.origin.set(next.id, origin);
        this.nodeIdsInUse.add(next.nodeId);
      }
      this.cs.upsert('agents', next, !prev ? 'topology' : prev.status !== next.status ? 'structural' : 'metric');
      if (!prev || prev.swarmId !== next.swarmId || prev.type !== next.type || prev.parentQueenId !== next.parentQueenId) {
        this.hierarchyDirty.add(next.swarmId ?? NO_SWARM);
        if (prev) this.hierarchyDirty.add(prev.swarmId ?? NO_SWARM);
      }
      if (next.swarmId !== null) this.ensureSwarm(next.swarmId, next.mock);
      for (const e of agentEvents(prev, next, this.synced)) this.event(e);
      return true;
    });
  }

  removeAgent(id: string): void {
    this.batch(() => {
      const prev = this.agentMap.get(id);
      if (!prev) return;
      this.agentMap.delete(id);
      this.origin.delete(id);
      this.nodeIdsInUse.delete(prev.nodeId);
      this.cs.remove('agents', id);
      this.hierarchyDirty.add(prev.swarmId ?? NO_SWARM);
      this.edgeIndex.removeAgentEdges(id, this.cs);
      this.event({ kind: 'status', agentId: id, swarmId: prev.swarmId, sessionUuid: prev.sessionUuid, message: `${prev.name} (${prev.type}) removed` });
    });
  }

  /**
   * A complete agent list from one origin: agents of that origin missing from it are removed.
   * `swarmId` limits the reconciliation to one swarm (a filtered agent_list).
   */
  reconcileAgents(patches: AgentPatch[], source: MetricSource, origin: Origin, swarmId?: string): void {
    this.batch(() => {
      const seen = new Set<string>();
      for (const p of patches) {
        if (this.applyAgent(p, source, origin)) seen.add(p.id);
      }
      for (const [id, o] of this.origin) {
        if (o !== origin || seen.has(id)) continue;
        if (swarmId !== undefined && this.agentMap.get(id)?.swarmId !== swarmId) continue;
        this.removeAgent(id);
      }
    });
  }

  // ---- swarms and sessions ----

  private ensureSwarm(id: string, mock: boolean): void {
    if (this.swarmMap.has(id) || this.swarmMap.size >= MAX_SWARMS) return;
    const sw: Swarm = {
      id,
      sessionUuid: this.sessionForSwarm(id),
      topology: null,
      objective: null,
      status: null,
      queenId: null,
      agentCount: null,
      activeAgents: null,
      taskCount: null,
      pendingTasks: null,
      completedTasks: null,
      mock: mock || id === MOCK_SWARM_ID,
    };
    this.swarmMap.set(id, sw);
    this.cs.upsert('swarms', sw, 'topology');
  }

  applySwarm(patch: SwarmPatch): void {
    this.batch(() => {
      this.ensureSwarm(patch.id, patch.mock ?? false);
      const prev = this.swarmMap.get(patch.id);
      if (!prev) return;
      const next: Swarm = { ...prev };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
      if (next.sessionUuid === null) next.sessionUuid = this.sessionForSwarm(next.id);
      if (sameJson(prev, next)) return;
      this.swarmMap.set(next.id, next);
      this.cs.upsert('swarms', next, prev.status !== next.status ? 'structural' : 'metric');
      if (prev.queenId !== next.queenId) this.hierarchyDirty.add(next.id);
      if (prev.status !== null && next.status !== null && prev.status !== next.status) {
        this.event({ kind: 'status', swarmId: next.id, sessionUuid: next.sessionUuid, message: `swarm ${next.id}: ${prev.status} -> ${next.status}` });
      }
    });
  }

  removeSwarm(id: string): void {
    this.batch(() => {
      if (!this.swarmMap.delete(id)) return;
      this.cs.remove('swarms', id);
    });
  }

  /** After a complete swarm list: swarms it no longer names are removed once no agent refers to them. */
  reconcileSwarms(listed: ReadonlySet<string>): void {
    this.batch(() => {
      const inUse = new Set<string>();
      for (const a of this.agentMap.values()) if (a.swarmId !== null) inUse.add(a.swarmId);
      for (const id of [...this.swarmMap.keys()]) if (!listed.has(id) && !inUse.has(id)) this.removeSwarm(id);
    });
  }

  private sessionForSwarm(swarmId: string): string | null {
    for (const s of this.sessionMap.values()) if (s.swarmId === swarmId) return s.uuid;
    return null;
  }

  /** A session from the control plane; `cause` names the request that changed it, if one did. */
  upsertSession(s: Session, cause: ChangeCause = {}): void {
    this.batch(() => {
      const prev = this.sessionMap.get(s.uuid);
      if (prev && sameJson(prev, s)) return;
      if (!prev && this.sessionMap.size >= MAX_SESSIONS) return;
      this.sessionMap.set(s.uuid, s);
      // Every session change counts as topology: sessions are what a person acts on, and waits to see change.
      this.cs.upsert('sessions', s, 'topology');
      if (s.swarmId !== null) {
        // Link the swarm and its agents to the session now that the swarm id is known.
        const sw = this.swarmMap.get(s.swarmId);
        if (sw && sw.sessionUuid === null) this.applySwarm({ id: sw.id, sessionUuid: s.uuid });
        for (const a of this.agentMap.values()) {
          if (a.swarmId === s.swarmId && a.sessionUuid === null) {
            const next = { ...a, sessionUuid: s.uuid, updatedAt: this.now() };
            this.agentMap.set(a.id, next);
            this.cs.upsert('agents', next);
          }
        }
      }
      if (!prev || prev.status !== s.status || prev.swarmId !== s.swarmId) {
        this.emit('session', s, cause);
        const what = !prev ? 'created' : prev.status !== s.status ? `${prev.status} -> ${s.status}` : `swarm ${s.swarmId}`;
        this.event({
          kind: 'session',
          level: s.status === 'failed' || s.status === 'interrupted' ? 'warn' : 'info',
          sessionUuid: s.uuid,
          swarmId: s.swarmId,
          message: `session ${s.uuid.slice(0, 8)}: ${what}`,
          ...(cause.requestId !== undefined ? { requestId: cause.requestId } : {}),
        });
      }
    });
  }

  removeSession(uuid: string): void {
    this.batch(() => {
      if (!this.sessionMap.delete(uuid)) return;
      this.cs.remove('sessions', uuid);
    });
  }

  /** Replaces the session set with the control plane's full list. */
  reconcileSessions(list: Session[]): void {
    this.batch(() => {
      const seen = new Set<string>();
      for (const s of list) {
        seen.add(s.uuid);
        this.upsertSession(s);
      }
      for (const uuid of [...this.sessionMap.keys()]) if (!seen.has(uuid)) this.removeSession(uuid);
    });
  }

  // ---- edges ----

  /** Message traffic between two agents; held briefly (bounded) when an endpoint is not known yet. */
  recordMessage(m: MessagePatch): boolean {
    return this.batch(() => {
      const recorded = this.edgeIndex.recordMessage(m, this.agentMap, this.cs);
      if (recorded) this.telemetryAt = this.now();
      return recorded;
    });
  }

  /** Emits an activity event that did not come from a graph change (log lines, progress). */
  addEvent(e: GraphEvent): void {
    this.emit('event', e);
  }

  /**
   * End of the outermost batch: messages that waited for an agent added in it, the hierarchy of every
   * swarm whose membership changed, then one `change`.
   */
  private flush(): void {
    this.depth++;
    try {
      if (this.agentAdded) this.edgeIndex.retryWaiting(this.agentMap, (m) => this.recordMessage(m));
      for (const k of this.hierarchyDirty) {
        const members = [...this.agentMap.values()].filter((a) => (a.swarmId ?? NO_SWARM) === k);
        const swarm = k === NO_SWARM ? null : { declaredQueen: this.swarmMap.get(k)?.queenId ?? null };
        this.edgeIndex.rebuildHierarchy(k, swarm, members, this.agentMap, this.cs);
      }
    } finally {
      this.depth--;
      this.agentAdded = false;
      this.hierarchyDirty.clear();
    }
    if (this.changes.empty) return;
    this.emit('change', this.changes.take());
  }
}
