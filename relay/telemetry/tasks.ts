/**
 * A session's tasks for the console's Tasks tab: the answer of an MCP `task_list` (claude-flow 3.x's
 * shape, which the kit's engine answers too: {tasks:[{taskId, description, status, progress 0-100,
 * assignedTo[], createdAt, ...}], total}) mapped to the wire's TaskEntry by a pure function that trusts
 * nothing: odd shapes, wrong types and over-long fields are dropped or clipped, statuses outside the known
 * words become `unknown`, a missing or impossible progress stays null (never 0, never invented).
 * Progress pushed as MCP notifications (`notifications/progress` with the task id as progressToken; the
 * kit sends them at quarter milestones) fills in a task whose list entry carries none (TaskProgressMemo).
 * Backends whose MCP reports no tasks of a session answer supported:false with the reason.
 */
import { TASKS_MAX, type BackendKind, type TaskEntry, type TaskStatus, type TasksList } from '../../shared/model/index.js';

const ID_MAX = 256;
const DESCRIPTION_MAX = 8192;
const ASSIGNEE_MAX = 256;
/** Entries looked at in one answer (a hostile server's million-entry list is not walked). */
const SCAN_MAX = 10_000;

const STATUS_WORDS: Record<string, TaskStatus> = {
  pending: 'pending',
  queued: 'pending',
  created: 'pending',
  waiting: 'pending',
  todo: 'pending',
  assigned: 'assigned',
  running: 'running',
  in_progress: 'running',
  'in-progress': 'running',
  inprogress: 'running',
  active: 'running',
  started: 'running',
  busy: 'running',
  working: 'running',
  completed: 'completed',
  complete: 'completed',
  done: 'completed',
  success: 'completed',
  succeeded: 'completed',
  finished: 'completed',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  errored: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  aborted: 'cancelled',
  stopped: 'cancelled',
};

export function taskStatus(raw: unknown): TaskStatus {
  if (typeof raw !== 'string') return 'unknown';
  const w = raw.trim().toLowerCase();
  // Own keys only: 'constructor' or '__proto__' from a server must not reach Object.prototype.
  return Object.hasOwn(STATUS_WORDS, w) ? STATUS_WORDS[w]! : 'unknown';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: unknown, max: number): string | null {
  if (typeof v !== 'string') return null;
  const t = v.trim();
  if (t.length === 0) return null;
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** 3.x and the kit report percent (0-100, 100 once completed); anything else is not a progress figure. */
export function taskProgress(raw: unknown): number | null {
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || raw > 100) return null;
  return Math.round(raw * 10) / 1000;
}

/** ISO text or epoch ms (seconds are taken for ms only when plausible); else null. */
function time(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e11 && v < 1e14 ? v : v > 1e8 && v < 1e11 ? v * 1000 : null;
  if (typeof v !== 'string' || v.length > 64) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

function assignee(e: Record<string, unknown>): string | null {
  const a = e.assignedTo ?? e.assignee ?? e.agentId ?? e.assigned_to;
  if (Array.isArray(a)) {
    const names = a.filter((x): x is string => typeof x === 'string' && x.trim().length > 0).map((x) => x.trim());
    return names.length === 0 ? null : text(names.join(', '), ASSIGNEE_MAX);
  }
  return text(a, ASSIGNEE_MAX);
}

/** One entry, or null when it has no usable id (an id is never clipped: a clipped id names another task). */
export function taskEntry(raw: unknown, memo?: TaskProgressMemo): TaskEntry | null {
  if (!isObject(raw)) return null;
  const idRaw = raw.taskId ?? raw.id ?? raw.task_id;
  if (typeof idRaw !== 'string' || idRaw.length === 0 || idRaw.length > ID_MAX || /[\u0000-\u001f]/.test(idRaw)) return null;
  const status = taskStatus(raw.status);
  const progress = taskProgress(raw.progress) ?? memo?.get(idRaw) ?? null;
  return {
    id: idRaw,
    description: text(raw.description ?? raw.task ?? raw.name ?? raw.title, DESCRIPTION_MAX) ?? '',
    status,
    assignee: assignee(raw),
    progress,
    createdAt: time(raw.createdAt ?? raw.created ?? raw.created_at),
    updatedAt: time(raw.updatedAt ?? raw.updated ?? raw.updated_at ?? raw.completedAt ?? raw.startedAt),
  };
}

/**
 * The `task_list` answer -> TasksList. Accepts `{tasks:[...]}` or a bare array; anything else is not a
 * list (supported:false saying so, never an empty list pretending). At most TASKS_MAX tasks; when more
 * were reported the reason says how many were left out.
 */
export function mapTaskList(raw: unknown, memo?: TaskProgressMemo): TasksList {
  const arr = Array.isArray(raw) ? raw : isObject(raw) && Array.isArray(raw.tasks) ? raw.tasks : null;
  if (!arr) return { supported: false, reason: 'the backend answered task_list with something that is not a task list', tasks: [] };
  const tasks: TaskEntry[] = [];
  let usable = 0;
  const seen = new Set<string>();
  for (const e of arr.slice(0, SCAN_MAX)) {
    const t = taskEntry(e, memo);
    if (!t || seen.has(t.id)) continue;
    seen.add(t.id);
    usable++;
    if (tasks.length < TASKS_MAX) tasks.push(t);
  }
  const total = isObject(raw) && typeof raw.total === 'number' && Number.isSafeInteger(raw.total) && raw.total > usable ? raw.total : Math.max(usable, arr.length > SCAN_MAX ? arr.length : usable);
  const reason = total > tasks.length ? `${tasks.length} of ${total} tasks shown` : null;
  return { supported: true, reason, tasks };
}

/**
 * The latest progress each task's notifications reported (progressToken = task id), bounded: the oldest
 * entries go first. Only fills a task whose list entry has no progress figure of its own.
 */
export class TaskProgressMemo {
  private readonly byId = new Map<string, number>();

  constructor(private readonly max = 5000) {}

  /** `notifications/progress` params: {progressToken, progress, total?}; a ratio 0..1 is kept. */
  note(params: unknown): void {
    if (!isObject(params)) return;
    const token = params.progressToken;
    if (typeof token !== 'string' || token.length === 0 || token.length > ID_MAX) return;
    const p = params.progress;
    const total = params.total;
    if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) return;
    const ratio = typeof total === 'number' && Number.isFinite(total) && total > 0 ? p / total : p <= 1 ? p : null;
    if (ratio === null || ratio > 1) return;
    this.byId.delete(token);
    this.byId.set(token, ratio);
    if (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
  }

  get(id: string): number | null {
    return this.byId.get(id) ?? null;
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Why a backend kind's MCP reports no tasks of a session (null: it does, ask it). */
export function tasksUnsupported(kind: BackendKind | null): string | null {
  switch (kind) {
    case 'kit':
      return null;
    case 'claude-flow-2':
      return "claude-flow 2.7's MCP server never sees hive-mind swarms (its task tools answer for its own memory store, not a spawn's hive database), so it reports no tasks of this session";
    case 'claude-flow-3':
      return 'claude-flow 3.x keeps tasks per session directory, and no MCP server runs in this session\'s directory yet';
    default:
      return 'no backend was detected in the container, so nothing reports tasks';
  }
}

export function unsupportedTasks(reason: string): TasksList {
  return { supported: false, reason: reason.slice(0, 512), tasks: [] };
}
