// The one change-set accumulator: merged by id, how urgent the merged set is, and take() emptying it.
import { describe, expect, it } from 'vitest';
import { unknownAgent } from '../../shared/model/index.js';
import { ChangeSetAccumulator } from './changeSet.js';

describe('ChangeSetAccumulator', () => {
  it('keeps the most urgent weight of what it merged, and take() leaves it empty', () => {
    const acc = new ChangeSetAccumulator();
    const a = unknownAgent('a', 1, 0);
    acc.upsert('agents', a);
    expect(acc).toMatchObject({ structural: false, topology: false, size: 1 });
    expect(acc.since).not.toBeNull();
    acc.upsert('agents', { ...a, status: 'busy' }, 'structural');
    expect(acc).toMatchObject({ structural: true, topology: false, size: 1 });
    acc.addChange({ delta: { upserts: {}, removals: { edges: ['e'] } }, structural: false, topology: false });
    expect(acc).toMatchObject({ structural: true, topology: true, size: 2 });
    const cs = acc.take();
    expect(cs).toEqual({ delta: { upserts: { agents: [{ ...a, status: 'busy' }] }, removals: { edges: ['e'] } }, structural: true, topology: true });
    expect(acc).toMatchObject({ empty: true, structural: false, topology: false, since: null });
  });

  it('keys sessions by uuid', () => {
    const acc = new ChangeSetAccumulator();
    const s = { uuid: 'u-1', swarmId: null, task: 't', priority: 'low', status: 'running', createdAt: null, updatedAt: null, lastActivity: null, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null } as const;
    acc.upsert('sessions', s, 'topology');
    acc.upsert('sessions', { ...s, status: 'paused' }, 'topology');
    acc.remove('sessions', 'u-1');
    expect(acc.toDelta()).toEqual({ upserts: {}, removals: { sessions: ['u-1'] } });
  });
});
