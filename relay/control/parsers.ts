/**
 * Pure parsers for what the backends print: the session manager's registry JSON and one-line answers,
 * and claude-flow 2.7's hive-mind text (shared/reference/claude-flow-2.7.md). Each takes text already
 * bounded by the exec cap and returns typed values, or throws ControlError('parse-error'); fields are
 * length-capped and ids validated so nothing unchecked flows on.
 */
import { SESSION_UUID_PATTERN, SWARM_ID_PATTERN, CLAUDE_FLOW_SESSION_PATTERN } from '../../shared/api.js';
import { SwarmConfigSchema, type Session, type SessionStatus, SESSION_STATUSES } from '../../shared/model/session.js';
import { ControlError } from './errors.js';

const MAX_TASK = 8192;

function str(v: unknown, max: number): string | null {
  return typeof v === 'string' ? v.slice(0, max) : null;
}

/** ISO strings, epoch seconds or epoch ms -> epoch ms; anything else null. */
export function parseTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e11 ? Math.round(v * 1000) : Math.round(v);
  if (typeof v === 'string' && v.length <= 64) {
    if (/^\d+(\.\d+)?$/.test(v)) return parseTime(Number(v));
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

export function isSessionStatus(s: unknown): s is SessionStatus {
  return typeof s === 'string' && (SESSION_STATUSES as readonly string[]).includes(s);
}

// ---------- session manager ----------

/** `create` prints the UUID alone on one line. */
export function parseCreateOutput(stdout: string): string {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines[lines.length - 1];
  if (lines.length !== 1 || last === undefined || !SESSION_UUID_PATTERN.test(last)) {
    throw new ControlError('parse-error', `session manager create did not print a session uuid (got ${JSON.stringify(stdout.slice(0, 120))})`);
  }
  return last;
}

/** `status` prints one bare word; `not_found` means unknown. */
export function parseStatusWord(stdout: string): SessionStatus | 'not_found' {
  const w = stdout.trim();
  if (w === 'not_found') return w;
  if (isSessionStatus(w) && w !== 'spawning') return w;
  throw new ControlError('parse-error', `session manager status printed ${JSON.stringify(w.slice(0, 60))}`);
}

function parsePriority(v: unknown): Session['priority'] {
  if (v === 'critical') return 'high';
  return v === 'low' || v === 'high' ? v : 'medium';
}

/** Built once: zod's partial() makes a new schema (and a new compiled parser) on every call, which cost
 * a 1000-session list about 150 ms when it was called per entry. */
const PartialSwarmConfig = SwarmConfigSchema.partial();

/** One registry entry or session.json -> Session, or null when it cannot be one (bad uuid or status). */
export function sessionFromManagerEntry(uuid: string, raw: unknown): Session | null {
  if (!SESSION_UUID_PATTERN.test(uuid) || typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const e = raw as Record<string, unknown>;
  if (!isSessionStatus(e.status)) return null;
  const meta = typeof e.metadata === 'object' && e.metadata !== null && !Array.isArray(e.metadata) ? (e.metadata as Record<string, unknown>) : null;
  let config: Session['config'] = null;
  if (meta) {
    const c = PartialSwarmConfig.safeParse(meta);
    config = c.success ? c.data : null;
  }
  const replacesRaw = e.replaces ?? meta?.replaces;
  const swarmRaw = e.swarm_id;
  const progress = typeof e.progress === 'number' && e.progress >= 0 && e.progress <= 1 ? e.progress : null;
  const agents = typeof e.agent_count === 'number' && Number.isInteger(e.agent_count) && e.agent_count >= 0 ? e.agent_count : null;
  return {
    uuid,
    swarmId: typeof swarmRaw === 'string' && SWARM_ID_PATTERN.test(swarmRaw) ? swarmRaw : null,
    task: str(e.task, MAX_TASK) ?? '',
    priority: parsePriority(e.priority ?? meta?.priority),
    status: e.status,
    createdAt: parseTime(e.created),
    updatedAt: parseTime(e.updated),
    lastActivity: parseTime(e.last_activity),
    config,
    backend: 'session-manager',
    progress,
    agentCount: agents,
    replaces: typeof replacesRaw === 'string' && SESSION_UUID_PATTERN.test(replacesRaw) ? replacesRaw : null,
  };
}

export interface RegistryParse {
  sessions: Session[];
  /** Entries that were not sessions we can show (bad uuid, unknown status): counted, not invented. */
  skipped: number;
}

/** `list` prints the registry JSON (`{"sessions": {...}}`). */
export function parseRegistry(stdout: string): RegistryParse {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim() || '{"sessions":{}}');
  } catch {
    throw new ControlError('parse-error', `session manager list did not print JSON (${JSON.stringify(stdout.slice(0, 80))})`);
  }
  const sessions = (doc as { sessions?: unknown } | null)?.sessions;
  if (typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) {
    throw new ControlError('parse-error', 'session manager list printed JSON without a sessions object');
  }
  const out: Session[] = [];
  let skipped = 0;
  for (const [uuid, entry] of Object.entries(sessions)) {
    const s = sessionFromManagerEntry(uuid, entry);
    if (s) out.push(s);
    else skipped++;
  }
  return { sessions: out, skipped };
}

