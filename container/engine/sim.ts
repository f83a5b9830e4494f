/**
 * The simulated swarm engine: every swarm, agent, task and inter-agent message of the built-in hive.
 * Pure and clock-injected (no timers, no I/O): the host calls `tick(realMs)` from one timer loop, tests
 * call it directly. HIVE_SIM_SEED feeds `seed`; HIVE_SIM_SPEED feeds `speed` (sim ms per real ms).
 *
 * Model: a queen plans the objective into subtasks (one real task of its own), assigns them to idle
 * workers by agent type, workers run them (tokens, cpu, progress), sometimes fail (health dip, error
 * state, retried up to MAX_ATTEMPTS), report results back along the topology, and when every subtask is
 * settled the queen synthesises, all agents terminate and the swarm ends `completed` (or `failed` when a
 * subtask exhausted its retries). Numbers are consistent by construction: tokens only grow,
 * tasksCompleted counts completions, successRate = completed / (completed + failed attempts).
 */
import { createRng, deriveSeed, type Rng } from './rng.js';

export type SimAgentStatus = 'initializing' | 'idle' | 'busy' | 'active' | 'error' | 'terminating';
export type SwarmStatus = 'initializing' | 'running' | 'paused' | 'completing' | 'completed' | 'failed' | 'stopped';
export type SimTopology = 'hierarchical' | 'mesh' | 'ring' | 'star';
export type MessageKind = 'task' | 'result' | 'sync' | 'retry' | 'heartbeat' | 'broadcast';

export const DEFAULT_AGENT_TYPES = ['coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer'];
export const MAX_ATTEMPTS = 3;
/** Hard cap on agents per swarm (agent_spawn beyond it is refused). */
export const MAX_AGENTS_PER_SWARM = 100;
/** Simulation step: bigger real ticks are split so fast speeds stay as fine-grained as speed 1. */
const MAX_STEP_MS = 500;

const CAPABILITIES: Record<string, string[]> = {
  queen: ['planning', 'delegation', 'consensus', 'synthesis'],
  coordinator: ['coordination', 'scheduling', 'monitoring'],
  researcher: ['research', 'analysis', 'documentation'],
  coder: ['code_generation', 'refactoring', 'debugging'],
  analyst: ['data_analysis', 'performance_analysis', 'reporting'],
  architect: ['system_design', 'architecture_review', 'planning'],
  tester: ['testing', 'validation', 'quality_assurance'],
  reviewer: ['code_review', 'quality_assurance', 'standards'],
  optimizer: ['performance_optimization', 'profiling', 'tuning'],
  documenter: ['documentation', 'technical_writing'],
  monitor: ['monitoring', 'alerting', 'metrics'],
  specialist: ['domain_expertise', 'problem_solving'],
};
const PHASE: Record<string, string> = {
  coordinator: 'Coordinate',
  researcher: 'Research',
  coder: 'Implement',
  analyst: 'Analyse',
  architect: 'Design',
  tester: 'Test',
  reviewer: 'Review',
  optimizer: 'Optimise',
  documenter: 'Document',
  monitor: 'Monitor',
  specialist: 'Investigate',
};
/** Tokens per sim minute while busy, by type (plausible LLM agent rates). */
const TOKEN_RATE: Record<string, number> = {
  queen: 900,
  coordinator: 500,
  researcher: 1400,
  coder: 1800,
  analyst: 1100,
  architect: 1200,
  tester: 900,
  reviewer: 1000,
  optimizer: 1000,
  documenter: 1300,
  monitor: 300,
  specialist: 1200,
};
const FAIL_P: Record<string, number> = { coder: 0.1, tester: 0.08, optimizer: 0.09 };

export interface SimAgent {
  id: string;
  name: string;
  type: string;
  status: SimAgentStatus;
  capabilities: string[];
  /** Wall-clock ms. */
  created: number;
  lastActive: number;
  cpuUsage: number;
  memoryUsage: number;
  health: number;
  workload: number;
  activity: number;
  tokens: number;
  tokenRate: number;
  currentTask: string | null;
  taskId: string | null;
  tasksActive: number;
  tasksCompleted: number;
  tasksFailed: number;
  swarmId: string;
  sessionId: string | null;
  parentQueenId: string | null;
  /** Sim time at which a timed state (initializing, error, active report, terminating) ends. */
  stateUntil: number;
}

