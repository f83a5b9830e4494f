/**
 * Pure parsers for claude-flow 3.x (ruflo, shared/reference/claude-flow-3.md): `--version` (and 2.7's
 * form, and our kit's `capabilities`) for backend detection, and the `--format json` answers of
 * hive-mind init/spawn/status/task, plus the MCP payloads the same hive shows (agent_list, task_list,
 * swarm_status). Input is bounded; zod checks every field at this boundary, unknown fields are dropped,
 * ids are checked against the shapes 3.x mints (so nothing else can reach an exec argv), and a field
 * that is missing or of the wrong type comes out null (unknown), never 0.
 */
import { z } from 'zod';
import { ControlError } from '../errors.js';

/** Largest answer parsed (a 20-worker status is ~4 KB; agent_list of 1000 agents ~200 KB). */
export const MAX_JSON_BYTES = 2 * 1024 * 1024;
/** Items kept from one list (workers, agents, tasks); the rest is counted as rejected. */
export const MAX_ITEMS = 2000;

import type { BackendKind } from '../../../shared/model/health.js';
export type { BackendKind };
export interface DetectedBackend {
  kind: BackendKind;
  version: string;
}

// ---------- ids 3.x mints ----------

/** `status` reports `hive-<createdAt ms>`; init's `hive-<ms>-<suffix>` is never stored. */
export const HIVE_ID_PATTERN = /^hive-\d{13}$/;
export const QUEEN_ID_PATTERN = /^queen-\d{13}$/;
/** Worker ids (`hive-worker-<ms>-<4>`, prefix set by `-p`), `join <id>` and MCP `agentId`s: one safe argv word, never a flag. */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const TASK_ID_PATTERN = /^task-\d{13}-[a-z0-9]{1,6}$/;
export const MCP_SWARM_ID_PATTERN = /^swarm-\d{13}-[a-z0-9]{1,6}$/;

function badId(what: string, v: unknown): string {
  return `${what} ${JSON.stringify(String(v).slice(0, 80))} is not a claude-flow ${what}`;
}

// ---------- detection ----------

const VERSION_LINE = /^(?:(ruflo|claude-flow)\s+)?v?(\d{1,3})\.(\d{1,3})\.(\d{1,4})(-[0-9A-Za-z.-]{1,40})?$/;

/**
 * `claude-flow --version`: 3.x prints `ruflo v3.43.0`, 2.7 `v2.7.47` (2.0 alphas `v2.0.0-alpha.N`). A
 * banner or warning line before it is skipped. Majors other than 2 and 3 are refused, not guessed.
 */
export function parseCliVersion(stdout: string): DetectedBackend {
  const lines = stdout.slice(0, 16_384).replace(/\r/g, '\n').split('\n').slice(0, 50);
  for (const raw of lines) {
    const m = VERSION_LINE.exec(raw.trim());
    if (!m) continue;
    const major = Number(m[2]);
    const version = `${m[2]}.${m[3]}.${m[4]}${m[5] ?? ''}`;
    if (major === 3 || (m[1] === 'ruflo' && major > 3)) return { kind: 'claude-flow-3', version };
    if (major === 2 || major === 1) return { kind: 'claude-flow-2', version };
    throw new ControlError('parse-error', `claude-flow ${version} is not a version hivescope knows (2.x and 3.x are supported)`);
  }
  throw new ControlError('parse-error', `claude-flow --version printed no version (${JSON.stringify(stdout.slice(0, 80))})`);
}

const KitCapsSchema = z.object({ kit: z.literal('hivescope'), version: z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,4}[0-9A-Za-z.-]{0,40}$/) });

/** Our kit's `hive-session-manager capabilities` line; null for upstream's script (no such subcommand). */
export function parseKitCapabilities(stdout: string): DetectedBackend | null {
  const line = stdout.slice(0, 4096).split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) return null;
  try {
    const c = KitCapsSchema.safeParse(JSON.parse(line));
    return c.success ? { kind: 'kit', version: c.data.version } : null;
  } catch {
    return null;
  }
}

// ---------- JSON out of CLI stdout ----------

/**
 * 3.x prints a text line (`[INFO] Spawning ...`; init also `\r` spinner frames) before the JSON, so
 * the document starts at the first line that starts with `{`. Bounded; truncated JSON is an error.
 */
