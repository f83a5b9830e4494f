/**
 * Synthetic swarm graphs and the layout-quality figure shared by tests and the benchmark.
 * Stress here is scale-normalised edge-length stress: with d_e the edge lengths and L the ideal length,
 * s = sum(d L) / sum(d^2) is the best uniform scale and stress = mean(((s d_e - L) / L)^2). It is 0 when
 * every edge has the same length, and it does not reward a layout for being bigger or smaller, so layouts
 * from libraries with different length units compare fairly.
 */
import { mulberry32, type PhysicsGraph } from './graph.js';

/**
 * A hive-like graph: swarms of `swarmSize` (one queen, workers); queens form a 4-ary hierarchy; every worker
 * is tied to its queen (weight 0.8) and talks to one random swarm-mate (weight 0.2-0.5). About 2n edges.
 */
export function makeSwarmGraph(n: number, seed = 1, swarmSize = 32): PhysicsGraph {
  const rnd = mulberry32(seed);
  const ids = new Uint32Array(n);
  const parents = new Int32Array(n).fill(-1);
  const edges: number[] = [];
  const weights: number[] = [];
  const queens: number[] = [];
  for (let i = 0; i < n; i++) {
    ids[i] = i;
    const inSwarm = i % swarmSize;
    if (inSwarm === 0) {
      const q = queens.length;
      queens.push(i);
      if (q > 0) {
        const pq = queens[Math.floor((q - 1) / 4)]!;
        parents[i] = pq;
        edges.push(pq, i);
        weights.push(0.5);
      }
    } else {
      const queen = i - inSwarm;
      parents[i] = queen;
      edges.push(queen, i);
      weights.push(0.8);
      if (inSwarm > 1) {
        const mate = queen + 1 + Math.floor(rnd() * (inSwarm - 1));
        edges.push(mate, i);
        weights.push(0.2 + 0.3 * rnd());
      }
    }
  }
  return { ids, parents, edges: Uint32Array.from(edges), weights: Float32Array.from(weights) };
}

/** Scale-normalised edge-length stress of a layout (xyz interleaved positions); null with no usable edge. */
export function edgeStress(pos: ArrayLike<number>, edges: ArrayLike<number>, ideal: number): number | null {
  const m = Math.floor(edges.length / 2);
  let sdl = 0, sdd = 0, used = 0;
  const ds = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const a = edges[2 * e]!, b = edges[2 * e + 1]!;
    if (a === b) {
      ds[e] = NaN;
      continue;
    }
    const dx = pos[3 * a]! - pos[3 * b]!, dy = pos[3 * a + 1]! - pos[3 * b + 1]!, dz = pos[3 * a + 2]! - pos[3 * b + 2]!;
    const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
    ds[e] = d;
    if (!Number.isFinite(d)) continue;
    sdl += d * ideal;
    sdd += d * d;
    used++;
  }
  if (used === 0 || sdd === 0) return null;
  const s = sdl / sdd;
  let acc = 0;
  for (let e = 0; e < m; e++) {
    const d = ds[e]!;
    if (!Number.isFinite(d)) continue;
    const r = (s * d - ideal) / ideal;
    acc += r * r;
  }
  return acc / used;
}

/** Largest |a - b| over max(|b|_inf, 1): the "relative" error the backend equivalence tests use. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1, err = 0;
  for (let k = 0; k < b.length; k++) scale = Math.max(scale, Math.abs(b[k]!));
  for (let k = 0; k < b.length; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    if (!(d <= err)) err = Number.isNaN(d) ? Infinity : d;
  }
  return err / scale;
}
