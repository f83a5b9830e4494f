/**
 * Every WebSocket JSON message in both directions (binary V2 frames are in binaryV2.ts).
 * Discriminated unions on `type`; each side validates what it receives with these schemas.
 */
import { z } from 'zod';
import { AgentSchema, EdgeSchema } from '../model/agent.js';
import { SessionSchema, SwarmSchema, SessionStatusSchema } from '../model/session.js';
import { HealthSchema } from '../model/health.js';
import { LogChunkSchema, LogUnavailableReasonSchema } from '../model/console.js';
import { MAX_NODE_ID } from './binaryV2.js';

/** Bumped on any incompatible change; sent in the server's hello. */
export const PROTOCOL_VERSION = 1;
export const WS_PATH = '/wss';
/** Inbound WebSocket message cap (bytes), both JSON and binary. */
export const WS_MAX_PAYLOAD = 1024 * 1024;
/** Capacity of the relay's event ring that reconnecting clients resume from. */
export const EVENT_RING_SIZE = 1000;

/** Close codes (RFC 6455) used when a peer sends something we refuse. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /**
   * The client's hello names another PROTOCOL_VERSION (a page older or newer than the relay: reload it).
   * A policy violation (1008) on the wire, so every peer knows the code; an `error` message with code
   * `protocol-mismatch` says it in words first.
   */
  protocolMismatch: 1008,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

export const EVENT_KINDS = [
  'spawn',
  'status',
  'task-start',
  'task-finish',
  'error',
  'log',
  'progress',
  'session',
  'message',
  'health',
] as const;
export const EventKindSchema = z.enum(EVENT_KINDS);
export type EventKind = z.infer<typeof EventKindSchema>;

export const ActivityEventSchema = z.object({
  /** Monotonic cursor; reconnecting clients send the last one they saw. */
  seq: z.number().int().min(0),
  time: z.number(),
  kind: EventKindSchema,
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string().max(8192),
  agentId: z.string().nullable(),
  swarmId: z.string().nullable(),
  sessionUuid: z.string().nullable(),
  /** Progress 0..1 for `progress` events. */
  progress: z.number().min(0).max(1).nullable(),
  /** Correlation id of the HTTP request that caused this entry (X-Request-Id), when one did. */
  requestId: z.string().max(128).optional(),
});
export type ActivityEvent = z.infer<typeof ActivityEventSchema>;

export const GraphSnapshotSchema = z.object({
  agents: z.array(AgentSchema),
  edges: z.array(EdgeSchema),
  sessions: z.array(SessionSchema),
  swarms: z.array(SwarmSchema),
});
export type GraphSnapshot = z.infer<typeof GraphSnapshotSchema>;

export const LayoutRoleSchema = z.enum(['leader', 'follower']);
export type LayoutRole = z.infer<typeof LayoutRoleSchema>;

// ---- server -> client ----

export const ServerHelloSchema = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  serverTime: z.number(),
  clientId: z.string(),
  config: z.object({
    /** Max rate the leader should upload positions at, and followers receive them at. */
    positionHz: z.number(),
    settledHz: z.number(),
    deltaHz: z.number(),
    hideMock: z.boolean(),
    readOnly: z.boolean(),
  }),
  /** Latest event seq in the ring (clients resume from here on reconnect). */
  eventCursor: z.number().int(),
});

export const SnapshotSchema = z.object({
  type: z.literal('snapshot'),
  graph: GraphSnapshotSchema,
  eventCursor: z.number().int(),
  layoutRole: LayoutRoleSchema,
});

export const DeltaSchema = z.object({
  type: z.literal('delta'),
  seq: z.number().int(),
  upserts: z.object({
    agents: z.array(AgentSchema).optional(),
    edges: z.array(EdgeSchema).optional(),
    sessions: z.array(SessionSchema).optional(),
    swarms: z.array(SwarmSchema).optional(),
  }),
  removals: z.object({
    agents: z.array(z.string()).optional(),
    edges: z.array(z.string()).optional(),
    sessions: z.array(z.string()).optional(),
    swarms: z.array(z.string()).optional(),
  }),
});

export const EventMessageSchema = z.object({
  type: z.literal('event'),
  events: z.array(ActivityEventSchema),
  /** True when these were replayed from the ring after a reconnect. */
  replay: z.boolean(),
  /** True when the client's cursor was older than the ring: some events were lost to it. */
  gap: z.boolean(),
});

export const HealthMessageSchema = z.object({ type: z.literal('health'), health: HealthSchema });

export const SessionMessageSchema = z.object({
  type: z.literal('session'),
  uuid: z.string(),
  swarmId: z.string().nullable(),
  status: SessionStatusSchema,
  replaces: z.string().nullable(),
});

export const LayoutMessageSchema = z.object({
  type: z.literal('layout'),
  role: LayoutRoleSchema,
  /** True while the relay's positions are settled (followers may pause rendering). */
  settled: z.boolean(),
});

export const PerformanceMessageSchema = z.object({
  type: z.literal('performance'),
  /** Per-agent samples for agents the client selected (up to 4 Hz). */
  samples: z.array(
    z.object({
      agentId: z.string(),
      time: z.number(),
      cpuUsage: z.number().nullable(),
      memoryUsage: z.number().nullable(),
      tokenRate: z.number().nullable(),
      tokens: z.number().nullable(),
    }),
  ),
});

export const ServerErrorSchema = z.object({ type: z.literal('error'), code: z.string(), message: z.string() });

/**
 * A viewer pinned a node (relay -> layout leader only): the leader's physics holds it at x, y, z. The
 * relay keeps the latest pins and sends them all to a newly elected leader.
 */
