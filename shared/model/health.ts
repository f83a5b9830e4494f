/** Health of the two planes as the relay reports it (`health` messages, GET /api/hybrid/status). */
import { z } from 'zod';
import { TargetLifecycleSchema, TargetNameSchema, TargetSourceSchema } from './target.js';

export const PlaneHealthSchema = z.enum(['healthy', 'degraded', 'unavailable']);
export type PlaneHealth = z.infer<typeof PlaneHealthSchema>;

export const McpStateSchema = z.enum(['connected', 'connecting', 'reconnecting', 'disconnected', 'disabled']);
export type McpState = z.infer<typeof McpStateSchema>;

export const BreakerStateSchema = z.enum(['closed', 'open', 'half-open']);
export type BreakerState = z.infer<typeof BreakerStateSchema>;

export const DEGRADED_MODES = ['docker-unavailable', 'container-down', 'mcp-down', 'both-down', 'telemetry-stale', 'breaker-open', 'read-only'] as const;

export const DegradedModeSchema = z.object({
  code: z.enum(DEGRADED_MODES),
  /** What is wrong, for a person. */
  message: z.string(),
  /** What still works meanwhile. */
  stillWorks: z.string(),
  /** What to do about it. */
  action: z.string(),
});
export type DegradedMode = z.infer<typeof DegradedModeSchema>;

/** Which kind of backend drives a container: the kit's session manager, or a bare claude-flow 2.x or 3.x. */
export const BACKEND_KINDS = ['kit', 'claude-flow-2', 'claude-flow-3'] as const;
export const BackendKindSchema = z.enum(BACKEND_KINDS);
export type BackendKind = z.infer<typeof BackendKindSchema>;
/** The operations a backend states it does for real; the API answers `unsupported` (422) for the rest. */
export const BACKEND_OPERATIONS = ['spawn', 'list', 'stop', 'pause', 'resume', 'cleanup', 'reap', 'metrics'] as const;
export type BackendOperation = (typeof BACKEND_OPERATIONS)[number];

/** The backend's own account of itself (relay/control/backends: `describe()`). */
export const BackendInfoSchema = z.object({
  kind: BackendKindSchema,
  /** As the container printed it (`3.43.0`); null when not known. */
  version: z.string().max(64).nullable(),
  /** Each operation and whether the backend does it for real (never faked). */
  operations: z.object(Object.fromEntries(BACKEND_OPERATIONS.map((o) => [o, z.boolean()])) as Record<BackendOperation, z.ZodBoolean>),
  /** What a person should know: "no pause or resume (3.x has neither)", "no per-agent CPU (shown as unknown)". */
  limits: z.array(z.string().max(500)).max(20),
});
export type BackendInfo = z.infer<typeof BackendInfoSchema>;

/** One fleet target's health (issue 14, docs/fleet.md): `Health.targets`. */
export const TargetHealthSchema = z.object({
  name: TargetNameSchema,
  source: TargetSourceSchema,
  lifecycle: TargetLifecycleSchema,
  /** The engine as a person reads it (`unix:///var/run/docker.sock`, `tcp://gpu.lan:2376 (TLS)`, `ssh://ci@build.lan`); never a key path. */
  docker: z.string().max(300),
  container: z.string().max(128),
  /** Worst of its control and telemetry. */
  status: PlaneHealthSchema,
  control: z.object({
    state: PlaneHealthSchema,
    backend: z.enum(['session-manager', 'claude-flow', 'none']),
    backendInfo: BackendInfoSchema.nullable(),
    execLatencyMs: z.number().nullable(),
    breaker: BreakerStateSchema,
    lastError: z.string().nullable(),
  }),
  telemetry: z.object({
    state: McpStateSchema,
    host: z.string(),
    port: z.number(),
    latencyMs: z.number().nullable(),
    ageMs: z.number().nullable(),
  }),
  /** Sessions spawning, active or paused on it. */
  activeSessions: z.number().int(),
  degraded: z.array(DegradedModeSchema),
});
export type TargetHealth = z.infer<typeof TargetHealthSchema>;

export const HealthSchema = z.object({
  status: PlaneHealthSchema,
  serverTime: z.number(),
  control: z.object({
    state: PlaneHealthSchema,
    driver: z.enum(['docker', 'local', 'none']),
    backend: z.enum(['session-manager', 'claude-flow', 'none']),
    /** Which kind and version drive the container and what they can do; null while none was detected (absent from older relays). */
    backendInfo: BackendInfoSchema.nullable().optional(),
    container: z.string().nullable(),
    execLatencyMs: z.number().nullable(),
    breaker: BreakerStateSchema,
    lastError: z.string().nullable(),
    /** Container stats when the docker driver reads them; null when unknown. */
    containerCpuPercent: z.number().nullable(),
    containerMemoryBytes: z.number().nullable(),
  }),
  telemetry: z.object({
    state: McpStateSchema,
    host: z.string(),
    port: z.number(),
    latencyMs: z.number().nullable(),
    reconnects: z.number().int(),
    /** ms since the last telemetry update arrived; null when none ever did. */
    ageMs: z.number().nullable(),
    push: z.boolean(),
    lastError: z.string().nullable(),
  }),
  websocketClients: z.number().int(),
  activeSessions: z.number().int(),
  degraded: z.array(DegradedModeSchema),
  /**
   * Every target of the fleet (docs/fleet.md), in HIVE_TARGETS order then discovered ones by name; one entry
   * (`local`) for a relay without HIVE_TARGETS. `control`/`telemetry` above describe the first; `status`
   * is the worst of all. Absent only from relays older than issue 14.
   */
  targets: z.array(TargetHealthSchema).max(64).optional(),
});
export type Health = z.infer<typeof HealthSchema>;
