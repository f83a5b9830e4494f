// agent_list builds its text by hand around JSON.stringify: it must parse to exactly the agents' JSON.
import { describe, expect, it } from 'vitest';
import { Simulation } from './sim.js';
import { agentJson, TOOL_INDEX, PrebuiltText, type ToolContext } from './tools.js';

describe('agent_list text', () => {
  it('agent_list text parses to exactly agentJson of every agent, hostile names included', () => {
    const sim = new Simulation({ seed: 3, speed: 20 });
    const swarms = [0, 1, 2, 3].map((i) => sim.createSwarm({ sessionId: `s"${i}\n`, objective: `obj ${i} "quoted" \\ back`, maxAgents: 6 }));
    for (const name of ['"; DROP', 'line\nbreak', '\u0000\u001f\u2028\u2029', '🐝 蜂', '\\"\\\\']) sim.spawnAgent(swarms[0]!.id, 'coder', name);
    const ctx: ToolContext = { sim, startedAt: 0, attachSession: () => undefined, releaseSession: () => undefined, registry: null };
    for (let i = 0; i < 40; i++) {
      sim.tick(100);
      const text = (TOOL_INDEX.get('agent_list')!.run({} as never, ctx) as PrebuiltText).text;
      const expected = swarms.flatMap((s) => s.agents.map(agentJson));
      expect(JSON.parse(text).agents).toEqual(expected);
    }
  });

  it('agent_list returns pretty top-level JSON that parses to the upstream shape', () => {
    const sim = new Simulation({ seed: 4, speed: 1 });
    const s = sim.createSwarm({ objective: 'x', maxAgents: 3 });
    const ctx: ToolContext = { sim, startedAt: 0, attachSession: () => undefined, releaseSession: () => undefined, registry: null };
    const r = TOOL_INDEX.get('agent_list')!.run({} as never, ctx) as PrebuiltText;
    expect(r).toBeInstanceOf(PrebuiltText);
    expect(r.text.startsWith('{\n  "success": true,\n')).toBe(true);
    const parsed = JSON.parse(r.text);
    expect(parsed).toMatchObject({ success: true, swarmId: null, count: 3 });
    expect(parsed.agents.map((a: { id: string }) => a.id)).toEqual(s.agents.map((a) => a.id));
    const empty = new Simulation({ seed: 1, speed: 1 });
    expect(JSON.parse((TOOL_INDEX.get('agent_list')!.run({} as never, { ...ctx, sim: empty }) as PrebuiltText).text)).toMatchObject({ agents: [], count: 0 });
  });
});
