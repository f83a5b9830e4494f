/**
 * The one agent graph: control-plane sessions + MCP telemetry (+ exec-only agents of claude-flow
 * containers) merged into the shared model (Agent, Edge, Session, Swarm).
 *
 * Every change goes through a batch that ends in at most one `delta` (upserts and removals keyed by id)
 * plus `event`s for what a person would want in the activity log (spawn, status change, task start and
 * finish, errors). Metrics carry their source in `agent.sources`; a metric no source reported stays null.
 */
import { EventEmitter } from 'node:events';
import {
  AGENT_METRIC_KEYS,
  AgentSchema,
  edgeId,
  unknownAgent,
  type Agent,
  type Edge,
  type MetricSource,
  type Session,
  type Swarm,
} from '../../shared/model/index.js';
import type { ActivityEvent, GraphSnapshot } from '../../shared/protocol/messages.js';
import type { AgentPatch, MessagePatch, SwarmPatch } from './normalize.js';
import type { NodeIdStore } from './nodeIds.js';

export const MOCK_SWARM_ID = 'mock-swarm';
/** Graph-wide bounds, so a hostile or buggy server cannot grow the relay without limit. */
export const MAX_AGENTS = 20_000;
export const MAX_EDGES = 100_000;
export const MAX_SWARMS = 2_000;
export const MAX_SESSIONS = 2_000;
/** Messages naming agents not (yet) in the graph wait here until they appear (push can beat the first poll). */
export const MAX_UNMATCHED_MESSAGES = 1_000;
export const UNMATCHED_MESSAGE_TTL_MS = 30_000;

/** A change set, as the stream sends it (without type/seq). */
export interface GraphDelta {
  upserts: { agents?: Agent[]; edges?: Edge[]; sessions?: Session[]; swarms?: Swarm[] };
  removals: { agents?: string[]; edges?: string[]; sessions?: string[]; swarms?: string[] };
}

/** An activity event before the stream's ring gives it a seq. */
export type GraphEvent = Omit<ActivityEvent, 'seq'>;

/** Where an agent came from, which decides who may remove it. */
type Origin = 'mcp' | 'exec';

interface Pending {
  agents: Set<string>;
  edges: Set<string>;
  sessions: Set<string>;
  swarms: Set<string>;
  rmAgents: Set<string>;
  rmEdges: Set<string>;
  rmSessions: Set<string>;
  rmSwarms: Set<string>;
  hierarchyDirty: Set<string>;
  agentAdded: boolean;
}

type Events = {
  delta: [GraphDelta];
  event: [GraphEvent];
  session: [Session];
};

