/**
 * The MCP tools of the hive engine: JSON views of the simulation (claude-flow's agent fields plus the
 * shared agent model's metrics) and the commands (spawn, orchestrate, destroy, session runner tools).
 * Every tool validates its arguments with zod; results are plain objects the server pretty-prints into
 * result.content[0].text. session_* tools answer unwrapped snake_case, as upstream documented them.
 */
import path from 'node:path';
import { z } from 'zod';
import type { RegistrySink } from './registry-sink.js';
import {
  isFinished,
  SimError,
  successRate,
  swarmProgress,
  swarmTokens,
  type SimAgent,
  type SimSwarm,
  type SimTask,
  type Simulation,
} from './sim.js';

const id = z.string().min(1).max(256);
const text = z.string().min(1).max(8192);

export interface ToolContext {
  sim: Simulation;
  /** Connection-level hooks the server provides (ownership of runner sessions). */
  attachSession(sessionId: string): void;
  /** Ends any connection's ownership of the session (the engine owns it from now on). */
  releaseSession(sessionId: string): void;
  registry: RegistrySink | null;
  startedAt: number;
}

export interface ToolDef {
  name: string;
  description: string;
  schema: z.ZodType;
  run(args: never, ctx: ToolContext): unknown;
}

function tool<S extends z.ZodType>(name: string, description: string, schema: S, run: (args: z.infer<S>, ctx: ToolContext) => unknown): ToolDef {
  return { name, description, schema, run: run as (args: never, ctx: ToolContext) => unknown };
}

const round = (v: number, d: number): number => {
  const f = 10 ** d;
  return Math.round(v * f) / f;
};

/**
 * A result whose JSON text is already built (agent_list over thousands of agents: building the text
 * directly is several times cheaper than materialising objects and pretty-printing them).
 */
export class PrebuiltText {
  constructor(readonly text: string) {}
}

const isoMemo = new Map<number, string>();
/** Agents touched in the same tick share a timestamp, so a small memo removes most Date formatting. */
function iso(ms: number): string {
  let s = isoMemo.get(ms);
  if (s === undefined) {
    if (isoMemo.size > 4096) isoMemo.clear();
    s = new Date(ms).toISOString();
    isoMemo.set(ms, s);
  }
  return s;
}

const str = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));

/** One agent as agent_list and the push notifications carry it. */
export function agentJson(a: SimAgent): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    type: a.type,
    status: a.status,
    capabilities: a.capabilities,
    created: iso(a.created),
    lastActive: iso(a.lastActive),
    cpuUsage: round(a.cpuUsage, 1),
    memoryUsage: round(a.memoryUsage, 1),
    health: round(a.health, 1),
    workload: round(a.workload, 3),
    activity: round(a.activity, 3),
    tokens: Math.floor(a.tokens),
    tokenRate: round(a.tokenRate, 1),
    currentTask: a.currentTask,
    tasksActive: a.tasksActive,
    tasksCompleted: a.tasksCompleted,
    successRate: (() => {
      const r = successRate(a);
      return r === null ? null : round(r, 3);
    })(),
    swarmId: a.swarmId,
    sessionId: a.sessionId,
    parentQueenId: a.parentQueenId,
  };
}

export function swarmStatusJson(s: SimSwarm): Record<string, unknown> {
  const work = s.tasks;
  return {
    swarmId: s.id,
    sessionId: s.sessionId,
    status: s.status,
    topology: s.topology,
    strategy: s.strategy,
    objective: s.objective,
    queenId: s.queenId,
    agentCount: s.agents.length,
    activeAgents: s.agents.filter((a) => a.status === 'busy' || a.status === 'active').length,
    taskCount: work.length,
    pendingTasks: work.filter((t) => t.status === 'pending' || t.status === 'running').length,
    completedTasks: work.filter((t) => t.status === 'completed').length,
    failedTasks: work.filter((t) => t.status === 'failed').length,
    progress: round(swarmProgress(s), 3),
    tokens: Math.floor(swarmTokens(s)),
    messages: s.messagesSent,
    bytes: s.bytesSent,
    created: new Date(s.created).toISOString(),
    updated: new Date(s.updated).toISOString(),
  };
}

/** 3.x's task statuses (claude-flow-observed.md): the engine's `running` is 3.x's `in_progress`. */
export type TaskStatus3 = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