/** `get` prints session.json, or `{"error": "Session not found"}` with exit 1. */
export function parseSessionJson(stdout: string, uuid: string): Session | 'not_found' {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new ControlError('parse-error', `session manager get did not print JSON (${JSON.stringify(stdout.slice(0, 80))})`);
  }
  if (typeof doc === 'object' && doc !== null && 'error' in doc) return 'not_found';
  const s = sessionFromManagerEntry(uuid, doc);
  if (!s) throw new ControlError('parse-error', `session.json of ${uuid} is not a session`);
  return s;
}

/** `reap` prints one line per session marked, then `reaped N`. */
export function parseReapOutput(stdout: string): { uuids: string[]; count: number } {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines.pop();
  const m = last === undefined ? null : /^reaped (\d+)$/.exec(last);
  if (!m) throw new ControlError('parse-error', `session manager reap did not end with "reaped N" (${JSON.stringify(stdout.slice(0, 80))})`);
  const uuids = lines.map((l) => /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(l)?.[1]).filter((u): u is string => !!u);
  return { uuids, count: Number(m[1]) };
}

/** `cleanup` prints one line per removed session then a count line. */
export function parseCleanupOutput(stdout: string): { removed: string[]; count: number | null } {
  const lines = stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const removed = lines.map((l) => /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(l)?.[1]).filter((u): u is string => !!u);
  const m = /(\d+)/.exec(lines[lines.length - 1] ?? '');
  return { removed, count: m ? Number(m[1]) : null };
}

// ---------- claude-flow 2.7 hive-mind text ----------

function field(block: string, name: string): string | null {
  const re = new RegExp(`^\\s*${name}:[ \\t]*(.*)$`, 'm');
  const m = re.exec(block);
  return m ? m[1]!.trim() : null;
}

function intOrNull(s: string | null): number | null {
  if (s === null) return null;
  const m = /^(\d{1,9})/.exec(s);
  return m ? Number(m[1]) : null;
}

/** `11/21/2026, 12:11:21 AM` (en-US, container clock taken as UTC) -> epoch ms. */
export function parseClaudeFlowDate(s: string | null): number | null {
  if (!s) return null;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}),\s+(\d{1,2}):(\d{2}):(\d{2})\s*(AM|PM)$/i.exec(s.trim());
  if (!m) return null;
  let h = Number(m[4]) % 12;
  if (m[7]!.toUpperCase() === 'PM') h += 12;
  const t = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), h, Number(m[5]), Number(m[6]));
  return Number.isFinite(t) ? t : null;
}

export interface SwarmSummary {
  swarmId: string;
  sessionId: string;
  name: string | null;
  objective: string | null;
  queenType: string | null;
  workers: number | null;
  workerTypes: string[];
}

/** The `🐝 Swarm Summary:` block `hive-mind spawn` prints about a second after start; null until it has. */
export function parseSwarmSummary(text: string): SwarmSummary | null {
  const start = text.indexOf('Swarm Summary:');
  if (start < 0) return null;
  const block = text.slice(start, start + 16384);
  const swarmId = field(block, 'Swarm ID');
  const sessionId = field(block, 'Session ID');
  if (!swarmId || !sessionId || !SWARM_ID_PATTERN.test(swarmId) || !CLAUDE_FLOW_SESSION_PATTERN.test(sessionId)) return null;
  return {
    swarmId,
    sessionId,
    name: field(block, 'Name')?.slice(0, 256) ?? null,
    objective: field(block, 'Objective')?.slice(0, MAX_TASK) ?? null,
    queenType: field(block, 'Queen Type')?.slice(0, 32) ?? null,
    workers: intOrNull(field(block, 'Workers')),
    workerTypes: (field(block, 'Worker Types') ?? '').split(',').map((s) => s.trim()).filter((s) => /^[a-z_]{2,40}$/.test(s)),
  };
}

