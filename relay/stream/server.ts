/**
 * The `/wss` WebSocket: one socket per browser carrying hello, snapshot, coalesced deltas, the activity
 * log (resumable from a cursor), health, session changes, layout roles, performance samples and binary
 * V2 position frames (shared layout: the leader uploads, the relay fans out).
 *
 * Never falling behind: every outbound message is encoded once per tick and the same string or buffer
 * goes to every client that should get it. A client whose socket buffer is over BUFFERED_HIGH_WATER
 * gets nothing new until it drains: position frames are then "latest wins" (only the newest is sent),
 * deltas are merged by id (bounded by the graph's size), events resume from its cursor in the ring.
 * A client that stays over the hard cap for STALL_TERMINATE_MS is dropped.
 *
 * Latency: deltas and events have separate leading-edge throttles (each at most deltaHz per client);
 * structural changes (agents, edges, swarms, sessions appearing or going, status changes) use the
 * deltaHz slots, metric-only updates at most METRIC_DELTA_HZ and only after METRIC_GATHER_MS, so metric
 * churn does not make a spawn or a status change wait a whole interval.
 *
 * The event ring is persisted under config.stateDir (eventRing.ts), so a browser resumes from its cursor
 * across a relay restart. Pins from any viewer are kept (latest per node) and forwarded to the layout
 * leader, rate-limited per client; a newly elected leader receives all of them.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { RelayConfig } from '../config.js';
import type { DegradedMode, Health, Session } from '../../shared/model/index.js';
import { combineHealth } from '../health.js';
import {
  ClientMessageSchema,
  CloseCode,
  EVENT_KINDS,
  PROTOCOL_VERSION,
  WS_MAX_PAYLOAD,
  WS_PATH,
  type ActivityEvent,
  type ClientMessage,
  type LayoutRole,
  type ServerMessage,
} from '../../shared/protocol/messages.js';
import { FrameError, frameIsFinite, frameRecordCount, splitWireId, V2_HEADER_BYTES, V2_RECORD_BYTES } from '../../shared/protocol/binaryV2.js';
import type { GraphDelta } from '../telemetry/graph.js';
import type { PerformanceSample, Telemetry } from '../telemetry/index.js';
import { EventRing, EVENTS_FILE } from './eventRing.js';
import { DeltaAccumulator, agentVisible, deltaEmpty, filterDelta, filterKey, type StreamFilter } from './deltas.js';
import { electLeader, maxVelocity, SETTLED_VELOCITY, type LayoutCandidate } from './layout.js';

/** Server heartbeat: a client that has not answered the previous ping by the next one is terminated. */
export const PING_INTERVAL_MS = 30_000;

/** Longest prefix of `s` that fits in `maxBytes` of UTF-8 without splitting a code point. */
export function clipUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8'); // lone surrogates become U+FFFD here
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
/** Health is sent on change and at least this often. */
export const HEALTH_INTERVAL_MS = 2_000;
/** Over this many bytes queued on a socket, a client gets nothing new until it drains. */
export const BUFFERED_HIGH_WATER = 512 * 1024;
/** JSON bytes per second per client; over it, deltas are merged and held until the next second. */
export const JSON_BUDGET_BYTES_PER_SEC = 2 * 1024 * 1024;
/** A held (merged) delta larger than this is dropped in favour of one fresh snapshot. */
export const PENDING_RESYNC_ENTRIES = 5_000;
/** A client that has not sent its hello by then gets live events from that point on. */
export const HELLO_WAIT_MS = 2_000;
/** A client stuck over the high-water mark this long is terminated (its buffers are freed). */
export const STALL_TERMINATE_MS = 60_000;
/** How often layout leadership is re-checked (silence, visibility): well under the 1 s failover goal. */
const LEADER_CHECK_MS = 250;
/**
 * Deltas that only update metrics of existing agents (cpu, tokens, counters) go out at most this often;
 * structural changes (an agent, edge, swarm or session appearing or going, a status change) at deltaHz.
 * Continuous metric churn would otherwise take every 1/deltaHz slot, so a spawn or a status change
 * would wait up to a whole interval behind it. Every delta carries everything pending, metrics included.
 */
export const METRIC_DELTA_HZ = 4;
/**
 * A metric-only change waits this long before it may take a delta slot: an engine sends the log and
 * swarm lines of a change at once but batches the agent objects (the kit's engine every 50 ms), and the
 * agent part must not find the slot just taken by the rest.
 */
export const METRIC_GATHER_MS = 60;
/** Pin/unpin messages a client may have applied per second (a drag at 60 fps is coalesced, not lost). */
export const PIN_RATE_PER_SEC = 30;
/** Pins held by the relay at once (bounded by the graph too: a removed agent's pin is dropped). */
export const MAX_PINS = 10_000;
/** Distinct nodes a client may have pin changes waiting for its rate limit. */
export const MAX_PENDING_PINS_PER_CLIENT = 1024;

/** A pin (coordinates) or an unpin (null) of one node. */
type PinOp = { x: number; y: number; z: number } | null;

const KNOWN_TYPES = new Set(['hello', 'subscribe', 'visibility', 'pin', 'unpin', 'ping']);

export interface StreamControlView {
  health?(): Health['control'];
  degraded?(): DegradedMode[];
}

