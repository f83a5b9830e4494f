// Behaviour of the backend-independent core through the CPU engine: placement, reheating, pinning,
// settling, live parameters, hostile input, and a 100k-node step (the grid keeps it far from all-pairs).
import { describe, expect, it } from 'vitest';
import { createLocalCpuEngine } from './engine.js';
import { MAX_NODES, type PhysicsGraph } from './graph.js';
import { edgeStress, makeSwarmGraph } from './quality.js';

function star(workers: number, firstId = 0): PhysicsGraph {
  const n = workers + 1;
  const ids = new Uint32Array(n).map((_, i) => firstId + i);
  const parents = new Int32Array(n).fill(0);
  parents[0] = -1;
  const edges = new Uint32Array(2 * workers);
  for (let w = 0; w < workers; w++) {
    edges[2 * w] = 0;
    edges[2 * w + 1] = w + 1;
  }
  return { ids, parents, edges };
}

function positions(e: { nodeCount: number; readPositions(o: Float32Array): void }): Float32Array {
  const out = new Float32Array(3 * e.nodeCount);
  e.readPositions(out);
  return out;
}

describe('physics core (CPU engine)', () => {
  it('initial placement is reproducible from the seed and differs between seeds', async () => {
    const g = makeSwarmGraph(200, 3);
    const a = createLocalCpuEngine({ seed: 5 });
    const b = createLocalCpuEngine({ seed: 5 });
    const c = createLocalCpuEngine({ seed: 6 });
    await a.init(g);
    await b.init(g);
    await c.init(g);
    await a.step(20);
    await b.step(20);
    expect(positions(a)).toEqual(positions(b));
    expect(positions(c)).not.toEqual(positions(b));
  });

  it('new workers appear near their queen and existing nodes do not jump', async () => {
    const e = createLocalCpuEngine();
    await e.init(star(5));
    await e.step(50);
    const before = positions(e);
    const changed = await e.setGraph(star(8));
    expect(changed).toBe(true);
    const after = positions(e);
    expect(after.subarray(0, before.length)).toEqual(before);
    for (let w = 6; w <= 8; w++) {
      const d = Math.hypot(after[3 * w]! - after[0]!, after[3 * w + 1]! - after[1]!, after[3 * w + 2]! - after[2]!);
      expect(d).toBeLessThanOrEqual(50 + 1e-3);
      expect(d).toBeGreaterThan(0);
    }
  });

  it('positions follow node ids when the graph is reordered, and that is not a structural change', async () => {
    const e = createLocalCpuEngine();
    const g = star(4, 100);
    await e.init(g);
    await e.step(10);
    const before = positions(e);
    const rev = { ids: g.ids.slice().reverse(), edges: g.edges.map((v) => 4 - v), parents: new Int32Array([4, 4, 4, 4, -1]) };
    expect(await e.setGraph(rev)).toBe(false);
    const after = positions(e);
    for (let i = 0; i < 5; i++) expect([...after.subarray(3 * (4 - i), 3 * (4 - i) + 3)]).toEqual([...before.subarray(3 * i, 3 * i + 3)]);
  });

  it('settles, stops stepping, and reheats only when the structure changes', async () => {
    const e = createLocalCpuEngine();
    const g = star(6);
    await e.init(g);
    let info = await e.step(5000);
    expect(info.settled).toBe(true);
    expect(e.settled).toBe(true);
    expect(info.steps).toBeLessThan(5000);
    expect((await e.step(10)).steps).toBe(0);
    // Weight-only change: no reheat.
    expect(await e.setGraph({ ...g, weights: new Float32Array(6).fill(0.7) })).toBe(false);
    expect(e.settled).toBe(true);
    // A new node: reheat.
    expect(await e.setGraph(star(7))).toBe(true);
    expect(e.settled).toBe(false);
    info = await e.step(1);
    expect(info.iteration).toBe(1);
  });

  it('a settled star has springs near rest length (low stress)', async () => {
    const e = createLocalCpuEngine();
    const g = star(6);
    await e.init(g);
    await e.step(5000);
    const s = edgeStress(positions(e), g.edges, 50)!;
    expect(s).toBeLessThan(0.01);
    const p = positions(e);
    const d = Math.hypot(p[3]! - p[0]!, p[4]! - p[1]!, p[5]! - p[2]!);
    expect(Math.abs(d - 50)).toBeLessThan(5);
  });

  it('a pinned node stays where it was pinned and others still move; unpin releases it', async () => {
    const e = createLocalCpuEngine();
    await e.init(star(4));
    e.pin(1, 300, 0, 0);
    await e.step(200);
    const p = positions(e);
    expect([p[3], p[4], p[5]]).toEqual([300, 0, 0]);
    expect(Math.hypot(p[0]! - 300, p[1]!, p[2]!)).toBeLessThan(250);
    e.unpin(1);
    expect(e.settled).toBe(false);
    await e.step(50);
    expect(positions(e)[3]).not.toBe(300);
  });

  it('live parameter edits wake the layout and invalid ones throw without changing anything', async () => {
    const e = createLocalCpuEngine();
    await e.init(star(3));
    await e.step(5000);
    expect(e.settled).toBe(true);
    e.setParams({ restLength: 80 });
    expect(e.settled).toBe(false);
    expect(e.params.restLength).toBe(80);
    for (const bad of [{ restLength: NaN }, { damping: 2 }, { dt: -1 }, { maxForce: Infinity }, { ['__proto__' as 'dt']: 1 }, { nope: 1 } as never]) {
      expect(() => e.setParams(bad)).toThrow(RangeError);
    }
    expect(e.params.restLength).toBe(80);
    await e.step(3000);
    const p = positions(e);
    expect(Math.hypot(p[3]! - p[0]!, p[4]! - p[1]!, p[5]! - p[2]!)).toBeGreaterThan(70);
  });

  it('coincident nodes separate without NaN', async () => {
    const e = createLocalCpuEngine();
    const n = 20;
    await e.init({ ids: new Uint32Array(n).map((_, i) => i), edges: new Uint32Array(0), positions: new Float32Array(3 * n).fill(7) });
    await e.step(300);
    const p = positions(e);
    for (const v of p) expect(Number.isFinite(v)).toBe(true);
    let minD = Infinity;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) minD = Math.min(minD, Math.hypot(p[3 * i]! - p[3 * j]!, p[3 * i + 1]! - p[3 * j + 1]!, p[3 * i + 2]! - p[3 * j + 2]!));
    expect(minD).toBeGreaterThan(0.1);
  });

  it('huge coordinates and extreme parameters never produce NaN', async () => {
    const e = createLocalCpuEngine({ springK: 1e6, repelK: 1e9, maxForce: 1e12, maxVelocity: 1e9, dt: 1 });
    await e.init({ ids: new Uint32Array([1, 2, 3]), edges: new Uint32Array([0, 1, 1, 2]), positions: new Float32Array([3e38, 0, 0, -3e38, 0, 0, 0, 0, 0]) });
    await e.step(20);
    for (const v of positions(e)) expect(Number.isFinite(v)).toBe(true);
  });

  it('disconnected swarms stay near the origin (centring)', async () => {
    const e = createLocalCpuEngine();
    const g = makeSwarmGraph(256, 2, 16);
    // Cut the queen hierarchy: 16 independent swarms.
    const keep: number[] = [];
    for (let k = 0; k < g.edges.length; k += 2) if (g.parents![g.edges[k + 1]!] !== -1 && (g.edges[k + 1]! % 16 !== 0)) keep.push(g.edges[k]!, g.edges[k + 1]!);
    await e.init({ ids: g.ids, parents: g.parents, edges: Uint32Array.from(keep) });
    await e.step(2000);
    const p = positions(e);
    let cx = 0, cy = 0, cz = 0;
    for (let i = 0; i < 256; i++) {
      cx += p[3 * i]! / 256;
      cy += p[3 * i + 1]! / 256;
      cz += p[3 * i + 2]! / 256;
    }
    expect(Math.hypot(cx, cy, cz)).toBeLessThan(200);
  });

  it('overlapping step calls run one after the other', async () => {
    const e = createLocalCpuEngine();
    await e.init(star(3));
    const [a, b] = await Promise.all([e.step(5), e.step(5)]);
    expect([a.iteration, b.iteration]).toEqual([5, 10]);
    e.dispose();
    await expect(e.step(1)).rejects.toThrow('disposed');
  });

  it('rejects malformed graphs with RangeError', async () => {
    const e = createLocalCpuEngine();
    const ids = new Uint32Array([1, 2]);
    const bad: unknown[] = [
      null,
      { ids: [1, 2], edges: new Uint32Array(0) },
      { ids, edges: new Uint32Array([0]) },
      { ids, edges: new Uint32Array([0, 5]) },
      { ids: new Uint32Array([1, 1]), edges: new Uint32Array(0) },
      { ids, edges: new Uint32Array([0, 1]), weights: new Float32Array([-1]) },
      { ids, edges: new Uint32Array([0, 1]), weights: new Float32Array([NaN]) },
      { ids, edges: new Uint32Array(0), parents: new Int32Array([0, 9]) },
      { ids, edges: new Uint32Array(0), positions: new Float32Array(5) },
      { ids: new Uint32Array(MAX_NODES + 1), edges: new Uint32Array(0) },
    ];
    for (const g of bad) await expect(e.setGraph(g as PhysicsGraph)).rejects.toThrow(RangeError);
    expect(() => e.pin(0, 0, 0, 0)).toThrow(RangeError);
    await e.init({ ids, edges: new Uint32Array([0, 1]) });
    expect(() => e.pin(5, 0, 0, 0)).toThrow(RangeError);
    expect(() => e.pin(0, NaN, 0, 0)).toThrow(RangeError);
  });

  it('steps a 100k-node swarm graph with finite results (grid, not all pairs)', async () => {
    const e = createLocalCpuEngine();
    await e.init(makeSwarmGraph(100_000, 1));
    const info = await e.step(2);
    expect(info.steps).toBe(2);
    const p = positions(e);
    let finite = true;
    for (const v of p) if (!Number.isFinite(v)) finite = false;
    expect(finite).toBe(true);
  });
});
