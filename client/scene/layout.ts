/**
 * Ties the store's graph, the typed-array positions, the physics engine and the network together:
 * - on a structural change (store.structureVersion) it re-slots the visible agents and hands the engine
 *   the new graph (existing nodes keep their place; the engine reheats only on structure);
 * - as layout leader it steps the engine once per frame (never two steps in flight), copies positions
 *   into NodePositions and lets the connection upload them at <= positionHz;
 * - as follower it eases towards the relay's positions.
 * `tick()` returns whether anything is still moving, so the scene stops rendering (frameloop "demand")
 * once the layout has settled.
 */
import type { PhysicsBackend } from '../../shared/index.js';
import type { HiveStore, HiveState } from '../state/store.js';
import { isAgentVisible } from '../state/store.js';
import type { NodePositions, SlotNode } from './positions.js';
import { edgeWeight } from './encodings.js';
import { clustersFor, type Clusters } from './clusters.js';
import { graphTargets, orderedTargets, healthTargets } from '../state/targets.js';

/** The graph handed to the physics (same layout as client/physics/graph.ts PhysicsGraph). */
export interface LayoutGraph {
  ids: Uint32Array;
  parents: Int32Array;
  edges: Uint32Array;
  weights: Float32Array;
  positions: Float32Array;
  /** A fleet's clusters (two or more targets): cluster per node (-1 none) and xyz per anchor; absent otherwise. */
  cluster?: Int32Array;
  anchors?: Float32Array;
}

/** What the scene needs from a physics backend (client/physics implements it). */
export interface LayoutEngine {
  readonly backend: Exclude<PhysicsBackend, 'none'>;
  setGraph(g: LayoutGraph): void | Promise<void>;
  /** Runs one step; resolves with whether the layout has settled and the step's wall time. */
  step(): Promise<{ settled: boolean; msPerStep: number | null }>;
  /** Current positions, xyz per graph index (valid until the next call into the engine). */
  positions(): Float32Array;
  setParams(p: Record<string, number>): void;
  pin(index: number, x: number, y: number, z: number): void;
  unpin(index: number): void;
  dispose(): void;
}

/** Follower easing: fraction of the remaining distance covered per frame. */
export const FOLLOW_ALPHA = 0.2;

export class LayoutController {
  private engine: LayoutEngine | null = null;
  private structureSeen = -1;
  private stepping = false;
  private settled = true;
  private graphPending: Promise<void> | null = null;
  /** structureVersion last handed to the engine (-1: none, or the engine's positions are stale). */
  private pushedStructure = -1;
  /** Slot order of the current graph: agent ids. */
  slotAgents: string[] = [];
  /** The fleet's clusters for the current slots; null with one target (the layout is then exactly as before). */
  clusters: Clusters | null = null;
  readonly pinned = new Set<number>();
  /** Target names in cluster order, and what they were computed from (health identity, structure). */
  private targetNames: readonly string[] = [];
  private targetsFrom: { health: unknown; structure: number } = { health: undefined, structure: -1 };
  /** Bumped when the target names change: it counts as structure (anchors move, new clusters). */
  private targetsVersion = 0;

  constructor(
    private readonly store: HiveStore,
    readonly positions: NodePositions,
    private readonly opts: { followOnly: boolean; onUpload?: (settled: boolean) => void } = { followOnly: false },
  ) {}

  get backend(): PhysicsBackend {
    return this.engine?.backend ?? 'none';
  }

  /** Installs (or replaces) the physics engine; the old one is disposed. */
  setEngine(engine: LayoutEngine | null): void {
    this.engine?.dispose();
    this.engine = engine;
    this.structureSeen = -1;
    this.pushedStructure = -1;
    this.settled = false;
  }

  isSettled(): boolean {
    return this.settled;
  }

