/**
 * Tolerant mapping of what MCP servers send (claude-flow's camelCase, the documented-but-unbuilt
 * snake_case tools, the kit's engine, strings for numbers, ISO dates, nested `metrics`) onto the shared
 * model's fields. Only what a source actually reported comes out: an absent or unusable field is left
 * out (never defaulted), so nothing downstream can mistake a guess for a measurement.
 */
import { AGENT_STATUSES, type AgentMetricKey, type AgentStatus, type Swarm } from '../../shared/model/index.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** First present (not undefined) value among the keys. */
function pick(o: Record<string, unknown>, keys: readonly string[]): unknown {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?%?$/i;

/** A finite number from a number or numeric string ("42", "42.5", "42%"); null for explicit null; undefined otherwise. */
export function toNumber(v: unknown): number | null | undefined {
  if (v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.length === 0 || s.length > 40 || !NUMERIC.test(s)) return undefined;
    const n = Number(s.endsWith('%') ? s.slice(0, -1) : s);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function toStr(v: unknown, max: number): string | null | undefined {
  if (v === null) return null;
  if (typeof v === 'string') return v.length > max ? v.slice(0, max) : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** ms since epoch from epoch ms, epoch seconds, or an ISO/RFC date string. */
export function toTime(v: unknown): number | null | undefined {
  if (v === null) return null;
  const n = toNumber(v);
  if (typeof n === 'number') {
    if (n <= 0) return undefined;
    // Seconds since epoch stay below 1e11 until the year 5138; ms values are above it since 1973.
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  if (typeof v === 'string' && v.length <= 64) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

const STATUS_ALIASES: Record<string, AgentStatus> = {
  running: 'active',
  working: 'busy',
  processing: 'busy',
  spawning: 'initializing',
  starting: 'initializing',
  spawned: 'initializing',
  pending: 'initializing',
  ready: 'idle',
  waiting: 'idle',
  stopping: 'terminating',
  stopped: 'offline',
  terminated: 'offline',
  completed: 'offline',
  dead: 'offline',
  failed: 'error',
  errored: 'error',
};

export function toStatus(v: unknown): AgentStatus | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if ((AGENT_STATUSES as readonly string[]).includes(s)) return s as AgentStatus;
  return STATUS_ALIASES[s];
}

/** Range each metric must be in to be accepted; integers where the model wants integers. */
const METRIC_RULES: Record<Exclude<AgentMetricKey, 'currentTask'>, { keys: readonly string[]; min: number; max: number; int?: boolean }> = {
  health: { keys: ['health', 'healthScore', 'health_score'], min: 0, max: 100 },
  cpuUsage: { keys: ['cpuUsage', 'cpu', 'cpu_usage', 'cpuPercent', 'cpu_percent'], min: 0, max: 100 },
  memoryUsage: { keys: ['memoryUsage', 'memory', 'memory_usage', 'memoryPercent', 'memory_percent', 'mem'], min: 0, max: 100 },
  workload: { keys: ['workload', 'load'], min: 0, max: 1 },
  activity: { keys: ['activity', 'activityLevel', 'activity_level'], min: 0, max: 1 },
  tokens: { keys: ['tokens', 'tokenCount', 'token_count', 'tokensUsed', 'tokens_used', 'tokenUsage'], min: 0, max: Number.MAX_SAFE_INTEGER },
  tokenRate: { keys: ['tokenRate', 'token_rate', 'tokensPerMinute', 'tokens_per_minute'], min: 0, max: 1e9 },
  tasksActive: { keys: ['tasksActive', 'tasks_active', 'activeTasks', 'active_tasks'], min: 0, max: 1e9, int: true },
  tasksCompleted: { keys: ['tasksCompleted', 'tasks_completed', 'completedTasks', 'completed_tasks'], min: 0, max: 1e12, int: true },
  successRate: { keys: ['successRate', 'success_rate'], min: 0, max: 1 },
};

export type MetricValues = { [K in AgentMetricKey]?: K extends 'currentTask' ? string | null : number | null };

export interface AgentPatch {
  id: string;
  name?: string;
  type?: string;
  status?: AgentStatus;
  swarmId?: string | null;
  sessionUuid?: string | null;
  parentQueenId?: string | null;
  capabilities?: string[];
  createdAt?: number | null;
  lastActive?: number | null;
  mock?: boolean;
  metrics: MetricValues;
  /** Fields present but unusable (wrong type or out of range): logged, never stored. */
  rejected: string[];
}

function readMetrics(o: Record<string, unknown>, out: MetricValues, rejected: string[]): void {
  for (const [key, rule] of Object.entries(METRIC_RULES) as [keyof typeof METRIC_RULES, (typeof METRIC_RULES)[keyof typeof METRIC_RULES]][]) {
    const raw = pick(o, rule.keys);
    if (raw === undefined) continue;
    const n = toNumber(raw);
    if (n === null) out[key] = null;
    else if (n === undefined || n < rule.min || n > rule.max || (rule.int && !Number.isInteger(n))) rejected.push(key);
    else out[key] = n;
  }
  const task = pick(o, ['currentTask', 'current_task', 'task']);
  if (task !== undefined) {
    if (task === null) out.currentTask = null;
    else if (isObject(task)) {
      const t = toStr(pick(task, ['description', 'title', 'name', 'task', 'id']), 8192);
      if (typeof t === 'string') out.currentTask = t;
      else rejected.push('currentTask');
    } else {
      const t = toStr(task, 8192);
      if (t === undefined) rejected.push('currentTask');
      else out.currentTask = t === '' ? null : t;
    }
  }
}

/** Maps one agent object; null when it has no usable id (garbage is rejected, not guessed at). */
export function normalizeAgent(raw: unknown): AgentPatch | null {
  if (!isObject(raw)) return null;
  const idRaw = pick(raw, ['id', 'agentId', 'agent_id']);
  const id = typeof idRaw === 'string' ? idRaw.trim() : typeof idRaw === 'number' && Number.isFinite(idRaw) ? String(idRaw) : '';
  if (id.length === 0 || id.length > 256) return null;
  const p: AgentPatch = { id, metrics: {}, rejected: [] };
  const name = toStr(pick(raw, ['name', 'agentName', 'agent_name']), 256);
  if (typeof name === 'string') p.name = name;
  const type = toStr(pick(raw, ['type', 'agentType', 'agent_type', 'role']), 64);
  if (typeof type === 'string' && type.length > 0) p.type = type.toLowerCase();
  const statusRaw = pick(raw, ['status', 'state']);
  if (statusRaw !== undefined) {
    const status = toStatus(statusRaw);
    if (status) p.status = status;
    else p.rejected.push('status');
  }
  const swarm = toStr(pick(raw, ['swarmId', 'swarm_id']), 256);
  if (swarm !== undefined) p.swarmId = swarm === '' ? null : swarm;
  const session = toStr(pick(raw, ['sessionId', 'session_id', 'sessionUuid', 'session_uuid']), 64);
  if (session !== undefined) p.sessionUuid = session === '' ? null : session;
  const parent = toStr(pick(raw, ['parentQueenId', 'parent_queen_id', 'parentId', 'parent_id', 'queenId', 'queen_id']), 256);
  if (parent !== undefined) p.parentQueenId = parent === '' ? null : parent;
  const caps = raw.capabilities;
  if (Array.isArray(caps)) p.capabilities = caps.filter((c): c is string => typeof c === 'string').slice(0, 64).map((c) => c.slice(0, 128));
  else if (typeof caps === 'string') p.capabilities = caps.split(',').map((c) => c.trim()).filter(Boolean).slice(0, 64).map((c) => c.slice(0, 128));
  const created = toTime(pick(raw, ['created', 'createdAt', 'created_at', 'spawnedAt', 'spawned_at']));
  if (created !== undefined) p.createdAt = created;
  const last = toTime(pick(raw, ['lastActive', 'last_active', 'lastActivity', 'last_activity', 'lastSeen']));
  if (last !== undefined) p.lastActive = last;
  if (raw.mock === true || p.swarmId === 'mock-swarm') p.mock = true;
  readMetrics(raw, p.metrics, p.rejected);
  for (const nested of [raw.metrics, raw.performance]) if (isObject(nested)) readMetrics(nested, p.metrics, p.rejected);
  return p;
}

/** The agent array inside a tool payload: `{agents: [...]}`, `{data: {agents}}` or a bare array. */
export function agentArray(payload: unknown): unknown[] | null {
  if (Array.isArray(payload)) return payload;
  if (!isObject(payload)) return null;
  if (Array.isArray(payload.agents)) return payload.agents;
  if (isObject(payload.data) && Array.isArray(payload.data.agents)) return payload.data.agents;
  return null;
}

export type SwarmPatch = { id: string } & Partial<Omit<Swarm, 'id'>>;

export function normalizeSwarm(raw: unknown): SwarmPatch | null {
  if (!isObject(raw)) return null;
  const idRaw = pick(raw, ['swarmId', 'swarm_id', 'id']);
  const id = typeof idRaw === 'string' ? idRaw.trim() : '';
  if (id.length === 0 || id.length > 256) return null;
  const p: SwarmPatch = { id };
  const str = (keys: string[], max: number) => {
    const v = toStr(pick(raw, keys), max);
    return v === undefined ? undefined : v === '' ? null : v;
  };
  const int = (keys: string[]) => {
    const n = toNumber(pick(raw, keys));
    if (n === null) return null;
    return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
  };
  const set = <K extends keyof SwarmPatch>(k: K, v: SwarmPatch[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  set('sessionUuid', str(['sessionId', 'session_id', 'sessionUuid'], 64));
  set('topology', str(['topology'], 32));
  set('objective', str(['objective', 'task', 'name'], 8192));
  set('status', str(['status', 'state'], 32));
  set('queenId', str(['queenId', 'queen_id'], 256));
  set('agentCount', int(['agentCount', 'agent_count', 'totalAgents', 'total_agents']));
  set('activeAgents', int(['activeAgents', 'active_agents']));
  set('taskCount', int(['taskCount', 'task_count', 'totalTasks', 'total_tasks']));
  set('pendingTasks', int(['pendingTasks', 'pending_tasks']));
  set('completedTasks', int(['completedTasks', 'completed_tasks']));
  if (id === 'mock-swarm' || raw.mock === true) p.mock = true;
  return p;
}

export function swarmArray(payload: unknown): unknown[] | null {
  if (Array.isArray(payload)) return payload;
  if (!isObject(payload)) return null;
  if (Array.isArray(payload.swarms)) return payload.swarms;
  if (isObject(payload.data) && Array.isArray(payload.data.swarms)) return payload.data.swarms;
  return null;
}

export interface MessagePatch {
  seq: number | null;
  from: string;
  to: string;
  swarmId: string | null;
  bytes: number;
  kind: string | null;
  timestamp: number;
}

export function normalizeMessage(raw: unknown, now: number): MessagePatch | null {
  if (!isObject(raw)) return null;
  const from = toStr(pick(raw, ['from', 'source', 'sender']), 256);
  const to = toStr(pick(raw, ['to', 'target', 'recipient']), 256);
  if (typeof from !== 'string' || typeof to !== 'string' || !from || !to || from === to) return null;
  const bytes = toNumber(pick(raw, ['bytes', 'size', 'dataVolume', 'data_volume']));
  const seq = toNumber(raw.seq);
  const swarm = toStr(pick(raw, ['swarmId', 'swarm_id']), 256);
  const kind = toStr(raw.kind, 64);
  return {
    seq: typeof seq === 'number' && Number.isInteger(seq) ? seq : null,
    from,
    to,
    swarmId: typeof swarm === 'string' ? swarm : null,
    bytes: typeof bytes === 'number' && bytes >= 0 ? bytes : 0,
    kind: typeof kind === 'string' ? kind : null,
    timestamp: toTime(pick(raw, ['timestamp', 'time'])) ?? now,
  };
}