/**
 * One task as claude-flow 3.x's `task_list` and `task_status` carry it ({taskId, type, description,
 * status, progress 0-100, priority, assignedTo[], createdAt}), plus what the kit knows besides (updatedAt,
 * attempts, swarm and session), so the relay reads the kit and 3.x with one mapper. Progress is the
 * engine's own figure: elapsed over planned duration of the current attempt (100 once completed, 0 while
 * pending). Work left unfinished by a stopped swarm is `cancelled`.
 */
export function taskJson(t: SimTask, s: SimSwarm): Record<string, unknown> {
  const open = t.status === 'pending' || t.status === 'running';
  const status: TaskStatus3 = open && s.status === 'stopped' ? 'cancelled' : t.status === 'running' ? 'in_progress' : t.status;
  const progress = t.status === 'completed' ? 100 : t.status === 'pending' ? 0 : Math.min(99, Math.floor((t.elapsed / t.duration) * 100));
  return {
    taskId: t.id,
    type: t.type,
    description: t.description,
    status,
    progress,
    priority: t.priority,
    assignedTo: t.assignee ? [t.assignee] : [],
    createdAt: iso(t.created),
    updatedAt: iso(t.updated),
    attempts: t.attempts,
    swarmId: s.id,
    sessionId: s.sessionId,
  };
}

const TASK_LIST_DEFAULT_LIMIT = 500;

function findSwarm(ctx: ToolContext, swarmId: string): SimSwarm {
  const s = ctx.sim.swarms.get(swarmId);
  if (!s) throw new SimError(`Swarm ${swarmId} not found`);
  return s;
}

function sessionSwarm(ctx: ToolContext, sessionId: string): SimSwarm {
  const s = ctx.sim.swarmBySession(sessionId);
  if (!s) throw new SimError(`Session ${sessionId} not found`);
  return s;
}

const ts = (): string => new Date().toISOString();

const metadataSchema = z
  .object({
    topology: z.string().max(32).optional(),
    // SwarmConfig allows 1; the engine always adds a queen, so a swarm has at least 2 agents.
    maxAgents: z.number().int().min(1).max(100).optional(),
    strategy: z.string().max(32).optional(),
    priority: z.string().max(16).optional(),
    agentTypes: z.array(z.string().regex(/^[a-z_]{2,40}$/)).max(20).optional(),
  })
  .loose()
  .nullable()
  .optional();

/**
 * The swarm of a session: its live one (re-attach), or a new one from the task and the session's
 * metadata (topology, maxAgents, strategy, priority, agentTypes; validated by metadataSchema first).
 * Used by `session_run` and by the engine's own `create --start` (session-service.ts).
 */
export function swarmForSession(sim: Simulation, sessionId: string, task: string, metadata: SwarmMetadata): { swarm: SimSwarm; attached: boolean } {
  const live = sim.swarmBySession(sessionId);
  if (live && !isFinished(live.status)) return { swarm: live, attached: true };
  const m = metadata ?? {};
  const swarm = sim.createSwarm({
    sessionId,
    objective: task,
    topology: m.topology,
    maxAgents: m.maxAgents,
    strategy: m.strategy,
    priority: m.priority === 'critical' ? 'high' : m.priority,
    agentTypes: m.agentTypes,
  });
  return { swarm, attached: false };
}

export type SwarmMetadata = z.infer<typeof metadataSchema>;

/** Session metadata as session_run takes it (the fields above, others kept); undefined when it would refuse it. */
export function swarmMetadata(metadata: unknown): SwarmMetadata | undefined {
  const r = metadataSchema.safeParse(metadata);
  return r.success ? r.data : undefined;
}