export interface HiveSessionInfo {
  name: string | null;
  sessionId: string;
  status: 'active' | 'paused' | 'stopped' | 'completed' | string;
  objective: string | null;
  /** 0..1 */
  progress: number | null;
  createdAt: number | null;
  updatedAt: number | null;
  agents: number | null;
  tasksCompleted: number | null;
  tasksTotal: number | null;
}

/** Splits on lines of `═` (or `─`) and keeps blocks with a `Session ID:` line. */
function blocks(text: string, key: string): string[] {
  return text
    .split(/^[ \t]*[═─=]{5,}[ \t]*$/m)
    .flatMap((b) => {
      // Without separators, a new block starts at each key line's preceding header line.
      const idx: number[] = [];
      const re = new RegExp(`^\\s*${key}:`, 'gm');
      let m: RegExpExecArray | null;
      while ((m = re.exec(b))) idx.push(m.index);
      if (idx.length <= 1) return [b];
      const out: string[] = [];
      for (let i = 0; i < idx.length; i++) {
        const from = i === 0 ? 0 : b.lastIndexOf('\n', b.lastIndexOf('\n', idx[i]! - 1) - 1) + 1;
        const to = i + 1 < idx.length ? b.lastIndexOf('\n', b.lastIndexOf('\n', idx[i + 1]! - 1) - 1) + 1 : b.length;
        out.push(b.slice(from, Math.max(from, to)));
      }
      return out;
    })
    .filter((b) => new RegExp(`^\\s*${key}:`, 'm').test(b));
}

/** `hive-mind sessions`. Empty list for the "nothing found" answers; parse-error for text it cannot read. */
export function parseHiveSessions(text: string): HiveSessionInfo[] {
  if (/No active or paused sessions found|No hive mind database found/.test(text)) return [];
  const out: HiveSessionInfo[] = [];
  for (const b of blocks(text, 'Session ID')) {
    const sessionId = field(b, 'Session ID');
    if (!sessionId || !CLAUDE_FLOW_SESSION_PATTERN.test(sessionId)) continue;
    const header = /^[ \t]*(?:🟢|🟡|🔴|⚪|⏸️?)\s*(.+)$/mu.exec(b);
    const tasks = /Tasks:\s*(\d{1,9})\/(\d{1,9})/.exec(b);
    const prog = intOrNull(field(b, 'Progress'));
    out.push({
      name: header ? header[1]!.trim().slice(0, 256) : null,
      sessionId,
      status: (field(b, 'Status') ?? 'unknown').toLowerCase().slice(0, 32),
      objective: field(b, 'Objective')?.slice(0, MAX_TASK) ?? null,
      progress: prog === null ? null : Math.min(1, prog / 100),
      createdAt: parseClaudeFlowDate(field(b, 'Created')),
      updatedAt: parseClaudeFlowDate(field(b, 'Last Updated')),
      agents: intOrNull(field(b, 'Agents')),
      tasksCompleted: tasks ? Number(tasks[1]) : null,
      tasksTotal: tasks ? Number(tasks[2]) : null,
    });
  }
  if (out.length === 0 && text.trim().length > 0 && !/Session ID:/.test(text)) {
    throw new ControlError('parse-error', `hive-mind sessions printed text without sessions (${JSON.stringify(text.slice(0, 80))})`);
  }
  return out;
}

export interface HiveSwarmInfo {
  name: string | null;
  swarmId: string;
  objective: string | null;
  queenType: string | null;
  status: string | null;
  createdAt: number | null;
  totalAgents: number | null;
  tasksTotal: number | null;
  tasksCompleted: number | null;
  tasksInProgress: number | null;
  tasksPending: number | null;
  /** The agents the block lists (name, type, status as printed); claude-flow reports no metrics for them. */
  agents: HiveAgentInfo[];
}

export interface HiveAgentInfo {
  name: string;
  type: string;
  status: string;
  role: 'queen' | 'worker';
}

