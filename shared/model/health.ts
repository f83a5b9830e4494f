/** Health of the two planes as the relay reports it (`health` messages, GET /api/hybrid/status). */
import { z } from 'zod';

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

export const HealthSchema = z.object({
  status: PlaneHealthSchema,
  serverTime: z.number(),
  control: z.object({
    state: PlaneHealthSchema,
    driver: z.enum(['docker', 'local', 'none']),
    backend: z.enum(['session-manager', 'claude-flow', 'none']),
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
});
export type Health = z.infer<typeof HealthSchema>;
