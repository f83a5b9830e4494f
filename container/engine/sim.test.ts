// Simulator invariants over many seeds: the pure Simulation, driven tick by tick with an injected clock.
import { describe, expect, it } from 'vitest';
import { Simulation, isFinished, successRate, type SimMessage, type SimSwarm, type SimTopology } from './sim.js';

const TOPOLOGIES: SimTopology[] = ['hierarchical', 'mesh', 'ring', 'star'];
const STATUSES = new Set(['initializing', 'idle', 'busy', 'active', 'error', 'terminating']);

function clockSim(seed: number, speed = 20): { sim: Simulation; advance: (ms: number) => void } {
  let t = 1_790_000_000_000;
  const sim = new Simulation({ seed, speed, now: () => t });
  return {
    sim,
    advance: (ms) => {
      t += ms;
      sim.tick(ms);
    },
  };
}

interface Observed {
  messages: SimMessage[];
  lastTokens: Map<string, number>;
  lastCompleted: Map<string, number>;
}

function runToEnd(sim: Simulation, advance: (ms: number) => void, swarm: SimSwarm, check: (s: SimSwarm) => void, maxTicks = 5_000): Observed {
  const obs: Observed = { messages: [], lastTokens: new Map(), lastCompleted: new Map() };
  sim.on((e) => {
    if (e.type === 'message' && e.swarm === swarm) obs.messages.push(e.message);
  });
  for (let i = 0; i < maxTicks && !isFinished(swarm.status); i++) {
    advance(100);
    for (const a of swarm.agents) {
      const prevT = obs.lastTokens.get(a.id) ?? 0;
      const prevC = obs.lastCompleted.get(a.id) ?? 0;
      expect(a.tokens).toBeGreaterThanOrEqual(prevT);
      expect(a.tasksCompleted).toBeGreaterThanOrEqual(prevC);
      obs.lastTokens.set(a.id, a.tokens);
      obs.lastCompleted.set(a.id, a.tasksCompleted);
      expect(STATUSES.has(a.status)).toBe(true);
      for (const v of [a.cpuUsage, a.memoryUsage, a.health]) expect(v >= 0 && v <= 100).toBe(true);
      for (const v of [a.workload, a.activity]) expect(v >= 0 && v <= 1).toBe(true);
      expect(a.tokenRate).toBeGreaterThanOrEqual(0);
      const sr = successRate(a);
      if (a.tasksCompleted + a.tasksFailed === 0) expect(sr).toBeNull();
      else expect(sr).toBeCloseTo(a.tasksCompleted / (a.tasksCompleted + a.tasksFailed), 10);
      expect(a.tasksActive === 0 || a.tasksActive === 1).toBe(true);
      if (a.status === 'busy') expect(a.currentTask).not.toBeNull();
      // tasksCompleted counts real completions: exactly the completed tasks this agent ran.
      expect(a.tasksCompleted).toBe(swarm.tasks.filter((t) => t.status === 'completed' && t.assignee === a.id).length);
    }
    check(swarm);
  }
  return obs;
}

