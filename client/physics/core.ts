/**
 * Backend-independent physics state and step loop: graph changes (positions kept by id, new nodes near their
 * queen, reheat only on structural change), pinning, live parameters, settle detection. A backend supplies
 * only the force pass (`ForceKernel`); the grid is built and integration done here, on the CPU, for all of
 * them, so every backend integrates identically and differs only in how it sums forces.
 */
import { buildCsr, placeNodes, validateGraph, type Csr, type PhysicsGraph } from './graph.js';
import { buildGrid, type Grid } from './grid.js';
import { resolveParams, type PhysicsParams } from './params.js';
import { addClusterPull, computeForces, integrate } from './reference.js';

export type BackendName = 'cpu' | 'webgpu' | 'webgl';

/** Sums the forces (repulsion via the grid, springs via CSR, centring) for every node. */
export interface ForceKernel {
  readonly name: BackendName;
  /** Called when the node count or edges change (upload CSR etc.). */
  setTopology(n: number, csr: Csr): void | Promise<void>;
  /** Writes 3 floats per node (stride `forceStride`) into `out`. */
  compute(pos: Float32Array, n: number, grid: Grid, params: PhysicsParams, out: Float32Array | Float64Array): void | Promise<void>;
  /** Floats per node in `out` (3, or 4 for padded GPU layouts). */
  readonly forceStride: number;
  /** Prefers Float32Array output (GPU readback) over Float64Array. */
  readonly float32Out: boolean;
  dispose(): void;
}

export interface StepInfo {
  /** Steps actually run (0 when already settled). */
  steps: number;
  settled: boolean;
  /** Steps since the last (re)start. */
  iteration: number;
  /** Mean |v|^2 over free nodes after the last step; null before the first step. */
  kinetic: number | null;
  /** Wall milliseconds per step of this call (null when no step ran). */
  msPerStep: number | null;
}

export class PhysicsCore {
  params: PhysicsParams;
  n = 0;
  ids = new Uint32Array(0);
  parents: Int32Array | undefined;
  pos = new Float32Array(0);
  vel = new Float32Array(0);
  pinned = new Uint8Array(0);
  /** Cluster of each node (-1: none) and the anchors, xyz per cluster; undefined when the graph has none. */
  cluster: Int32Array | undefined;
  anchors: Float32Array | undefined;
  csr: Csr = buildCsr(0, new Uint32Array(0), undefined);
  grid: Grid | undefined;
  iteration = 0;
  kinetic: number | null = null;
  settled = false;
  private force: Float32Array | Float64Array = new Float64Array(0);
  private topologyDirty = true;
  private edgeKey = '';
  private clusterKey = '';

  constructor(readonly kernel: ForceKernel, params?: Partial<PhysicsParams>) {
    this.params = resolveParams(params);
  }

  /**
   * Replaces the graph. Nodes whose id was already present keep position and velocity; new ones get the
   * graph's position if finite, else a seeded spot near their parent. Reheats (warm-up restarts, settled
   * clears) only when nodes or edges changed; a weight-only change is stored and used from then on.
   * Returns whether the structure changed.
   */
  setGraph(g: PhysicsGraph): boolean {
    const n = validateGraph(g);
    const oldIndex = new Map<number, number>();
    for (let i = 0; i < this.n; i++) oldIndex.set(this.ids[i]!, i);
    const pos = new Float32Array(3 * n);
    const vel = new Float32Array(3 * n);
    const have = new Uint8Array(n);
    const pinned = new Uint8Array(n);
    let sameNodes = n === this.n;
    for (let i = 0; i < n; i++) {
      const id = g.ids[i]!;
      const old = oldIndex.get(id);
      if (old === undefined) sameNodes = false;
      if (old !== undefined) {
        pos.set(this.pos.subarray(3 * old, 3 * old + 3), 3 * i);
        vel.set(this.vel.subarray(3 * old, 3 * old + 3), 3 * i);
        pinned[i] = this.pinned[old]!;
        have[i] = 1;
      } else if (g.positions !== undefined) {
        const x = g.positions[3 * i]!, y = g.positions[3 * i + 1]!, z = g.positions[3 * i + 2]!;
        if (Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(z)) {
          pos[3 * i] = x;
          pos[3 * i + 1] = y;
          pos[3 * i + 2] = z;
          have[i] = 1;
        }
      }
      if (g.pinned !== undefined && g.pinned[i]) pinned[i] = 1;
    }
    placeNodes(pos, have, g.ids, g.parents, this.params.restLength, this.params.seed, g.cluster, g.anchors);
    const csr = buildCsr(n, g.edges, g.weights);
    // Edge identity by node id, so a reordering of the same graph is not a structural change.
    const edgeKey = edgeSignature(g.ids, csr);
    // A node changing cluster, or an anchor moving (a target joined), moves the equilibrium: reheat.
    const clusterKey = clusterSignature(g.ids, g.cluster, g.anchors);
    const structural = !(sameNodes && edgeKey === this.edgeKey && clusterKey === this.clusterKey) || this.n === 0;
    this.n = n;
    this.ids = g.ids.slice();
    this.parents = g.parents?.slice();
    this.pos = pos;
    this.vel = vel;
    this.pinned = pinned;
    this.csr = csr;
    this.edgeKey = edgeKey;
    this.clusterKey = clusterKey;
    this.cluster = g.cluster?.slice();
    this.anchors = g.anchors?.slice();
    this.grid = undefined;
    this.force = this.kernel.float32Out ? new Float32Array(this.kernel.forceStride * n) : new Float64Array(this.kernel.forceStride * n);
    this.topologyDirty = true;
    if (structural) this.reheat();
    return structural;
  }

