// The agent graph: one delta per batch, sources per metric, events from changes, hierarchy and message
// edges, mock marking, bounds; node ids stable across a restart (persisted atomically).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentGraph, type ChangeSet, type GraphDelta, type GraphEvent } from './graph.js';
import { NodeIdStore, NODE_IDS_FILE } from './nodeIds.js';
import { normalizeAgent, type AgentPatch } from './normalize.js';
import { tempDir } from '../telemetry/testing/helpers.js';

function setup() {
  const g = new AgentGraph(new NodeIdStore(null));
  const deltas: GraphDelta[] = [];
  const events: GraphEvent[] = [];
  g.on('change', ({ delta }) => deltas.push(delta));
  g.on('event', (e) => events.push(e));
  return { g, deltas, events };
}
const P = (raw: Record<string, unknown>): AgentPatch => normalizeAgent(raw)!;

describe('AgentGraph', () => {
  it('emits one delta per batch and nothing for a no-op update', () => {
    const { g, deltas } = setup();
    g.batch(() => {
      g.applyAgent(P({ id: 'a', type: 'coder', status: 'idle' }), 'mcp');
      g.applyAgent(P({ id: 'b', type: 'coder', status: 'idle' }), 'mcp');
    });
    expect(deltas).toHaveLength(1);
    expect(deltas[0]!.upserts.agents!.map((a) => a.id)).toEqual(['a', 'b']);
    g.applyAgent(P({ id: 'a', type: 'coder', status: 'idle' }), 'mcp');
    expect(deltas).toHaveLength(1);
  });

  it('records the source of each metric and keeps unreported ones null', () => {
    const { g } = setup();
    g.applyAgent(P({ id: 'a', cpuUsage: 10 }), 'mcp');
    g.applyAgent(P({ id: 'a', tokens: 5 }), 'mcp-push');
    const a = g.agents.get('a')!;
    expect(a.sources).toEqual({ cpuUsage: 'mcp', tokens: 'mcp-push' });
    expect(a.memoryUsage).toBeNull();
    g.applyAgent(P({ id: 'a', cpuUsage: null }), 'mcp');
    expect(g.agents.get('a')!.sources).toEqual({ tokens: 'mcp-push' });
  });

  it('turns changes into spawn, status, error and task events (no spawn storm before the first sync)', () => {
    const { g, events } = setup();
    g.applyAgent(P({ id: 'a', name: 'A', status: 'idle' }), 'mcp');
    expect(events).toEqual([]);
    g.markInitialSynced();
    g.applyAgent(P({ id: 'b', name: 'B', status: 'idle' }), 'mcp');
    g.applyAgent(P({ id: 'b', status: 'busy', currentTask: 'build' }), 'mcp');
    g.applyAgent(P({ id: 'b', status: 'error', currentTask: null }), 'mcp');
    expect(events.map((e) => e.kind)).toEqual(['spawn', 'status', 'task-start', 'error', 'task-finish']);
    expect(events.find((e) => e.kind === 'error')!.level).toBe('error');
  });

  it('builds queen-worker edges per swarm and message edges with counts and volume', () => {
    const { g } = setup();
    g.batch(() => {
      g.applyAgent(P({ id: 'q', type: 'queen', swarmId: 's-1' }), 'mcp');
      g.applyAgent(P({ id: 'w1', type: 'coder', swarmId: 's-1' }), 'mcp');
      g.applyAgent(P({ id: 'w2', type: 'tester', swarmId: 's-1' }), 'mcp');
    });
    expect([...g.edges.values()].filter((e) => e.kind === 'hierarchy').map((e) => e.target).sort()).toEqual(['w1', 'w2']);
    g.recordMessage({ seq: 1, from: 'w2', to: 'w1', swarmId: 's-1', bytes: 100, kind: null, timestamp: 5 });
    g.recordMessage({ seq: 2, from: 'w1', to: 'w2', swarmId: 's-1', bytes: 50, kind: null, timestamp: 9 });
    expect(g.edges.get('w1->w2')).toMatchObject({ kind: 'message', messageCount: 2, dataVolume: 150, lastMessageTime: 9 });
    g.removeAgent('w1');
    expect([...g.edges.keys()].some((k) => k.includes('w1'))).toBe(false);
  });

  it('holds a message whose endpoints are not known yet until they appear', () => {
    const { g } = setup();
    expect(g.recordMessage({ seq: 1, from: 'x', to: 'y', swarmId: null, bytes: 10, kind: null, timestamp: 1 })).toBe(false);
    g.batch(() => {
      g.applyAgent(P({ id: 'x' }), 'mcp');
      g.applyAgent(P({ id: 'y' }), 'mcp');
    });
    expect(g.edges.get('x->y')?.messageCount).toBe(1);
  });

  it('reconciles a full list: only agents of that origin are removed', () => {
    const { g } = setup();
    g.applyAgent(P({ id: 'm1' }), 'mcp', 'mcp');
    g.applyAgent(P({ id: 'e1' }), 'exec', 'exec');
    g.reconcileAgents([P({ id: 'm2' })], 'mcp', 'mcp');
    expect([...g.agents.keys()].sort()).toEqual(['e1', 'm2']);
  });

  it('marks mock agents and their swarm, and can hide them', () => {
    const { g } = setup();
    g.applyAgent(P({ id: 'a', swarmId: 'mock-swarm' }), 'mcp');
    g.applyAgent(P({ id: 'b', swarmId: 's-real' }), 'mcp');
    expect(g.snapshot({ includeMock: false }).agents.map((a) => a.id)).toEqual(['b']);
    expect(g.snapshot({ includeMock: false }).swarms.map((s) => s.id)).toEqual(['s-real']);
    expect(g.swarms.get('mock-swarm')!.mock).toBe(true);
  });

  it('links sessions to swarms and agents once the swarm id is known', () => {
    const { g } = setup();
    g.applyAgent(P({ id: 'a', swarmId: 'swarm-1-x' }), 'mcp');
    g.upsertSession({ uuid: 'u-1', swarmId: 'swarm-1-x', task: 't', priority: 'low', status: 'running', createdAt: null, updatedAt: null, lastActivity: null, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null });
    expect(g.agents.get('a')!.sessionUuid).toBe('u-1');
    expect(g.swarms.get('swarm-1-x')!.sessionUuid).toBe('u-1');
  });
});

