// Node ids per fleet target (issue 14): one store for the relay, one scoped view per target's graph. Two
// targets' `agent-1` get different V2 node ids, the same ones after a restart, and eviction never takes a
// number any target's graph still shows.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentGraph } from './graph.js';
import { MAX_REMEMBERED_IDS, NODE_IDS_FILE, NodeIdStore } from './nodeIds.js';
import { normalizeAgent } from './normalize.js';
import { makeTempDir } from '../../testkit/tempDirs.js';

describe('NodeIdStore.scoped', () => {
  it('gives the same raw id on two targets different numbers, stable across a restart', () => {
    const dir = makeTempDir('hivescope-nodeids-');
    const store = new NodeIdStore(dir);
    const gpu = store.scoped('gpu-box');
    const lap = store.scoped('laptop');
    const a = gpu.get('agent-1');
    const b = lap.get('agent-1');
    expect(a).not.toBe(b);
    expect(gpu.get('agent-1')).toBe(a);
    expect(store.get('gpu-box:agent-1')).toBe(a); // the one file holds qualified keys
    gpu.saveNow();
    expect(JSON.parse(fs.readFileSync(path.join(dir, NODE_IDS_FILE), 'utf8')).ids).toMatchObject({ 'gpu-box:agent-1': a, 'laptop:agent-1': b });
    const again = new NodeIdStore(dir);
    expect([again.scoped('laptop').get('agent-1'), again.scoped('gpu-box').get('agent-1')]).toEqual([b, a]);
    expect(again.scoped('gpu-box').hasNumber(b)).toBe(true);
  });

  it('feeds two graphs whose agents share ids without a node id clash', () => {
    const store = new NodeIdStore(null);
    const g1 = new AgentGraph(store.scoped('one'));
    const g2 = new AgentGraph(store.scoped('two'));
    for (const g of [g1, g2]) for (const id of ['agent-1', 'agent-2']) g.applyAgent(normalizeAgent({ id, type: 'coder' })!, 'mcp');
    const numbers = [...g1.agents.values(), ...g2.agents.values()].map((x) => x.nodeId);
    expect(new Set(numbers).size).toBe(4);
  });

  it("evicts no number another target's graph still holds", () => {
    const store = new NodeIdStore(null);
    const keep = store.scoped('keep');
    const kept = keep.get('old', () => ['old']);
    const busy = store.scoped('busy');
    // Fill the store past its bound from another target: the oldest entries go, except those in use.
    for (let i = 0; i < MAX_REMEMBERED_IDS; i++) busy.get(`a${i}`, () => []);
    expect(store.size).toBeLessThan(MAX_REMEMBERED_IDS);
    expect(keep.get('old')).toBe(kept);
    // The evicted were the oldest of the other target, not in use anywhere.
    expect(store.hasNumber(busy.get('a0'))).toBe(true);
  });

  it('refuses a scope that could collide with another', () => {
    const store = new NodeIdStore(null);
    expect(() => store.scoped('')).toThrow(/non-empty/);
    expect(() => store.scoped('a:b')).toThrow(/without ':'/);
  });
});
