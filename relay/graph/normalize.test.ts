// Tolerant mapping of MCP agent/swarm/message objects: aliases, strings for numbers, ISO dates, ranges;
// garbage is rejected field by field, never guessed at.
import { describe, expect, it } from 'vitest';
import { normalizeAgent, normalizeMessage, normalizeSwarm, toNumber, toTime } from './normalize.js';

describe('normalizeAgent', () => {
  it('maps camelCase, snake_case and short aliases to the model', () => {
    const p = normalizeAgent({ agent_id: 'a1', agent_type: 'Coder', state: 'running', cpu: '45.5', memory_usage: 20, tokens_per_minute: '90', swarm_id: 'swarm-x-1', session_id: 'u1', created_at: '2026-11-21T00:00:00Z', success_rate: 0.5, completed_tasks: '3' })!;
    expect(p).toMatchObject({ id: 'a1', type: 'coder', status: 'active', swarmId: 'swarm-x-1', sessionUuid: 'u1', createdAt: Date.parse('2026-11-21T00:00:00Z') });
    expect(p.metrics).toEqual({ cpuUsage: 45.5, memoryUsage: 20, tokenRate: 90, successRate: 0.5, tasksCompleted: 3 });
    expect(p.rejected).toEqual([]);
  });

  it('reads nested metrics and task objects', () => {
    const p = normalizeAgent({ id: 'a', metrics: { cpuUsage: 1, tokens: 10 }, currentTask: { description: 'do it' } })!;
    expect(p.metrics).toEqual({ cpuUsage: 1, tokens: 10, currentTask: 'do it' });
  });

  it('leaves unreported metrics out rather than defaulting them', () => {
    const p = normalizeAgent({ id: 'a', name: 'n', type: 'coder', status: 'idle' })!;
    expect(p.metrics).toEqual({});
  });

  it('keeps an explicit null as null', () => {
    expect(normalizeAgent({ id: 'a', cpuUsage: null })!.metrics).toEqual({ cpuUsage: null });
  });

  it('rejects out-of-range and wrongly typed values per field', () => {
    const p = normalizeAgent({ id: 'a', cpuUsage: 150, memoryUsage: -1, workload: 2, tasksActive: 1.5, tokens: 'many', health: {}, status: 42, successRate: '0.9' })!;
    expect(p.metrics).toEqual({ successRate: 0.9 });
    expect(p.rejected.sort()).toEqual(['cpuUsage', 'health', 'memoryUsage', 'status', 'tasksActive', 'tokens', 'workload'].sort());
  });

  it('rejects objects without a usable id', () => {
    for (const raw of [null, 5, 'x', [], {}, { id: '' }, { id: {} }, { id: 'x'.repeat(257) }, { name: 'no id' }]) expect(normalizeAgent(raw)).toBeNull();
  });

  it('marks mock-swarm agents mock', () => {
    expect(normalizeAgent({ id: 'a', swarmId: 'mock-swarm' })!.mock).toBe(true);
  });

  it('caps strings and capability lists', () => {
    const p = normalizeAgent({ id: 'a', name: 'n'.repeat(1000), capabilities: Array.from({ length: 100 }, (_, i) => `c${i}`).concat([5 as unknown as string]) })!;
    expect(p.name).toHaveLength(256);
    expect(p.capabilities).toHaveLength(64);
  });
});

describe('scalars', () => {
  it('parses numbers from numeric strings only', () => {
    expect(toNumber('42')).toBe(42);
    expect(toNumber(' 4.5e1 ')).toBe(45);
    expect(toNumber('50%')).toBe(50);
    expect(toNumber('0x10')).toBeUndefined();
    expect(toNumber('Infinity')).toBeUndefined();
    expect(toNumber(NaN)).toBeUndefined();
    expect(toNumber(true)).toBeUndefined();
    expect(toNumber(null)).toBeNull();
  });

  it('parses epoch ms, epoch seconds and ISO strings', () => {
    expect(toTime(1795219796568)).toBe(1795219796568);
    expect(toTime(1795219796)).toBe(1795219796000);
    expect(toTime('2026-11-21T00:11:21.170Z')).toBe(Date.parse('2026-11-21T00:11:21.170Z'));
    expect(toTime('yesterday')).toBeUndefined();
    expect(toTime(-5)).toBeUndefined();
  });
});

describe('normalizeSwarm and normalizeMessage', () => {
  it('maps swarm_status fields', () => {
    expect(normalizeSwarm({ swarmId: 's-1', topology: 'mesh', agentCount: '3', activeAgents: -1, pending_tasks: 2 })).toEqual({ id: 's-1', topology: 'mesh', agentCount: 3, pendingTasks: 2 });
    expect(normalizeSwarm({ topology: 'mesh' })).toBeNull();
  });

  it('maps messages and rejects self-loops and missing endpoints', () => {
    expect(normalizeMessage({ seq: 3, from: 'a', to: 'b', bytes: '12', timestamp: '2026-11-21T00:00:00Z' }, 1)).toMatchObject({ seq: 3, from: 'a', to: 'b', bytes: 12, timestamp: Date.parse('2026-11-21T00:00:00Z') });
    expect(normalizeMessage({ from: 'a', to: 'a' }, 1)).toBeNull();
    expect(normalizeMessage({ from: 'a' }, 1)).toBeNull();
    expect(normalizeMessage({ from: 'a', to: 'b', bytes: -4 }, 7)).toMatchObject({ bytes: 0, timestamp: 7 });
  });
});
