/**
 * The agent model shared by relay and browser (upstream-contracts.md section 5).
 * Every metric is nullable: null means nobody reported it, and the UI shows "unknown". Never invent one.
 */
import { z } from 'zod';
import { TargetNameSchema } from './target.js';

export const AGENT_TYPES = [
  'queen',
  'coordinator',
  'researcher',
  'coder',
  'analyst',
  'architect',
  'tester',
  'reviewer',
  'optimizer',
  'documenter',
  'monitor',
  'specialist',
  'requirements_analyst',
  'design_architect',
  'task_planner',
  'implementation_coder',
  'quality_reviewer',
  'steering_documenter',
] as const;
export const AgentTypeSchema = z.enum(AGENT_TYPES);
export type AgentType = z.infer<typeof AgentTypeSchema>;

export const AGENT_STATUSES = ['initializing', 'idle', 'busy', 'active', 'error', 'terminating', 'offline'] as const;
export const AgentStatusSchema = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/** Where a value came from. `unknown` is never used for a non-null value. */
export const METRIC_SOURCES = ['mcp', 'mcp-push', 'exec', 'derived', 'relay'] as const;
export const MetricSourceSchema = z.enum(METRIC_SOURCES);
export type MetricSource = z.infer<typeof MetricSourceSchema>;

/** The metric fields; each has an entry in `Agent.sources` when non-null. */
export const AGENT_METRIC_KEYS = [
  'health',
  'cpuUsage',
  'memoryUsage',
  'workload',
  'activity',
  'tokens',
  'tokenRate',
  'currentTask',
  'tasksActive',
  'tasksCompleted',
  'successRate',
] as const;
export type AgentMetricKey = (typeof AGENT_METRIC_KEYS)[number];

const nullableNumber = z.number().finite().nullable();
const unit = z.number().finite().min(0).max(1).nullable();
const percent = z.number().finite().min(0).max(100).nullable();

export const AgentSchema = z.object({
  /**
   * The id the telemetry source uses (claude-flow agent id, or `<swarm>/<name>` for exec-only agents); in
   * fleet mode (HIVE_TARGETS) qualified `<target>:<id>` so two containers' `agent-1` never clash.
   */
  id: z.string().min(1).max(256),
  /**
   * The fleet target (docs/fleet.md) it comes from: set by the relay on everything it sends, `local` for a
   * relay without HIVE_TARGETS; absent only from relays older than issue 14.
   */
  target: TargetNameSchema.optional(),

  /** Stable u32 (< 2^30) used in V2 frames; persisted by the relay so positions survive restarts. */
  nodeId: z.number().int().min(0).max(0x3fffffff),
  name: z.string().max(256),
  /** One of AGENT_TYPES when recognised; other strings are kept verbatim (`specialist` styling). */
  type: z.string().max(64),
  status: AgentStatusSchema,
  swarmId: z.string().max(256).nullable(),
  sessionUuid: z.string().max(64).nullable(),
  parentQueenId: z.string().max(256).nullable(),
  capabilities: z.array(z.string().max(128)).max(64),
  createdAt: nullableNumber,
  lastActive: nullableNumber,
  health: percent,
  cpuUsage: percent,
  memoryUsage: percent,
  workload: unit,
  activity: unit,
  tokens: z.number().finite().min(0).nullable(),
  /** tokens per minute */
  tokenRate: z.number().finite().min(0).nullable(),
  currentTask: z.string().max(8192).nullable(),
  tasksActive: z.number().int().min(0).nullable(),
  tasksCompleted: z.number().int().min(0).nullable(),
  successRate: unit,
  /** claude-flow's hard-coded `mock-swarm` agents and other placeholder data: hidden by default. */
  mock: z.boolean(),
  /** Source of every non-null metric. */
  sources: z.partialRecord(z.enum(AGENT_METRIC_KEYS), MetricSourceSchema),
  /** Relay time (ms since epoch) of the last update to this agent. */
  updatedAt: z.number().finite(),
});
export type Agent = z.infer<typeof AgentSchema>;

export const EdgeSchema = z.object({
  /** `${source}->${target}` with source < target for undirected traffic. */
  id: z.string().max(600),
  source: z.string().max(256),
  target: z.string().max(256),
  /** hierarchy: queen-worker structure; message: observed traffic; topology: declared swarm links. */
  kind: z.enum(['hierarchy', 'message', 'topology']),
  messageCount: z.number().int().min(0),
  /** bytes */
  dataVolume: z.number().min(0),
  lastMessageTime: nullableNumber,
  /**
   * The fleet target (docs/fleet.md) both ends are on (`target` above is the edge's far end, hence the
   * name): set by the relay on every edge it sends, `local` without HIVE_TARGETS; absent only from relays
   * older than issue 14. Edges never cross targets.
   */
  fleetTarget: TargetNameSchema.optional(),
});
export type Edge = z.infer<typeof EdgeSchema>;

export function edgeId(a: string, b: string): string {
  return a < b ? `${a}->${b}` : `${b}->${a}`;
}

/** Empty agent with every metric unknown; callers fill what a source reported. */
export function unknownAgent(id: string, nodeId: number, now: number): Agent {
  return {
    id,
    nodeId,
    name: id,
    type: 'specialist',
    status: 'initializing',
    swarmId: null,
    sessionUuid: null,
    parentQueenId: null,
    capabilities: [],
    createdAt: null,
    lastActive: null,
    health: null,
    cpuUsage: null,
    memoryUsage: null,
    workload: null,
    activity: null,
    tokens: null,
    tokenRate: null,
    currentTask: null,
    tasksActive: null,
    tasksCompleted: null,
    successRate: null,
    mock: false,
    sources: {},
    updatedAt: now,
  };
}
