/**
 * The one HTTP route table. The relay registers and validates from it, and generates its OpenAPI
 * description from it (relay/http/openapi.ts, GET /api/openapi.json); the client calls through it.
 * JSON is camelCase everywhere. Errors are always `{ error: { code, message } }` (log-unavailable adds `reason`).
 */
import { z } from 'zod';
import { AgentSchema, EdgeSchema } from './model/agent.js';
import {
  SessionSchema,
  SwarmSchema,
  TopologySchema,
  StrategySchema,
  PrioritySchema,
  SessionStatusSchema,
} from './model/session.js';
import { HealthSchema, PlaneHealthSchema } from './model/health.js';
import { TargetNameSchema } from './model/target.js';
import { LogChunkSchema, FilesListSchema, TasksListSchema, LOG_READ_MAX_BYTES, LOG_READ_DEFAULT_BYTES, LogUnavailableReasonSchema } from './model/console.js';

/** Max task text (bytes of UTF-8) accepted anywhere. */
export const MAX_TASK_BYTES = 8 * 1024;
/** Max HTTP JSON body. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Session UUIDs as the session manager makes them (v4, lower-case). */
export const SESSION_UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** claude-flow's `session-<ms>-<suffix>` ids. */
export const CLAUDE_FLOW_SESSION_PATTERN = /^session-\d{10,16}-[a-z0-9]{3,16}$/;
/**
 * Swarm ids: claude-flow 2.7's hive-mind `swarm-<ms>-<suffix>` (and our engine's `swarm-...`), 2.7's MCP
 * `swarm_<ms>_<9>`, 3.x's MCP `swarm-<ms>-<1-6>` and 3.x's hive `hive-<13 digits>` (a 3.x session's swarm
 * id: `hive-mind status` names its hive so). Exact shapes only: `hive-worker-...` and anything with a
 * leading dash, a space or a line break never match.
 */
