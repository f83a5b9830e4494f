/**
 * The graph the physics lays out, its validation, the per-node edge lists (CSR) every backend reads,
 * and seeded initial placement (new nodes appear near their queen; roots on a shell around the origin).
 *
 * Data layout (all backends): positions and velocities are Float32Array xyz interleaved (3 floats per node,
 * node i at [3i, 3i+1, 3i+2]); node ids Uint32Array; edges Uint32Array index pairs [a0, b0, a1, b1, ...]
 * with one Float32 weight per edge; pinned flags Uint8Array (1 = pinned).
 */
// One seeded PRNG for the whole project: placement must be reproducible, never Math.random.
import { mulberry32 } from '../../shared/random.js';
export { mulberry32 };

/** Upper bounds that keep every buffer bounded (100k nodes is the design size; 2M is a hard stop). */
export const MAX_NODES = 1 << 21;
export const MAX_EDGES = 1 << 24;
/** Cluster anchors a graph may carry (a fleet has at most 64 targets; room to spare, still bounded). */
export const MAX_CLUSTERS = 1024;

export interface PhysicsGraph {
  /** Stable node ids; positions survive `setGraph` by id. Must be unique. */
  ids: Uint32Array;
  /** Index (in this graph) of each node's queen/parent, or -1. New nodes are placed near it. */
  parents?: Int32Array;
  /** Edge endpoints as index pairs [a0, b0, a1, b1, ...]. Self-loops are ignored. */
  edges: Uint32Array;
  /** One weight per edge, finite and >= 0 (communication volume, hierarchy). Default 1. */
  weights?: Float32Array;
  /** 1 = pinned where it is (or at `positions`). */
  pinned?: Uint8Array;
  /** Optional starting positions, xyz interleaved; non-finite triples mean "place it". */
  positions?: Float32Array;
  /**
   * Cluster of each node, -1 for none (a fleet's target: docs/fleet.md section 4). With `anchors`, each
   * clustered node feels a weak pull (`clusterK`) towards its cluster's anchor. Absent: no pull at all.
   */
  cluster?: Int32Array;
  /** One anchor per cluster, xyz interleaved, finite; at most MAX_CLUSTERS. Required with `cluster`. */
  anchors?: Float32Array;
}

/** Edges as per-node adjacency (compressed sparse rows), built once per structural change. */
export interface Csr {
  /** start[i]..start[i+1] indexes nbr/weight for node i; length n+1. */
  start: Uint32Array;
  nbr: Uint32Array;
  weight: Float32Array;
  /** Deduplicated edge list actually used (self-loops dropped), for scatter loops and stress. */
  edgeA: Uint32Array;
  edgeB: Uint32Array;
  edgeW: Float32Array;
}

/** Throws RangeError with a short reason when the graph is malformed or oversized. */
export function validateGraph(g: PhysicsGraph): number {
  if (g === null || typeof g !== 'object') throw new RangeError('graph must be an object');
  if (!(g.ids instanceof Uint32Array)) throw new RangeError('graph.ids must be a Uint32Array');
  const n = g.ids.length;
  if (n > MAX_NODES) throw new RangeError(`graph has ${n} nodes; the limit is ${MAX_NODES}`);
  if (!(g.edges instanceof Uint32Array)) throw new RangeError('graph.edges must be a Uint32Array');
  if (g.edges.length % 2 !== 0) throw new RangeError('graph.edges must hold index pairs');
  const m = g.edges.length / 2;
  if (m > MAX_EDGES) throw new RangeError(`graph has ${m} edges; the limit is ${MAX_EDGES}`);
  for (let k = 0; k < g.edges.length; k++) {
    if (g.edges[k]! >= n) throw new RangeError(`edge endpoint ${g.edges[k]} out of range (n=${n})`);
  }
  if (g.weights !== undefined) {
    if (!(g.weights instanceof Float32Array) || g.weights.length !== m) throw new RangeError('graph.weights must be a Float32Array with one weight per edge');
    for (let k = 0; k < m; k++) {
      const w = g.weights[k]!;
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`edge weight ${k} must be finite and >= 0`);
    }
  }
  if (g.parents !== undefined) {
    if (!(g.parents instanceof Int32Array) || g.parents.length !== n) throw new RangeError('graph.parents must be an Int32Array of length n');
    for (let i = 0; i < n; i++) {
      const p = g.parents[i]!;
      if (p < -1 || p >= n) throw new RangeError(`parent of node ${i} out of range`);
    }
  }
  if (g.pinned !== undefined && (!(g.pinned instanceof Uint8Array) || g.pinned.length !== n)) throw new RangeError('graph.pinned must be a Uint8Array of length n');
  if (g.positions !== undefined && (!(g.positions instanceof Float32Array) || g.positions.length !== 3 * n)) throw new RangeError('graph.positions must be a Float32Array of length 3n');
  validateClusters(g, n);
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const id = g.ids[i]!;
    if (seen.has(id)) throw new RangeError(`duplicate node id ${id}`);
    seen.add(id);
  }
  return n;
}