export interface SimTask {
  id: string;
  description: string;
  /** Preferred agent type. */
  type: string;
  priority: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  assignee: string | null;
  attempts: number;
  /** sim ms */
  duration: number;
  elapsed: number;
  /** Last reported progress quarter (0..4), so progress notifications go out at milestones only. */
  milestone: number;
  /** Wall-clock ms. */
  created: number;
  /** Wall-clock ms of the last status or assignee change (task_list reports it). */
  updated: number;
}

export interface SimSwarm {
  id: string;
  sessionId: string | null;
  objective: string;
  topology: SimTopology;
  strategy: string;
  priority: string;
  maxAgents: number;
  agentTypes: string[];
  status: SwarmStatus;
  /** Status to return to on resume. */
  pausedFrom: SwarmStatus | null;
  queenId: string;
  agents: SimAgent[];
  tasks: SimTask[];
  rng: Rng;
  simTime: number;
  created: number;
  updated: number;
  phase: 'planning' | 'working' | 'synthesis' | 'terminating' | 'done';
  messagesSent: number;
  bytesSent: number;
  /** Tokens of agents already removed, so swarm totals never decrease. */
  retiredTokens: number;
  nextAgentNo: number;
  nextTaskNo: number;
  /** Agents changed since the last `drainDirty`. */
  dirty: Set<SimAgent>;
  removed: string[];
}

export interface SimMessage {
  seq: number;
  from: string;
  to: string;
  swarmId: string;
  bytes: number;
  kind: MessageKind;
  /** Wall-clock ms. */
  timestamp: number;
}

export type SimEvent =
  | { type: 'log'; level: 'info' | 'warning' | 'error'; text: string; swarm: SimSwarm; agentId: string | null }
  | { type: 'progress'; swarm: SimSwarm; task: SimTask; agentId: string | null }
  | { type: 'swarm'; swarm: SimSwarm }
  | { type: 'message'; swarm: SimSwarm; message: SimMessage };

export interface CreateSwarmInput {
  sessionId?: string | null;
  objective: string;
  topology?: string;
  strategy?: string;
  priority?: string;
  maxAgents?: number;
  agentTypes?: readonly string[];
}

export interface SimOptions {
  seed: number;
  /** sim ms per real ms (HIVE_SIM_SPEED). */
  speed: number;
  /** Wall clock for timestamps; injectable for tests. */
  now?: () => number;
  /** Messages kept for agent_messages (a ring). */
  messageCapacity?: number;
  /** Finished swarms are forgotten this long (real ms) after they end. */
  retentionMs?: number;
}

const TOPOLOGY_SET = new Set<SimTopology>(['hierarchical', 'mesh', 'ring', 'star']);

export class Simulation {
  readonly swarms = new Map<string, SimSwarm>();
  private readonly bySession = new Map<string, SimSwarm>();
  private readonly agentIndex = new Map<string, SimSwarm>();
  private readonly listeners: Array<(e: SimEvent) => void> = [];
  private readonly messages: (SimMessage | undefined)[];
  private messageHead = 0;
  private messageCount = 0;
  private seqCounter = 0;
  private ordinal = 0;
  private readonly now: () => number;
  readonly seed: number;
  speed: number;
  private readonly retentionMs: number;
  readonly startedAt: number;
  totals = { swarmsCreated: 0, tasksCompleted: 0, tasksFailed: 0, messages: 0 };
  /** Smoothing factors for the current step size (computed once per step, not per agent). */
  private k = { dt: -1, cpu: 0, mem: 0, work: 0, act: 0, rate: 0 };

  constructor(opts: SimOptions) {
    this.seed = opts.seed >>> 0;
    this.speed = opts.speed > 0 && Number.isFinite(opts.speed) ? opts.speed : 1;
    this.now = opts.now ?? Date.now;
    this.messages = new Array<SimMessage | undefined>(Math.max(16, opts.messageCapacity ?? 20_000));
    this.retentionMs = opts.retentionMs ?? 30 * 60_000;
    this.startedAt = this.now();
  }