function emptyPending(): Pending {
  return {
    agents: new Set(),
    edges: new Set(),
    sessions: new Set(),
    swarms: new Set(),
    rmAgents: new Set(),
    rmEdges: new Set(),
    rmSessions: new Set(),
    rmSwarms: new Set(),
    hierarchyDirty: new Set(),
    agentAdded: false,
  };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const NO_SWARM = '\u0000';

export class AgentGraph extends EventEmitter<Events> {
  readonly agents = new Map<string, Agent>();
  readonly edges = new Map<string, Edge>();
  readonly sessions = new Map<string, Session>();
  readonly swarms = new Map<string, Swarm>();
  /** Node ids of the agents now in the graph (inbound position frames are checked against it). */
  readonly nodeIdsInUse = new Set<number>();
  private origin = new Map<string, Origin>();
  private edgesByAgent = new Map<string, Set<string>>();
  private hierarchyBySwarm = new Map<string, Set<string>>();
  private pending: Pending | null = null;
  private depth = 0;
  /** Before the first full sync, new agents are the existing population, not spawns. */
  initialSynced = false;
  /** Counts of input rejected (for logs and metrics). */
  readonly rejected = { agents: 0, fields: 0, messages: 0 };
  /** ms since epoch of the last telemetry-originated change or confirmation. */
  lastTelemetryAt: number | null = null;

  constructor(
    private readonly nodeIds: NodeIdStore,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  snapshot(opts: { includeMock?: boolean } = {}): GraphSnapshot {
    const includeMock = opts.includeMock ?? true;
    const agents = [...this.agents.values()].filter((a) => includeMock || !a.mock);
    const visible = new Set(agents.map((a) => a.id));
    return {
      agents,
      edges: [...this.edges.values()].filter((e) => visible.has(e.source) && visible.has(e.target)),
      sessions: [...this.sessions.values()],
      swarms: [...this.swarms.values()].filter((s) => includeMock || !s.mock),
    };
  }

  /** Runs `fn` as one change set: one delta at the end (nested batches join the outer one). */
  batch<T>(fn: () => T): T {
    if (this.depth === 0) this.pending = emptyPending();
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.flush();
    }
  }

  private get p(): Pending {
    if (!this.pending) throw new Error('graph change outside batch()');
    return this.pending;
  }

  private event(e: Omit<GraphEvent, 'time' | 'progress' | 'level' | 'agentId' | 'swarmId' | 'sessionUuid'> & Partial<GraphEvent>): void {
    this.emit('event', {
      time: this.now(),
      level: 'info',
      agentId: null,
      swarmId: null,
      sessionUuid: null,
      progress: null,
      ...e,
      message: e.message.length > 8192 ? e.message.slice(0, 8192) : e.message,
    });
  }

  // ---- agents ----

  /** Applies a normalized agent; returns false when the result would not be a valid Agent. */
  applyAgent(patch: AgentPatch, source: MetricSource, origin: Origin = 'mcp'): boolean {
    return this.batch(() => {
      this.rejected.fields += patch.rejected.length;
      const prev = this.agents.get(patch.id);
      if (!prev && this.agents.size >= MAX_AGENTS) {
        this.rejected.agents++;
        return false;
      }
      const now = this.now();
      const next: Agent = prev
        ? { ...prev, sources: { ...prev.sources } }
        : unknownAgent(patch.id, this.nodeIds.get(patch.id, () => this.agents.keys()), now);
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
      if (source !== 'exec') this.lastTelemetryAt = now;
      if (prev && sameJson({ ...prev, updatedAt: 0 }, { ...next, updatedAt: 0 })) return true;
      next.updatedAt = now;
      const checked = AgentSchema.safeParse(next);
      if (!checked.success) {
        this.rejected.agents++;
        return false;
      }
      this.agents.set(next.id, next);
      if (!prev) {
        this.p.agentAdded = true;
        this.origin.set(next.id, origin);
        this.nodeIdsInUse.add(next.nodeId);
      }
      this.p.agents.add(next.id);
      this.p.rmAgents.delete(next.id);
      if (!prev || prev.swarmId !== next.swarmId || prev.type !== next.type || prev.parentQueenId !== next.parentQueenId) {
        this.p.hierarchyDirty.add(next.swarmId ?? NO_SWARM);
        if (prev) this.p.hierarchyDirty.add(prev.swarmId ?? NO_SWARM);
      }
      if (next.swarmId !== null) this.ensureSwarm(next.swarmId, next.mock);
      this.agentEvents(prev, next);
      return true;
    });
  }

  private agentEvents(prev: Agent | undefined, next: Agent): void {
    const base = { agentId: next.id, swarmId: next.swarmId, sessionUuid: next.sessionUuid };
    const who = `${next.name} (${next.type})`;
    if (!prev) {
      if (this.initialSynced) this.event({ ...base, kind: 'spawn', message: `${who} spawned` });
      return;
    }
    if (prev.status !== next.status) {
      this.event({
        ...base,
        kind: next.status === 'error' ? 'error' : 'status',
        level: next.status === 'error' ? 'error' : 'info',
        message: `${who}: ${prev.status} -> ${next.status}`,
      });
    }
    if (prev.currentTask !== next.currentTask) {
      if (prev.currentTask !== null) this.event({ ...base, kind: 'task-finish', message: `${next.name} finished: ${prev.currentTask}` });
      if (next.currentTask !== null) this.event({ ...base, kind: 'task-start', message: `${next.name} started: ${next.currentTask}` });
    } else if (prev.tasksCompleted !== null && next.tasksCompleted !== null && next.tasksCompleted > prev.tasksCompleted) {
      this.event({ ...base, kind: 'task-finish', message: `${next.name} completed ${next.tasksCompleted - prev.tasksCompleted} task(s)` });
    }
  }

  removeAgent(id: string): void {
    this.batch(() => {
      const prev = this.agents.get(id);
      if (!prev) return;
      this.agents.delete(id);
      this.origin.delete(id);
      this.nodeIdsInUse.delete(prev.nodeId);
      this.p.agents.delete(id);
      this.p.rmAgents.add(id);
      this.p.hierarchyDirty.add(prev.swarmId ?? NO_SWARM);
      for (const e of this.edgesByAgent.get(id) ?? []) this.removeEdge(e);
      this.edgesByAgent.delete(id);
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
        if (swarmId !== undefined && this.agents.get(id)?.swarmId !== swarmId) continue;
        this.removeAgent(id);
      }
    });
  }

  // ---- swarms and sessions ----

  private ensureSwarm(id: string, mock: boolean): void {
    if (this.swarms.has(id) || this.swarms.size >= MAX_SWARMS) return;
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
    this.swarms.set(id, sw);
    this.p.swarms.add(id);
    this.p.rmSwarms.delete(id);
  }

  applySwarm(patch: SwarmPatch): void {
    this.batch(() => {
      this.ensureSwarm(patch.id, patch.mock ?? false);
      const prev = this.swarms.get(patch.id);
      if (!prev) return;
      const next: Swarm = { ...prev };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
      if (next.sessionUuid === null) next.sessionUuid = this.sessionForSwarm(next.id);
      if (sameJson(prev, next)) return;
      this.swarms.set(next.id, next);
      this.p.swarms.add(next.id);
      if (prev.queenId !== next.queenId) this.p.hierarchyDirty.add(next.id);
      if (prev.status !== null && next.status !== null && prev.status !== next.status) {
        this.event({ kind: 'status', swarmId: next.id, sessionUuid: next.sessionUuid, message: `swarm ${next.id}: ${prev.status} -> ${next.status}` });
      }
    });
  }

  removeSwarm(id: string): void {
    this.batch(() => {
      if (!this.swarms.delete(id)) return;
      this.p.swarms.delete(id);
      this.p.rmSwarms.add(id);
    });
  }

  /** After a complete swarm list: swarms it no longer names are removed once no agent refers to them. */
  reconcileSwarms(listed: ReadonlySet<string>): void {
    this.batch(() => {
      const inUse = new Set<string>();
      for (const a of this.agents.values()) if (a.swarmId !== null) inUse.add(a.swarmId);
      for (const id of [...this.swarms.keys()]) if (!listed.has(id) && !inUse.has(id)) this.removeSwarm(id);
    });
  }

  private sessionForSwarm(swarmId: string): string | null {
    for (const s of this.sessions.values()) if (s.swarmId === swarmId) return s.uuid;
    return null;
  }

  upsertSession(s: Session): void {
    this.batch(() => {
      const prev = this.sessions.get(s.uuid);
      if (prev && sameJson(prev, s)) return;
      if (!prev && this.sessions.size >= MAX_SESSIONS) return;
      this.sessions.set(s.uuid, s);
      this.p.sessions.add(s.uuid);
      this.p.rmSessions.delete(s.uuid);
      if (s.swarmId !== null) {
        // Link the swarm and its agents to the session now that the swarm id is known.
        const sw = this.swarms.get(s.swarmId);
        if (sw && sw.sessionUuid === null) this.applySwarm({ id: sw.id, sessionUuid: s.uuid });
        for (const a of this.agents.values()) {
          if (a.swarmId === s.swarmId && a.sessionUuid === null) {
            const next = { ...a, sessionUuid: s.uuid, updatedAt: this.now() };
            this.agents.set(a.id, next);
            this.p.agents.add(a.id);
          }
        }
      }
      if (!prev || prev.status !== s.status || prev.swarmId !== s.swarmId) {
        this.emit('session', s);
        const what = !prev ? 'created' : prev.status !== s.status ? `${prev.status} -> ${s.status}` : `swarm ${s.swarmId}`;
        this.event({
          kind: 'session',
          level: s.status === 'failed' || s.status === 'interrupted' ? 'warn' : 'info',
          sessionUuid: s.uuid,
          swarmId: s.swarmId,
          message: `session ${s.uuid.slice(0, 8)}: ${what}`,
        });
      }
    });
  }

  removeSession(uuid: string): void {
    this.batch(() => {
      if (!this.sessions.delete(uuid)) return;
      this.p.sessions.delete(uuid);
      this.p.rmSessions.add(uuid);
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
      for (const uuid of [...this.sessions.keys()]) if (!seen.has(uuid)) this.removeSession(uuid);
    });
  }

  // ---- edges ----

  private linkEdge(e: Edge): void {
    for (const end of [e.source, e.target]) {
      let set = this.edgesByAgent.get(end);
      if (!set) this.edgesByAgent.set(end, (set = new Set()));
      set.add(e.id);
    }
  }

  private removeEdge(id: string): void {
    const e = this.edges.get(id);
    if (!e) return;
    this.edges.delete(id);
    for (const end of [e.source, e.target]) this.edgesByAgent.get(end)?.delete(id);
    this.p.edges.delete(id);
    this.p.rmEdges.add(id);
  }

  private unmatched: { m: MessagePatch; at: number }[] = [];

  /** Message traffic between two agents; held briefly (bounded) when an endpoint is not known yet. */
  recordMessage(m: MessagePatch): boolean {
    return this.batch(() => {
      if (!this.agents.has(m.from) || !this.agents.has(m.to)) {
        if (this.unmatched.length >= MAX_UNMATCHED_MESSAGES) {
          this.unmatched.shift();
          this.rejected.messages++;
        }
        this.unmatched.push({ m, at: this.now() });
        return false;
      }
      const id = edgeId(m.from, m.to);
      const prev = this.edges.get(id);
      if (!prev && this.edges.size >= MAX_EDGES) return false;
      const [source, target] = m.from < m.to ? [m.from, m.to] : [m.to, m.from];
      const next: Edge = prev
        ? {
            ...prev,
            messageCount: prev.messageCount + 1,
            dataVolume: prev.dataVolume + m.bytes,
            lastMessageTime: Math.max(prev.lastMessageTime ?? 0, m.timestamp),
          }
        : { id, source, target, kind: 'message', messageCount: 1, dataVolume: m.bytes, lastMessageTime: m.timestamp };
      this.edges.set(id, next);
      if (!prev) this.linkEdge(next);
      this.p.edges.add(id);
      this.p.rmEdges.delete(id);
      this.lastTelemetryAt = this.now();
      return true;
    });
  }

  /**
   * Queen-worker edges per swarm: from each agent's parentQueenId when reported, else from the swarm's
   * one queen (its queenId, or its only agent of type queen). Structure, not a metric: nothing invented.
   */
  private rebuildHierarchy(swarmKey: string): void {
    const members = [...this.agents.values()].filter((a) => (a.swarmId ?? NO_SWARM) === swarmKey);
    let queen: string | null = null;
    if (swarmKey !== NO_SWARM) {
      const declared = this.swarms.get(swarmKey)?.queenId ?? null;
      if (declared && this.agents.has(declared)) queen = declared;
      else {
        const queens = members.filter((a) => a.type === 'queen');
        if (queens.length === 1) queen = queens[0]!.id;
      }
    }
    const want = new Map<string, Edge>();
    for (const a of members) {
      const parent = a.parentQueenId && this.agents.has(a.parentQueenId) ? a.parentQueenId : queen;
      if (!parent || parent === a.id) continue;
      const id = `h:${parent}->${a.id}`;
      want.set(id, { id, source: parent, target: a.id, kind: 'hierarchy', messageCount: 0, dataVolume: 0, lastMessageTime: null });
    }
    const have = this.hierarchyBySwarm.get(swarmKey) ?? new Set<string>();
    for (const id of have) if (!want.has(id)) this.removeEdge(id);
    for (const [id, e] of want) {
      if (this.edges.has(id) || this.edges.size >= MAX_EDGES) continue;
      this.edges.set(id, e);
      this.linkEdge(e);
      this.p.edges.add(id);
      this.p.rmEdges.delete(id);
    }
    this.hierarchyBySwarm.set(swarmKey, new Set([...want.keys()].filter((id) => this.edges.has(id))));
  }

  private flush(): void {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    if (p.agentAdded && this.unmatched.length > 0) {
      const now = this.now();
      const waiting = this.unmatched.filter((u) => now - u.at < UNMATCHED_MESSAGE_TTL_MS);
      this.rejected.messages += this.unmatched.length - waiting.length;
      this.unmatched = [];
      this.pending = p;
      this.depth++;
      try {
        for (const u of waiting) {
          if (this.agents.has(u.m.from) && this.agents.has(u.m.to)) this.recordMessage(u.m);
          else this.unmatched.push(u);
        }
      } finally {
        this.depth--;
        this.pending = null;
      }
    }
    if (p.hierarchyDirty.size > 0) {
      this.pending = p;
      this.depth++;
      try {
        for (const k of p.hierarchyDirty) this.rebuildHierarchy(k);
      } finally {
        this.depth--;
        this.pending = null;
      }
    }
    const d: GraphDelta = { upserts: {}, removals: {} };
    const take = <T>(ids: Set<string>, map: Map<string, T>) => [...ids].map((id) => map.get(id)).filter((x): x is T => x !== undefined);
    if (p.agents.size) d.upserts.agents = take(p.agents, this.agents);
    if (p.edges.size) d.upserts.edges = take(p.edges, this.edges);
    if (p.sessions.size) d.upserts.sessions = take(p.sessions, this.sessions);
    if (p.swarms.size) d.upserts.swarms = take(p.swarms, this.swarms);
    if (p.rmAgents.size) d.removals.agents = [...p.rmAgents];
    if (p.rmEdges.size) d.removals.edges = [...p.rmEdges];
    if (p.rmSessions.size) d.removals.sessions = [...p.rmSessions];
    if (p.rmSwarms.size) d.removals.swarms = [...p.rmSwarms];
    if (Object.keys(d.upserts).length || Object.keys(d.removals).length) this.emit('delta', d);
  }

  /** Emits an activity event that did not come from a graph change (log lines, progress). */
  addEvent(e: GraphEvent): void {
    this.emit('event', e);
  }

}