export const ServerPinSchema = z.object({
  type: z.literal('pin'),
  nodeId: z.number().int().min(0).max(MAX_NODE_ID),
  x: z.number().finite(),
  y: z.number().finite(),
  z: z.number().finite(),
});
/** A viewer released a pinned node (relay -> layout leader only). */
export const ServerUnpinSchema = z.object({ type: z.literal('unpin'), nodeId: z.number().int().min(0).max(MAX_NODE_ID) });
export const PongSchema = z.object({ type: z.literal('pong'), t: z.number(), serverTime: z.number() });

/**
 * Live log of one session (relay -> subscribed client). Chunks arrive in offset order with no gap: each
 * `chunk.from` equals the previous `chunk.next`, unless `chunk.rotated` says the file started again.
 * `behind` is how many bytes the relay holds back for this client's byte budget (0: up to date).
 */
export const LogMessageSchema = z.object({
  type: z.literal('log'),
  uuid: z.string().max(64),
  chunk: LogChunkSchema,
  behind: z.number().int().min(0),
});
/** The state of a log subscription: following, or why no log can come (the page says so). */
export const LogStatusMessageSchema = z.object({
  type: z.literal('log-status'),
  uuid: z.string().max(64),
  state: z.enum(['following', 'unavailable', 'ended']),
  reason: LogUnavailableReasonSchema.nullable(),
  message: z.string().max(1024),
});

export const ServerMessageSchema = z.discriminatedUnion('type', [
  LogMessageSchema,
  LogStatusMessageSchema,
  ServerHelloSchema,
  SnapshotSchema,
  DeltaSchema,
  EventMessageSchema,
  HealthMessageSchema,
  SessionMessageSchema,
  LayoutMessageSchema,
  PerformanceMessageSchema,
  ServerErrorSchema,
  PongSchema,
  ServerPinSchema,
  ServerUnpinSchema,
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ServerHello = z.infer<typeof ServerHelloSchema>;
export type SnapshotMessage = z.infer<typeof SnapshotSchema>;
export type DeltaMessage = z.infer<typeof DeltaSchema>;
export type EventMessage = z.infer<typeof EventMessageSchema>;
export type HealthMessage = z.infer<typeof HealthMessageSchema>;
export type SessionMessage = z.infer<typeof SessionMessageSchema>;
export type LayoutMessage = z.infer<typeof LayoutMessageSchema>;
export type PerformanceMessage = z.infer<typeof PerformanceMessageSchema>;
export type ServerPinMessage = z.infer<typeof ServerPinSchema>;
export type ServerUnpinMessage = z.infer<typeof ServerUnpinSchema>;

// ---- client -> server ----

export const PHYSICS_BACKENDS = ['webgpu', 'webgl', 'cpu', 'none'] as const;
export const PhysicsBackendSchema = z.enum(PHYSICS_BACKENDS);
export type PhysicsBackend = z.infer<typeof PhysicsBackendSchema>;

export const ClientHelloSchema = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int(),
  physicsBackend: PhysicsBackendSchema,
  /** Steps per second the chosen backend measured at start-up; higher wins leadership. null: unknown. */
  physicsScore: z.number().finite().min(0).nullable(),
  visible: z.boolean(),
  /** Never lead the layout (`?follow=1`, XR headsets). */
  followOnly: z.boolean(),
  /** Last event seq the client saw, to resume after a reconnect; null on first connect. */
  resumeFrom: z.number().int().min(0).nullable(),
});

export const SubscribeSchema = z.object({
  type: z.literal('subscribe'),
  /** null: every swarm. */
  swarmIds: z.array(z.string().max(256)).max(256).nullable(),
  includePerformance: z.boolean(),
  /** Agents whose metrics the client wants at up to 4 Hz (detail panel). */
  selectedAgentIds: z.array(z.string().max(256)).max(32),
  includeMock: z.boolean(),
});

export const VisibilitySchema = z.object({ type: z.literal('visibility'), visible: z.boolean() });

const coord = z.number().finite().min(-1e7).max(1e7);
export const PinSchema = z.object({
  type: z.literal('pin'),
  nodeId: z.number().int().min(0).max(MAX_NODE_ID),
  x: coord,
  y: coord,
  z: coord,
});
export const UnpinSchema = z.object({ type: z.literal('unpin'), nodeId: z.number().int().min(0).max(MAX_NODE_ID) });
export const PingSchema = z.object({ type: z.literal('ping'), t: z.number().finite() });

/** Follow one session's log from a byte offset (null: the last LOG_TAIL_BYTES); resubscribing moves the cursor. */
export const LogSubscribeSchema = z.object({
  type: z.literal('log-subscribe'),
  uuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  from: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
  /** The logId of the last chunk seen, so a rotated file is noticed across a reconnect. */
  logId: z.string().max(128).nullable(),
});
export const LogUnsubscribeSchema = z.object({
  type: z.literal('log-unsubscribe'),
  uuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
});
/** Log subscriptions one client may hold at once. */
export const MAX_LOG_SUBSCRIPTIONS = 4;
/** Bytes of the log's end a subscription with `from: null` starts with. */
export const LOG_TAIL_BYTES = 64 * 1024;

export const ClientMessageSchema = z.discriminatedUnion('type', [
  LogSubscribeSchema,
  LogUnsubscribeSchema,
  ClientHelloSchema,
  SubscribeSchema,
  VisibilitySchema,
  PinSchema,
  UnpinSchema,
  PingSchema,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientHello = z.infer<typeof ClientHelloSchema>;
export type SubscribeMessage = z.infer<typeof SubscribeSchema>;
export type LogSubscribeMessage = z.infer<typeof LogSubscribeSchema>;
export type LogMessage = z.infer<typeof LogMessageSchema>;
export type LogStatusMessage = z.infer<typeof LogStatusMessageSchema>;