  reheat(): void {
    this.iteration = 0;
    this.settled = false;
  }

  setParams(update: Partial<PhysicsParams>): void {
    this.params = resolveParams(update, this.params);
    // A live edit moves the equilibrium: wake up, but do not restart the warm-up ramp.
    this.settled = false;
  }

  pin(i: number, x: number, y: number, z: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`pin: node index ${i} out of range`);
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) throw new RangeError('pin: position must be finite');
    this.pinned[i] = 1;
    this.pos[3 * i] = x;
    this.pos[3 * i + 1] = y;
    this.pos[3 * i + 2] = z;
    this.vel.fill(0, 3 * i, 3 * i + 3);
    this.settled = false;
  }

  unpin(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`unpin: node index ${i} out of range`);
    this.pinned[i] = 0;
    this.settled = false;
  }

  /** Runs up to `count` steps, stopping early once settled. */
  async step(count = 1): Promise<StepInfo> {
    const t0 = now();
    let ran = 0;
    for (; ran < count && !this.settled; ran++) {
      this.prepare();
      await this.kernel.compute(this.pos, this.n, this.grid!, this.params, this.force);
      this.finish();
    }
    return this.info(ran, t0);
  }

  /** Synchronous variant for kernels whose compute is synchronous (the CPU reference). */
  stepSync(count = 1): StepInfo {
    const t0 = now();
    let ran = 0;
    for (; ran < count && !this.settled; ran++) {
      this.prepare();
      const r = this.kernel.compute(this.pos, this.n, this.grid!, this.params, this.force);
      if (r instanceof Promise) throw new Error('stepSync needs a synchronous kernel');
      this.finish();
    }
    return this.info(ran, t0);
  }

  private prepare(): void {
    if (this.topologyDirty) {
      const r = this.kernel.setTopology(this.n, this.csr);
      if (r instanceof Promise) throw new Error('setTopology must be awaited via syncTopology()');
      this.topologyDirty = false;
    }
    this.grid = buildGrid(this.pos, this.n, this.params.repulsionCutoff, this.grid);
  }

  /** Lets async kernels upload topology before stepping (called by engines after setGraph). */
  async syncTopology(): Promise<void> {
    if (!this.topologyDirty) return;
    await this.kernel.setTopology(this.n, this.csr);
    this.topologyDirty = false;
  }

  private finish(): void {
    if (this.cluster !== undefined && this.anchors !== undefined) {
      addClusterPull(this.pos, this.n, this.cluster, this.anchors, this.params.clusterK, this.force, this.kernel.forceStride);
    }
    this.kinetic = integrate(this.pos, this.vel, this.force, this.pinned, this.n, this.params, this.iteration, this.kernel.forceStride);
    this.iteration++;
    if (this.iteration >= this.params.warmup && this.kinetic < this.params.settleThreshold) this.settled = true;
  }

  private info(steps: number, t0: number): StepInfo {
    return {
      steps,
      settled: this.settled,
      iteration: this.iteration,
      kinetic: this.kinetic,
      msPerStep: steps === 0 ? null : (now() - t0) / steps,
    };
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Order-independent fingerprint of the edge set by node id (FNV-style over sorted id pairs). */
function edgeSignature(ids: Uint32Array, csr: Csr): string {
  const m = csr.edgeA.length;
  const keys = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const a = ids[csr.edgeA[e]!]!, b = ids[csr.edgeB[e]!]!;
    keys[e] = a < b ? a * 4294967296 + b : b * 4294967296 + a;
  }
  keys.sort();
  let h1 = 0x811c9dc5, h2 = 0x01000193;
  for (let e = 0; e < m; e++) {
    const k = keys[e]!;
    const lo = k % 4294967296, hi = Math.floor(k / 4294967296);
    h1 = Math.imul(h1 ^ lo, 16777619) >>> 0;
    h1 = Math.imul(h1 ^ hi, 16777619) >>> 0;
    h2 = Math.imul(h2 ^ (lo + hi), 2246822519) >>> 0;
  }
  return `${m}:${h1}:${h2}`;
}

/** Cluster of every node by id, and the anchors ('' without clusters): order-independent like edgeSignature. */
function clusterSignature(ids: Uint32Array, cluster: Int32Array | undefined, anchors: Float32Array | undefined): string {
  if (cluster === undefined || anchors === undefined) return '';
  const byId = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) byId[i] = ids[i]! * 2048 + (cluster[i]! + 1);
  byId.sort();
  let h = 0x811c9dc5;
  for (let i = 0; i < byId.length; i++) {
    const k = byId[i]!;
    h = Math.imul(h ^ (k % 4294967296), 16777619) >>> 0;
    h = Math.imul(h ^ Math.floor(k / 4294967296), 16777619) >>> 0;
  }
  return `${h}:${Array.from(anchors).join(',')}`;
}

/** The CPU reference as a ForceKernel (used in the worker, in Node, and as the in-page oracle). */
export function createCpuKernel(): ForceKernel {
  let csr = buildCsr(0, new Uint32Array(0), undefined);
  return {
    name: 'cpu',
    forceStride: 3,
    float32Out: false,
    setTopology(_n, c) {
      csr = c;
    },
    compute(pos, n, grid, params, out) {
      computeForces(pos, n, csr, grid, params, out as Float64Array);
    },
    dispose() {},
  };
}