export interface StreamServerOptions {
  config: RelayConfig;
  logger: Logger;
  telemetry: Telemetry;
  control?: StreamControlView | null;
  server: http.Server;
  /** Token and Origin checks before the upgrade: false -> 401, a number -> that status (e.g. 403). Default: allow. */
  authorize?: (req: http.IncomingMessage) => boolean | number;
  /** The full hybrid status for `health` messages; default combines control.health() and telemetry.health(). */
  health?: () => Health;
  /** Read-only relay (hello.config.readOnly). Default: config.driver === 'none'. */
  readOnly?: () => boolean;
  /** Heartbeat period; tests shorten it. Default PING_INTERVAL_MS. */
  pingIntervalMs?: number;
  /** Rate of deltas that only update metrics (structural changes go at deltaHz). Default METRIC_DELTA_HZ. */
  metricHz?: number;
  /** Persist the event ring under config.stateDir so clients resume across a relay restart. Default true. */
  persistEvents?: boolean;
}

export interface StreamMetrics {
  clients: number;
  leaders: number;
  bytesSent: number;
  messagesSent: number;
  framesSent: number;
  /** Position frames not sent to a client because its socket was backed up (it got a newer one later). */
  framesDropped: number;
  framesReceived: number;
  /** Deltas held and merged for a backed-up or over-budget client. */
  deltasMerged: number;
  resyncSnapshots: number;
  closedMalformed: number;
  leaderChanges: number;
  /** Largest bufferedAmount seen on any client at a tick. */
  maxBufferedAmount: number;
  /** Pin/unpin changes applied (stored and forwarded to the leader). */
  pinsApplied: number;
  /** Pin/unpin messages held back by the per-client rate limit (coalesced per node, applied later). */
  pinsThrottled: number;
  /** Pin/unpin messages refused (pin store or per-client backlog full). */
  pinsRefused: number;
}

export interface StreamServer {
  clientCount(): number;
  metrics(): StreamMetrics;
  prometheus(): string;
  close(): Promise<void>;
}

interface Client extends LayoutCandidate {
  ws: WebSocket;
  alive: boolean;
  filter: StreamFilter;
  includePerformance: boolean;
  selected: Set<string>;
  /** Last event seq this client has (null until its hello, or HELLO_WAIT_MS). */
  eventCursor: number | null;
  held: DeltaAccumulator | null;
  needsSnapshot: boolean;
  deltaSeq: number;
  role: LayoutRole;
  frameVersionSent: number;
  frameSentAt: number;
  budgetWindowStart: number;
  budgetBytes: number;
  overSince: number | null;
  helloTimer: ReturnType<typeof setTimeout> | null;
  /** Token bucket of the pin rate limit. */
  pinTokens: number;
  pinRefillAt: number;
  /** Pin changes over the rate limit, latest per node, applied as tokens refill. */
  pinBacklog: Map<number, PinOp>;
  pinRefusedNotified: number;
  /** When this client was last sent a delta / events (each is capped at deltaHz per client). */
  deltaSentAt: number;
  eventsSentAt: number;
}

let clientCounter = 0;

export function createStreamServer(opts: StreamServerOptions): StreamServer {
  return new StreamServerImpl(opts);
}

class StreamServerImpl implements StreamServer {
  private readonly wss: WebSocketServer;
  private readonly log: Logger;
  private readonly clients = new Map<string, Client>();
  private readonly ring: EventRing;
  private readonly pendingDelta = new DeltaAccumulator();
  /** Visibility facts of current agents for edge filtering (swarm, mock). */
  private readonly agentInfo = new Map<string, { swarmId: string | null; mock: boolean; nodeId: number; status: string }>();
  /** Status per swarm and the set of edge ids, to tell a structural change from a metric update. */
  private readonly swarmStatus = new Map<string, string>();
  private readonly edgeIds = new Set<string>();
  /** The pending delta holds a structural change (see onDelta): it goes out at deltaHz, not metricHz. */
  private pendingUrgent = false;
  /** When the pending delta got its first change. */
  private pendingSince: number | null = null;
  private metricIntervalMs = 250;
  /** Latest pins by node id; a new leader receives all of them. */
  private readonly pins = new Map<number, { x: number; y: number; z: number }>();
  /** Pin changes not yet written to the current leader (latest per node; refilled on election). */
  private leaderPinOutbox = new Map<number, PinOp>();
  private leaderId: string | null = null;
  private frame: Buffer | null = null;
  private frameVersion = 0;
  private settled = false;
  private timers: ReturnType<typeof setInterval>[] = [];
  private lastHealthJson = '';
  private readonly m: StreamMetrics = {
    clients: 0,
    leaders: 0,
    bytesSent: 0,
    messagesSent: 0,
    framesSent: 0,
    framesDropped: 0,
    framesReceived: 0,
    deltasMerged: 0,
    resyncSnapshots: 0,
    closedMalformed: 0,
    leaderChanges: 0,
    maxBufferedAmount: 0,
    pinsApplied: 0,
    pinsThrottled: 0,
    pinsRefused: 0,
  };
  private readonly listeners: { ev: string; fn: (...a: never[]) => void }[] = [];
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  private closed = false;
  private deltaIntervalMs = 100;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushAt = 0;
  /** When a delta / an event message last went out to some client (the throttles' leading edges). */
  private lastDeltaAt = 0;
  private lastEventsAt = 0;
  /** Newest event seq already flushed to every client that was due. */
  private eventsFlushedTo = -1;
  /** Earliest time some client that was not due yet gets its held delta or events (null: none waiting). */
  private clientsDueAt: number | null = null;
  /** Bumped per graph change; keys the encoded-snapshot cache. */
  private graphVersion = 0;
  private snapshotCache = new Map<string, string>();
  private snapshotCacheVersion = -1;