export const SWARM_ID_PATTERN = /^(?:swarm-[A-Za-z0-9-]{3,64}|swarm_\d{13}_[a-z0-9]{9}|hive-\d{13})$/;
/** A swarm id as the API takes it: bare, or in fleet mode qualified by its target (`gpu-box:swarm-...`, docs/fleet.md). */
export const API_SWARM_ID_PATTERN = /^(?:[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?:)?(?:swarm-[A-Za-z0-9-]{3,64}|swarm_\d{13}_[a-z0-9]{9}|hive-\d{13})$/;

export const ErrorCodeSchema = z.enum([
  'bad-request',
  'unauthorized',
  'not-found',
  'session-not-found',
  'conflict',
  /** The backend driving the container cannot do this (claude-flow 3.x: pause, resume); the message says why. */
  'unsupported',
  'rate-limited',
  'payload-too-large',
  'docker-unavailable',
  'container-not-running',
  'command-failed',
  'parse-error',
  'timeout',
  'circuit-open',
  'read-only',
  'mcp-unavailable',
  /** A spawn without `target` found no healthy fleet target to pick; the message names each target's state. */
  'no-healthy-target',
  /** The session's log cannot be read; the message says why (see LOG_UNAVAILABLE_REASONS). */
  'log-unavailable',
  /** A file path that escapes the session's output directory, or a symlink out of it; nothing is read. */
  'path-refused',
  /** A file over FILE_DOWNLOAD_MAX_BYTES. */
  'file-too-large',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;
export const ErrorBodySchema = z.object({
  error: z.object({
    code: ErrorCodeSchema,
    message: z.string(),
    /** With code 'log-unavailable' only: which of LOG_UNAVAILABLE_REASONS (the page says which). */
    reason: LogUnavailableReasonSchema.optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Task text: non-empty, at most MAX_TASK_BYTES of UTF-8, no NUL. */
export const TaskTextSchema = z
  .string()
  .min(1, 'task description is required')
  .refine((s) => s.trim().length > 0, 'task description is required')
  .refine((s) => !s.includes('\u0000'), 'task text must not contain NUL')
  .refine((s) => new TextEncoder().encode(s).byteLength <= MAX_TASK_BYTES, `task text is over ${MAX_TASK_BYTES} bytes`);

export const AgentTypeNameSchema = z.string().regex(/^[a-z_]{2,40}$/, 'agent type must be lower-case letters and _');

export const InitializeSwarmBodySchema = z.strictObject({
  topology: TopologySchema.default('mesh'),
  maxAgents: z.number().int().min(3).max(20).default(8),
  strategy: StrategySchema.default('adaptive'),
  priority: PrioritySchema.default('medium'),
  enableNeural: z.boolean().default(true),
  agentTypes: z.array(AgentTypeNameSchema).min(1, 'select at least one agent type').max(20),
  customPrompt: TaskTextSchema,
  /** The fleet target to spawn on (Health.targets[].name); absent: the relay picks (docs/fleet.md, pick policy). */
  target: TargetNameSchema.optional(),
});
export type InitializeSwarmBody = z.infer<typeof InitializeSwarmBodySchema>;

export const InitializeSwarmResponseSchema = z.object({
  uuid: z.string(),
  status: SessionStatusSchema,
  swarmId: z.string().nullable(),
  /** The target it was spawned on: the one asked for, or the one the relay picked. */
  target: TargetNameSchema,
  /** Why the relay picked that target ("fewest running sessions (0) among 3 healthy targets"); null when one was asked for. */
  pickedBecause: z.string().nullable(),
});

export const SpawnAgentBodySchema = z.strictObject({
  agentType: AgentTypeNameSchema,
  swarmId: z.string().regex(API_SWARM_ID_PATTERN).optional(),
  sessionUuid: z.string().regex(SESSION_UUID_PATTERN).optional(),
  method: z.enum(['docker', 'mcp', 'hybrid']).default('hybrid'),
  name: z.string().max(128).optional(),
});
export const SpawnAgentResponseSchema = z.object({
  success: z.boolean(),
  methodUsed: z.enum(['docker', 'mcp']),
  agentId: z.string().nullable(),
  swarmId: z.string().nullable(),
  message: z.string(),
});

export const SubmitTaskBodySchema = z.strictObject({
  task: TaskTextSchema,
  priority: PrioritySchema.default('medium'),
});
export const SubmitTaskResponseSchema = z.object({ accepted: z.boolean(), taskId: z.string().nullable(), message: z.string() });

export const SessionActionResponseSchema = z.object({ uuid: z.string(), status: SessionStatusSchema });

export const BotsStatusResponseSchema = z.object({
  connected: z.boolean(),
  host: z.string(),
  port: z.number(),
  agentCount: z.number().int(),
  agents: z.array(AgentSchema.pick({ id: true, name: true, type: true, status: true, swarmId: true })),
});
export const AgentsResponseSchema = z.object({ agents: z.array(AgentSchema) });
export const GraphDataResponseSchema = z.object({
  nodes: z.array(AgentSchema),
  edges: z.array(EdgeSchema),
  swarms: z.array(SwarmSchema),
});
export const SessionsResponseSchema = z.object({ sessions: z.array(SessionSchema), stale: z.boolean() });
export const SessionResponseSchema = z.object({ session: SessionSchema });
export const HybridStatusResponseSchema = HealthSchema;
export const HybridPerformanceResponseSchema = z.object({
  execLatencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), count: z.number().int() }),
  mcpLatencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable(), count: z.number().int() }),
  execFailures: z.record(z.string(), z.number().int()),
  mcpReconnects: z.number().int(),
  websocketClients: z.number().int(),
  relayRssBytes: z.number(),
});
export const HealthResponseSchema = z.object({
  status: PlaneHealthSchema,
  version: z.string(),
  protocolVersion: z.number(),
  uptimeSeconds: z.number(),
});

/** OpenAPI 3.1 document (GET /api/openapi.json); its shape is OpenAPI's own, checked here only at the top. */
export const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
});

