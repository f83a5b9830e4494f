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

describe('task_list and task_status (claude-flow 3.x shapes)', () => {
  const ctxOf = (sim: Simulation): ToolContext => ({ sim, startedAt: 0, attachSession: () => undefined, releaseSession: () => undefined, registry: null });
  const run = (name: string, args: Record<string, unknown>, ctx: ToolContext) => TOOL_INDEX.get(name)!.run(args as never, ctx) as Record<string, unknown>;

  it("lists one session's tasks with 3.x statuses, percent progress and assignees, and only that session's", () => {
    let now = 1_790_000_000_000;
    const sim = new Simulation({ seed: 7, speed: 20, now: () => now });
    const a = sim.createSwarm({ sessionId: 'aaaaaaaa-0000-4000-8000-000000000001', objective: 'Write release notes for v2', maxAgents: 5 });
    sim.createSwarm({ sessionId: 'aaaaaaaa-0000-4000-8000-000000000002', objective: 'Other work', maxAgents: 3 });
    const ctx = ctxOf(sim);
    const seen = new Set<string>();
    for (let i = 0; i < 400 && a.status !== 'completed' && a.status !== 'failed'; i++) {
      now += 100;
      sim.tick(100);
      const r = run('task_list', { sessionId: a.sessionId }, ctx) as { tasks: Record<string, unknown>[]; total: number; filters: unknown; sessionKnown: boolean };
      expect(r.sessionKnown).toBe(true);
      expect(r.filters).toEqual({ sessionId: a.sessionId });
      expect(r.total).toBe(a.tasks.length);
      for (const t of r.tasks) {
        expect(t.sessionId).toBe(a.sessionId);
        expect(['pending', 'in_progress', 'completed', 'failed']).toContain(t.status);
        expect(t.progress).toBeGreaterThanOrEqual(0);
        expect(t.progress).toBeLessThanOrEqual(100);
        if (t.status === 'completed') expect(t.progress).toBe(100);
        if (t.status === 'in_progress') expect((t.assignedTo as string[]).length).toBe(1);
        expect(Date.parse(t.createdAt as string)).toBeLessThanOrEqual(Date.parse(t.updatedAt as string));
        seen.add(String(t.status));
      }
    }
    expect([...seen]).toEqual(expect.arrayContaining(['in_progress', 'completed']));
    const one = a.tasks[1]!;
    expect(run('task_status', { taskId: one.id }, ctx)).toMatchObject({ taskId: one.id, description: one.description, swarmId: a.id });
    expect(() => run('task_status', { taskId: 'task-nope' }, ctx)).toThrow(/not found/);
    expect(run('task_list', { sessionId: 'bbbbbbbb-0000-4000-8000-000000000009' }, ctx)).toMatchObject({ tasks: [], total: 0, sessionKnown: false });
  });

  it('work a stopped swarm left open is cancelled, not running', () => {
    const sim = new Simulation({ seed: 2, speed: 20 });
    const s = sim.createSwarm({ sessionId: 'aaaaaaaa-0000-4000-8000-000000000003', objective: 'x and y and z', maxAgents: 4 });
    for (let i = 0; i < 600 && !s.tasks.some((t) => t.status === 'running' && t.type !== 'queen'); i++) sim.tick(100);
    sim.destroy(s.id);
    const r = run('task_list', { swarmId: s.id }, ctxOf(sim)) as { tasks: { status: string }[] };
    expect(r.tasks.length).toBeGreaterThan(0);
    expect(r.tasks.some((t) => t.status === 'cancelled')).toBe(true);
    expect(r.tasks.every((t) => t.status !== 'in_progress' && t.status !== 'pending')).toBe(true);
  });
});