  on(listener: (e: SimEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private emit(e: SimEvent): void {
    for (const l of this.listeners) l(e);
  }

  // ---------------------------------------------------------------- queries

  swarmBySession(sessionId: string): SimSwarm | undefined {
    return this.bySession.get(sessionId);
  }

  findAgent(agentId: string): { swarm: SimSwarm; agent: SimAgent } | undefined {
    const swarm = this.agentIndex.get(agentId);
    const agent = swarm?.agents.find((a) => a.id === agentId);
    return swarm && agent ? { swarm, agent } : undefined;
  }

  /** Messages with seq > since, oldest first, at most `limit`. */
  messagesSince(since: number, limit: number): { messages: SimMessage[]; cursor: number; dropped: number; latest: number } {
    const cap = this.messages.length;
    const oldestSeq = this.seqCounter - this.messageCount + 1;
    const start = Math.max(since + 1, oldestSeq);
    const dropped = since + 1 < oldestSeq ? oldestSeq - (since + 1) : 0;
    const out: SimMessage[] = [];
    for (let seq = start; seq <= this.seqCounter && out.length < limit; seq++) {
      const idx = (this.messageHead - 1 - (this.seqCounter - seq) + cap * 2) % cap;
      const m = this.messages[idx];
      if (m) out.push(m);
    }
    // A cursor from before an engine restart (beyond our counter) is reset to our latest seq.
    const cursor = out.length > 0 ? out[out.length - 1]!.seq : since > this.seqCounter ? this.seqCounter : Math.max(0, since);
    return { messages: out, cursor, dropped, latest: this.seqCounter };
  }

  get lastSeq(): number {
    return this.seqCounter;
  }

  // ---------------------------------------------------------------- commands

  createSwarm(input: CreateSwarmInput): SimSwarm {
    const ordinal = ++this.ordinal;
    const rng = createRng(deriveSeed(this.seed, ordinal));
    const now = this.now();
    const topology = TOPOLOGY_SET.has(input.topology as SimTopology) ? (input.topology as SimTopology) : 'mesh';
    const maxAgents = clampInt(input.maxAgents ?? 8, 2, MAX_AGENTS_PER_SWARM);
    const types = (input.agentTypes && input.agentTypes.length > 0 ? [...input.agentTypes] : [...DEFAULT_AGENT_TYPES]).filter((t) => t !== 'queen');
    const workerTypes = types.length > 0 ? types : [...DEFAULT_AGENT_TYPES];
    const id = `swarm-${now}-${rng.id(9)}`;
    const swarm: SimSwarm = {
      id,
      sessionId: input.sessionId ?? null,
      objective: input.objective,
      topology,
      strategy: input.strategy ?? 'adaptive',
      priority: input.priority ?? 'medium',
      maxAgents,
      agentTypes: workerTypes,
      status: 'initializing',
      pausedFrom: null,
      queenId: '',
      agents: [],
      tasks: [],
      rng,
      simTime: 0,
      created: now,
      updated: now,
      phase: 'planning',
      messagesSent: 0,
      bytesSent: 0,
      retiredTokens: 0,
      nextAgentNo: 1,
      nextTaskNo: 1,
      dirty: new Set(),
      removed: [],
    };
    const queen = this.makeAgent(swarm, 'queen', 'Queen Coordinator');
    swarm.queenId = queen.id;
    queen.parentQueenId = null;
    const workers = maxAgents - 1;
    for (let i = 0; i < workers; i++) {
      const type = workerTypes[i % workerTypes.length]!;
      this.makeAgent(swarm, type, null);
    }
    this.swarms.set(id, swarm);
    if (swarm.sessionId) this.bySession.set(swarm.sessionId, swarm);
    this.totals.swarmsCreated++;
    this.log(swarm, 'info', `Swarm ${id} initialising (${topology}, ${maxAgents} agents) for: ${truncate(swarm.objective, 200)}`, null);
    this.emit({ type: 'swarm', swarm });
    return swarm;
  }

  /** Adds an agent to a live swarm; it initialises and then picks up pending work. */
  spawnAgent(swarmId: string, type: string, name?: string | null): SimAgent {
    const swarm = this.requireLive(swarmId);
    if (swarm.phase === 'terminating' || swarm.phase === 'done') throw new SimError(`swarm ${swarmId} is finishing; it takes no new agents`);
    if (swarm.agents.length >= MAX_AGENTS_PER_SWARM) throw new SimError(`swarm ${swarmId} already has ${MAX_AGENTS_PER_SWARM} agents`);
    const agent = this.makeAgent(swarm, type === 'queen' ? 'specialist' : type, name ?? null);
    this.log(swarm, 'info', `Agent ${agent.name} (${agent.type}) joined the swarm`, agent.id);
    this.emit({ type: 'swarm', swarm });
    return agent;
  }

  /** Submits work: the queen splits it into subtasks that join the queue. */
  submitTask(swarmId: string, description: string, priority = 'medium'): SimTask[] {
    const swarm = this.requireLive(swarmId);
    if (swarm.phase === 'terminating' || swarm.phase === 'done') throw new SimError(`swarm ${swarmId} is finishing; it takes no new tasks`);
    const parts = splitObjective(description, swarm.rng, 1, 3);
    const tasks = parts.map((p, i) => this.addTask(swarm, p, swarm.agentTypes[i % swarm.agentTypes.length]!, priority));
    // Work submitted during synthesis reopens the working phase.
    if (swarm.phase === 'synthesis') swarm.phase = 'working';
    this.log(swarm, 'info', `Queen queued ${tasks.length} subtask(s) for: ${truncate(description, 200)}`, swarm.queenId);
    this.emit({ type: 'swarm', swarm });
    return tasks;
  }

  pause(swarmId: string): SimSwarm {
    const swarm = this.requireLive(swarmId);
    if (swarm.status !== 'paused') {
      swarm.pausedFrom = swarm.status;
      swarm.status = 'paused';
      swarm.updated = this.now();
      this.log(swarm, 'info', 'Swarm paused', null);
      this.emit({ type: 'swarm', swarm });
    }
    return swarm;
  }

  resume(swarmId: string): SimSwarm {
    const swarm = this.requireLive(swarmId);
    if (swarm.status === 'paused') {
      swarm.status = swarm.pausedFrom ?? 'running';
      swarm.pausedFrom = null;
      swarm.updated = this.now();
      this.log(swarm, 'info', 'Swarm resumed', null);
      this.emit({ type: 'swarm', swarm });
    }
    return swarm;
  }

  /** Ends a swarm now: every agent leaves, status `stopped`. */
  destroy(swarmId: string): SimSwarm {
    const swarm = this.swarms.get(swarmId);
    if (!swarm) throw new SimError(`swarm ${swarmId} not found`);
    if (isFinished(swarm.status)) return swarm;
    for (const a of swarm.agents) this.retire(swarm, a);
    swarm.agents = [];
    swarm.status = 'stopped';
    swarm.phase = 'done';
    swarm.updated = this.now();
    this.log(swarm, 'info', 'Swarm stopped', null);
    this.emit({ type: 'swarm', swarm });
    return swarm;
  }

  /** Changed agents (and removed ids) per swarm since the last call; the server pushes them. */
  drainDirty(visit: (swarm: SimSwarm, changed: SimAgent[], removed: string[]) => void): void {
    for (const swarm of this.swarms.values()) {
      if (swarm.dirty.size === 0 && swarm.removed.length === 0) continue;
      const changed = [...swarm.dirty].filter((a) => this.agentIndex.get(a.id) === swarm);
      const removed = swarm.removed;
      swarm.dirty.clear();
      swarm.removed = [];
      visit(swarm, changed, removed);
    }
  }

  // ---------------------------------------------------------------- time

  /** Advances every live swarm by `realMs * speed` of simulated time. */
  tick(realMs: number): void {
    let remaining = Math.max(0, realMs) * this.speed;
    while (remaining > 0) {
      const dt = Math.min(MAX_STEP_MS, remaining);
      remaining -= dt;
      if (this.k.dt !== dt) {
        const f = (tau: number): number => 1 - Math.exp(-dt / tau);
        this.k = { dt, cpu: f(2_000), mem: f(5_000), work: f(3_000), act: f(10_000), rate: f(15_000) };
      }
      for (const swarm of this.swarms.values()) {
        if (swarm.status === 'paused') this.idleStep(swarm, dt);
        else if (!isFinished(swarm.status)) this.step(swarm, dt);
      }
    }
    this.prune();
  }

  private prune(): void {
    const now = this.now();
    for (const [id, swarm] of this.swarms) {
      if (isFinished(swarm.status) && now - swarm.updated > this.retentionMs) {
        this.swarms.delete(id);
        if (swarm.sessionId && this.bySession.get(swarm.sessionId) === swarm) this.bySession.delete(swarm.sessionId);
      }
    }
  }

  /** While paused nothing progresses; rates and activity decay so the numbers say so. */
  private idleStep(swarm: SimSwarm, dt: number): void {
    for (const a of swarm.agents) {
      const before = a.tokenRate;
      a.tokenRate = ema(a.tokenRate, 0, dt, 15_000);
      a.activity = ema(a.activity, 0, dt, 10_000);
      a.cpuUsage = ema(a.cpuUsage, 1, dt, 3_000);
      if (Math.abs(before - a.tokenRate) > 0.5) swarm.dirty.add(a);
    }
  }

  private step(swarm: SimSwarm, dt: number): void {
    swarm.simTime += dt;
    const t = swarm.simTime;
    const rng = swarm.rng;
    const queen = swarm.agents.find((a) => a.id === swarm.queenId);
    const now = this.now();

    if (swarm.status === 'initializing' && swarm.agents.every((a) => a.status !== 'initializing')) {
      swarm.status = 'running';
      swarm.updated = now;
      this.log(swarm, 'info', 'Swarm is ready for coordination', swarm.queenId);
      this.emit({ type: 'swarm', swarm });
    }

    // Timed states and task work.
    for (const a of swarm.agents) {
      const prevStatus = a.status;
      let spent = 0;
      switch (a.status) {
        case 'initializing':
          if (t >= a.stateUntil) a.status = 'idle';
          break;
        case 'error':
          if (t >= a.stateUntil) a.status = 'idle';
          break;
        case 'active':
          if (a.id !== swarm.queenId && t >= a.stateUntil) a.status = 'idle';
          break;
        case 'busy': {
          const task = a.taskId ? swarm.tasks.find((x) => x.id === a.taskId) : undefined;
          if (!task) {
            a.status = 'idle';
            break;
          }
          task.elapsed += dt;
          spent = ((TOKEN_RATE[a.type] ?? 1000) * rng.range(0.6, 1.4) * dt) / 60_000;
          const quarter = Math.min(4, Math.floor((task.elapsed / task.duration) * 4));
          if (quarter > task.milestone && quarter < 4) {
            task.milestone = quarter;
            this.emit({ type: 'progress', swarm, task, agentId: a.id });
          }
          if (this.shouldSync(swarm, a, dt)) this.sendSync(swarm, a);
          if (task.elapsed >= task.duration) this.finishTask(swarm, a, task);
          break;
        }
        default:
          break;
      }
      if (spent > 0) a.tokens += spent;
      this.updateMetrics(swarm, a, dt, spent);
      if (a.status !== prevStatus || spent > 0) {
        a.lastActive = now;
        swarm.dirty.add(a);
      }
    }

    // Queen: plan, assign, synthesise.
    if (swarm.status === 'running' && queen) this.queenStep(swarm, queen);

    // Terminating agents leave; when all are gone the swarm is over.
    if (swarm.phase === 'terminating') {
      const leaving = swarm.agents.filter((a) => a.status === 'terminating' && t >= a.stateUntil);
      for (const a of leaving) this.retire(swarm, a);
      if (leaving.length > 0) swarm.agents = swarm.agents.filter((a) => a.status !== 'terminating' || t < a.stateUntil);
      if (swarm.agents.length === 0) {
        const failed = swarm.tasks.some((x) => x.status === 'failed');
        swarm.status = failed ? 'failed' : 'completed';
        swarm.phase = 'done';
        swarm.updated = now;
        this.log(
          swarm,
          failed ? 'error' : 'info',
          failed ? 'Swarm finished with failed subtasks' : `Swarm completed: ${swarm.tasks.length} subtasks done`,
          null,
        );
        this.emit({ type: 'swarm', swarm });
      }
    }
  }

  private queenStep(swarm: SimSwarm, queen: SimAgent): void {
    const t = swarm.simTime;
    const rng = swarm.rng;
    if (queen.status === 'initializing' || queen.status === 'error') return;

    if (swarm.phase === 'planning' && queen.taskId === null && queen.tasksCompleted === 0) {
      const plan = this.addTask(swarm, `Plan: ${truncate(swarm.objective, 300)}`, 'queen', swarm.priority, rng.range(2_000, 5_000));
      this.assign(swarm, queen, plan, false);
      return;
    }
    if (swarm.phase === 'planning' && queen.taskId === null) {
      const workers = swarm.agents.filter((a) => a.id !== swarm.queenId).length;
      const parts = splitObjective(swarm.objective, rng, Math.max(2, workers), Math.max(3, Math.round(workers * 1.8)));
      parts.forEach((p, i) => this.addTask(swarm, p, swarm.agentTypes[i % swarm.agentTypes.length]!, swarm.priority));
      swarm.phase = 'working';
      this.log(swarm, 'info', `Queen split the objective into ${parts.length} subtasks`, queen.id);
      this.emit({ type: 'swarm', swarm });
    }
    if (swarm.phase === 'working') {
      const pending = swarm.tasks.filter((x) => x.status === 'pending');
      if (pending.length > 0) {
        const idle = swarm.agents.filter((a) => a.id !== swarm.queenId && a.status === 'idle');
        for (const task of pending) {
          if (idle.length === 0) break;
          let i = idle.findIndex((a) => a.type === task.type);
          if (i < 0) i = 0;
          const worker = idle.splice(i, 1)[0]!;
          this.assign(swarm, worker, task, true);
        }
      }
      const open = swarm.tasks.some((x) => x.status === 'pending' || x.status === 'running');
      if (queen.status !== 'busy') {
        const want: SimAgentStatus = open ? 'active' : 'idle';
        if (queen.status !== want) {
          queen.status = want;
          swarm.dirty.add(queen);
        }
      }
      if (!open && queen.taskId === null) {
        swarm.phase = 'synthesis';
        const synth = this.addTask(swarm, `Synthesise results for: ${truncate(swarm.objective, 300)}`, 'queen', swarm.priority, rng.range(2_000, 4_000));
        this.assign(swarm, queen, synth, false);
        this.emit({ type: 'swarm', swarm });
      }
      return;
    }
    if (swarm.phase === 'synthesis' && queen.taskId === null) {
      swarm.phase = 'terminating';
      swarm.status = 'completing';
      swarm.updated = this.now();
      for (const a of swarm.agents) {
        a.status = 'terminating';
        a.currentTask = null;
        a.stateUntil = t + rng.range(500, 2_000);
        swarm.dirty.add(a);
      }
      this.sendBroadcast(swarm, queen);
      this.emit({ type: 'swarm', swarm });
    }
  }

  private assign(swarm: SimSwarm, agent: SimAgent, task: SimTask, viaQueen: boolean): void {
    task.status = 'running';
    task.assignee = agent.id;
    task.elapsed = 0;
    task.milestone = 0;
    task.attempts++;
    task.updated = this.now();
    agent.status = 'busy';
    agent.taskId = task.id;
    agent.currentTask = task.description;
    agent.tasksActive = 1;
    swarm.dirty.add(agent);
    if (viaQueen) this.route(swarm, swarm.queenId, agent.id, 'task', 300 + Buffer.byteLength(task.description) + swarm.rng.int(0, 400));
    this.emit({ type: 'progress', swarm, task, agentId: agent.id });
  }

  private finishTask(swarm: SimSwarm, agent: SimAgent, task: SimTask): void {
    const rng = swarm.rng;
    const isQueen = agent.id === swarm.queenId;
    const failP = isQueen ? 0 : (FAIL_P[agent.type] ?? 0.06) * (agent.health < 60 ? 1.5 : 1);
    agent.taskId = null;
    agent.tasksActive = 0;
    agent.currentTask = null;
    task.updated = this.now();
    if (rng.chance(failP)) {
      agent.tasksFailed++;
      this.totals.tasksFailed++;
      agent.status = 'error';
      agent.stateUntil = swarm.simTime + rng.range(1_500, 4_000);
      agent.health = Math.max(5, agent.health - rng.range(15, 35));
      task.assignee = null;
      if (task.attempts >= MAX_ATTEMPTS) {
        task.status = 'failed';
        this.log(swarm, 'error', `${agent.name} failed "${truncate(task.description, 120)}" after ${task.attempts} attempts`, agent.id);
      } else {
        task.status = 'pending';
        this.log(swarm, 'warning', `${agent.name} failed "${truncate(task.description, 120)}"; retrying`, agent.id);
      }
      this.route(swarm, agent.id, swarm.queenId, 'retry', 200 + rng.int(0, 300));
      this.emit({ type: 'progress', swarm, task, agentId: agent.id });
      return;
    }
    task.status = 'completed';
    task.milestone = 4;
    agent.tasksCompleted++;
    this.totals.tasksCompleted++;
    if (isQueen) {
      agent.status = swarm.phase === 'working' || swarm.phase === 'planning' ? 'active' : 'idle';
    } else {
      agent.status = 'active';
      agent.stateUntil = swarm.simTime + rng.range(500, 1_500);
      this.route(swarm, agent.id, swarm.queenId, 'result', 800 + rng.int(0, 6_000));
    }
    this.log(swarm, 'info', `${agent.name} completed "${truncate(task.description, 120)}"`, agent.id);
    this.emit({ type: 'progress', swarm, task, agentId: agent.id });
    // Task counts and progress changed: subscribers of swarm status (runners, the relay) hear it.
    this.emit({ type: 'swarm', swarm });
  }

  private shouldSync(swarm: SimSwarm, a: SimAgent, dt: number): boolean {
    if (a.id === swarm.queenId) return false;
    // About one peer message every 4 s of work in mesh, fewer elsewhere.
    const perSec = swarm.topology === 'mesh' ? 0.25 : 0.12;
    return swarm.rng.chance((perSec * dt) / 1000);
  }

  private sendSync(swarm: SimSwarm, a: SimAgent): void {
    const rng = swarm.rng;
    const peers = swarm.agents.filter((x) => x !== a && x.status !== 'terminating');
    if (peers.length === 0) return;
    let to: SimAgent;
    switch (swarm.topology) {
      case 'ring':
        to = this.ringNext(swarm, a);
        break;
      case 'star':
        to = this.hub(swarm);
        if (to === a) to = rng.pick(peers);
        break;
      case 'hierarchical':
        to = rng.pick(peers);
        break;
      default:
        to = rng.pick(peers);
    }
    this.route(swarm, a.id, to.id, 'sync', 100 + rng.int(0, 900));
  }

  private sendBroadcast(swarm: SimSwarm, queen: SimAgent): void {
    for (const a of swarm.agents) if (a !== queen) this.route(swarm, queen.id, a.id, 'broadcast', 120);
  }

  /** The star's hub: its first coordinator, else the queen. */
  private hub(swarm: SimSwarm): SimAgent {
    return swarm.agents.find((a) => a.type === 'coordinator') ?? swarm.agents.find((a) => a.id === swarm.queenId) ?? swarm.agents[0]!;
  }

  private ringNext(swarm: SimSwarm, a: SimAgent): SimAgent {
    const i = swarm.agents.indexOf(a);
    return swarm.agents[(i + 1) % swarm.agents.length]!;
  }

  /** Sends one logical message as the hops the topology allows (each hop is one wire message). */
  private route(swarm: SimSwarm, fromId: string, toId: string, kind: MessageKind, bytes: number): void {
    if (fromId === toId) return;
    const from = swarm.agents.find((a) => a.id === fromId);
    const to = swarm.agents.find((a) => a.id === toId);
    if (!from || !to) return;
    const hops: Array<[SimAgent, SimAgent]> = [];
    switch (swarm.topology) {
      case 'mesh':
        hops.push([from, to]);
        break;
      case 'hierarchical': {
        const queen = swarm.agents.find((a) => a.id === swarm.queenId);
        if (!queen || from === queen || to === queen) hops.push([from, to]);
        else hops.push([from, queen], [queen, to]);
        break;
      }
      case 'star': {
        const hub = this.hub(swarm);
        if (from === hub || to === hub) hops.push([from, to]);
        else hops.push([from, hub], [hub, to]);
        break;
      }
      case 'ring': {
        let cur = from;
        for (let guard = 0; guard < swarm.agents.length && cur !== to; guard++) {
          const nxt = this.ringNext(swarm, cur);
          hops.push([cur, nxt]);
          cur = nxt;
        }
        break;
      }
    }
    const now = this.now();
    for (const [a, b] of hops) {
      const m: SimMessage = { seq: ++this.seqCounter, from: a.id, to: b.id, swarmId: swarm.id, bytes, kind, timestamp: now };
      this.messages[this.messageHead] = m;
      this.messageHead = (this.messageHead + 1) % this.messages.length;
      this.messageCount = Math.min(this.messageCount + 1, this.messages.length);
      swarm.messagesSent++;
      swarm.bytesSent += bytes;
      this.totals.messages++;
      this.emit({ type: 'message', swarm, message: m });
    }
  }

  private updateMetrics(swarm: SimSwarm, a: SimAgent, dt: number, spent: number): void {
    const rng = swarm.rng;
    const k = this.k;
    const busy = a.status === 'busy';
    const cpuTarget =
      a.status === 'busy'
        ? rng.range(45, 85)
        : a.status === 'active'
          ? rng.range(18, 35)
          : a.status === 'initializing'
            ? rng.range(15, 30)
            : rng.range(1, 6);
    a.cpuUsage = clamp(a.cpuUsage + (cpuTarget - a.cpuUsage) * k.cpu, 0, 100);
    const memTarget = Math.min(85, 8 + a.tokens / 1_500 + (busy ? 10 : 0));
    a.memoryUsage = clamp(a.memoryUsage + (memTarget - a.memoryUsage) * k.mem, 0, 100);
    const workTarget = busy ? 1 : a.status === 'active' ? 0.3 : 0;
    a.workload = clamp(a.workload + (workTarget - a.workload) * k.work, 0, 1);
    const actTarget = busy || a.status === 'active' ? 1 : 0;
    a.activity = clamp(a.activity + (actTarget - a.activity) * k.act, 0, 1);
    const instRate = dt > 0 ? (spent * 60_000) / dt : 0;
    a.tokenRate = Math.max(0, a.tokenRate + (instRate - a.tokenRate) * k.rate);
    if (a.status !== 'error' && a.health < 100) a.health = Math.min(100, a.health + (dt / 1000) * 0.8);
  }

  // ---------------------------------------------------------------- helpers

  private makeAgent(swarm: SimSwarm, type: string, name: string | null): SimAgent {
    const rng = swarm.rng;
    const now = this.now();
    const no = swarm.nextAgentNo++;
    const agent: SimAgent = {
      id: `agent-${now}-${rng.id(9)}`,
      name: name ?? `${titleCase(type)} Worker ${no - 1 || no}`,
      type,
      status: 'initializing',
      capabilities: [...(CAPABILITIES[type] ?? CAPABILITIES.specialist!)],
      created: now,
      lastActive: now,
      cpuUsage: 0,
      memoryUsage: 0,
      health: 100,
      workload: 0,
      activity: 0,
      tokens: 0,
      tokenRate: 0,
      currentTask: null,
      taskId: null,
      tasksActive: 0,
      tasksCompleted: 0,
      tasksFailed: 0,
      swarmId: swarm.id,
      sessionId: swarm.sessionId,
      parentQueenId: swarm.queenId || null,
      stateUntil: swarm.simTime + rng.range(500, 2_500),
    };
    swarm.agents.push(agent);
    swarm.dirty.add(agent);
    this.agentIndex.set(agent.id, swarm);
    return agent;
  }

  private addTask(swarm: SimSwarm, description: string, type: string, priority: string, duration?: number): SimTask {
    const rng = swarm.rng;
    const prioFactor = priority === 'high' || priority === 'critical' ? 0.8 : priority === 'low' ? 1.25 : 1;
    const task: SimTask = {
      id: `task-${swarm.id.slice(6)}-${swarm.nextTaskNo++}`,
      description,
      type,
      priority,
      status: 'pending',
      assignee: null,
      attempts: 0,
      duration: duration ?? rng.range(6_000, 25_000) * prioFactor,
      elapsed: 0,
      milestone: 0,
      created: this.now(),
      updated: this.now(),
    };
    swarm.tasks.push(task);
    return task;
  }

  private retire(swarm: SimSwarm, a: SimAgent): void {
    swarm.retiredTokens += a.tokens;
    swarm.removed.push(a.id);
    swarm.dirty.delete(a);
    this.agentIndex.delete(a.id);
  }

  private requireLive(swarmId: string): SimSwarm {
    const swarm = this.swarms.get(swarmId);
    if (!swarm) throw new SimError(`swarm ${swarmId} not found`);
    if (isFinished(swarm.status)) throw new SimError(`swarm ${swarmId} is ${swarm.status}`);
    return swarm;
  }

  private log(swarm: SimSwarm, level: 'info' | 'warning' | 'error', text: string, agentId: string | null): void {
    this.emit({ type: 'log', level, text, swarm, agentId });
  }
}

export class SimError extends Error {}

export function isFinished(status: SwarmStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'stopped';
}

/** Tokens of the swarm including agents that already left. */
export function swarmTokens(swarm: SimSwarm): number {
  let sum = swarm.retiredTokens;
  for (const a of swarm.agents) sum += a.tokens;
  return sum;
}

export function swarmProgress(swarm: SimSwarm): number {
  if (swarm.status === 'completed') return 1;
  const work = swarm.tasks.filter((t) => t.type !== 'queen');
  if (work.length === 0) return 0;
  const done = work.filter((t) => t.status === 'completed' || t.status === 'failed').length;
  return done / work.length;
}

export function successRate(a: SimAgent): number | null {
  const n = a.tasksCompleted + a.tasksFailed;
  return n === 0 ? null : a.tasksCompleted / n;
}

/**
 * The queen's planning: split the objective at sentence and clause boundaries, then pad with phased
 * subtasks so there are between `min` and `max` of them.
 */
export function splitObjective(objective: string, rng: Rng, min: number, max: number): string[] {
  const text = objective.replace(/\s+/g, ' ').trim();
  const fragments = text
    .split(/(?<=[.;!?])\s+|\s+(?:and then|then|and)\s+|,\s+/i)
    .map((f) => f.trim())
    .filter((f) => f.length > 2)
    .slice(0, max);
  const count = clampInt(rng.int(min, max), Math.max(1, min), Math.max(1, max));
  const phases = Object.values(PHASE);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const frag = fragments.length > 0 ? fragments[i % fragments.length]! : text;
    out.push(`${phases[i % phases.length]}: ${truncate(frag, 400)}`);
  }
  return out;
}

function ema(current: number, target: number, dt: number, tau: number): number {
  const k = 1 - Math.exp(-dt / tau);
  return current + (target - current) * k;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Math.round(clamp(Number.isFinite(v) ? v : lo, lo, hi));
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function titleCase(type: string): string {
  return type
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join(' ');
}