/** Values of `?includeMock=` that add the mock agents; any other value (or none) leaves them out. */
export const INCLUDE_MOCK_VALUES = ['1', 'true', 'yes'] as const;
export const IncludeMockQuerySchema = z.object({
  includeMock: z
    .enum([...INCLUDE_MOCK_VALUES, '0', 'false', 'no'])
    .optional()
    .describe("'1', 'true' or 'yes' also lists claude-flow's placeholder mock-swarm agents, hidden by default (HIDE_MOCK)"),
});

/** `?target=` of a list: only that target's (an unknown name is a 404 naming those that exist). */
export const TargetQuerySchema = z.object({
  target: TargetNameSchema.optional().describe('only this fleet target\'s entries (Health.targets[].name); unknown: 404 naming the targets'),
});
/** Lists that hide mock agents and filter by target. */
export const AgentListQuerySchema = IncludeMockQuerySchema.extend(TargetQuerySchema.shape);

export const UuidParamsSchema = z.object({ id: z.string().regex(SESSION_UUID_PATTERN, 'not a session uuid') });
export const SessionParamsSchema = z.object({ uuid: z.string().regex(SESSION_UUID_PATTERN, 'not a session uuid') });

/** `?from=&max=&logId=` of a log read; from defaults to 0, max to LOG_READ_DEFAULT_BYTES. */
export const LogQuerySchema = z.object({
  from: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('byte offset to read from (the last answer\'s next)'),
  max: z.coerce.number().int().min(1).max(LOG_READ_MAX_BYTES).default(LOG_READ_DEFAULT_BYTES).describe(`bytes to return at most (<= ${LOG_READ_MAX_BYTES})`),
  logId: z.string().max(128).regex(/^[A-Za-z0-9:._-]+$/).optional().describe('the last answer\'s logId: a different file is reported as rotated'),
});
export const SessionFileParamsSchema = z.object({
  uuid: z.string().regex(SESSION_UUID_PATTERN, 'not a session uuid'),
  /** The rest of the path after /files/ (express `*path`); checked again by the relay. */
  path: z.string().min(1).max(1024),
});

export interface RouteDef {
  method: 'get' | 'post' | 'delete';
  path: string;
  /** One line for integrators (the OpenAPI summary). */
  summary: string;
  params?: z.ZodType;
  /** Query parameters the route reads (an object schema; unknown keys such as `token` are ignored). */
  query?: z.ZodType;
  body?: z.ZodType;
  response: z.ZodType;
  /** HTTP status of a success. */
  status: number;
}

function route<const R extends RouteDef>(r: R): R {
  return r;
}

