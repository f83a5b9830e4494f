// The fleet's cluster pull (docs/fleet.md section 4): each clustered node is drawn weakly towards its
// cluster's anchor, unclustered nodes and graphs without clusters are laid out exactly as before, and
// malformed cluster data is refused. Through the CPU engine; core.ts adds the pull for every backend.
import { describe, expect, it } from 'vitest';
import { createLocalCpuEngine } from './engine.js';
import { MAX_CLUSTERS, type PhysicsGraph } from './graph.js';
import { makeSwarmGraph } from './quality.js';
import { resolveParams } from './params.js';
import { addClusterPull } from './reference.js';

function positions(e: { nodeCount: number; readPositions(o: Float32Array): void }): Float32Array {
  const out = new Float32Array(3 * e.nodeCount);
  e.readPositions(out);
  return out;
}

/** Two swarms of 16 (queen + workers), the first in cluster 0, the second in cluster 1. */
function twoSwarms(anchors: Float32Array, cluster?: Int32Array): PhysicsGraph {
  const g = makeSwarmGraph(32, 7, 16);
  // Cut the link between the two queens: two independent swarms.
  const keep: number[] = [];
  for (let k = 0; k < g.edges.length; k += 2) if (!(g.edges[k] === 0 && g.edges[k + 1] === 16)) keep.push(g.edges[k]!, g.edges[k + 1]!);
  const parents = g.parents!.slice();
  parents[16] = -1;
  return { ids: g.ids, parents, edges: Uint32Array.from(keep), cluster: cluster ?? Int32Array.from({ length: 32 }, (_, i) => (i < 16 ? 0 : 1)), anchors };
}

function centroid(p: Float32Array, from: number, to: number): [number, number, number] {
  const c: [number, number, number] = [0, 0, 0];
  for (let i = from; i < to; i++) for (let k = 0; k < 3; k++) c[k] = c[k]! + p[3 * i + k]! / (to - from);
  return c;
}

describe('cluster pull', () => {
  it('is -(pos - anchor) * clusterK for clustered nodes, none for cluster -1, at any force stride', () => {
    const pos = new Float32Array([10, 0, 0, 5, 5, 5, -20, 4, 0]);
    const out = new Float64Array(9);
    addClusterPull(pos, 3, new Int32Array([0, -1, 1]), new Float32Array([0, 0, 0, -10, 0, 0]), 0.5, out);
    expect([...out]).toEqual([-5, 0, 0, 0, 0, 0, 5, -2, 0]);
    const padded = new Float32Array(12).fill(1);
    addClusterPull(pos, 3, new Int32Array([0, -1, 1]), new Float32Array([0, 0, 0, -10, 0, 0]), 0.5, padded, 4);
    expect([...padded]).toEqual([-4, 1, 1, 1, 1, 1, 1, 1, 6, -1, 1, 1]);
  });

  it("two targets' swarms gather around their own anchors, each keeping its shape", async () => {
    const anchors = new Float32Array([-400, 0, 0, 400, 0, 0]);
    const e = createLocalCpuEngine();
    await e.init(twoSwarms(anchors));
    await e.step(3000);
    const p = positions(e);
    const a = centroid(p, 0, 16);
    const b = centroid(p, 16, 32);
    expect(Math.hypot(a[0] + 400, a[1], a[2])).toBeLessThan(60);
    expect(Math.hypot(b[0] - 400, b[1], b[2])).toBeLessThan(60);
    // Queen to worker stays near the spring's rest length: the pull is weak beside the springs.
    const d = Math.hypot(p[3]! - p[0]!, p[4]! - p[1]!, p[5]! - p[2]!);
    expect(d).toBeGreaterThan(35);
    expect(d).toBeLessThan(65);
  });

  it('without the pull (clusterK 0) the same graph does not gather there: the pull is what does it', async () => {
    const anchors = new Float32Array([-400, 0, 0, 400, 0, 0]);
    const e = createLocalCpuEngine({ clusterK: 0 });
    const g = twoSwarms(anchors);
    await e.init({ ...g, positions: new Float32Array(96).fill(0).map((_, k) => (k % 3 === 0 ? (k / 3) * 3 : 0)) });
    await e.step(3000);
    const b = centroid(positions(e), 16, 32);
    expect(Math.hypot(b[0] - 400, b[1], b[2])).toBeGreaterThan(200);
  });

  it('new roots of a cluster are placed around its anchor', async () => {
    const e = createLocalCpuEngine();
    await e.init(twoSwarms(new Float32Array([-5000, 0, 0, 5000, 0, 0])));
    const p = positions(e);
    expect(p[0]).toBeLessThan(-4500);
    expect(p[3 * 16]).toBeGreaterThan(4500);
  });

  it('a graph whose nodes are all in cluster -1 is laid out bit for bit as one without clusters', async () => {
    const g = makeSwarmGraph(200, 3);
    const a = createLocalCpuEngine();
    const b = createLocalCpuEngine();
    await a.init(g);
    await b.init({ ...g, cluster: new Int32Array(200).fill(-1), anchors: new Float32Array([900, 0, 0]) });
    await a.step(100);
    await b.step(100);
    expect(positions(b)).toEqual(positions(a));
  });

  it('moving an anchor or a node to another cluster reheats; the same clusters reordered do not', async () => {
    const anchors = new Float32Array([-400, 0, 0, 400, 0, 0]);
    const e = createLocalCpuEngine();
    const g = twoSwarms(anchors);
    await e.init(g);
    expect(await e.setGraph({ ...g, cluster: g.cluster!.slice(), anchors: anchors.slice() })).toBe(false);
    expect(await e.setGraph({ ...g, anchors: new Float32Array([-600, 0, 0, 600, 0, 0]) })).toBe(true);
    const moved = g.cluster!.slice();
    moved[5] = 1;
    expect(await e.setGraph({ ...g, anchors: new Float32Array([-600, 0, 0, 600, 0, 0]), cluster: moved })).toBe(true);
  });

  it('refuses malformed cluster data with RangeError', async () => {
    const e = createLocalCpuEngine();
    const ids = new Uint32Array([1, 2]);
    const edges = new Uint32Array(0);
    const bad: unknown[] = [
      { ids, edges, cluster: new Int32Array([0, 0]) },
      { ids, edges, anchors: new Float32Array(3) },
      { ids, edges, cluster: [0, 0], anchors: new Float32Array(3) },
      { ids, edges, cluster: new Int32Array([0]), anchors: new Float32Array(3) },
      { ids, edges, cluster: new Int32Array([0, 1]), anchors: new Float32Array(3) },
      { ids, edges, cluster: new Int32Array([0, -2]), anchors: new Float32Array(3) },
      { ids, edges, cluster: new Int32Array([0, 0]), anchors: new Float32Array([0, NaN, 0]) },
      { ids, edges, cluster: new Int32Array([0, 0]), anchors: new Float32Array(4) },
      { ids, edges, cluster: new Int32Array([0, 0]), anchors: new Float32Array(3 * (MAX_CLUSTERS + 1)) },
    ];
    for (const g of bad) await expect(e.setGraph(g as PhysicsGraph)).rejects.toThrow(RangeError);
    expect(() => resolveParams({ clusterK: -1 })).toThrow(RangeError);
    expect(resolveParams({}).clusterK).toBe(0.1);
  });
});
