import { describe, expect, it } from 'vitest';
import { NodePositions, SPAWN_NEAR_PARENT, SLOT_POSITION, SLOT_STRIDE } from './positions.js';
import { LayoutController, type LayoutEngine, type LayoutGraph } from './layout.js';
import { createHiveStore } from '../state/store.js';
import { applyServerMessage } from '../state/apply.js';
import {
  V2_POSITION_WORD,
  V2_RECORD_WORDS,
  allocNodeFrameRecords,
  decodeNodeFrame,
  initRecord,
  unknownAgent,
  type Agent,
  type NodeFrameRecords,
} from '../../shared/index.js';

/** Position of a slot (slots are V2 records: SLOT_STRIDE floats each). */
function posOf(p: NodePositions, slot: number): number[] {
  const o = slot * SLOT_STRIDE + SLOT_POSITION;
  return Array.from(p.records.floats.subarray(o, o + 3));
}

function dist(p: NodePositions, a: number, b: number): number {
  const pa = posOf(p, p.slotOf.get(a)!);
  const pb = posOf(p, p.slotOf.get(b)!);
  let d = 0;
  for (let k = 0; k < 3; k++) d += (pa[k]! - pb[k]!) ** 2;
  return Math.sqrt(d);
}

/** Sets the positions of consecutive frame records from `r` on, xyz each. */
function setFramePositions(f: NodeFrameRecords, xyz: number[], r = 0): void {
  for (let k = 0; k < xyz.length; k++) f.floats[(r + Math.floor(k / 3)) * V2_RECORD_WORDS + V2_POSITION_WORD + (k % 3)] = xyz[k]!;
}

describe('NodePositions', () => {
  it('existing nodes keep their position when the graph changes; new workers appear next to their queen', () => {
    const p = new NodePositions(4, 7);
    p.sync([{ nodeId: 1, parentNodeId: null }]);
    const queen = posOf(p, 0);
    p.sync([
      { nodeId: 2, parentNodeId: 1 },
      { nodeId: 1, parentNodeId: null },
    ]);
    const s1 = p.slotOf.get(1)!;
    expect(posOf(p, s1)).toEqual(queen);
    expect(dist(p, 1, 2)).toBeCloseTo(SPAWN_NEAR_PARENT, 3);
  });

  it('a worker listed before its new queen is still placed near it', () => {
    const p = new NodePositions(4, 3);
    p.sync([
      { nodeId: 5, parentNodeId: 6 },
      { nodeId: 6, parentNodeId: null },
    ]);
    expect(dist(p, 5, 6)).toBeCloseTo(SPAWN_NEAR_PARENT, 3);
  });

  it('is reproducible for a seed and grows past its capacity', () => {
    const nodes = Array.from({ length: 100 }, (_, i) => ({ nodeId: i, parentNodeId: null }));
    const a = new NodePositions(4, 9);
    const b = new NodePositions(4, 9);
    a.sync(nodes);
    b.sync(nodes);
    expect(a.count).toBe(100);
    expect(Array.from(a.positionsCopy(100))).toEqual(Array.from(b.positionsCopy(100)));
  });

  it('same node list is not a change', () => {
    const p = new NodePositions();
    const nodes = [{ nodeId: 1, parentNodeId: null }];
    expect(p.sync(nodes)).toBe(true);
    expect(p.sync(nodes)).toBe(false);
  });

  it('applyRemote snaps new nodes, skips unknown ids and non-finite values, and follow eases towards targets', () => {
    const p = new NodePositions();
    p.sync([
      { nodeId: 1, parentNodeId: null },
      { nodeId: 2, parentNodeId: null },
    ]);
    const f = allocNodeFrameRecords(3);
    [1, 99, 2].forEach((id, r) => initRecord(f, r, id, 'agent'));
    setFramePositions(f, [10, 20, 30, 1, 1, 1, Number.NaN, 0, 0]);
    expect(p.applyRemote(f, 3)).toBe(1);
    expect(posOf(p, 0)).toEqual([10, 20, 30]);
    setFramePositions(f, [20, 20, 30], 0);
    p.applyRemote(f, 1);
    const left = p.follow(0.5);
    expect(left).toBeCloseTo(10);
    expect(posOf(p, 0)[0]).toBeCloseTo(15);
  });

  it('encode produces a V2 frame of every slot with the agent flag', () => {
    const p = new NodePositions();
    p.sync([
      { nodeId: 3, parentNodeId: null },
      { nodeId: 0x3fffffff, parentNodeId: null },
    ]);
    const nodes = decodeNodeFrame(p.encode());
    expect(nodes.map((n) => [n.id, n.type])).toEqual([
      [3, 'agent'],
      [0x3fffffff, 'agent'],
    ]);
  });
});

