// The CLI's zod-free metadata check must accept and reject exactly what the shared SwarmConfig schema
// (partial, plus `replaces`) does, and its enum lists must be the shared ones.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PRIORITIES as SP, STRATEGIES as SS, SwarmConfigSchema, TOPOLOGIES as ST } from '../../shared/model/session.js';
import { metadataProblem, PRIORITIES, STRATEGIES, TOPOLOGIES } from './metadata.js';

const reference = SwarmConfigSchema.partial()
  .extend({ replaces: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/).nullable().optional() })
  .loose();

describe('metadataProblem', () => {
  it('uses the shared enum lists', () => {
    expect([...TOPOLOGIES]).toEqual([...ST]);
    expect([...STRATEGIES]).toEqual([...SS]);
    expect([...PRIORITIES]).toEqual([...SP]);
  });

  it('agrees with SwarmConfigSchema.partial() on valid, invalid and hostile objects', () => {
    const values: unknown[] = [undefined, null, true, false, 0, 1, 2.5, -1, 100, 101, 1e308, '', 'mesh', 'ring', 'star', 'hierarchical', 'blob', 'tactical', 'adaptive', 'strategic', 'low', 'medium', 'high', 'critical', 'HIGH', [], ['coder'], ['coder', 'tester'], ['Coder'], ['c'], ['a'.repeat(41)], ['x_y'], Array(21).fill('coder'), Array(20).fill('coder'), [1], {}, '00000000-0000-4000-8000-000000000000', '../../etc', '$(reboot)'];
    const keys = ['topology', 'strategy', 'priority', 'maxAgents', 'enableNeural', 'agentTypes', 'replaces', 'customPrompt'];
    let checked = 0;
    for (const k of keys) {
      for (const v of values) {
        const obj = v === undefined ? {} : { [k]: v };
        const ours = metadataProblem(obj as Record<string, unknown>) === null;
        expect(ours, JSON.stringify(obj)).toBe(reference.safeParse(obj).success);
        checked++;
      }
    }
    const mixed = [
      { topology: 'mesh', maxAgents: 8, strategy: 'adaptive', priority: 'critical', enableNeural: true, agentTypes: ['coder', 'queen'], replaces: null, extra: { a: 1 } },
      { topology: 'mesh', maxAgents: 0 },
      { maxAgents: 8, agentTypes: [] },
      JSON.parse('{"__proto__":{"polluted":1},"topology":"ring"}'),
      { constructor: 'x', toString: 1 },
    ];
    for (const obj of mixed) expect(metadataProblem(obj) === null, JSON.stringify(obj)).toBe(reference.safeParse(obj).success);
    expect(checked).toBe(keys.length * values.length);
  });
});
