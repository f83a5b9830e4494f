/**
 * The one change-set accumulator of the relay: the graph collects a batch's changes in one, the stream
 * merges the graph's change sets into one while they wait for a delta slot, and a slow client's held
 * delta is one too. Changes are merged by id (the newest object wins, a removal cancels an upsert and
 * vice versa), never queued, so what waits is bounded by the size of the graph, not by how long it
 * waited.
 *
 * A change set also says how urgent it is (see AgentGraph, which decides it where the previous state is
 * at hand): `topology` when something appeared or went or a session changed (what a person waits for
 * after acting), `structural` when that or a status changed. The stream sends topology changes on the
 * next turn, other structural ones at most deltaHz, and throttles metric-only churn harder.
 */
import type { Agent, Edge, Session, Swarm } from '../../shared/model/index.js';
import type { DeltaMessage } from '../../shared/protocol/messages.js';

/** A delta message as the stream sends it, without its type and per-client seq. */
export type GraphDelta = Omit<DeltaMessage, 'type' | 'seq'>;

/** What the graph emits per batch, and what the stream merges. */
export interface ChangeSet {
  delta: GraphDelta;
  /** Some change in it is structural: an object appeared or went, a status or a session changed. */
  structural: boolean;
  /** Some change in it is an object appearing or going, or a session change (implies structural). */
  topology: boolean;
}

/** How a single change counts (metric: only values of an object that stays, e.g. cpu, tokens, counts). */
export type ChangeWeight = 'metric' | 'structural' | 'topology';

interface Kinds {
  agents: Agent;
  edges: Edge;
  sessions: Session;
  swarms: Swarm;
}
export type ChangeKind = keyof Kinds;
const KINDS: readonly ChangeKind[] = ['agents', 'edges', 'sessions', 'swarms'];

function keyOf<K extends ChangeKind>(kind: K, x: Kinds[K]): string {
  return kind === 'sessions' ? (x as Session).uuid : (x as Agent | Edge | Swarm).id;
}

export class ChangeSetAccumulator {
  private readonly ups: { [K in ChangeKind]: Map<string, Kinds[K]> } = { agents: new Map(), edges: new Map(), sessions: new Map(), swarms: new Map() };
  private readonly rms: Record<ChangeKind, Set<string>> = { agents: new Set(), edges: new Set(), sessions: new Set(), swarms: new Set() };
  private isStructural = false;
  private isTopology = false;
  private firstAt: number | null = null;

  /** The newest version of an object, and how its change counts. */
  upsert<K extends ChangeKind>(kind: K, x: Kinds[K], weight: ChangeWeight = 'metric'): void {
    this.touch();
    const id = keyOf(kind, x);
    (this.ups[kind] as Map<string, Kinds[K]>).set(id, x);
    this.rms[kind].delete(id);
    this.weigh(weight);
  }

  /** An object went (always topology). */
  remove(kind: ChangeKind, id: string): void {
    this.touch();
    this.ups[kind].delete(id);
    this.rms[kind].add(id);
    this.weigh('topology');
  }

  /**
   * Merges a delta (per kind, removals first, then upserts, as within one delta). Its removals count as
   * topology; its upserts as `weight`.
   */
  add(d: GraphDelta, weight: ChangeWeight = 'metric'): void {
    for (const kind of KINDS) {
      for (const id of d.removals[kind] ?? []) this.remove(kind, id);
      for (const x of (d.upserts[kind] ?? []) as Kinds[typeof kind][]) this.upsert(kind, x, weight);
    }
  }

  /** Merges another change set, keeping its weight. */
  addChange(cs: ChangeSet): void {
    this.add(cs.delta, cs.topology ? 'topology' : cs.structural ? 'structural' : 'metric');
  }

  /** Objects and removals held (each id once). */
  get size(): number {
    let n = 0;
    for (const kind of KINDS) n += this.ups[kind].size + this.rms[kind].size;
    return n;
  }

  get empty(): boolean {
    return this.size === 0;
  }

  get structural(): boolean {
    return this.isStructural;
  }

  get topology(): boolean {
    return this.isTopology;
  }

  /** When the first change now held arrived (ms since epoch), or null when empty. */
  get since(): number | null {
    return this.firstAt;
  }

  /** The merged delta (arrays in first-change order), leaving the accumulator as it is. */
  toDelta(): GraphDelta {
    const d: GraphDelta = { upserts: {}, removals: {} };
    const ups = d.upserts as Record<ChangeKind, unknown[]>;
    const rms = d.removals as Record<ChangeKind, string[]>;
    for (const kind of KINDS) {
      if (this.ups[kind].size) ups[kind] = [...this.ups[kind].values()];
      if (this.rms[kind].size) rms[kind] = [...this.rms[kind]];
    }
    return d;
  }

  /** The merged change set; the accumulator is empty afterwards. */
  take(): ChangeSet {
    const cs = { delta: this.toDelta(), structural: this.isStructural, topology: this.isTopology };
    this.clear();
    return cs;
  }

  clear(): void {
    for (const kind of KINDS) {
      this.ups[kind].clear();
      this.rms[kind].clear();
    }
    this.isStructural = false;
    this.isTopology = false;
    this.firstAt = null;
  }

  private weigh(weight: ChangeWeight): void {
    if (weight === 'metric') return;
    this.isStructural = true;
    if (weight === 'topology') this.isTopology = true;
  }

  private touch(): void {
    this.firstAt ??= Date.now();
  }
}
