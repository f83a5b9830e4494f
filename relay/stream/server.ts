/**
 * The `/wss` WebSocket: one socket per browser carrying hello, snapshot, coalesced deltas, the activity
 * log (resumable from a cursor), health, session changes, layout roles, performance samples and binary
 * V2 position frames (shared layout: the leader uploads, the relay fans out).
 *
 * This file is the client registry: it accepts sockets (upgrade.ts gates them), dispatches what they
 * send (inbound.ts parses it), heartbeats them, and wires the parts, each one concern:
 * scheduler.ts (deltas and events), snapshots.ts, positions.ts (fan-out), pins.ts (pin forwarding and
 * its rate limit), leadership.ts (layout leader), healthFeed.ts, outbound.ts (sending, backpressure).
 *
 * The event ring is persisted under config.stateDir (eventRing.ts), so a browser resumes from its cursor
 * across a relay restart.
 */
import type http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { RelayConfig } from '../config.js';
import type { Health, Session } from '../../shared/model/index.js';
import { CloseCode, PROTOCOL_VERSION, WS_MAX_PAYLOAD, type ClientMessage } from '../../shared/protocol/messages.js';
import type { ChangeCause, ChangeSet, GraphEvent } from '../graph/graph.js';
import type { PerformanceSample, Telemetry } from '../telemetry/index.js';
import { filterKey, type StreamFilter } from './deltas.js';
import { EventRing, EVENTS_FILE } from './eventRing.js';
import { HealthFeed, HEALTH_INTERVAL_MS, type StreamControlView } from './healthFeed.js';
import { parseInbound, refuse, type Refusal } from './inbound.js';
import { Leadership, LEADER_CHECK_MS } from './leadership.js';
import { newStreamMetrics, type StreamMetrics } from './metrics.js';
import { Outbound } from './outbound.js';
import { PinRelay } from './pins.js';
import { Positions } from './positions.js';
import { DeltaScheduler, METRIC_DELTA_HZ } from './scheduler.js';
import { SnapshotCache } from './snapshots.js';
import { newStreamClient, type StreamClient } from './streamClient.js';
import { handleUpgrade } from './upgrade.js';
import { LogFeed, type LogFeedOptions, type StreamLogView } from './log/feed.js';

/** Server heartbeat: a client that has not answered the previous ping by the next one is terminated. */
export const PING_INTERVAL_MS = 30_000;
/** A client that has not sent its hello by then gets live events from that point on. */
export const HELLO_WAIT_MS = 2_000;

/** How often the live log polls due tails and serves subscribers (drained sockets, refilled budgets). */
export const LOG_TICK_MS = 50;

const NO_LOGS: StreamLogView = {
  read: async () => ({ ok: false, reason: 'no-log', message: 'this relay serves no session logs', permanent: true }),
  sessionStatus: () => null,
};

export interface StreamServerOptions {
  config: RelayConfig;
  logger: Logger;
  telemetry: Telemetry;
  control?: StreamControlView | null;
  /** Session logs (log-subscribe); without it every subscription is answered unavailable. */
  logs?: StreamLogView | null;
  /** Tests: the live log's periods and budgets. */
  logOptions?: Partial<Omit<LogFeedOptions, 'view' | 'send' | 'log'>>;
  server: http.Server;
  /** Token and Origin checks before the upgrade: false -> 401, a number -> that status (e.g. 403). Default: allow. */
  authorize?: (req: http.IncomingMessage) => boolean | number;
  /** The full hybrid status for `health` messages; default combines control.health() and telemetry.health(). */
  health?: () => Health;
  /** Read-only relay (hello.config.readOnly). Default: config.driver === 'none'. */
  readOnly?: () => boolean;
  /** Heartbeat period; tests shorten it. Default PING_INTERVAL_MS. */
  pingIntervalMs?: number;
  /** Rate of deltas that only update metrics (structural changes go sooner). Default METRIC_DELTA_HZ. */
  metricHz?: number;
  /** Persist the event ring under config.stateDir so clients resume across a relay restart. Default true. */
  persistEvents?: boolean;
}

export interface StreamServer {
  clientCount(): number;
  metrics(): StreamMetrics;
  close(): Promise<void>;
}

export function createStreamServer(opts: StreamServerOptions): StreamServer {
  return new StreamServerImpl(opts);
}