/** `👑 Queen: <name> (<status>)` and `- <name> (<type>) <status>` lines of a status block's Agents section. */
function parseHiveAgents(block: string): HiveAgentInfo[] {
  const at = block.search(/^\s*Agents:\s*$/m);
  if (at < 0) return [];
  const end = block.slice(at).search(/^\s*Tasks:\s*$/m);
  const section = end >= 0 ? block.slice(at, at + end) : block.slice(at);
  const out: HiveAgentInfo[] = [];
  for (const line of section.split('\n').slice(0, 200)) {
    const q = /Queen:\s*(.{1,128}?)\s*\(([a-z_]{1,32})\)\s*$/i.exec(line);
    if (q) {
      out.push({ name: q[1]!, type: 'queen', status: q[2]!.toLowerCase(), role: 'queen' });
      continue;
    }
    const w = /^\s*-\s+(.{1,128}?)\s+\(([a-z_]{2,40})\)\s+([a-z_]{1,32})\s*$/i.exec(line);
    if (w) out.push({ name: w[1]!, type: w[2]!.toLowerCase(), status: w[3]!.toLowerCase(), role: 'worker' });
  }
  return out;
}

/** `hive-mind status`: one block per active swarm, each starting with `Swarm: <name>`. */
export function parseHiveStatus(text: string): HiveSwarmInfo[] {
  if (/No active swarms found|hive-mind init" first/.test(text)) return [];
  const starts: number[] = [];
  const re = /^[ \t]*Swarm:[ \t]*(.*)$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) starts.push(m.index);
  const out: HiveSwarmInfo[] = [];
  for (let i = 0; i < starts.length; i++) {
    const b = text.slice(starts[i], starts[i + 1] ?? text.length);
    const id = field(b, 'ID');
    if (!id || !SWARM_ID_PATTERN.test(id)) continue;
    const tasksAt = b.search(/^\s*Tasks:\s*$/m);
    const tb = tasksAt >= 0 ? b.slice(tasksAt) : '';
    out.push({
      name: field(b, 'Swarm')?.slice(0, 256) ?? null,
      swarmId: id,
      objective: field(b, 'Objective')?.slice(0, MAX_TASK) ?? null,
      queenType: field(b, 'Queen Type')?.slice(0, 32) ?? null,
      status: field(b, 'Status')?.toLowerCase().slice(0, 32) ?? null,
      createdAt: parseClaudeFlowDate(field(b, 'Created')),
      totalAgents: intOrNull(field(b, 'Total Agents')),
      tasksTotal: intOrNull(field(tb, 'Total')),
      tasksCompleted: intOrNull(field(tb, 'Completed')),
      tasksInProgress: intOrNull(field(tb, 'In Progress')),
      tasksPending: intOrNull(field(tb, 'Pending')),
      agents: parseHiveAgents(b),
    });
  }
  if (out.length === 0 && text.trim().length > 0 && !/Swarm:/.test(text)) {
    throw new ControlError('parse-error', `hive-mind status printed text without swarms (${JSON.stringify(text.slice(0, 80))})`);
  }
  return out;
}

export interface HiveMetrics {
  totalSwarms: number | null;
  totalAgents: number | null;
  totalTasks: number | null;
  completedTasks: number | null;
  /** 0..1 */
  successRate: number | null;
}

/** `hive-mind metrics`: the `Overall Statistics:` figures. */
export function parseHiveMetrics(text: string): HiveMetrics {
  const at = text.indexOf('Overall Statistics:');
  if (at < 0) throw new ControlError('parse-error', 'hive-mind metrics printed no "Overall Statistics:"');
  const b = text.slice(at, at + 4096);
  const rate = /Success Rate:\s*([\d.]+)\s*%/.exec(b);
  return {
    totalSwarms: intOrNull(field(b, 'Total Swarms')),
    totalAgents: intOrNull(field(b, 'Total Agents')),
    totalTasks: intOrNull(field(b, 'Total Tasks')),
    completedTasks: intOrNull(field(b, 'Completed Tasks')),
    successRate: rate ? Math.min(1, Number(rate[1]) / 100) : null,
  };
}

/** `hive-mind stop`: stderr `✖ Session <id> not found` (exit code stays 0) means unknown. */
export function hiveStopNotFound(stdout: string, stderr: string): boolean {
  return /Session \S+ not found/.test(stderr) || /Session \S+ not found/.test(stdout);
}

/** `/proc/<pid>/stat` -> the process group id (field 5; the comm field may contain spaces and parens). */
export function parseProcStatPgid(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] state, rest[1] ppid, rest[2] pgrp
  const pgid = Number(rest[2]);
  return Number.isInteger(pgid) && pgid > 1 ? pgid : null;
}

/** `pgrep -f` output: one pid per line. */
export function parsePids(stdout: string): number[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\d{1,9}$/.test(l))
    .map(Number)
    .filter((n) => n > 1);
}