  /**
   * The fleet's target names in cluster order, recomputed only when the health message or the graph's
   * structure changed (the graph's targets are read from its agents, O(n)).
   */
  private syncTargets(s: HiveState): void {
    if (this.targetsFrom.health === s.health && this.targetsFrom.structure === s.structureVersion) return;
    this.targetsFrom = { health: s.health, structure: s.structureVersion };
    const names = orderedTargets(healthTargets(s.health), graphTargets(s.agents.values()));
    if (names.join('\n') !== this.targetNames.join('\n')) {
      this.targetNames = names;
      this.targetsVersion++;
    }
  }

  /** Re-slots agents when the structure changed. Returns true when slots changed. */
  syncStructure(s: HiveState = this.store.getState()): boolean {
    this.syncTargets(s);
    const showMock = s.settings.rendering.showMock;
    // Showing mock agents changes which agents are slotted, and targets coming or going move the
    // clusters, so both count as structure.
    const key = (s.structureVersion * 2 + (showMock ? 1 : 0)) * 4096 + (this.targetsVersion % 4096);
    if (key === this.structureSeen) return false;
    this.structureSeen = key;
    const agents = [...s.agents.values()].filter((a) => isAgentVisible(a, showMock));
    const byId = new Map(agents.map((a) => [a.id, a] as const));
    this.slotAgents = agents.map((a) => a.id);
    this.clusters = clustersFor(this.targetNames, this.slotAgents, s.agents);
    const clusters = this.clusters;
    const nodes: SlotNode[] = agents.map((a, i) => {
      const c = clusters === null ? -1 : clusters.cluster[i]!;
      return {
        nodeId: a.nodeId,
        parentNodeId: a.parentQueenId !== null ? (byId.get(a.parentQueenId)?.nodeId ?? null) : null,
        // A new swarm of a fleet target starts around that target's anchor, not the origin.
        anchor: c < 0 ? null : [clusters!.anchors[3 * c]!, clusters!.anchors[3 * c + 1]!, clusters!.anchors[3 * c + 2]!],
      };
    });
    const changed = this.positions.sync(nodes);
    this.settled = false;
    return changed;
  }

  /** Builds the physics graph from the slots and the store's edges (plus queen links the edges miss). */
  buildGraph(s: HiveState): LayoutGraph {
    const n = this.positions.count;
    const index = new Map<string, number>();
    this.slotAgents.forEach((id, i) => index.set(id, i));
    const parents = new Int32Array(n).fill(-1);
    const pairs: number[] = [];
    const weights: number[] = [];
    const seen = new Set<string>();
    for (const e of s.edges.values()) {
      const a = index.get(e.source);
      const b = index.get(e.target);
      if (a === undefined || b === undefined || a === b) continue;
      const key = a < b ? `${a}:${b}` : `${b}:${a}`;
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push(a, b);
      weights.push(edgeWeight(e));
    }
    this.slotAgents.forEach((id, i) => {
      const agent = s.agents.get(id);
      const p = agent?.parentQueenId ? index.get(agent.parentQueenId) : undefined;
      if (p === undefined || p === i) return;
      parents[i] = p;
      const key = p < i ? `${p}:${i}` : `${i}:${p}`;
      if (!seen.has(key)) {
        seen.add(key);
        pairs.push(p, i);
        weights.push(0.8);
      }
    });
    const g: LayoutGraph = {
      ids: this.positions.ids.slice(0, n),
      parents,
      edges: Uint32Array.from(pairs),
      weights: Float32Array.from(weights),
      positions: this.positions.positionsCopy(n),
    };
    // Only a fleet's graph carries clusters: one target's graph is exactly what it was before fleets.
    if (this.clusters !== null && this.clusters.cluster.length === n) {
      g.cluster = this.clusters.cluster;
      g.anchors = this.clusters.anchors;
    }
    return g;
  }