class RecordingEngine implements LayoutEngine {
  readonly backend = 'cpu' as const;
  graphs: LayoutGraph[] = [];
  steps = 0;
  pos = new Float32Array(0);
  setGraph(g: LayoutGraph) {
    this.graphs.push(g);
    this.pos = g.positions.slice();
  }
  async step() {
    this.steps++;
    for (let i = 0; i < this.pos.length; i++) this.pos[i] = this.pos[i]! + 1;
    return { settled: this.steps >= 3, msPerStep: 0.1 };
  }
  positions() {
    return this.pos;
  }
  setParams() {}
  pin() {}
  unpin() {}
  dispose() {}
}

const agent = (id: string, nodeId: number, patch: Partial<Agent> = {}): Agent => ({ ...unknownAgent(id, nodeId, 0), status: 'idle', ...patch });

describe('LayoutController', () => {
  it('hands the engine a graph with hierarchy edges and parents only when the structure changes', async () => {
    const store = createHiveStore();
    const positions = new NodePositions();
    const layout = new LayoutController(store, positions);
    const engine = new RecordingEngine();
    layout.setEngine(engine);
    applyServerMessage(
      store,
      { type: 'snapshot', graph: { agents: [agent('q', 1), agent('w', 2, { parentQueenId: 'q' }), agent('m', 3, { mock: true })], edges: [], sessions: [], swarms: [] }, eventCursor: 0, layoutRole: 'leader' },
      { now: 0 },
    );
    layout.tick();
    expect(engine.graphs.length).toBe(2); // empty reset + real graph (fresh engine)
    const g = engine.graphs.at(-1)!;
    expect(Array.from(g.ids)).toEqual([1, 2]); // mock agent not laid out
    expect(Array.from(g.edges)).toEqual([0, 1]);
    expect(Array.from(g.parents)).toEqual([-1, 0]);
    await Promise.resolve();
    await Promise.resolve();
    // A metric-only update does not push a new graph.
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: { agents: [agent('q', 1, { cpuUsage: 10 })] }, removals: {} }, { now: 0 });
    layout.tick();
    expect(engine.graphs.length).toBe(2);
  });

  it('steps until settled, then stops asking for frames', async () => {
    const store = createHiveStore();
    const positions = new NodePositions();
    const uploads: boolean[] = [];
    const layout = new LayoutController(store, positions, { followOnly: false, onUpload: (s) => uploads.push(s) });
    layout.setEngine(new RecordingEngine());
    applyServerMessage(store, { type: 'snapshot', graph: { agents: [agent('q', 1)], edges: [], sessions: [], swarms: [] }, eventCursor: 0, layoutRole: 'leader' }, { now: 0 });
    let moving = true;
    for (let i = 0; i < 20 && moving; i++) {
      moving = layout.tick();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(layout.isSettled()).toBe(true);
    expect(layout.tick()).toBe(false);
    expect(uploads).toContain(true);
  });

  it('a follower never steps the engine and eases towards relay positions', () => {
    const store = createHiveStore();
    const positions = new NodePositions();
    const layout = new LayoutController(store, positions);
    const engine = new RecordingEngine();
    layout.setEngine(engine);
    applyServerMessage(store, { type: 'snapshot', graph: { agents: [agent('q', 1)], edges: [], sessions: [], swarms: [] }, eventCursor: 0, layoutRole: 'follower' }, { now: 0 });
    layout.tick();
    expect(engine.steps).toBe(0);
  });
});
