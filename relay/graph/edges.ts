/**
 * The graph's edges: message edges counted from agent-to-agent traffic, and queen-worker hierarchy
 * edges derived per swarm. Every change is written into the graph's change set. Messages naming an
 * agent not (yet) in the graph wait in a bounded queue until it appears (push can beat the first poll).
 */
import { edgeId, type Agent, type Edge } from '../../shared/model/index.js';
import type { ChangeSetAccumulator } from './changeSet.js';
import type { MessagePatch } from './normalize.js';

/** Graph-wide bound, so a hostile or buggy server cannot grow the relay without limit. */
export const MAX_EDGES = 100_000;
/** Messages naming agents not (yet) in the graph wait here until they appear. */
export const MAX_UNMATCHED_MESSAGES = 1_000;
export const UNMATCHED_MESSAGE_TTL_MS = 30_000;

export class EdgeIndex {
  private readonly map = new Map<string, Edge>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly hierarchyBySwarm = new Map<string, Set<string>>();
  private unmatched: { m: MessagePatch; at: number }[] = [];

  constructor(
    /** Counter of messages dropped (queue full, expired); shared with the graph's `rejected`. */
    private readonly rejected: { messages: number },
    private readonly now: () => number,
  ) {}

  get edges(): ReadonlyMap<string, Edge> {
    return this.map;
  }

  get waiting(): number {
    return this.unmatched.length;
  }

  /** Counts a message on its edge; false when held for an unknown endpoint or refused by the bound. */
  recordMessage(m: MessagePatch, agents: ReadonlyMap<string, Agent>, cs: ChangeSetAccumulator): boolean {
    if (!agents.has(m.from) || !agents.has(m.to)) {
      if (this.unmatched.length >= MAX_UNMATCHED_MESSAGES) {
        this.unmatched.shift();
        this.rejected.messages++;
      }
      this.unmatched.push({ m, at: this.now() });
      return false;
    }
    const id = edgeId(m.from, m.to);
    const prev = this.map.get(id);
    if (!prev && this.map.size >= MAX_EDGES) return false;
    const [source, target] = m.from < m.to ? [m.from, m.to] : [m.to, m.from];
    const next: Edge = prev
      ? { ...prev, messageCount: prev.messageCount + 1, dataVolume: prev.dataVolume + m.bytes, lastMessageTime: Math.max(prev.lastMessageTime ?? 0, m.timestamp) }
      : { id, source, target, kind: 'message', messageCount: 1, dataVolume: m.bytes, lastMessageTime: m.timestamp };
    this.map.set(id, next);
    if (!prev) this.link(next);
    cs.upsert('edges', next, prev ? 'metric' : 'topology');
    return true;
  }

  /**
   * After agents were added: records the waiting messages whose endpoints both exist now (through
   * `record`, so the caller's bookkeeping runs), drops expired ones.
   */
  retryWaiting(agents: ReadonlyMap<string, Agent>, record: (m: MessagePatch) => void): void {
    if (this.unmatched.length === 0) return;
    const now = this.now();
    const waiting = this.unmatched.filter((u) => now - u.at < UNMATCHED_MESSAGE_TTL_MS);
    this.rejected.messages += this.unmatched.length - waiting.length;
    this.unmatched = [];
    for (const u of waiting) {
      if (agents.has(u.m.from) && agents.has(u.m.to)) record(u.m);
      else this.unmatched.push(u);
    }
  }

  /** Removes every edge touching an agent that went. */
  removeAgentEdges(agentId: string, cs: ChangeSetAccumulator): void {
    for (const e of this.byAgent.get(agentId) ?? []) this.remove(e, cs);
    this.byAgent.delete(agentId);
  }

  /**
   * Queen-worker edges of one swarm (`swarmKey`): from each member's parentQueenId when reported, else
   * from the swarm's one queen (its declared queenId, or its only agent of type queen). Agents outside
   * any swarm (`swarm` null) only get edges to a reported parent. Structure, not a metric: nothing
   * invented.
   */
  rebuildHierarchy(
    swarmKey: string,
    swarm: { declaredQueen: string | null } | null,
    members: readonly Agent[],
    agents: ReadonlyMap<string, Agent>,
    cs: ChangeSetAccumulator,
  ): void {
    let queen: string | null = null;
    if (swarm) {
      if (swarm.declaredQueen && agents.has(swarm.declaredQueen)) queen = swarm.declaredQueen;
      else {
        const queens = members.filter((a) => a.type === 'queen');
        if (queens.length === 1) queen = queens[0]!.id;
      }
    }
    const want = new Map<string, Edge>();
    for (const a of members) {
      const parent = a.parentQueenId && agents.has(a.parentQueenId) ? a.parentQueenId : queen;
      if (!parent || parent === a.id) continue;
      const id = `h:${parent}->${a.id}`;
      want.set(id, { id, source: parent, target: a.id, kind: 'hierarchy', messageCount: 0, dataVolume: 0, lastMessageTime: null });
    }
    const have = this.hierarchyBySwarm.get(swarmKey) ?? new Set<string>();
    for (const id of have) if (!want.has(id)) this.remove(id, cs);
    for (const [id, e] of want) {
      if (this.map.has(id) || this.map.size >= MAX_EDGES) continue;
      this.map.set(id, e);
      this.link(e);
      cs.upsert('edges', e, 'topology');
    }
    this.hierarchyBySwarm.set(swarmKey, new Set([...want.keys()].filter((id) => this.map.has(id))));
  }

  private link(e: Edge): void {
    for (const end of [e.source, e.target]) {
      let set = this.byAgent.get(end);
      if (!set) this.byAgent.set(end, (set = new Set()));
      set.add(e.id);
    }
  }

  private remove(id: string, cs: ChangeSetAccumulator): void {
    const e = this.map.get(id);
    if (!e) return;
    this.map.delete(id);
    for (const end of [e.source, e.target]) this.byAgent.get(end)?.delete(id);
    cs.remove('edges', id);
  }
}