export function extractJson(stdout: string, what: string): unknown {
  if (stdout.length > MAX_JSON_BYTES) throw new ControlError('parse-error', `${what} printed ${stdout.length} bytes (more than ${MAX_JSON_BYTES}): not parsed`);
  const text = stdout.replace(/\r/g, '\n');
  const at = /^[ \t]*\{/m.exec(text);
  if (!at) throw new ControlError('parse-error', `${what} printed no JSON (${JSON.stringify(stdout.trim().slice(0, 80))})`);
  const body = text.slice(at.index);
  try {
    return JSON.parse(body);
  } catch {
    // A text line after the document (an update notice) must not spoil it: cut after the last `}`.
    const end = body.lastIndexOf('}');
    try {
      if (end > 0) return JSON.parse(body.slice(0, end + 1));
    } catch {
      /* reported below */
    }
    throw new ControlError('parse-error', `${what} printed JSON that does not parse (truncated?): ${JSON.stringify(body.slice(0, 80))}`);
  }
}

// ---------- field helpers: a wrong type is unknown (null), never a default ----------

const text = (max: number) => z.string().max(max).nullable().catch(null).default(null);
const count = z.number().int().min(0).max(1e12).nullable().catch(null).default(null);
const num = z.number().finite().nullable().catch(null).default(null);
const time = z
  .string()
  .max(64)
  .transform((s) => {
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : null;
  })
  .nullable()
  .catch(null)
  .default(null);

const obj = (v: unknown, what: string): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ControlError('parse-error', `${what} is not a JSON object`);
  return v as Record<string, unknown>;
};

/** Validates each item; items with a bad id or shape are rejected with a reason (never thrown, never kept). */
function items<T>(raw: unknown, schema: z.ZodType<T>, what: string, idOf: (t: T) => unknown, idPattern: RegExp, rejected: string[]): T[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    rejected.push(`${what}s is not a list`);
    return [];
  }
  const out: T[] = [];
  for (const [i, it] of raw.entries()) {
    if (out.length >= MAX_ITEMS) {
      rejected.push(`${raw.length - i} ${what}s over the limit of ${MAX_ITEMS}`);
      break;
    }
    const p = schema.safeParse(it);
    if (!p.success) rejected.push(`${what} ${i}: ${p.error.issues[0]?.message ?? 'invalid'}`);
    else if (typeof idOf(p.data) !== 'string' || !idPattern.test(idOf(p.data) as string)) rejected.push(badId(`${what} id`, idOf(p.data)));
    else out.push(p.data);
  }
  return out;
}

// ---------- hive-mind status --format json (and MCP hive-mind_status: the same object) ----------

const WorkerSchema = z.object({
  id: z.string().max(256),
  type: text(64),
  status: text(32),
  currentTask: z
    .union([z.string().max(8192), z.object({ id: z.string().max(256).optional(), description: z.string().max(8192).optional() }).transform((t) => t.description ?? t.id ?? null)])
    .nullable()
    .catch(null)
    .default(null),
  tasksCompleted: count,
});
export type HiveWorker3 = z.output<typeof WorkerSchema>;

const QueenSchema = z.object({ id: z.string().max(256), status: text(32), load: num, tasksQueued: count });

const StatusSchema = z.object({
  hiveId: z.string().max(256).nullable().catch(null).default(null),
  id: z.string().max(256).nullable().catch(null).default(null),
  status: text(32),
  initialized: z.boolean().nullable().catch(null).default(null),
  topology: text(32),
  consensus: text(32),
  queen: z.unknown().optional(),
  workers: z.unknown().optional(),
  metrics: z
    .object({ totalTasks: count, completedTasks: count, activeTasks: count, pendingTasks: count, failedTasks: count })
    .nullable()
    .catch(null)
    .default(null),
  health: z.object({ overall: text(32), queen: text(32), workers: text(32), consensus: text(32), memory: text(32) }).nullable().catch(null).default(null),
  workerCount: count,
  createdAt: time,
  updatedAt: time,
});

export interface HiveStatus3 {
  /** `hive-<ms>` when the hive is initialised; null before init (3.x then prints a new id on every call). */
  hiveId: string | null;
  initialized: boolean;
  status: string | null;
  topology: string | null;
  consensus: string | null;
  queen: { id: string; status: string | null; load: number | null; tasksQueued: number | null } | null;
  workers: HiveWorker3[];
  metrics: z.output<typeof StatusSchema>['metrics'];
  health: z.output<typeof StatusSchema>['health'];
  workerCount: number | null;
  createdAt: number | null;
  updatedAt: number | null;
  /** Items or fields dropped, with the reason. */
  rejected: string[];
}

export function parseHiveStatus3(stdout: string): HiveStatus3 {
  return hiveStatusFrom(extractJson(stdout, 'hive-mind status --format json'));
}

