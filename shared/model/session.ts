/** Sessions (one per spawned swarm, from the container's session registry) and swarms. */
import { z } from 'zod';
import { TargetNameSchema } from './target.js';

/**
 * created/starting/running/completed/failed come from the upstream session manager; paused, stopped and
 * interrupted (claims to run but no live process) are ours. `spawning` is the relay's state between
 * the spawn request and the session manager's first answer.
 */
export const SESSION_STATUSES = [
  'spawning',
  'created',
  'starting',
  'running',
  'paused',
  'stopped',
  'completed',
  'failed',
  'interrupted',
] as const;
export const SessionStatusSchema = z.enum(SESSION_STATUSES);
export type SessionStatus = z.infer<typeof SessionStatusSchema>;

export const TERMINAL_SESSION_STATUSES: readonly SessionStatus[] = ['stopped', 'completed', 'failed', 'interrupted'];

export const TOPOLOGIES = ['mesh', 'hierarchical', 'ring', 'star'] as const;
export const TopologySchema = z.enum(TOPOLOGIES);
export type Topology = z.infer<typeof TopologySchema>;

export const STRATEGIES = ['strategic', 'tactical', 'adaptive'] as const;
export const StrategySchema = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof StrategySchema>;

/** `critical` is accepted from callers and stored as `high` (the session manager knows three). */
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const PrioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof PrioritySchema>;

/** Metadata the relay passes to `create` and the engine follows. */
export const SwarmConfigSchema = z.object({
  topology: TopologySchema,
  maxAgents: z.number().int().min(1).max(100),
  strategy: StrategySchema,
  priority: PrioritySchema,
  enableNeural: z.boolean(),
  agentTypes: z.array(z.string().regex(/^[a-z_]{2,40}$/)).min(1).max(20),
});
export type SwarmConfig = z.infer<typeof SwarmConfigSchema>;

export const SessionSchema = z.object({
  uuid: z.string().max(64),
  swarmId: z.string().max(256).nullable(),
  task: z.string().max(8192),
  priority: z.enum(['low', 'medium', 'high']),
  status: SessionStatusSchema,
  createdAt: z.number().nullable(),
  updatedAt: z.number().nullable(),
  lastActivity: z.number().nullable(),
  config: SwarmConfigSchema.partial().nullable(),
  /** Which backend owns it: our session manager or a bare claude-flow CLI. */
  backend: z.enum(['session-manager', 'claude-flow']),
  /** 0..1 when reported, else null. */
  progress: z.number().min(0).max(1).nullable(),
  agentCount: z.number().int().min(0).nullable(),
  /** When this session was re-spawned after a container restart: the uuid it replaces. */
  replaces: z.string().max(64).nullable(),
  /**
   * The fleet target (docs/fleet.md) it runs on: set by the relay on everything it sends, `local` for a
   * relay without HIVE_TARGETS; absent only from relays older than issue 14.
   */
  target: TargetNameSchema.optional(),
});
export type Session = z.infer<typeof SessionSchema>;

export const SwarmSchema = z.object({
  id: z.string().max(256),
  sessionUuid: z.string().max(64).nullable(),
  topology: z.string().max(32).nullable(),
  objective: z.string().max(8192).nullable(),
  status: z.string().max(32).nullable(),
  queenId: z.string().max(256).nullable(),
  agentCount: z.number().int().min(0).nullable(),
  activeAgents: z.number().int().min(0).nullable(),
  taskCount: z.number().int().min(0).nullable(),
  pendingTasks: z.number().int().min(0).nullable(),
  completedTasks: z.number().int().min(0).nullable(),
  mock: z.boolean(),
  /**
   * The fleet target (docs/fleet.md) it comes from: set by the relay on everything it sends, `local` for a
   * relay without HIVE_TARGETS; absent only from relays older than issue 14.
   */
  target: TargetNameSchema.optional(),
});
export type Swarm = z.infer<typeof SwarmSchema>;

/** Status as the UI groups it (upstream: created/starting -> spawning, running -> active). */
export function sessionUiState(status: SessionStatus): 'spawning' | 'active' | 'paused' | 'done' | 'failed' {
  switch (status) {
    case 'spawning':
    case 'created':
    case 'starting':
      return 'spawning';
    case 'running':
      return 'active';
    case 'paused':
      return 'paused';
    case 'completed':
    case 'stopped':
      return 'done';
    default:
      return 'failed';
  }
}