export const TOOLS: ToolDef[] = [
  tool('agent_list', 'List agents (all swarms, or one swarm).', z.object({ swarmId: id.optional() }).loose(), (args, ctx) => {
    const swarms = args.swarmId ? [findSwarm(ctx, args.swarmId)] : [...ctx.sim.swarms.values()];
    // Pretty at the top level, agents compact: valid JSON at a fraction of the cost of pretty-printing 8000 agents.
    const agents: Record<string, unknown>[] = [];
    for (const s of swarms) for (const a of s.agents) agents.push(agentJson(a));
    return new PrebuiltText(
      `{\n  "success": true,\n  "swarmId": ${str(args.swarmId ?? null)},\n  "agents": ${JSON.stringify(agents)},\n  "count": ${agents.length},\n  "timestamp": "${ts()}"\n}`,
    );
  }),
  tool('swarm_status', 'Status of one swarm, or totals over all swarms.', z.object({ swarmId: id.optional(), verbose: z.boolean().optional() }).loose(), (args, ctx) => {
    if (args.swarmId) return { success: true, ...swarmStatusJson(findSwarm(ctx, args.swarmId)), timestamp: ts() };
    let agentCount = 0;
    let activeAgents = 0;
    let taskCount = 0;
    let pendingTasks = 0;
    let completedTasks = 0;
    for (const s of ctx.sim.swarms.values()) {
      agentCount += s.agents.length;
      for (const a of s.agents) if (a.status === 'busy' || a.status === 'active') activeAgents++;
      taskCount += s.tasks.length;
      for (const t of s.tasks) {
        if (t.status === 'pending' || t.status === 'running') pendingTasks++;
        else if (t.status === 'completed') completedTasks++;
      }
    }
    return {
      success: true,
      swarmId: null,
      topology: null,
      swarmCount: ctx.sim.swarms.size,
      agentCount,
      activeAgents,
      taskCount,
      pendingTasks,
      completedTasks,
      timestamp: ts(),
    };
  }),
  tool('agent_metrics', 'Metrics of one agent.', z.object({ agentId: id }).loose(), (args, ctx) => {
    const found = ctx.sim.findAgent(args.agentId);
    if (!found) throw new SimError(`Agent ${args.agentId} not found`);
    return { success: true, agentId: args.agentId, metrics: agentJson(found.agent), timestamp: ts() };
  }),
  tool('swarm_monitor', 'Snapshot of every swarm (or one) with its agents.', z.object({ swarmId: id.optional(), interval: z.number().optional() }).loose(), (args, ctx) => {
    const swarms = args.swarmId ? [findSwarm(ctx, args.swarmId)] : [...ctx.sim.swarms.values()];
    return {
      success: true,
      swarms: swarms.map((s) => ({ ...swarmStatusJson(s), agents: s.agents.map((a) => ({ id: a.id, name: a.name, type: a.type, status: a.status })) })),
      timestamp: ts(),
    };
  }),
  tool('swarm_list', 'Every swarm the engine knows (live and recently finished).', z.object({}).loose(), (_args, ctx) => ({
    success: true,
    swarms: [...ctx.sim.swarms.values()].map(swarmStatusJson),
    count: ctx.sim.swarms.size,
    timestamp: ts(),
  })),
  tool('swarm_init', 'Create a swarm that no session owns.', z.object({ topology: z.string().max(32).optional(), maxAgents: z.number().int().min(2).max(100).optional(), strategy: z.string().max(32).optional(), objective: text.optional(), agentTypes: z.array(z.string().regex(/^[a-z_]{2,40}$/)).max(20).optional() }).loose(), (args, ctx) => {
    const s = ctx.sim.createSwarm({ objective: args.objective ?? 'Ad-hoc swarm', topology: args.topology, maxAgents: args.maxAgents, strategy: args.strategy, agentTypes: args.agentTypes });
    return { success: true, swarmId: s.id, topology: s.topology, maxAgents: s.maxAgents, strategy: s.strategy, status: s.status, timestamp: ts() };
  }),
  tool('agent_spawn', 'Add an agent to a running swarm.', z.object({ type: z.string().regex(/^[a-z_]{2,40}$/), name: z.string().min(1).max(256).optional(), swarmId: id, capabilities: z.array(z.string().max(128)).max(64).optional() }).loose(), (args, ctx) => {
    const a = ctx.sim.spawnAgent(args.swarmId, args.type, args.name ?? null);
    if (args.capabilities) a.capabilities = [...args.capabilities];
    return { success: true, agentId: a.id, swarmId: args.swarmId, agent: agentJson(a), timestamp: ts() };
  }),
  tool('task_orchestrate', 'Submit a task to a running swarm; the queen splits and assigns it.', z.object({ task: text, priority: z.string().max(16).optional(), strategy: z.string().max(32).optional(), swarmId: id }).loose(), (args, ctx) => {
    const tasks = ctx.sim.submitTask(args.swarmId, args.task, args.priority ?? 'medium');
    return { success: true, swarmId: args.swarmId, taskId: tasks[0]!.id, subtasks: tasks.map((t) => ({ id: t.id, description: t.description, type: t.type })), timestamp: ts() };
  }),
  tool(
    'task_list',
    "Tasks of every swarm, or of one session's or swarm's (3.x's task_list shape: {tasks, total, filters}); `sessionKnown` says whether the engine still holds that session's swarm (finished swarms are forgotten after a while).",
    z.object({ sessionId: id.optional(), swarmId: id.optional(), status: z.string().max(32).optional(), limit: z.number().int().min(1).max(5000).optional() }).loose(),
    (args, ctx) => {
      let swarms: SimSwarm[];
      if (args.swarmId) swarms = ctx.sim.swarms.has(args.swarmId) ? [ctx.sim.swarms.get(args.swarmId)!] : [];
      else if (args.sessionId) {
        const s = ctx.sim.swarmBySession(args.sessionId);
        swarms = s ? [s] : [];
      } else swarms = [...ctx.sim.swarms.values()];
      const all = swarms.flatMap((s) => s.tasks.map((t) => taskJson(t, s))).filter((t) => args.status === undefined || t.status === args.status);
      const limit = args.limit ?? TASK_LIST_DEFAULT_LIMIT;
      const filters: Record<string, unknown> = {};
      for (const k of ['sessionId', 'swarmId', 'status'] as const) if (args[k] !== undefined) filters[k] = args[k];
      return {
        tasks: all.slice(0, limit),
        total: all.length,
        filters,
        ...(args.sessionId !== undefined || args.swarmId !== undefined ? { sessionKnown: swarms.length > 0 } : {}),
      };
    },
  ),
  tool('task_status', 'One task by id (3.x shape).', z.object({ taskId: id }).loose(), (args, ctx) => {
    for (const s of ctx.sim.swarms.values()) {
      const t = s.tasks.find((x) => x.id === args.taskId);
      if (t) return taskJson(t, s);
    }
    throw new SimError(`Task ${args.taskId} not found`);
  }),
  tool('swarm_destroy', 'End a swarm now.', z.object({ swarmId: id }).loose(), (args, ctx) => {
    const s = ctx.sim.destroy(args.swarmId);
    return { success: true, swarmId: s.id, status: s.status, timestamp: ts() };
  }),
  tool('agent_messages', 'Inter-agent messages after a cursor (a bounded ring; `dropped` counts messages that fell out).', z.object({ since: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(5000).optional() }).loose(), (args, ctx) => {
    const r = ctx.sim.messagesSince(args.since ?? 0, args.limit ?? 500);
    return { success: true, messages: r.messages, cursor: r.cursor, latest: r.latest, dropped: r.dropped, timestamp: ts() };
  }),
  tool('performance_summary', 'Engine-wide totals.', z.object({}).loose(), (_args, ctx) => {
    let agents = 0;
    let tokens = 0;
    let live = 0;
    for (const s of ctx.sim.swarms.values()) {
      agents += s.agents.length;
      tokens += swarmTokens(s);
      if (!isFinished(s.status)) live++;
    }
    const t = ctx.sim.totals;
    const attempts = t.tasksCompleted + t.tasksFailed;
    return {
      swarms_total: t.swarmsCreated,
      swarms_live: live,
      agents_live: agents,
      tasks_completed: t.tasksCompleted,
      task_failures: t.tasksFailed,
      success_rate: attempts === 0 ? null : round(t.tasksCompleted / attempts, 3),
      tokens_total: Math.floor(tokens),
      messages_total: t.messages,
      uptime_ms: Date.now() - ctx.startedAt,
      rss_bytes: process.memoryUsage().rss,
      pid: process.pid,
      sim_speed: ctx.sim.speed,
      timestamp: ts(),
    };
  }),
  tool('session_status', 'Status of the swarm a session runs.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = sessionSwarm(ctx, args.session_id);
    return {
      session_id: args.session_id,
      swarm_id: s.id,
      status: s.status,
      progress: round(swarmProgress(s), 3),
      agent_count: s.agents.length,
      task_count: s.tasks.length,
      completed_tasks: s.tasks.filter((t) => t.status === 'completed').length,
      failed_tasks: s.tasks.filter((t) => t.status === 'failed').length,
      topology: s.topology,
      objective: s.objective,
      created: new Date(s.created).toISOString(),
      updated: new Date(s.updated).toISOString(),
    };
  }),
  tool('session_agents', 'Agents of the swarm a session runs.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = sessionSwarm(ctx, args.session_id);
    return { session_id: args.session_id, swarm_id: s.id, agents: s.agents.map(agentJson), count: s.agents.length };
  }),
  tool('session_metrics', 'Totals of the swarm a session runs.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = sessionSwarm(ctx, args.session_id);
    let completed = 0;
    let failed = 0;
    for (const a of s.agents) {
      completed += a.tasksCompleted;
      failed += a.tasksFailed;
    }
    const done = s.tasks.filter((t) => t.status === 'completed').length;
    const fails = s.tasks.reduce((n, t) => n + Math.max(0, t.attempts - (t.status === 'completed' ? 1 : t.status === 'running' ? 1 : 0)), 0);
    return {
      session_id: args.session_id,
      swarm_id: s.id,
      status: s.status,
      tokens_total: Math.floor(swarmTokens(s)),
      tasks_completed: done,
      task_failures: fails,
      success_rate: done + fails === 0 ? null : round(done / (done + fails), 3),
      live_agent_completions: completed,
      live_agent_failures: failed,
      messages: s.messagesSent,
      bytes: s.bytesSent,
      progress: round(swarmProgress(s), 3),
    };
  }),
  // Session runner tools (hive-session-manager start/pause/resume/stop use them).
  tool(
    'session_run',
    'Run (or re-attach to) the swarm of a session. detach: true hands it to the engine (it writes the final status to the session registry; no connection needs to stay open); otherwise this connection owns it and receives only its events.',
    z.object({ session_id: id, task: text, metadata: metadataSchema, detach: z.boolean().optional(), root: z.string().min(1).max(4096).optional() }).loose(),
    (args, ctx) => {
      if (args.detach) {
        if (!ctx.registry) throw new SimError('this hive-engine keeps no session registry (start it with HIVE_ROOT)');
        // A start from another HIVE_ROOT would leave its session unrecorded forever: refuse it loudly.
        if (args.root !== undefined && path.resolve(args.root) !== ctx.registry.paths.root) {
          throw new SimError(`hive-engine records sessions under HIVE_ROOT=${ctx.registry.paths.root}, not ${args.root.slice(0, 300)}`);
        }
      }
      const { swarm: s, attached } = swarmForSession(ctx.sim, args.session_id, args.task, args.metadata ?? null);
      if (args.detach) {
        ctx.releaseSession(args.session_id);
        ctx.registry!.own(args.session_id, s.id);
      } else ctx.attachSession(args.session_id);
      return { success: true, session_id: args.session_id, swarm_id: s.id, status: s.status, attached, detached: args.detach === true, agent_count: s.agents.length };
    },
  ),
  tool('session_list', 'Every session the engine knows: its swarm, status, progress and whether the engine owns its lifecycle.', z.object({}).loose(), (_args, ctx) => {
    const sessions: Array<Record<string, unknown>> = [];
    for (const s of ctx.sim.swarms.values()) {
      if (!s.sessionId) continue;
      sessions.push({ session_id: s.sessionId, swarm_id: s.id, status: s.status, progress: round(swarmProgress(s), 3), agent_count: s.agents.length, owned: ctx.registry?.owns(s.sessionId) ?? false });
    }
    return { success: true, sessions, count: sessions.length, timestamp: ts() };
  }),
  tool('session_pause', 'Pause the swarm of a session.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = ctx.sim.pause(sessionSwarm(ctx, args.session_id).id);
    return { success: true, session_id: args.session_id, swarm_id: s.id, status: s.status };
  }),
  tool('session_resume', 'Resume the swarm of a session.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = ctx.sim.resume(sessionSwarm(ctx, args.session_id).id);
    return { success: true, session_id: args.session_id, swarm_id: s.id, status: s.status };
  }),
  tool('session_stop', 'Stop the swarm of a session.', z.object({ session_id: id }).loose(), (args, ctx) => {
    const s = ctx.sim.destroy(sessionSwarm(ctx, args.session_id).id);
    return { success: true, session_id: args.session_id, swarm_id: s.id, status: s.status };
  }),
];

export const TOOL_INDEX = new Map(TOOLS.map((t) => [t.name, t]));

/** tools/list entries with JSON Schemas derived from the zod schemas. */
export function toolList(): Array<{ name: string; description: string; inputSchema: unknown }> {
  return TOOLS.map((t) => {
    let inputSchema: unknown = { type: 'object' };
    try {
      inputSchema = z.toJSONSchema(t.schema, { unrepresentable: 'any' });
    } catch {
      // keep the permissive schema
    }
    return { name: t.name, description: t.description, inputSchema };
  });
}