/** The status object, from the CLI or from MCP `hive-mind_status`. */
export function hiveStatusFrom(doc: unknown): HiveStatus3 {
  const s = StatusSchema.parse(obj(doc, 'hive-mind status'));
  const rejected: string[] = [];
  // `initialized` is absent from older answers: "active" then means the same (3.x's only meaning of it).
  const initialized = s.initialized ?? s.status === 'active';
  const rawId = s.hiveId ?? s.id;
  let hiveId: string | null = null;
  if (initialized) {
    if (rawId === null || !HIVE_ID_PATTERN.test(rawId)) throw new ControlError('parse-error', badId('hive id', rawId));
    hiveId = rawId;
  }
  let queen: HiveStatus3['queen'] = null;
  if (s.queen !== undefined && s.queen !== null) {
    const q = QueenSchema.safeParse(s.queen);
    if (q.success && QUEEN_ID_PATTERN.test(q.data.id)) queen = q.data;
    else rejected.push(q.success ? badId('queen id', q.data.id) : 'queen: not a queen record');
  }
  return {
    hiveId,
    initialized,
    status: s.status,
    topology: s.topology,
    consensus: s.consensus,
    queen,
    workers: items(s.workers, WorkerSchema, 'worker', (w) => w.id, AGENT_ID_PATTERN, rejected),
    metrics: s.metrics,
    health: s.health,
    workerCount: s.workerCount,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    rejected,
  };
}

// ---------- init / spawn / task ----------

const InitSchema = z.object({ success: z.boolean().nullable().catch(null).default(null), queenId: z.string().max(64), topology: text(32), consensus: text(32), createdAt: time });

/** `hive-mind init --format json`. The printed `hiveId` (with a suffix) is never stored; status reports `hive-<queen ms>`. */
export function parseInit3(stdout: string): { hiveId: string; queenId: string; topology: string | null; consensus: string | null; createdAt: number | null } {
  const p = InitSchema.safeParse(obj(extractJson(stdout, 'hive-mind init --format json'), 'hive-mind init'));
  if (!p.success) throw new ControlError('parse-error', `hive-mind init answered without a queen id (${p.error.issues[0]?.message ?? 'invalid'})`);
  if (p.data.success === false) throw new ControlError('command-failed', 'hive-mind init answered success:false');
  if (!QUEEN_ID_PATTERN.test(p.data.queenId)) throw new ControlError('parse-error', badId('queen id', p.data.queenId));
  // The hiveToken is a credential for hive-mind_join/leave: it is not in the schema, so it never leaves here.
  return { hiveId: `hive-${p.data.queenId.slice('queen-'.length)}`, queenId: p.data.queenId, topology: p.data.topology, consensus: p.data.consensus, createdAt: p.data.createdAt };
}

const SpawnWorkerSchema = z.object({ agentId: z.string().max(256), role: text(32), joinedAt: time });
const SpawnSchema = z.object({ success: z.boolean().nullable().catch(null).default(null), spawned: count, workers: z.unknown().optional(), totalWorkers: count, hiveStatus: text(32), error: text(2000) });

/** `hive-mind spawn --format json` (and MCP `hive-mind_spawn`). */
export function parseSpawn3(stdout: string): { spawned: number | null; workers: z.output<typeof SpawnWorkerSchema>[]; totalWorkers: number | null; rejected: string[] } {
  return spawnFrom(extractJson(stdout, 'hive-mind spawn --format json'));
}

export function spawnFrom(doc: unknown): ReturnType<typeof parseSpawn3> {
  const s = SpawnSchema.parse(obj(doc, 'hive-mind spawn'));
  if (s.success === false) throw new ControlError('command-failed', `hive-mind spawn failed: ${s.error ?? 'success:false'}`);
  const rejected: string[] = [];
  return { spawned: s.spawned, workers: items(s.workers, SpawnWorkerSchema, 'worker', (w) => w.agentId, AGENT_ID_PATTERN, rejected), totalWorkers: s.totalWorkers, rejected };
}

const TaskSchema = z.object({
  taskId: z.string().max(256),
  type: text(64),
  description: text(8192),
  priority: text(16),
  status: text(32),
  createdAt: time,
  assignedTo: z.array(z.string().max(256)).max(MAX_ITEMS).nullable().catch(null).default(null),
});
export type Task3 = z.output<typeof TaskSchema>;

/** `hive-mind task <text> --format json` (and MCP task_create / task_status). */
export function parseTask3(stdout: string): Task3 {
  return taskFrom(extractJson(stdout, 'hive-mind task --format json'));
}

