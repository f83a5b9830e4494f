// Where a fleet's targets sit in the scene (client/scene/clusters.ts): anchors on a circle whose radius
// grows with the target count, and each agent's cluster; one target has no clusters at all.
import { describe, expect, it } from 'vitest';
import { CLUSTER_SPACING, clusterAnchors, clusterRadius, clustersFor } from './clusters.js';
import { LayoutController } from './layout.js';
import { staleColor } from './encodings.js';
import { DEFAULT_SETTINGS } from '../state/settings.js';
import { NodePositions } from './positions.js';
import { createHiveStore } from '../state/store.js';
import { unknownAgent, type Agent, type Health } from '../../shared/index.js';

function anchor(a: Float32Array, k: number): [number, number, number] {
  return [a[3 * k]!, a[3 * k + 1]!, a[3 * k + 2]!];
}

describe('cluster anchors', () => {
  it('one target or none has no anchor (the picture stays as it was)', () => {
    expect(clusterAnchors(0).length).toBe(0);
    expect(clusterAnchors(1).length).toBe(0);
    expect(clusterRadius(1)).toBe(0);
  });

  it('two targets sit left and right of the centre, CLUSTER_SPACING apart', () => {
    const a = clusterAnchors(2);
    const [l, r] = [anchor(a, 0), anchor(a, 1)];
    expect(l[0]).toBeCloseTo(-CLUSTER_SPACING / 2, 2);
    expect(r[0]).toBeCloseTo(CLUSTER_SPACING / 2, 2);
    expect(Math.abs(l[1])).toBeLessThan(1e-3);
    expect(Math.abs(r[1])).toBeLessThan(1e-3);
  });

  it('any count: anchors on one circle around the origin, neighbours CLUSTER_SPACING apart, radius growing with the count', () => {
    let last = 0;
    for (const n of [3, 4, 7, 16, 64]) {
      const a = clusterAnchors(n);
      const r = clusterRadius(n);
      expect(r).toBeGreaterThan(last);
      last = r;
      for (let k = 0; k < n; k++) {
        const p = anchor(a, k);
        expect(Math.hypot(p[0], p[1], p[2])).toBeCloseTo(r, 1);
        const q = anchor(a, (k + 1) % n);
        expect(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])).toBeCloseTo(CLUSTER_SPACING, 1);
      }
    }
  });

  it('is the same on every call (every leader page agrees where targets sit)', () => {
    expect(clusterAnchors(5)).toEqual(clusterAnchors(5));
  });
});

describe('clusters of the slotted agents', () => {
  const agents = new Map<string, { target?: string }>([
    ['a:1', { target: 'a' }],
    ['b:1', { target: 'b' }],
    ['old', {}],
    ['x:1', { target: 'x' }],
  ]);

  it("each agent gets its target's index; an agent without a known target gets -1 (no pull)", () => {
    const c = clustersFor(['b', 'a'], ['a:1', 'b:1', 'old', 'x:1', 'missing'], agents)!;
    expect([...c.cluster]).toEqual([1, 0, -1, -1, -1]);
    expect(c.anchors.length).toBe(6);
    expect(c.names).toEqual(['b', 'a']);
  });

  it('fewer than two targets: no clusters', () => {
    expect(clustersFor(['local'], ['a:1'], agents)).toBeNull();
    expect(clustersFor([], ['a:1'], agents)).toBeNull();
  });
});

describe('the layout hands the physics clusters only for a fleet', () => {
  function storeWith(targets: (string | undefined)[]) {
    const store = createHiveStore();
    const agents = new Map<string, Agent>();
    targets.forEach((t, i) => {
      const a = { ...unknownAgent(`${t ?? 'x'}:agent-${i}`, 100 + i, 0), ...(t === undefined ? {} : { target: t }) };
      agents.set(a.id, a);
    });
    store.setState({ agents, structureVersion: 1 });
    return store;
  }

  it('two targets: every node carries its cluster, the anchors are the two targets, new swarms start at their anchor', () => {
    const store = storeWith(['a', 'b', 'a', 'b']);
    const layout = new LayoutController(store, new NodePositions());
    layout.syncStructure();
    const g = layout.buildGraph(store.getState());
    expect([...g.cluster!]).toEqual([0, 1, 0, 1]);
    expect(g.anchors).toEqual(clusterAnchors(2));
    // Slot 1 (target b) was placed around the right-hand anchor, slot 0 (a) around the left.
    expect(g.positions[3]!).toBeGreaterThan(0);
    expect(g.positions[0]!).toBeLessThan(0);
  });

  it('one target, or a relay that names none: no cluster data at all', () => {
    for (const targets of [['local', 'local'], [undefined, undefined]]) {
      const store = storeWith(targets);
      const layout = new LayoutController(store, new NodePositions());
      layout.syncStructure();
      const g = layout.buildGraph(store.getState());
      expect(g.cluster).toBeUndefined();
      expect(g.anchors).toBeUndefined();
      expect(layout.clusters).toBeNull();
    }
  });

  it('a second target appearing in health re-slots the clusters without a graph change', () => {
    const store = storeWith(['a', 'a']);
    const layout = new LayoutController(store, new NodePositions());
    layout.syncStructure();
    expect(layout.clusters).toBeNull();
    const health = { targets: [{ name: 'a' }, { name: 'b' }] } as unknown as Health;
    store.setState({ health });
    layout.syncStructure();
    expect(layout.clusters?.names).toEqual(['a', 'b']);
  });
});

describe("a stale target's agents", () => {
  it('are drawn mostly grey, still a little of their own colour', () => {
    const colors = { ...DEFAULT_SETTINGS.colors, unknown: '#808080' };
    expect(staleColor('#ff0000', colors)).toBe('#996666'); // 255 * 0.2 + 128 * 0.8 = 153, 128 * 0.8 = 102
    expect(staleColor('#808080', colors)).toBe('#808080');
    expect(staleColor('#00ff00', colors)).not.toBe(staleColor('#0000ff', colors));
  });
});