  constructor(private readonly opts: StreamServerOptions) {
    this.log = opts.logger.child({ part: 'stream' });
    this.ring = new EventRing(undefined, Date.now(), {
      file: opts.persistEvents === false ? null : path.join(opts.config.stateDir, EVENTS_FILE),
      onError: (e) => this.log.warn({ err: String(e) }, 'event ring file'),
    });
    this.eventsFlushedTo = this.ring.latest;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false, clientTracking: false });
    this.onUpgrade = (req, socket, head) => this.upgrade(req, socket, head);
    opts.server.on('upgrade', this.onUpgrade);

    const initial = opts.telemetry.snapshot({ includeMock: true });
    for (const a of initial.agents) this.agentInfo.set(a.id, { swarmId: a.swarmId, mock: a.mock, nodeId: a.nodeId, status: a.status });
    for (const sw of initial.swarms) this.swarmStatus.set(sw.id, sw.status ?? '');
    for (const e of initial.edges) this.edgeIds.add(e.id);
    this.listen('delta', (d: GraphDelta) => this.onDelta(d));
    this.listen('event', (e: Omit<ActivityEvent, 'seq'>) => {
      this.ring.push(e);
      this.scheduleFlush();
    });
    this.listen('health', () => this.sendHealth(true));
    this.listen('session', (s: Session) => {
      this.broadcastJson({ type: 'session', uuid: s.uuid, swarmId: s.swarmId, status: s.status, replaces: s.replaces });
    });
    this.listen('performance', (samples: PerformanceSample[]) => this.onPerformance(samples));

    const { deltaHz, positionHz } = opts.config.stream;
    this.deltaIntervalMs = Math.round(1000 / deltaHz);
    this.metricIntervalMs = Math.max(this.deltaIntervalMs, Math.round(1000 / (opts.metricHz ?? METRIC_DELTA_HZ)));
    // A slow safety tick: held deltas of clients that drained are sent even when nothing new arrives.
    this.every(this.deltaIntervalMs * 5, () => this.scheduleFlush());
    this.every(Math.round(1000 / positionHz), () => this.positionTick());
    this.every(HEALTH_INTERVAL_MS, () => this.sendHealth(false));
    this.every(opts.pingIntervalMs ?? PING_INTERVAL_MS, () => this.heartbeat());
    this.every(LEADER_CHECK_MS, () => this.reelect());
  }

  private listen(ev: string, fn: (...a: never[]) => void): void {
    (this.opts.telemetry.on as (e: string, f: (...a: never[]) => void) => unknown)(ev, fn);
    this.listeners.push({ ev, fn });
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.log.error({ err: String(e) }, 'stream tick failed');
      }
    }, ms);
    t.unref?.();
    this.timers.push(t);
  }

  // ---- connection ----

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay.invalid');
    } catch {
      return rejectUpgrade(socket, 400, 'Bad Request');
    }
    if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
    if (this.closed) return rejectUpgrade(socket, 503, 'Service Unavailable');
    let verdict: boolean | number = true;
    try {
      verdict = this.opts.authorize ? this.opts.authorize(req) : true;
    } catch (e) {
      this.log.warn({ err: String(e) }, 'authorize threw; refusing upgrade');
      verdict = 403;
    }
    if (verdict !== true) {
      const status = typeof verdict === 'number' ? verdict : 401;
      this.log.info({ status, origin: req.headers.origin ?? null }, 'websocket upgrade refused');
      return rejectUpgrade(socket, status, status === 403 ? 'Forbidden' : 'Unauthorized');
    }
    const follow = ['1', 'true', 'yes'].includes(url.searchParams.get('follow') ?? '');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, follow));
  }

  private attach(ws: WebSocket, followOnly: boolean): void {
    const now = Date.now();
    const c: Client = {
      id: `c${++clientCounter}-${now.toString(36)}`,
      ws,
      alive: true,
      helloed: false,
      visible: true,
      followOnly,
      score: null,
      joinedAt: now,
      lastUploadAt: now,
      silenced: false,
      filter: { swarmIds: null, includeMock: !this.opts.config.hideMock },
      includePerformance: false,
      selected: new Set(),
      eventCursor: null,
      held: null,
      needsSnapshot: false,
      deltaSeq: 0,
      role: 'follower',
      frameVersionSent: 0,
      frameSentAt: 0,
      budgetWindowStart: now,
      budgetBytes: 0,
      overSince: null,
      helloTimer: null,
      pinTokens: PIN_RATE_PER_SEC,
      pinRefillAt: now,
      pinBacklog: new Map(),
      pinRefusedNotified: 0,
      deltaSentAt: 0,
      eventsSentAt: 0,
    };
    this.clients.set(c.id, c);
    this.m.clients = this.clients.size;
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => this.onMessage(c, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes oversized messages itself (1009) and invalid UTF-8 (1007); log why.
      if (err.code?.startsWith('WS_ERR')) this.m.closedMalformed++;
      this.log.warn({ client: c.id, code: err.code ?? null, err: err.message }, 'websocket closed: protocol error');
    });
    ws.on('close', () => this.detach(c));
    const cfg = this.opts.config;
    this.sendJson(c, {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      serverTime: now,
      clientId: c.id,
      config: {
        positionHz: cfg.stream.positionHz,
        settledHz: cfg.stream.settledHz,
        deltaHz: cfg.stream.deltaHz,
        hideMock: cfg.hideMock,
        readOnly: this.opts.readOnly ? this.opts.readOnly() : cfg.driver === 'none',
      },
      eventCursor: this.ring.latest,
    });
    this.sendSnapshot(c);
    this.sendJson(c, { type: 'health', health: this.currentHealth() });
    this.sendLatestFrame(c);
    c.helloTimer = setTimeout(() => {
      c.helloTimer = null;
      if (c.eventCursor === null) c.eventCursor = this.ring.latest;
    }, HELLO_WAIT_MS);
    c.helloTimer.unref?.();
  }

  private detach(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    if (c.helloTimer) clearTimeout(c.helloTimer);
    c.held = null;
    c.pinBacklog.clear();
    this.m.clients = this.clients.size;
    if (this.leaderId === c.id) this.reelect();
    this.updateSelection();
  }

  private closeFor(c: Client, code: number, reason: string): void {
    this.m.closedMalformed++;
    this.log.warn({ client: c.id, code, reason }, 'closing websocket: malformed input');
    try {
      // A close reason is at most 123 bytes of UTF-8 (not characters): cut on a code point boundary.
      c.ws.close(code, clipUtf8(reason, 123));
    } catch {
      c.ws.terminate();
    }
  }

  // ---- inbound ----

  private onMessage(c: Client, data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (isBinary) return this.onFrame(c, buf);
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.closeFor(c, CloseCode.invalidPayload, 'invalid JSON');
    }
    const type = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
      return this.closeFor(c, CloseCode.unsupportedData, `unknown message type ${JSON.stringify(type ?? null).slice(0, 40)}`);
    }
    const msg = ClientMessageSchema.safeParse(parsed);
    if (!msg.success) {
      const issue = msg.error.issues[0];
      return this.closeFor(c, CloseCode.invalidPayload, `invalid ${type}: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'schema'}`);
    }
    this.handle(c, msg.data);
  }

  private handle(c: Client, msg: ClientMessage): void {
    switch (msg.type) {
      case 'hello': {
        c.helloed = true;
        c.score = msg.physicsScore;
        c.visible = msg.visible;
        c.followOnly = c.followOnly || msg.followOnly;
        c.silenced = false;
        if (c.helloTimer) {
          clearTimeout(c.helloTimer);
          c.helloTimer = null;
        }
        // Replay from the client's cursor; never resend what this connection already received.
        if (c.eventCursor === null || msg.resumeFrom !== null) {
          const { events, gap } = this.ring.since(msg.resumeFrom);
          const had = c.eventCursor;
          const fresh = had === null ? events : events.filter((e) => e.seq > had);
          if (fresh.length || gap) this.sendJson(c, { type: 'event', events: fresh, replay: true, gap });
          // since() returns everything after the cursor (the ring is the limit), so the client is now current.
          c.eventCursor = this.ring.latest;
        }
        this.reelect();
        this.sendLayout(c, true);
        return;
      }
      case 'visibility':
        c.visible = msg.visible;
        c.silenced = false;
        this.reelect();
        return;
      case 'subscribe': {
        const filter: StreamFilter = { swarmIds: msg.swarmIds === null ? null : new Set(msg.swarmIds), includeMock: msg.includeMock };
        const changed = filterKey(filter) !== filterKey(c.filter);
        c.filter = filter;
        c.includePerformance = msg.includePerformance;
        c.selected = new Set(msg.selectedAgentIds);
        this.updateSelection();
        if (changed) {
          c.held = null;
          this.sendSnapshot(c);
        }
        return;
      }
      case 'ping':
        this.sendJson(c, { type: 'pong', t: msg.t, serverTime: Date.now() });
        return;
      case 'pin':
      case 'unpin': {
        // Pins are applied by the layout leader's physics: the relay keeps the latest and forwards them.
        if (!this.opts.telemetry.knownNodeId(msg.nodeId)) return this.closeFor(c, CloseCode.invalidPayload, `${msg.type} names unknown node ${msg.nodeId}`);
        const op: PinOp = msg.type === 'pin' ? { x: msg.x, y: msg.y, z: msg.z } : null;
        // Latest wins per node: re-inserting keeps the backlog in arrival order.
        c.pinBacklog.delete(msg.nodeId);
        if (c.pinBacklog.size >= MAX_PENDING_PINS_PER_CLIENT) return this.refusePin(c, 'too many pin changes waiting for the rate limit');
        c.pinBacklog.set(msg.nodeId, op);
        const before = this.m.pinsApplied;
        this.drainPins(c, Date.now());
        if (c.pinBacklog.size > 0 && this.m.pinsApplied === before) this.m.pinsThrottled++;
        return;
      }
    }
  }

  private refusePin(c: Client, message: string): void {
    this.m.pinsRefused++;
    const now = Date.now();
    if (now - c.pinRefusedNotified < 1000) return;
    c.pinRefusedNotified = now;
    this.sendJson(c, { type: 'error', code: 'pin-refused', message });
  }

  /** Applies a client's waiting pin changes as far as its token bucket allows. */
  private drainPins(c: Client, now: number): void {
    if (c.pinBacklog.size === 0) return;
    c.pinTokens = Math.min(PIN_RATE_PER_SEC, c.pinTokens + ((now - c.pinRefillAt) / 1000) * PIN_RATE_PER_SEC);
    c.pinRefillAt = now;
    for (const [nodeId, op] of c.pinBacklog) {
      if (c.pinTokens < 1) break;
      c.pinBacklog.delete(nodeId);
      if (op && !this.pins.has(nodeId) && this.pins.size >= MAX_PINS) {
        this.refusePin(c, `at most ${MAX_PINS} pinned nodes`);
        continue;
      }
      c.pinTokens -= 1;
      if (op) this.pins.set(nodeId, op);
      else this.pins.delete(nodeId);
      this.m.pinsApplied++;
      // The leader's own pins are already in its physics (and supersede any older one still queued for
      // it); everyone else's go to it.
      this.leaderPinOutbox.delete(nodeId);
      if (c.id !== this.leaderId) this.leaderPinOutbox.set(nodeId, op);
    }
    this.flushLeaderPins();
  }

  /** Writes pending pin changes to the leader unless its socket is backed up (then on a later tick). */
  private flushLeaderPins(): void {
    if (this.leaderPinOutbox.size === 0) return;
    const leader = this.leaderId ? this.clients.get(this.leaderId) : undefined;
    if (!leader) {
      this.leaderPinOutbox.clear(); // the next leader gets the whole pin set on election
      return;
    }
    if (this.backedUp(leader)) return;
    for (const [nodeId, op] of this.leaderPinOutbox) {
      this.sendJson(leader, op ? { type: 'pin', nodeId, x: op.x, y: op.y, z: op.z } : { type: 'unpin', nodeId });
    }
    this.leaderPinOutbox.clear();
  }

  private onFrame(c: Client, buf: Buffer): void {
    if (!c.helloed || c.followOnly) {
      return this.closeFor(c, CloseCode.unsupportedData, c.followOnly ? 'binary frames not allowed from a follow-only client' : 'binary frame before hello');
    }
    let count: number;
    try {
      if (buf.length < 1) throw new FrameError('empty', 'empty frame');
      if (buf[0] !== 2) throw new FrameError(buf[0] === 1 ? 'version-1' : 'unknown-version', `frame version ${buf[0]} is not 2`);
      count = frameRecordCount(buf.length);
      if (!frameIsFinite(buf)) return this.closeFor(c, CloseCode.invalidPayload, 'frame holds NaN or infinite values');
      const tel = this.opts.telemetry;
      for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
        const [id, kind] = splitWireId(buf.readUInt32LE(o));
        if (kind !== 'agent' || !tel.knownNodeId(id)) return this.closeFor(c, CloseCode.invalidPayload, `frame names unknown node ${id}`);
      }
    } catch (e) {
      return this.closeFor(c, CloseCode.invalidPayload, e instanceof Error ? e.message : 'bad frame');
    }
    this.m.framesReceived++;
    if (c.id !== this.leaderId) return; // only the leader's layout is shared
    c.lastUploadAt = Date.now();
    this.frame = buf;
    this.frameVersion++;
    const wasSettled = this.settled;
    this.settled = count === 0 || maxVelocity(buf) < SETTLED_VELOCITY;
    if (wasSettled !== this.settled) for (const x of this.clients.values()) this.sendLayout(x, true);
    // Fan out now to every follower that is due one; the rest get the newest frame on a later tick.
    this.positionTick();
  }

  // ---- outbound ----

  private buffered(c: Client): number {
    const b = c.ws.bufferedAmount;
    if (b > this.m.maxBufferedAmount) this.m.maxBufferedAmount = b;
    return b;
  }

  private backedUp(c: Client, now = Date.now()): boolean {
    const over = this.buffered(c) > BUFFERED_HIGH_WATER;
    if (!over) c.overSince = null;
    else if (c.overSince === null) c.overSince = now;
    else if (now - c.overSince > STALL_TERMINATE_MS) {
      this.log.warn({ client: c.id }, 'terminating a client stalled over the buffer limit');
      c.ws.terminate();
    }
    return over;
  }

  private rawSend(c: Client, data: string | Buffer, binary: boolean): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    c.ws.send(data, { binary });
    this.m.bytesSent += bytes;
    this.m.messagesSent++;
    if (!binary) c.budgetBytes += bytes;
  }

  private sendJson(c: Client, msg: ServerMessage): void {
    this.rawSend(c, JSON.stringify(msg), false);
  }

  private broadcastJson(msg: ServerMessage): void {
    const text = JSON.stringify(msg);
    for (const c of this.clients.values()) if (!this.backedUp(c)) this.rawSend(c, text, false);
  }

  private visibleFor(f: StreamFilter): (id: string) => boolean {
    return (id) => {
      const a = this.agentInfo.get(id);
      return a !== undefined && agentVisible(a, f);
    };
  }

  private sendSnapshot(c: Client): void {
    c.held = null;
    c.needsSnapshot = false;
    // Many clients connecting at once (a relay restart) share one encoding of the graph.
    if (this.snapshotCacheVersion !== this.graphVersion) {
      this.snapshotCache.clear();
      this.snapshotCacheVersion = this.graphVersion;
    }
    const key = filterKey(c.filter);
    let graphJson = this.snapshotCache.get(key);
    if (graphJson === undefined) {
      graphJson = JSON.stringify(this.snapshotGraph(c.filter));
      this.snapshotCache.set(key, graphJson);
    }
    const msg = `{"type":"snapshot","graph":${graphJson},"eventCursor":${this.ring.latest},"layoutRole":${JSON.stringify(c.role)}}`;
    this.rawSend(c, msg, false);
  }

  private snapshotGraph(f: StreamFilter) {
    const snap = this.opts.telemetry.snapshot({ includeMock: f.includeMock });
    const graph =
      f.swarmIds === null
        ? snap
        : {
            agents: snap.agents.filter((a) => agentVisible(a, f)),
            edges: snap.edges.filter((e) => this.visibleFor(f)(e.source) && this.visibleFor(f)(e.target)),
            sessions: snap.sessions,
            swarms: snap.swarms.filter((s) => f.swarmIds!.has(s.id)),
          };
    return graph;
  }

  private sendLayout(c: Client, force: boolean): void {
    const role: LayoutRole = c.id === this.leaderId ? 'leader' : 'follower';
    if (!force && role === c.role) return;
    c.role = role;
    this.sendJson(c, { type: 'layout', role, settled: this.settled });
  }

  private onDelta(d: GraphDelta): void {
    // Structural: an agent, edge, swarm or session appearing or going, or a status change. Everything
    // else (metrics, counters) is a metric update and may wait for the slower metric interval.
    let urgent = (d.upserts.sessions?.length ?? 0) > 0;
    for (const k of ['agents', 'edges', 'sessions', 'swarms'] as const) if ((d.removals[k]?.length ?? 0) > 0) urgent = true;
    for (const a of d.upserts.agents ?? []) {
      const prev = this.agentInfo.get(a.id);
      if (!prev || prev.status !== a.status) urgent = true;
      this.agentInfo.set(a.id, { swarmId: a.swarmId, mock: a.mock, nodeId: a.nodeId, status: a.status });
    }
    for (const sw of d.upserts.swarms ?? []) {
      if (this.swarmStatus.get(sw.id) !== (sw.status ?? '')) urgent = true;
      this.swarmStatus.set(sw.id, sw.status ?? '');
    }
    for (const id of d.removals.swarms ?? []) this.swarmStatus.delete(id);
    for (const e of d.upserts.edges ?? []) {
      if (!this.edgeIds.has(e.id)) urgent = true;
      this.edgeIds.add(e.id);
    }
    for (const id of d.removals.edges ?? []) this.edgeIds.delete(id);
    if (urgent) this.pendingUrgent = true;
    if (this.pendingDelta.empty) this.pendingSince = Date.now();
    for (const id of d.removals.agents ?? []) {
      const info = this.agentInfo.get(id);
      // A removed agent's pin goes with it (keeps the pin set bounded by the graph).
      if (info && this.pins.delete(info.nodeId)) this.leaderPinOutbox.delete(info.nodeId);
      this.agentInfo.delete(id);
    }
    this.pendingDelta.add(d);
    this.graphVersion++;
    this.scheduleFlush();
  }

  /**
   * Leading-edge throttles, one for deltas and one for events (separate message types, each at most
   * deltaHz per client): the first change after a quiet period goes out on the next turn (changes made
   * in the same turn are merged), later ones wait for the rest of the 1/deltaHz interval. Separate, so
   * a log line flushed on its own never holds back the agent change that follows it; and an interval
   * starts only when something was sent, so an empty flush (the safety tick, every client backed up)
   * delays nothing.
   */
  private scheduleFlush(): void {
    if (this.closed) return;
    const interval = this.deltaIntervalMs;
    let at = Infinity;
    if (!this.pendingDelta.empty) at = Math.min(at, this.deltaDueAt());
    if (this.ring.latest > this.eventsFlushedTo) at = Math.min(at, this.lastEventsAt + interval);
    if (this.clientsDueAt !== null) at = Math.min(at, this.clientsDueAt);
    const now = Date.now();
    const when = at === Infinity ? now : Math.max(now, at);
    if (this.flushTimer) {
      // Already scheduled: only move it earlier (a structural change behind a pending metric update).
      if (when >= this.flushAt) return;
      clearTimeout(this.flushTimer);
    }
    this.flushAt = when;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      try {
        this.deltaTick();
      } catch (e) {
        this.log.error({ err: String(e) }, 'delta flush failed');
      }
      if (!this.pendingDelta.empty || this.ring.latest > this.eventsFlushedTo || this.clientsDueAt !== null) this.scheduleFlush();
    }, when - now);
  }

  /**
   * When the pending delta may go out: a structural change 1/deltaHz after the last delta; metric
   * updates 1/metricHz after it and METRIC_GATHER_MS after the first of them arrived, so the structural
   * part of the same engine change (pushed a little later) still finds the slot free.
   */
  private deltaDueAt(): number {
    if (this.pendingUrgent) return this.lastDeltaAt + this.deltaIntervalMs;
    return Math.max(this.lastDeltaAt + this.metricIntervalMs, (this.pendingSince ?? 0) + METRIC_GATHER_MS);
  }

  /** Coalesced deltas and new events, each at most once per 1/deltaHz per client. */
  private deltaTick(): void {
    const now = Date.now();
    const interval = this.deltaIntervalMs;
    let global: GraphDelta | null = null;
    if (!this.pendingDelta.empty && now >= this.deltaDueAt()) {
      global = this.pendingDelta.toDelta();
      this.pendingUrgent = false;
      this.pendingSince = null;
      this.pendingDelta.agents.clear();
      this.pendingDelta.edges.clear();
      this.pendingDelta.sessions.clear();
      this.pendingDelta.swarms.clear();
      this.pendingDelta.rmAgents.clear();
      this.pendingDelta.rmEdges.clear();
      this.pendingDelta.rmSessions.clear();
      this.pendingDelta.rmSwarms.clear();
    }
    const doEvents = this.ring.latest > this.eventsFlushedTo && now - this.lastEventsAt >= interval;
    if (doEvents) this.eventsFlushedTo = this.ring.latest;
    let sentDelta = false;
    let sentEvents = false;
    let dueAt: number | null = null;
    const due = (t: number) => {
      dueAt = dueAt === null ? t : Math.min(dueAt, t);
    };
    // Each filter's delta is filtered and JSON-encoded once; clients only differ by their seq.
    const encoded = new Map<string, string | null>();
    const eventCache = new Map<number, string>();
    for (const c of this.clients.values()) {
      if (now - c.budgetWindowStart >= 1000) {
        c.budgetWindowStart = now;
        c.budgetBytes = 0;
      }
      const hold = this.backedUp(c, now) || c.budgetBytes > JSON_BUDGET_BYTES_PER_SEC;
      if (c.needsSnapshot) {
        if (!hold) {
          this.m.resyncSnapshots++;
          this.sendSnapshot(c);
        }
        continue;
      }
      // Held for later: backed up (the slow safety tick retries), or not yet due its next delta.
      const deltaDue = now - c.deltaSentAt >= interval;
      if (hold || (global && !deltaDue)) {
        if (global) {
          c.held ??= new DeltaAccumulator();
          c.held.add(global);
          this.m.deltasMerged++;
          if (c.held.size > PENDING_RESYNC_ENTRIES) {
            c.held = null;
            c.needsSnapshot = true;
          }
        }
        if (hold) continue;
        due(c.deltaSentAt + interval);
      } else {
        let body: string | null = null;
        if (c.held) {
          if (global) c.held.add(global);
          body = encodeDeltaBody(filterDelta(c.held.toDelta(), c.filter, this.visibleFor(c.filter)));
          c.held = null;
        } else if (global) {
          const key = filterKey(c.filter);
          body = encoded.get(key) ?? null;
          if (!encoded.has(key)) {
            body = encodeDeltaBody(filterDelta(global, c.filter, this.visibleFor(c.filter)));
            encoded.set(key, body);
          }
        }
        if (body !== null) {
          this.rawSend(c, `{"type":"delta","seq":${++c.deltaSeq},${body}`, false);
          c.deltaSentAt = now;
          sentDelta = true;
        }
      }
      if (c.eventCursor !== null && c.eventCursor < this.ring.latest) {
        if (now - c.eventsSentAt >= interval) {
          this.sendEvents(c, eventCache);
          c.eventsSentAt = now;
          sentEvents = true;
        } else due(c.eventsSentAt + interval);
      }
    }
    if (sentDelta) this.lastDeltaAt = now;
    if (sentEvents) this.lastEventsAt = now;
    this.clientsDueAt = dueAt;
  }

  private sendEvents(c: Client, cache: Map<number, string>): void {
    if (c.eventCursor === null || c.eventCursor >= this.ring.latest) return;
    const cursor = c.eventCursor;
    let text = cache.get(cursor);
    if (text === undefined) {
      const { events, gap } = this.ring.since(cursor);
      const valid = events.filter((e) => (EVENT_KINDS as readonly string[]).includes(e.kind));
      text = JSON.stringify({ type: 'event', events: valid, replay: false, gap });
      cache.set(cursor, text);
    }
    this.rawSend(c, text, false);
    c.eventCursor = this.ring.latest;
  }

  private onPerformance(samples: PerformanceSample[]): void {
    for (const c of this.clients.values()) {
      if (!c.includePerformance) continue;
      const mine = samples.filter((s) => c.selected.has(s.agentId));
      if (mine.length && !this.backedUp(c)) this.sendJson(c, { type: 'performance', samples: mine });
    }
  }

  private updateSelection(): void {
    const ids = new Set<string>();
    for (const c of this.clients.values()) for (const id of c.selected) ids.add(id);
    this.opts.telemetry.setSelectedAgents(ids);
  }

  // ---- positions ----

  private sendLatestFrame(c: Client): void {
    if (!this.frame || c.id === this.leaderId) return;
    this.rawSend(c, this.frame, true);
    this.m.framesSent++;
    c.frameVersionSent = this.frameVersion;
    c.frameSentAt = Date.now();
  }

  /** Fan-out of the latest leader frame: the same Buffer to every follower that is due one. */
  private positionTick(): void {
    this.pinTick();
    const frame = this.frame;
    if (!frame) return;
    const now = Date.now();
    // While moving, a follower gets at most positionHz (with slack for timer jitter); settled, settledHz.
    const minGap = this.settled ? 1000 / this.opts.config.stream.settledHz - 5 : (1000 / this.opts.config.stream.positionHz) * 0.75;
    for (const c of this.clients.values()) {
      if (c.id === this.leaderId || c.frameVersionSent === this.frameVersion) continue;
      if (now - c.frameSentAt < minGap) continue;
      if (this.backedUp(c, now)) {
        // Latest wins: it gets whatever frame is newest once it drains, never a queue of stale ones.
        this.m.framesDropped++;
        continue;
      }
      this.rawSend(c, frame, true);
      this.m.framesSent++;
      c.frameVersionSent = this.frameVersion;
      c.frameSentAt = now;
    }
  }

  private pinTick(): void {
    const now = Date.now();
    for (const c of this.clients.values()) if (c.pinBacklog.size > 0) this.drainPins(c, now);
    this.flushLeaderPins();
  }

  private reelect(): void {
    const now = Date.now();
    const next = electLeader(this.clients.values(), this.leaderId, now, this.opts.telemetry.nodeIdsInUse.size > 0);
    if (next === this.leaderId) return;
    const prev = this.leaderId;
    this.leaderId = next;
    this.m.leaderChanges++;
    this.m.leaders = next ? 1 : 0;
    if (next) {
      const c = this.clients.get(next);
      if (c) c.lastUploadAt = now;
    }
    this.log.info({ from: prev, to: next }, 'layout leader changed');
    for (const c of this.clients.values()) this.sendLayout(c, false);
    // The new leader continues from the last positions and gets every pin the relay holds, after its role.
    this.leaderPinOutbox = new Map(this.pins);
    this.flushLeaderPins();
  }

  // ---- health and heartbeat ----

  private currentHealth(): Health {
    if (this.opts.health) return this.opts.health();
    // Without the relay's combined health (tests, tools): the same combination, over what we have.
    const control: Health['control'] = this.opts.control?.health?.() ?? {
      state: 'unavailable',
      driver: 'none',
      backend: 'none',
      container: null,
      execLatencyMs: null,
      breaker: 'closed',
      lastError: null,
      containerCpuPercent: null,
      containerMemoryBytes: null,
    };
    const active = this.opts.telemetry.snapshot({ includeMock: true }).sessions.filter((s) => s.status === 'running' || s.status === 'starting').length;
    return combineHealth(control, this.opts.control?.degraded?.() ?? [], this.opts.telemetry.health(), this.clients.size, active);
  }

  private sendHealth(onChange: boolean): void {
    if (this.clients.size === 0) return;
    let h: Health;
    try {
      h = this.currentHealth();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'health() failed');
      return;
    }
    const key = JSON.stringify({ ...h, serverTime: 0, telemetry: { ...h.telemetry, ageMs: null, latencyMs: null } });
    if (onChange && key === this.lastHealthJson) return;
    this.lastHealthJson = key;
    this.broadcastJson({ type: 'health', health: h });
  }

  private heartbeat(): void {
    for (const c of this.clients.values()) {
      if (!c.alive) {
        this.log.info({ client: c.id }, 'websocket silent since the last ping; terminating');
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      try {
        c.ws.ping();
      } catch {
        c.ws.terminate();
      }
    }
  }

  // ---- public ----

  clientCount(): number {
    return this.clients.size;
  }

  metrics(): StreamMetrics {
    return { ...this.m, clients: this.clients.size };
  }

  prometheus(): string {
    const m = this.metrics();
    return [
      '# TYPE hivescope_ws_clients gauge',
      `hivescope_ws_clients ${m.clients}`,
      '# TYPE hivescope_ws_bytes_sent_total counter',
      `hivescope_ws_bytes_sent_total ${m.bytesSent}`,
      '# TYPE hivescope_ws_messages_sent_total counter',
      `hivescope_ws_messages_sent_total ${m.messagesSent}`,
      '# TYPE hivescope_ws_frames_sent_total counter',
      `hivescope_ws_frames_sent_total ${m.framesSent}`,
      '# TYPE hivescope_ws_frames_dropped_total counter',
      `hivescope_ws_frames_dropped_total ${m.framesDropped}`,
      '# TYPE hivescope_ws_deltas_merged_total counter',
      `hivescope_ws_deltas_merged_total ${m.deltasMerged}`,
      '# TYPE hivescope_ws_closed_malformed_total counter',
      `hivescope_ws_closed_malformed_total ${m.closedMalformed}`,
      '# TYPE hivescope_ws_leader_changes_total counter',
      `hivescope_ws_leader_changes_total ${m.leaderChanges}`,
    ].join('\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.opts.server.off('upgrade', this.onUpgrade);
    for (const { ev, fn } of this.listeners) (this.opts.telemetry.off as (e: string, f: (...a: never[]) => void) => unknown)(ev, fn);
    for (const c of this.clients.values()) {
      if (c.helloTimer) clearTimeout(c.helloTimer);
      c.ws.close(CloseCode.goingAway, 'relay shutting down');
    }
    // A peer that stopped reading never completes the close handshake (ws would wait 30 s): wait up to
    // 1 s for the others, then terminate whoever is left, so shutdown is never held by a stalled tab.
    const end = Date.now() + 1000;
    while (this.clients.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.clients.values()) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.ring.close();
  }
}

/** `"upserts":{...},"removals":{...}}`: a delta message's tail, shared by every client of one filter; null when empty. */
export function encodeDeltaBody(d: GraphDelta): string | null {
  if (deltaEmpty(d)) return null;
  return `"upserts":${JSON.stringify(d.upserts)},"removals":${JSON.stringify(d.removals)}}`;
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  }
  socket.destroy();
}