describe('NodeIdStore', () => {
  it('gives stable ids below 2^30 that survive a restart', () => {
    const dir = tempDir();
    const a = new NodeIdStore(dir);
    const ids = ['x', 'y', 'z'].map((k) => a.get(k));
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id).toBeLessThan(2 ** 30);
    a.saveNow();
    const b = new NodeIdStore(dir);
    expect(['x', 'y', 'z'].map((k) => b.get(k))).toEqual(ids);
    expect(b.get('new')).not.toBe(ids[0]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('ignores a corrupt or hostile file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, NODE_IDS_FILE), JSON.stringify({ version: 1, next: -5, ids: { a: 1, b: 1, c: 2 ** 31, d: 'x', e: 2.5 } }));
    const s = new NodeIdStore(dir);
    expect(s.get('a')).toBe(1);
    expect(s.get('b')).not.toBe(1);
    fs.writeFileSync(path.join(dir, NODE_IDS_FILE), '{not json');
    expect(new NodeIdStore(dir).get('q')).toBeGreaterThan(0);
  });
});

describe('AgentGraph swarms', () => {
  it('drops swarms a full list no longer names once no agent refers to them', () => {
    const { g } = setup();
    g.applySwarm({ id: 's-gone' });
    g.applySwarm({ id: 's-kept' });
    g.applyAgent(P({ id: 'a', swarmId: 's-used' }), 'mcp');
    g.reconcileSwarms(new Set(['s-kept']));
    expect([...g.swarms.keys()].sort()).toEqual(['s-kept', 's-used']);
  });
});

describe('AgentGraph change sets', () => {
  it('says how urgent each batch is: topology for what appears or goes, structural for a status, else metric', () => {
    const g = new AgentGraph(new NodeIdStore(null));
    const sets: ChangeSet[] = [];
    g.on('change', (cs) => sets.push(cs));
    const weight = () => {
      const cs = sets.at(-1)!;
      return cs.topology ? 'topology' : cs.structural ? 'structural' : 'metric';
    };
    g.applyAgent(P({ id: 'a', type: 'coder', status: 'idle', swarmId: 's-1' }), 'mcp');
    expect(weight()).toBe('topology');
    g.applyAgent(P({ id: 'a', tokens: 5 }), 'mcp');
    expect(weight()).toBe('metric');
    g.applyAgent(P({ id: 'a', status: 'busy' }), 'mcp');
    expect(weight()).toBe('structural');
    g.applySwarm({ id: 's-1', status: 'running' });
    expect(weight()).toBe('structural');
    g.applySwarm({ id: 's-1', agentCount: 1 });
    expect(weight()).toBe('metric');
    g.applyAgent(P({ id: 'b', type: 'coder', swarmId: 's-1' }), 'mcp');
    g.recordMessage({ seq: 1, from: 'a', to: 'b', swarmId: 's-1', bytes: 1, kind: null, timestamp: 1 });
    expect(weight()).toBe('topology');
    g.recordMessage({ seq: 2, from: 'a', to: 'b', swarmId: 's-1', bytes: 1, kind: null, timestamp: 2 });
    expect(weight()).toBe('metric');
    g.removeAgent('b');
    expect(weight()).toBe('topology');
    expect(sets.every((cs) => !cs.topology || cs.structural)).toBe(true);
  });

  it('carries the requestId of the request that changed a session into its activity entry', () => {
    const { g, events } = setup();
    const s = { uuid: 'u-2', swarmId: null, task: 't', priority: 'low', status: 'running', createdAt: null, updatedAt: null, lastActivity: null, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null } as const;
    const causes: (string | undefined)[] = [];
    g.on('session', (_s, cause) => causes.push(cause.requestId));
    g.upsertSession(s, { requestId: 'req-1' });
    g.upsertSession({ ...s, status: 'paused' });
    expect(events.map((e) => e.requestId)).toEqual(['req-1', undefined]);
    expect(causes).toEqual(['req-1', undefined]);
    expect('requestId' in events[1]!).toBe(false);
  });
});
