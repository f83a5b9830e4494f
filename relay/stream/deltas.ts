/**
 * Per-client filtering of deltas (a client may subscribe to some swarms, and hide mock agents), and the
 * encoded tail every client of one filter shares. Merging is the graph's ChangeSetAccumulator.
 */
import type { Agent } from '../../shared/model/index.js';
import type { GraphDelta } from '../graph/changeSet.js';

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

/** Whether an agent id is in the graph now and visible under `f` (edges need both ends visible). */
export function visibleUnder(graph: { agent(id: string): Pick<Agent, 'mock' | 'swarmId'> | undefined }, f: StreamFilter): (agentId: string) => boolean {
  return (id) => {
    const a = graph.agent(id);
    return a !== undefined && agentVisible(a, f);
  };
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

/** `"upserts":{...},"removals":{...}}`: a delta message's tail, shared by every client of one filter; null when empty. */
export function encodeDeltaBody(d: GraphDelta): string | null {
  if (deltaEmpty(d)) return null;
  return `"upserts":${JSON.stringify(d.upserts)},"removals":${JSON.stringify(d.removals)}}`;
}