  /**
   * Advances one frame. Returns true while something moves (the scene keeps rendering).
   * Leader: one physics step at a time; follower: ease towards the relay's positions.
   */
  tick(): boolean {
    const s = this.store.getState();
    this.syncStructure(s);
    if (!this.shouldSimulate(s) || !this.engine) {
      // Whatever the engine holds is stale once we follow: next time we lead it restarts from here.
      this.pushedStructure = -1;
      const remaining = this.positions.follow(FOLLOW_ALPHA);
      return remaining > 1e-3;
    }
    if (this.pushedStructure !== this.structureSeen && !this.graphPending && !this.stepping) this.pushGraph(s);
    if (this.settled) {
      this.opts.onUpload?.(true);
      return false;
    }
    if (this.stepping || this.graphPending) return true;
    this.stepping = true;
    const engine = this.engine;
    const structureAtStep = this.positions.structure;
    engine
      .step()
      .then((info) => {
        // A result for another engine or another slot assignment would scramble positions: drop it.
        if (engine !== this.engine || structureAtStep !== this.positions.structure) return;
        // Settled frames say so with zero velocity (the relay tells followers from the velocities).
        this.positions.applyStep(engine.positions(), info.settled);
        this.settled = info.settled;
        if (info.msPerStep !== null) this.store.setState({ physicsStepMs: info.msPerStep });
        this.opts.onUpload?.(info.settled);
      })
      .catch((e: unknown) => {
        console.error('hivescope: physics step failed; following the relay instead', e);
        this.setEngine(null);
        this.store.setState({ physicsBackend: 'none' });
      })
      .finally(() => {
        this.stepping = false;
      });
    return true;
  }

  /** Live parameter edits from the control panel. */
  setParams(p: Record<string, number>): void {
    try {
      this.engine?.setParams(p);
      this.settled = false;
    } catch (e) {
      this.store.getState().notify('error', `physics: ${(e as Error).message}`);
    }
  }

  /** Dragging pins a node where it is dropped (locally and, as leader, for everyone via the relay). */
  pin(nodeId: number, x: number, y: number, z: number): void {
    const slot = this.positions.slotOf.get(nodeId);
    if (slot === undefined) return;
    // A follower eases towards the relay's target: move the target too, so the node stays where dropped
    // until the leader's layout says otherwise.
    this.positions.place(slot, x, y, z);
    this.pinned.add(nodeId);
    this.engine?.pin(slot, x, y, z);
    this.settled = false;
  }

  unpin(nodeId: number): void {
    const slot = this.positions.slotOf.get(nodeId);
    this.pinned.delete(nodeId);
    if (slot !== undefined) this.engine?.unpin(slot);
    this.settled = false;
  }

  /** Wakes the simulation (e.g. after a settings change). */
  wake(): void {
    this.settled = false;
  }

  dispose(): void {
    this.engine?.dispose();
    this.engine = null;
  }

  private shouldSimulate(s: HiveState): boolean {
    if (this.opts.followOnly || s.inXR) return false;
    // Before the relay assigns a role (or when disconnected) we lay out locally so the scene is usable.
    return s.layoutRole !== 'follower';
  }

  private pushGraph(s: HiveState): void {
    const engine = this.engine!;
    const g = this.buildGraph(s);
    const fromScratch = this.pushedStructure === -1;
    this.pushedStructure = this.structureSeen;
    for (const nodeId of this.pinned) {
      if (!this.positions.slotOf.has(nodeId)) this.pinned.delete(nodeId);
    }
    // Engines keep positions by id; after following the relay ours are newer, so start it from empty.
    const r = fromScratch ? chain(engine.setGraph(emptyGraph()), () => engine.setGraph(g)) : engine.setGraph(g);
    if (r instanceof Promise) {
      const pending = r
        .catch((e: unknown) => console.error('hivescope: physics setGraph failed', e))
        .finally(() => {
          if (this.graphPending === pending) this.graphPending = null;
        });
      this.graphPending = pending;
    }
  }
}

function emptyGraph(): LayoutGraph {
  return { ids: new Uint32Array(0), parents: new Int32Array(0), edges: new Uint32Array(0), weights: new Float32Array(0), positions: new Float32Array(0) };
}

function chain(first: void | Promise<void>, next: () => void | Promise<void>): void | Promise<void> {
  return first instanceof Promise ? first.then(next) : next();
}