export const routes = {
  initializeSwarm: route({ method: 'post', path: '/api/bots/initialize-swarm', summary: 'Spawn a hive-mind swarm session (answered once the session manager has its uuid)', body: InitializeSwarmBodySchema, response: InitializeSwarmResponseSchema, status: 202 }),
  spawnAgentHybrid: route({ method: 'post', path: '/api/bots/spawn-agent-hybrid', summary: 'Spawn one agent: through MCP into a running swarm, or as a new one-agent swarm through exec', body: SpawnAgentBodySchema, response: SpawnAgentResponseSchema, status: 200 }),
  botsStatus: route({ method: 'get', path: '/api/bots/status', summary: 'MCP telemetry connection and the agents it reports', query: AgentListQuerySchema, response: BotsStatusResponseSchema, status: 200 }),
  botsAgents: route({ method: 'get', path: '/api/bots/agents', summary: 'Every agent in the graph, with its metrics (null where unknown)', query: AgentListQuerySchema, response: AgentsResponseSchema, status: 200 }),
  botsData: route({ method: 'get', path: '/api/bots/data', summary: 'The agent graph: nodes, edges and swarms', query: AgentListQuerySchema, response: GraphDataResponseSchema, status: 200 }),
  removeTask: route({ method: 'delete', path: '/api/bots/remove-task/:id', summary: 'Stop a session', params: UuidParamsSchema, response: SessionActionResponseSchema, status: 200 }),
  pauseTask: route({ method: 'post', path: '/api/bots/pause-task/:id', summary: 'Pause a session', params: UuidParamsSchema, response: SessionActionResponseSchema, status: 200 }),
  resumeTask: route({ method: 'post', path: '/api/bots/resume-task/:id', summary: 'Resume a paused session', params: UuidParamsSchema, response: SessionActionResponseSchema, status: 200 }),
  submitTask: route({ method: 'post', path: '/api/sessions/:uuid/tasks', summary: "Submit a task to a running session's swarm (through MCP)", params: SessionParamsSchema, body: SubmitTaskBodySchema, response: SubmitTaskResponseSchema, status: 202 }),
  sessionTasks: route({ method: 'get', path: '/api/sessions/:uuid/tasks', summary: "A session's tasks with status, assignee and progress, where its backend reports tasks", params: SessionParamsSchema, response: TasksListSchema, status: 200 }),
  sessionLog: route({ method: 'get', path: '/api/sessions/:uuid/log', summary: "A byte range of the session's log (UTF-8, never cut inside a character); read again from `next` for what is new", params: SessionParamsSchema, query: LogQuerySchema, response: LogChunkSchema, status: 200 }),
  sessionFiles: route({ method: 'get', path: '/api/sessions/:uuid/files', summary: "The session's output directory, bounded in count and depth", params: SessionParamsSchema, response: FilesListSchema, status: 200 }),
  sessionFile: route({ method: 'get', path: '/api/sessions/:uuid/files/*path', summary: 'One output file, streamed with its content type (paths out of the directory are refused)', params: SessionFileParamsSchema, response: z.unknown().describe('the file bytes'), status: 200 }),
  sessions: route({ method: 'get', path: '/api/sessions', summary: 'Every session in the registry (stale: the last list, when the container does not answer)', query: TargetQuerySchema, response: SessionsResponseSchema, status: 200 }),
  session: route({ method: 'get', path: '/api/sessions/:uuid', summary: 'One session', params: SessionParamsSchema, response: SessionResponseSchema, status: 200 }),
  hybridStatus: route({ method: 'get', path: '/api/hybrid/status', summary: 'Combined health of both planes, with each degraded mode and what to do', response: HybridStatusResponseSchema, status: 200 }),
  hybridPerformance: route({ method: 'get', path: '/api/hybrid/performance', summary: 'Exec and MCP latency, failures, reconnects, WebSocket clients, relay memory', response: HybridPerformanceResponseSchema, status: 200 }),
  openapi: route({ method: 'get', path: '/api/openapi.json', summary: 'This API description (OpenAPI 3.1), generated from the route table', response: OpenApiDocumentSchema, status: 200 }),
  health: route({ method: 'get', path: '/health', summary: 'Overall status, relay and protocol versions, uptime', response: HealthResponseSchema, status: 200 }),
} as const;
export type Routes = typeof routes;
export type RouteName = keyof Routes;
export type RouteBody<N extends RouteName> = Routes[N] extends { body: z.ZodType } ? z.input<Routes[N]['body']> : never;
export type RouteResponse<N extends RouteName> = z.infer<Routes[N]['response']>;

/** Fills `:param` placeholders; values are URI-encoded. */
export function routePath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/([:*])([a-zA-Z]+)/g, (_, kind: string, k: string) => {
    const v = params[k];
    if (v === undefined) throw new Error(`missing route parameter ${k}`);
    // A `*rest` wildcard keeps its slashes: each segment is encoded on its own.
    return kind === '*' ? v.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(v);
  });
}
