/**
 * Delta merging and per-client filtering. Deltas are merged by id (the newest object wins, a removal
 * cancels an upsert and vice versa), never queued, so a slow client's backlog is bounded by the size of
 * the graph, not by how long it has been slow.
 */
import type { Agent, Edge, Session, Swarm } from '../../shared/model/index.js';
import type { GraphDelta } from '../telemetry/graph.js';

export class DeltaAccumulator {
  agents = new Map<string, Agent>();
  edges = new Map<string, Edge>();
  sessions = new Map<string, Session>();
  swarms = new Map<string, Swarm>();
  rmAgents = new Set<string>();
  rmEdges = new Set<string>();
  rmSessions = new Set<string>();
  rmSwarms = new Set<string>();

  add(d: GraphDelta): void {
    merge(d.upserts.agents, d.removals.agents, this.agents, this.rmAgents);
    merge(d.upserts.edges, d.removals.edges, this.edges, this.rmEdges);
    merge(d.upserts.sessions, d.removals.sessions, this.sessions, this.rmSessions, (s) => s.uuid);
    merge(d.upserts.swarms, d.removals.swarms, this.swarms, this.rmSwarms);
  }

  addAll(other: DeltaAccumulator): void {
    this.add(other.toDelta());
  }

  get size(): number {
    return (
      this.agents.size + this.edges.size + this.sessions.size + this.swarms.size +
      this.rmAgents.size + this.rmEdges.size + this.rmSessions.size + this.rmSwarms.size
    );
  }

  get empty(): boolean {
    return this.size === 0;
  }

  toDelta(): GraphDelta {
    const d: GraphDelta = { upserts: {}, removals: {} };
    if (this.agents.size) d.upserts.agents = [...this.agents.values()];
    if (this.edges.size) d.upserts.edges = [...this.edges.values()];
    if (this.sessions.size) d.upserts.sessions = [...this.sessions.values()];
    if (this.swarms.size) d.upserts.swarms = [...this.swarms.values()];
    if (this.rmAgents.size) d.removals.agents = [...this.rmAgents];
    if (this.rmEdges.size) d.removals.edges = [...this.rmEdges];
    if (this.rmSessions.size) d.removals.sessions = [...this.rmSessions];
    if (this.rmSwarms.size) d.removals.swarms = [...this.rmSwarms];
    return d;
  }
}

function merge<T>(
  ups: T[] | undefined,
  rms: string[] | undefined,
  map: Map<string, T>,
  rm: Set<string>,
  key: (x: T) => string = (x) => (x as { id: string }).id,
): void {
  for (const id of rms ?? []) {
    map.delete(id);
    rm.add(id);
  }
  for (const x of ups ?? []) {
    const k = key(x);
    map.set(k, x);
    rm.delete(k);
  }
}

/** What a client subscribed to. */
export interface StreamFilter {
  /** null: every swarm. */
  swarmIds: ReadonlySet<string> | null;
  includeMock: boolean;
}

export function filterKey(f: StreamFilter): string {
  return `${f.includeMock ? 1 : 0}|${f.swarmIds === null ? '*' : [...f.swarmIds].sort().join(',')}`;
}

export function agentVisible(a: Pick<Agent, 'mock' | 'swarmId'>, f: StreamFilter): boolean {
  if (a.mock && !f.includeMock) return false;
  if (f.swarmIds !== null && (a.swarmId === null || !f.swarmIds.has(a.swarmId))) return false;
  return true;
}

/**
 * A delta as one client should see it. `visible(id)` says whether an agent id is visible under the
 * filter (for edges, whose endpoints must both be). An agent that stops matching (e.g. becomes mock)
 * is sent as a removal. Removals of ids the client may never have had are harmless and kept.
 */
export function filterDelta(d: GraphDelta, f: StreamFilter, visible: (agentId: string) => boolean): GraphDelta {
  if (f.includeMock && f.swarmIds === null) return d;
  const out: GraphDelta = { upserts: {}, removals: { ...d.removals } };
  const hidden: string[] = [];
  if (d.upserts.agents) {
    const shown: Agent[] = [];
    for (const a of d.upserts.agents) {
      if (agentVisible(a, f)) shown.push(a);
      else hidden.push(a.id);
    }
    if (shown.length) out.upserts.agents = shown;
  }
  if (hidden.length) out.removals.agents = [...(out.removals.agents ?? []), ...hidden];
  if (d.upserts.edges) {
    const edges = d.upserts.edges.filter((e) => visible(e.source) && visible(e.target));
    if (edges.length) out.upserts.edges = edges;
  }
  if (d.upserts.swarms) {
    const swarms = d.upserts.swarms.filter((s) => (f.includeMock || !s.mock) && (f.swarmIds === null || f.swarmIds.has(s.id)));
    if (swarms.length) out.upserts.swarms = swarms;
  }
  if (d.upserts.sessions) out.upserts.sessions = d.upserts.sessions;
  return out;
}

export function deltaEmpty(d: GraphDelta): boolean {
  return Object.keys(d.upserts).length === 0 && Object.values(d.removals).every((x) => !x || x.length === 0);
}