function validateClusters(g: PhysicsGraph, n: number): void {
  if (g.cluster === undefined && g.anchors === undefined) return;
  if (!(g.anchors instanceof Float32Array) || g.anchors.length % 3 !== 0) throw new RangeError('graph.anchors must be a Float32Array of xyz triples');
  const c = g.anchors.length / 3;
  if (c > MAX_CLUSTERS) throw new RangeError(`graph has ${c} cluster anchors; the limit is ${MAX_CLUSTERS}`);
  for (let k = 0; k < g.anchors.length; k++) if (!Number.isFinite(g.anchors[k]!)) throw new RangeError(`cluster anchor ${Math.floor(k / 3)} must be finite`);
  if (!(g.cluster instanceof Int32Array) || g.cluster.length !== n) throw new RangeError('graph.cluster must be an Int32Array of length n');
  for (let i = 0; i < n; i++) {
    const k = g.cluster[i]!;
    if (k < -1 || k >= c) throw new RangeError(`cluster of node ${i} out of range`);
  }
}

/** Builds the CSR adjacency; each undirected edge appears in both endpoints' lists, in edge order. */
export function buildCsr(n: number, edges: Uint32Array, weights: Float32Array | undefined): Csr {
  const m = edges.length / 2;
  let kept = 0;
  for (let e = 0; e < m; e++) if (edges[2 * e] !== edges[2 * e + 1]) kept++;
  const edgeA = new Uint32Array(kept);
  const edgeB = new Uint32Array(kept);
  const edgeW = new Float32Array(kept);
  const deg = new Uint32Array(n + 1);
  let k = 0;
  for (let e = 0; e < m; e++) {
    const a = edges[2 * e]!;
    const b = edges[2 * e + 1]!;
    if (a === b) continue;
    edgeA[k] = a;
    edgeB[k] = b;
    edgeW[k] = weights === undefined ? 1 : weights[e]!;
    k++;
    deg[a]!++;
    deg[b]!++;
  }
  const start = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i]! + deg[i]!;
  const fill = start.slice(0, n);
  const nbr = new Uint32Array(2 * kept);
  const weight = new Float32Array(2 * kept);
  for (let e = 0; e < kept; e++) {
    const a = edgeA[e]!;
    const b = edgeB[e]!;
    const w = edgeW[e]!;
    let s = fill[a]!++;
    nbr[s] = b;
    weight[s] = w;
    s = fill[b]!++;
    nbr[s] = a;
    weight[s] = w;
  }
  return { start, nbr, weight, edgeA, edgeB, edgeW };
}


/** Uniform random unit vector from two uniforms. */
function unitVector(rnd: () => number, out: [number, number, number]): void {
  const z = 2 * rnd() - 1;
  const phi = 2 * Math.PI * rnd();
  const r = Math.sqrt(Math.max(0, 1 - z * z));
  out[0] = r * Math.cos(phi);
  out[1] = r * Math.sin(phi);
  out[2] = z;
}

/**
 * Places every node whose `have[i]` is 0: near its parent when the parent has a position, else on a shell of
 * radius 100-400 (scaled by cbrt(n/1000) past 1000 nodes). The distance to the parent is 0.5-1 rest lengths
 * times cbrt(size of the node's subtree): a worker lands within one rest length of its queen, a sub-queen
 * with a big hive under it further out, so a deep hierarchy does not start crushed into a few grid cells.
 * Each node's random stream is seeded by (seed, id), so a node lands in the same place whatever else is in
 * the graph. A root with a cluster (and anchors) is placed on that shell around its cluster's anchor instead
 * of the origin, so a fleet target's new swarm starts where its pull would take it.
 */