describe('simulated swarms over many seeds', () => {
  it('every swarm ends completed (or failed only after a subtask exhausted its retries), with consistent numbers and topology-shaped messages', () => {
    for (let seed = 1; seed <= 48; seed++) {
      const topology = TOPOLOGIES[seed % 4]!;
      const maxAgents = 3 + (seed % 6);
      const { sim, advance } = clockSim(seed * 7919);
      const swarm = sim.createSwarm({
        sessionId: `s-${seed}`,
        objective: 'Research the domain. Build the REST API and then write tests, document the endpoints',
        topology,
        maxAgents,
        agentTypes: seed % 3 === 0 ? ['coordinator', 'coder', 'tester'] : undefined,
      });
      expect(swarm.agents).toHaveLength(maxAgents);
      expect(swarm.agents.filter((a) => a.type === 'queen')).toHaveLength(1);
      const order = swarm.agents.map((a) => a.id);
      const hub = (swarm.agents.find((a) => a.type === 'coordinator') ?? swarm.agents[0]!).id;
      const obs = runToEnd(sim, advance, swarm, () => undefined);

      expect(['completed', 'failed']).toContain(swarm.status);
      const failed = swarm.tasks.filter((t) => t.status === 'failed');
      if (swarm.status === 'failed') expect(failed.length).toBeGreaterThan(0);
      else expect(failed).toHaveLength(0);
      for (const t of failed) expect(t.attempts).toBe(3);
      expect(swarm.tasks.every((t) => t.status === 'completed' || t.status === 'failed')).toBe(true);
      // The queen planned real subtasks for workers (plus its own plan and synthesis tasks).
      expect(swarm.tasks.filter((t) => t.type !== 'queen').length).toBeGreaterThanOrEqual(2);
      expect(swarm.agents).toHaveLength(0); // everyone terminated and left
      expect(obs.messages.length).toBeGreaterThan(0);

      for (const m of obs.messages) {
        expect(m.swarmId).toBe(swarm.id);
        expect(m.from).not.toBe(m.to);
        expect(m.bytes).toBeGreaterThan(0);
        if (topology === 'hierarchical') expect(m.from === swarm.queenId || m.to === swarm.queenId).toBe(true);
        if (topology === 'star') expect(m.from === hub || m.to === hub).toBe(true);
        if (topology === 'ring') expect(order[(order.indexOf(m.from) + 1) % order.length]).toBe(m.to);
      }
      const seqs = obs.messages.map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('mesh swarms send peer-to-peer messages between workers', () => {
    let peer = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const { sim, advance } = clockSim(seed);
      const swarm = sim.createSwarm({ objective: 'Build and test a parser', topology: 'mesh', maxAgents: 6 });
      const obs = runToEnd(sim, advance, swarm, () => undefined);
      peer += obs.messages.filter((m) => m.from !== swarm.queenId && m.to !== swarm.queenId).length;
    }
    expect(peer).toBeGreaterThan(0);
  });

  it('HIVE_SIM_SEED reproduces a run exactly, and another seed differs', () => {
    const run = (seed: number): string => {
      const { sim, advance } = clockSim(seed);
      const swarm = sim.createSwarm({ sessionId: 'x', objective: 'Design, implement and test a cache', topology: 'ring', maxAgents: 5 });
      const obs = runToEnd(sim, advance, swarm, () => undefined);
      return JSON.stringify({ id: swarm.id, tasks: swarm.tasks, msgs: obs.messages, tokens: [...obs.lastTokens.values()] });
    };
    expect(run(42)).toBe(run(42));
    expect(run(42)).not.toBe(run(43));
  });

  it('agents can join a running swarm and submitted tasks get done', () => {
    const { sim, advance } = clockSim(5);
    const swarm = sim.createSwarm({ objective: 'Write a tokenizer', topology: 'hierarchical', maxAgents: 3 });
    for (let i = 0; i < 4; i++) advance(100);
    const added = sim.spawnAgent(swarm.id, 'reviewer', 'Extra Reviewer');
    expect(added.status).toBe('initializing');
    expect(added.parentQueenId).toBe(swarm.queenId);
    const submitted = sim.submitTask(swarm.id, 'Review the tokenizer and fix edge cases', 'high');
    expect(submitted.length).toBeGreaterThanOrEqual(1);
    runToEnd(sim, advance, swarm, () => undefined);
    for (const t of submitted) expect(['completed', 'failed']).toContain(t.status);
    expect(swarm.tasks.some((t) => t.assignee === added.id || t.status !== 'pending')).toBe(true);
    expect(() => sim.spawnAgent(swarm.id, 'coder')).toThrow(/completed|failed/);
  });

  it('a paused swarm does no work (no tokens, no progress) until resumed; destroy stops it', () => {
    const { sim, advance } = clockSim(9);
    const swarm = sim.createSwarm({ objective: 'Index the corpus and report', maxAgents: 4 });
    for (let i = 0; i < 5; i++) advance(100);
    sim.pause(swarm.id);
    const tokens = swarm.agents.map((a) => a.tokens);
    const elapsed = swarm.tasks.map((t) => t.elapsed);
    for (let i = 0; i < 100; i++) advance(100);
    expect(swarm.agents.map((a) => a.tokens)).toEqual(tokens);
    expect(swarm.tasks.map((t) => t.elapsed)).toEqual(elapsed);
    expect(swarm.status).toBe('paused');
    sim.resume(swarm.id);
    for (let i = 0; i < 2; i++) advance(100);
    expect(swarm.agents.some((a, i) => a.tokens > (tokens[i] ?? 0))).toBe(true);
    sim.destroy(swarm.id);
    expect(swarm.status).toBe('stopped');
    expect(swarm.agents).toHaveLength(0);
  });

  it('agent_messages cursor: a bounded ring that reports what fell out', () => {
    const sim = new Simulation({ seed: 1, speed: 20, messageCapacity: 32 });
    const swarm = sim.createSwarm({ objective: 'Chatty work, many parts, and more parts', topology: 'ring', maxAgents: 8 });
    for (let i = 0; i < 400 && sim.lastSeq < 100; i++) sim.tick(100);
    expect(swarm.id).toMatch(/^swarm-/);
    expect(sim.lastSeq).toBeGreaterThanOrEqual(100);
    const all = sim.messagesSince(0, 1000);
    expect(all.messages).toHaveLength(32);
    expect(all.dropped).toBe(sim.lastSeq - 32);
    expect(all.cursor).toBe(sim.lastSeq);
    const tail = sim.messagesSince(sim.lastSeq - 5, 3);
    expect(tail.messages.map((m) => m.seq)).toEqual([sim.lastSeq - 4, sim.lastSeq - 3, sim.lastSeq - 2]);
    expect(sim.messagesSince(sim.lastSeq + 1000, 10).cursor).toBe(sim.lastSeq);
  });
});
