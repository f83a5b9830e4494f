/**
 * claude-flow 3.x answers -> the shared model's terms, truthfully (claude-flow-3.md section 3.3):
 * health is 0-1 there and a percentage here; hive workers are never updated by anything, so their
 * printed `idle` / health 1 / 0 tasks are defaults, not observations, and come out unknown (null),
 * while a value that differs from those defaults was written by something and is kept. 3.x has no
 * per-agent CPU or memory: those are null (unknown), never 0. Every agent and task carries the
 * session it belongs to (one hive per session directory).
 */
import type { ExecAgent } from './types.js';
import type { HiveStatus3, McpAgent3, Task3 } from './claudeFlow3Parse.js';

/** 3.x health (0..1) -> the model's 0..100; anything else is unknown. */
export function healthPercent(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1 ? Math.round(v * 1000) / 10 : null;
}

/** What 3.x prints for a hive worker nothing has touched. */
const WORKER_DEFAULTS = { status: 'idle', health: 1, tasks: 0 } as const;

function base(id: string, sessionUuid: string | null, hiveId: string | null) {
  return { id, swarmId: hiveId, sessionUuid, cpuUsage: null, memoryUsage: null } as const;
}

/** `hive-mind status` -> the queen and every worker, linked to the session whose directory holds the hive. */
export function agentsFromHiveStatus(s: HiveStatus3, sessionUuid: string | null): ExecAgent[] {
  if (!s.initialized || s.hiveId === null) return [];
  const out: ExecAgent[] = [];
  const queenId = s.queen?.id ?? null;
  if (s.queen) {
    const load = s.queen.load;
    out.push({
      ...base(s.queen.id, sessionUuid, s.hiveId),
      name: s.queen.id,
      type: 'queen',
      // The queen is `active` whenever the hive is initialised: a constant, not an observation.
      status: s.queen.status ?? 'active',
      statusObserved: false,
      parentQueenId: null,
      health: null,
      // load = active tasks / workers (it did move with task_update): a real 0..1 figure when in range.
      workload: load !== null && load >= 0 && load <= 1 ? load : null,
      currentTask: null,
      tasksCompleted: null,
      createdAt: s.createdAt,
    });
  }
  for (const w of s.workers) {
    const touched = w.status !== null && w.status !== WORKER_DEFAULTS.status;
    out.push({
      ...base(w.id, sessionUuid, s.hiveId),
      name: w.id,
      type: w.type ?? 'specialist',
      status: w.status ?? WORKER_DEFAULTS.status,
      statusObserved: touched,
      parentQueenId: queenId,
      health: null,
      workload: null,
      currentTask: w.currentTask,
      tasksCompleted: w.tasksCompleted !== null && w.tasksCompleted !== WORKER_DEFAULTS.tasks ? w.tasksCompleted : null,
      createdAt: null,
    });
  }
  return out;
}

/**
 * MCP `agent_list` -> agents. Hive workers (`domain:"hive-mind"`) get the same treatment as above;
 * agents from `agent_spawn` are updated by task_assign/task_complete, so their status and task count
 * are observations, and their health is converted from 0..1.
 */
export function agentsFromMcpList(list: McpAgent3[], sessionUuid: string | null, hiveId: string | null, queenId: string | null): ExecAgent[] {
  return list.map((a) => {
    const hive = a.domain === 'hive-mind';
    return {
      ...base(a.agentId, sessionUuid, hive ? hiveId : (a.swarmId ?? null)),
      name: a.agentId,
      type: a.agentType ?? 'specialist',
      status: a.status ?? 'idle',
      statusObserved: hive ? a.status !== null && a.status !== WORKER_DEFAULTS.status : a.status !== null,
      parentQueenId: hive ? queenId : null,
      health: hive && a.health === WORKER_DEFAULTS.health ? null : healthPercent(a.health),
      workload: null,
      currentTask: null,
      tasksCompleted: hive && a.taskCount === WORKER_DEFAULTS.tasks ? null : a.taskCount,
      createdAt: a.createdAt,
    };
  });
}

/** A task of a 3.x hive, linked to its session. */
export interface ExecTask {
  id: string;
  sessionUuid: string | null;
  hiveId: string | null;
  description: string | null;
  /** As 3.x says it: pending, in_progress, completed, failed, cancelled. */
  status: string | null;
  priority: string | null;
  assignedTo: string[];
  createdAt: number | null;
}

export function tasksFrom(tasks: Task3[], sessionUuid: string | null, hiveId: string | null): ExecTask[] {
  return tasks.map((t) => ({
    id: t.taskId,
    sessionUuid,
    hiveId,
    description: t.description,
    status: t.status,
    priority: t.priority,
    assignedTo: t.assignedTo ?? [],
    createdAt: t.createdAt,
  }));
}

/** Session-level figures from the status answer: unknown stays null. */
export function sessionFigures(s: HiveStatus3): { agentCount: number | null; progress: number | null } {
  const m = s.metrics;
  const agentCount = s.initialized ? (s.workerCount ?? s.workers.length) + (s.queen ? 1 : 0) : 0;
  // Progress only when there are tasks to measure it by (0 of 0 is unknown, not 0 %).
  const progress = m && m.totalTasks !== null && m.totalTasks > 0 && m.completedTasks !== null ? Math.min(1, m.completedTasks / m.totalTasks) : null;
  return { agentCount, progress };
}