export function placeNodes(
  pos: Float32Array,
  have: Uint8Array,
  ids: Uint32Array,
  parents: Int32Array | undefined,
  restLength: number,
  seed: number,
  cluster?: Int32Array,
  anchors?: Float32Array,
): void {
  const n = ids.length;
  const scale = Math.max(1, Math.cbrt(n / 1000));
  const dir: [number, number, number] = [0, 0, 0];
  const subtree = subtreeSizes(parents, n);
  const placeOne = (i: number, parent: number): void => {
    const rnd = mulberry32((seed ^ Math.imul(ids[i]! + 1, 0x9e3779b1)) >>> 0);
    unitVector(rnd, dir);
    if (parent >= 0) {
      const r = restLength * (0.5 + 0.5 * rnd()) * Math.cbrt(subtree[i]!) + 1e-3;
      pos[3 * i] = pos[3 * parent]! + dir[0] * r;
      pos[3 * i + 1] = pos[3 * parent + 1]! + dir[1] * r;
      pos[3 * i + 2] = pos[3 * parent + 2]! + dir[2] * r;
    } else {
      const r = (100 + 300 * rnd()) * scale;
      const c = cluster !== undefined && anchors !== undefined ? cluster[i]! : -1;
      pos[3 * i] = dir[0] * r + (c >= 0 ? anchors![3 * c]! : 0);
      pos[3 * i + 1] = dir[1] * r + (c >= 0 ? anchors![3 * c + 1]! : 0);
      pos[3 * i + 2] = dir[2] * r + (c >= 0 ? anchors![3 * c + 2]! : 0);
    }
    have[i] = 1;
  };
  // Parents first: follow each unplaced chain up to a placed ancestor or a root (cycles are cut).
  const stack: number[] = [];
  for (let i = 0; i < n; i++) {
    if (have[i]) continue;
    let cur = i;
    stack.length = 0;
    while (cur >= 0 && !have[cur] && stack.length <= n) {
      stack.push(cur);
      const p = parents === undefined ? -1 : parents[cur]!;
      if (p < 0 || stack.includes(p)) break;
      cur = p;
    }
    for (let k = stack.length - 1; k >= 0; k--) {
      const node = stack[k]!;
      const p = parents === undefined ? -1 : parents[node]!;
      placeOne(node, p >= 0 && have[p] ? p : -1);
    }
  }
}

/** Nodes in each node's subtree (itself included) by parent pointers; cycles are cut, O(n). */
export function subtreeSizes(parents: Int32Array | undefined, n: number): Uint32Array {
  const size = new Uint32Array(n).fill(1);
  if (parents === undefined) return size;
  // Depth by walking up with memo; a node on the current walk path marks a cycle (treated as a root).
  const depth = new Int32Array(n).fill(-1);
  const onPath = new Uint8Array(n);
  const path: number[] = [];
  let maxDepth = 0;
  for (let i = 0; i < n; i++) {
    if (depth[i]! >= 0) continue;
    path.length = 0;
    let cur = i;
    while (cur >= 0 && depth[cur]! < 0 && !onPath[cur]) {
      onPath[cur] = 1;
      path.push(cur);
      cur = parents[cur]!;
    }
    let d = cur >= 0 && depth[cur]! >= 0 ? depth[cur]! + 1 : 0;
    for (let k = path.length - 1; k >= 0; k--) {
      const node = path[k]!;
      depth[node] = d++;
      onPath[node] = 0;
    }
    if (d > maxDepth) maxDepth = d;
  }
  // Children before parents: bucket by depth, deepest first.
  const count = new Uint32Array(maxDepth + 2);
  for (let i = 0; i < n; i++) count[depth[i]! + 1]!++;
  for (let d = 1; d < count.length; d++) count[d]! += count[d - 1]!;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[count[depth[i]!]!++] = i;
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k]!;
    const p = parents[i]!;
    if (p >= 0 && depth[p]! < depth[i]!) size[p]! += size[i]!;
  }
  return size;
}