export function taskFrom(doc: unknown): Task3 {
  const p = TaskSchema.safeParse(obj(doc, 'task'));
  if (!p.success) throw new ControlError('parse-error', `task answer without a task id (${p.error.issues[0]?.message ?? 'invalid'})`);
  if (!TASK_ID_PATTERN.test(p.data.taskId)) throw new ControlError('parse-error', badId('task id', p.data.taskId));
  return { ...p.data, assignedTo: p.data.assignedTo?.filter((a) => AGENT_ID_PATTERN.test(a)) ?? null };
}

// ---------- MCP payloads (content[0].text, already JSON-parsed) ----------

const McpAgentSchema = z.object({
  agentId: z.string().max(256),
  agentType: text(64),
  status: text(32),
  health: num,
  taskCount: count,
  createdAt: time,
  domain: text(64),
  swarmId: text(256),
});
export type McpAgent3 = z.output<typeof McpAgentSchema>;

/** MCP `agent_list`: both stores (hive workers carry `domain:"hive-mind"`, agent_spawn agents none). */
export function agentListFrom(doc: unknown): { agents: McpAgent3[]; total: number | null; rejected: string[] } {
  const o = obj(doc, 'agent_list');
  const rejected: string[] = [];
  return { agents: items(o.agents, McpAgentSchema, 'agent', (a) => a.agentId, AGENT_ID_PATTERN, rejected), total: count.parse(o.total), rejected };
}

/** MCP `task_list`. */
export function taskListFrom(doc: unknown): { tasks: Task3[]; total: number | null; rejected: string[] } {
  const o = obj(doc, 'task_list');
  const rejected: string[] = [];
  const tasks = items(o.tasks, TaskSchema, 'task', (t) => t.taskId, TASK_ID_PATTERN, rejected).map((t) => ({ ...t, assignedTo: t.assignedTo?.filter((a) => AGENT_ID_PATTERN.test(a)) ?? null }));
  return { tasks, total: count.parse(o.total), rejected };
}

const SwarmStatusSchema = z.object({ swarmId: z.string().max(256).optional(), status: text(32), topology: text(32), maxAgents: count, agentCount: count, taskCount: count, createdAt: time });

/** MCP `swarm_status`: `{status:"no_swarm"}` until `swarm_init` (hive workers never join a swarm). */
export function swarmStatusFrom(doc: unknown): { swarmId: string | null; status: string | null; topology: string | null; agentCount: number | null; taskCount: number | null } {
  const s = SwarmStatusSchema.parse(obj(doc, 'swarm_status'));
  if (s.status === 'no_swarm' || s.swarmId === undefined) return { swarmId: null, status: s.status, topology: null, agentCount: null, taskCount: null };
  if (!MCP_SWARM_ID_PATTERN.test(s.swarmId)) throw new ControlError('parse-error', badId('swarm id', s.swarmId));
  return { swarmId: s.swarmId, status: s.status, topology: s.topology, agentCount: s.agentCount, taskCount: s.taskCount };
}

/** One MCP JSON-RPC answer: the parsed tool payload, a missing tool (-32601: stop calling it), or a failure. */
export type McpAnswer = { ok: true; id: number | string | null; value: unknown } | { ok: false; id: number | string | null; missing: boolean; message: string };

export function mcpAnswer(line: string): McpAnswer {
  if (line.length > MAX_JSON_BYTES) throw new ControlError('parse-error', `MCP answer of ${line.length} bytes: not parsed`);
  const m = obj(JSON.parse(line) as unknown, 'MCP answer');
  const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
  if (m.error !== undefined) {
    const e = typeof m.error === 'object' && m.error !== null ? (m.error as { code?: unknown; message?: unknown }) : {};
    return { ok: false, id, missing: e.code === -32601, message: typeof e.message === 'string' ? e.message.slice(0, 500) : 'error' };
  }
  const r = obj(m.result, 'MCP result') as { content?: { type?: unknown; text?: unknown }[]; isError?: unknown };
  const t = Array.isArray(r.content) ? r.content[0]?.text : undefined;
  if (typeof t !== 'string') return { ok: false, id, missing: false, message: 'MCP result without text content' };
  const value = extractJson(t, 'MCP tool result');
  // 3.x reports tool failures inside a normal result; http also sets isError for unknown tools.
  const v = value as { success?: unknown; error?: unknown };
  if (r.isError === true || v?.success === false) return { ok: false, id, missing: r.isError === true && /not found/i.test(String(v?.error ?? '')), message: String(v?.error ?? 'tool failed').slice(0, 500) };
  return { ok: true, id, value };
}