class StreamServerImpl implements StreamServer {
  private readonly wss: WebSocketServer;
  private readonly log: Logger;
  private readonly clients = new Map<string, StreamClient>();
  private readonly m = newStreamMetrics();
  private readonly ring: EventRing;
  private readonly out: Outbound;
  private readonly snapshots: SnapshotCache;
  private readonly scheduler: DeltaScheduler;
  private readonly leadership: Leadership;
  private readonly pins: PinRelay;
  private readonly positions: Positions;
  private readonly healthFeed: HealthFeed;
  private readonly logs: LogFeed;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly listeners: { ev: string; fn: (...a: never[]) => void }[] = [];
  private readonly onUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  private closed = false;

  constructor(private readonly opts: StreamServerOptions) {
    const { config, telemetry } = opts;
    const log = (this.log = opts.logger.child({ part: 'stream' }));
    this.ring = new EventRing(undefined, Date.now(), {
      file: opts.persistEvents === false ? null : path.join(config.stateDir, EVENTS_FILE),
      onError: (e) => log.warn({ err: String(e) }, 'event ring file'),
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false, clientTracking: false });
    const { clients, m } = this;
    const out = (this.out = new Outbound(m, log));
    this.snapshots = new SnapshotCache(telemetry, out, () => this.ring.latest);
    const deltaIntervalMs = Math.round(1000 / config.stream.deltaHz);
    this.scheduler = new DeltaScheduler({
      clients,
      out,
      m,
      log,
      ring: this.ring,
      snapshots: this.snapshots,
      telemetry,
      deltaIntervalMs,
      metricIntervalMs: Math.max(deltaIntervalMs, Math.round(1000 / (opts.metricHz ?? METRIC_DELTA_HZ))),
    });
    this.leadership = new Leadership({
      clients,
      out,
      m,
      log,
      expectUploads: () => telemetry.nodeIdsInUse.size > 0,
      settled: () => this.positions.settled,
      onLeaderChanged: () => this.pins.leaderChanged(),
    });
    this.pins = new PinRelay(out, m, () => this.leadership.leader());
    this.positions = new Positions({
      clients,
      out,
      m,
      rates: config.stream,
      nodes: telemetry,
      leaderId: () => this.leadership.leaderId,
      refuse: (c, r) => refuse(c, r, m, log),
      onSettledChanged: () => {
        for (const c of clients.values()) this.leadership.sendRole(c, true);
      },
    });
    this.healthFeed = new HealthFeed(clients, out, log, telemetry, opts.control ?? null, opts.health);
    this.logs = new LogFeed({
      ...opts.logOptions,
      view: opts.logs ?? NO_LOGS,
      log,
      send: (c, msg) => {
        const text = JSON.stringify(msg);
        if (c.ws.readyState !== c.ws.OPEN) return 0;
        out.send(c, text, false);
        return Buffer.byteLength(text);
      },
    });

    this.onUpgrade = (req, socket, head) =>
      handleUpgrade({ wss: this.wss, authorize: opts.authorize, closed: () => this.closed, log, accept: (ws, follow) => this.attach(ws, follow) }, req, socket, head);
    opts.server.on('upgrade', this.onUpgrade);

    this.listen('change', (cs: ChangeSet) => this.onChange(cs));
    this.listen('event', (e: GraphEvent) => this.onEvent(e));
    this.listen('health', () => this.healthFeed.send(true));
    this.listen('session', (s: Session, cause?: ChangeCause) => this.onSession(s, cause));
    this.listen('performance', (samples: PerformanceSample[]) => this.onPerformance(samples));

    // A slow safety tick: held deltas of clients that drained are sent even when nothing new arrives.
    this.every(deltaIntervalMs * 5, () => this.scheduler.schedule());
    this.every(Math.round(1000 / config.stream.positionHz), () => this.positionTick());
    this.every(HEALTH_INTERVAL_MS, () => this.healthFeed.send(false));
    this.every(opts.pingIntervalMs ?? PING_INTERVAL_MS, () => this.heartbeat());
    this.every(LEADER_CHECK_MS, () => this.leadership.reelect());
    this.every(LOG_TICK_MS, () => this.logs.tick());
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

  // ---- what the graph and the planes say ----

  private onChange(cs: ChangeSet): void {
    // A removed agent's pin goes with it (keeps the pin set bounded by the graph).
    if (cs.delta.removals.agents?.length) this.pins.dropMissing(this.opts.telemetry.nodeIdsInUse);
    this.snapshots.invalidate();
    this.scheduler.addChange(cs);
  }

  private onEvent(e: GraphEvent): void {
    const entry = this.ring.push(e);
    if (e.requestId) this.log.child({ reqId: e.requestId }).info({ kind: entry.kind, seq: entry.seq }, 'activity entry');
    this.scheduler.schedule();
  }

  private onSession(s: Session, cause?: ChangeCause): void {
    this.out.broadcast(this.clients.values(), { type: 'session', uuid: s.uuid, swarmId: s.swarmId, status: s.status, replaces: s.replaces });
    if (cause?.requestId) this.log.child({ reqId: cause.requestId }).info({ session: s.uuid, status: s.status, clients: this.clients.size }, 'session change sent');
  }

  private onPerformance(samples: PerformanceSample[]): void {
    for (const c of this.clients.values()) {
      if (!c.includePerformance) continue;
      const mine = samples.filter((s) => c.selected.has(s.agentId));
      if (mine.length && !this.out.backedUp(c)) this.out.json(c, { type: 'performance', samples: mine });
    }
  }

  private positionTick(): void {
    this.pins.tick(this.clients.values());
    this.positions.fanOut();
  }

  // ---- the client registry ----

  private attach(ws: WebSocket, followOnly: boolean): void {
    const now = Date.now();
    const cfg = this.opts.config;
    const c = newStreamClient(ws, followOnly, !cfg.hideMock, now);
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
    this.out.json(c, {
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
    this.snapshots.send(c);
    this.out.json(c, { type: 'health', health: this.healthFeed.current() });
    this.positions.sendLatest(c);
    c.helloTimer = setTimeout(() => {
      c.helloTimer = null;
      if (c.eventCursor === null) c.eventCursor = this.ring.latest;
    }, HELLO_WAIT_MS);
    c.helloTimer.unref?.();
  }

  private detach(c: StreamClient): void {
    if (!this.clients.delete(c.id)) return;
    if (c.helloTimer) clearTimeout(c.helloTimer);
    c.held = null;
    this.pins.forget(c);
    this.logs.forget(c);
    this.m.clients = this.clients.size;
    if (this.leadership.leaderId === c.id) this.leadership.reelect();
    this.updateSelection();
  }

  private onMessage(c: StreamClient, data: RawData, isBinary: boolean): void {
    const r = parseInbound(data, isBinary);
    if (r.kind === 'refuse') return this.refuse(c, r);
    if (r.kind === 'frame') {
      if (this.positions.upload(c, r.buf)) this.positionTick(); // fan out now to every follower that is due one
      return;
    }
    this.handle(c, r.msg);
  }

  private refuse(c: StreamClient, r: Refusal): void {
    // E.g. a page for another protocol version is told in words it can show, before the close.
    if (r.notify) this.out.json(c, { type: 'error', code: r.notify, message: r.reason });
    refuse(c, r, this.m, this.log);
  }

  private handle(c: StreamClient, msg: ClientMessage): void {
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
          if (fresh.length || gap) this.out.json(c, { type: 'event', events: fresh, replay: true, gap });
          // since() returns everything after the cursor (the ring is the limit), so the client is now current.
          c.eventCursor = this.ring.latest;
        }
        this.leadership.reelect();
        this.leadership.sendRole(c, true);
        return;
      }
      case 'visibility':
        c.visible = msg.visible;
        c.silenced = false;
        this.leadership.reelect();
        return;
      case 'subscribe': {
        const filter: StreamFilter = { swarmIds: msg.swarmIds === null ? null : new Set(msg.swarmIds), includeMock: msg.includeMock };
        const changed = filterKey(filter) !== filterKey(c.filter);
        c.filter = filter;
        c.includePerformance = msg.includePerformance;
        c.selected = new Set(msg.selectedAgentIds);
        this.updateSelection();
        if (changed) this.snapshots.send(c);
        return;
      }
      case 'ping':
        this.out.json(c, { type: 'pong', t: msg.t, serverTime: Date.now() });
        return;
      case 'log-subscribe':
        this.logs.subscribe(c, msg);
        return;
      case 'log-unsubscribe':
        this.logs.unsubscribe(c, msg.uuid);
        return;
      case 'pin':
      case 'unpin':
        // Pins are applied by the layout leader's physics: the relay keeps the latest and forwards them.
        if (!this.opts.telemetry.knownNodeId(msg.nodeId)) {
          return this.refuse(c, { kind: 'refuse', code: CloseCode.invalidPayload, reason: `${msg.type} names unknown node ${msg.nodeId}`, malformed: true });
        }
        this.pins.request(c, msg.nodeId, msg.type === 'pin' ? { x: msg.x, y: msg.y, z: msg.z } : null);
        return;
    }
  }

  private updateSelection(): void {
    const ids = new Set<string>();
    for (const c of this.clients.values()) for (const id of c.selected) ids.add(id);
    this.opts.telemetry.setSelectedAgents(ids);
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
    return { ...this.m, clients: this.clients.size, log: this.logs.metrics() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.scheduler.close();
    this.logs.close();
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
