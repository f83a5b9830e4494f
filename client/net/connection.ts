/**
 * The WebSocket client: one ReconnectManager-owned socket to the relay's /wss. On open it sends hello
 * (protocol version, physics backend and score, visibility, followOnly, resume cursor) and subscribe;
 * it validates every JSON message with the shared zod schemas before applying it to the store, decodes
 * binary V2 frames into typed arrays (never React state), and, while this page leads the layout, uploads
 * position frames at most `config.positionHz` times a second. Session logs ride the same socket
 * (./logFeed.ts): their messages go to the views that follow them, never into the store, and every open
 * resubscribes them from where they stood. DOM-free: the page wires visibility and
 * online hints in client/main.tsx, so unit tests drive it with a fake socket.
 */
import {
  PROTOCOL_VERSION,
  ServerMessageSchema,
  allocNodeFrameRecords,
  decodeNodeFrameInto,
  frameRecordCount,
  recordCapacity,
  FrameError,
  WS_MAX_PAYLOAD,
  type ClientMessage,
  type NodeFrameRecords,
  type PhysicsBackend,
} from '../../shared/index.js';
import { ReconnectManager, type SocketLike } from './reconnect.js';
import { LogFeeds } from './logFeed.js';
import { applyServerMessage } from '../state/apply.js';
import type { HiveStore, HiveState } from '../state/store.js';
import type { PerformanceHistory } from '../state/performance.js';
import type { NodePositions } from '../scene/positions.js';

/** How often we ping for latency, ms. */
export const PING_INTERVAL_MS = 10_000;
/** No pong for this long after a ping: the connection is presumed dead and replaced, ms. */
export const PONG_TIMEOUT_MS = 20_000;
/**
 * Largest message accepted from the relay. Bigger than the relay's own inbound cap (WS_MAX_PAYLOAD):
 * a snapshot of 10k agents or a position frame of 100k nodes is several MiB, and both are legitimate.
 */
export const MAX_SERVER_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Skip a position upload while this many bytes are still queued (latest-wins, never a backlog). */
export const UPLOAD_BACKPRESSURE_BYTES = 256 * 1024;

export interface BrowserSocket extends SocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
}

export interface ConnectionOptions {
  store: HiveStore;
  positions: NodePositions;
  performance: PerformanceHistory;
  /** ws:// or wss:// URL of /wss (with ?token= when the page has one). */
  url: string;
  /** Inbound size cap; default MAX_SERVER_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  followOnly: boolean;
  /** Current physics backend and its measured score (steps/s), read at each hello. */
  physics: () => { backend: PhysicsBackend; score: number | null };
  createSocket?: (url: string) => BrowserSocket;
  now?: () => number;
  online?: boolean;
  visible?: boolean;
}

export interface ConnectionStats {
  framesIn: number;
  framesOut: number;
  badMessages: number;
  badFrames: number;
  lastBadMessage: string | null;
}

export class HiveConnection {
  readonly manager: ReconnectManager<BrowserSocket>;
  readonly stats: ConnectionStats = { framesIn: 0, framesOut: 0, badMessages: 0, badFrames: 0, lastBadMessage: null };
  /** Session logs this page follows (the console, the XR card's tail); resubscribed on every open. */
  readonly logs = new LogFeeds((m) => this.send(m));
  private frame: NodeFrameRecords = allocNodeFrameRecords(256);
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private lastPingAt: number | null = null;
  private lastPongAt: number | null = null;
  private lastUploadAt = 0;
  private uploadBuffer: Uint8Array | undefined;
  private visible: boolean;
  private unsubscribeStore: (() => void) | null = null;
  private readonly positionListeners = new Set<() => void>();
  private readonly now: () => number;
  private followOnly: boolean;

  constructor(private readonly opts: ConnectionOptions) {
    this.now = opts.now ?? Date.now;
    this.followOnly = opts.followOnly;
    this.visible = opts.visible ?? true;
    const create =
      opts.createSocket ??
      ((url: string) => {
        const ws = new WebSocket(url);
        return ws as unknown as BrowserSocket;
      });
    this.manager = new ReconnectManager<BrowserSocket>({
      connect: () => {
        const s = create(opts.url);
        s.binaryType = 'arraybuffer';
        return s;
      },
      online: opts.online ?? true,
      now: this.now,
      onState: (state, info) => {
        const patch: Partial<HiveState> = {
          connection: state,
          attempt: info.attempt,
          nextAttemptAt: info.nextAttemptAt,
          lastCloseReason: info.reason,
        };
        // A new connection must deliver a fresh snapshot before the page counts as ready again.
        if (state !== 'open') Object.assign(patch, { snapshotApplied: false, layoutRole: null, layoutSettled: false });
        opts.store.setState(patch);
        if (state !== 'open') {
          this.stopPing();
          this.logs.connectionLost();
        }
      },
      onOpen: (socket) => this.handleOpen(socket),
      onMessage: (data) => this.handleMessage(data),
    });
  }

  start(): void {
    // Re-subscribe when what we want to receive changes (selection drives per-agent performance samples).
    this.unsubscribeStore = this.opts.store.subscribe((s, prev) => {
      if (s.selectedAgentId !== prev.selectedAgentId || s.settings.rendering.showMock !== prev.settings.rendering.showMock) this.sendSubscribe();
    });
    this.manager.start();
  }

  stop(): void {
    this.unsubscribeStore?.();
    this.unsubscribeStore = null;
    this.stopPing();
    this.manager.stop();
  }

  /** Called after a relay frame moved positions (the scene invalidates its demand frame loop). */
  onPositions(listener: () => void): () => void {
    this.positionListeners.add(listener);
    return () => this.positionListeners.delete(listener);
  }

  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    this.send({ type: 'visibility', visible });
    this.manager.visibilityChanged(visible);
  }

  /**
   * XR viewers follow the shared layout: followOnly travels in the hello, so a change reconnects
   * (the relay then hands leadership to another page).
   */
  setFollowOnly(followOnly: boolean): void {
    if (followOnly === this.followOnly) return;
    this.followOnly = followOnly;
    if (this.manager.state === 'open' || this.manager.state === 'connecting') this.manager.reconnect(followOnly ? 'following the shared layout' : 'may lead the layout again');
  }

  /** "Retry now": skips the remaining backoff. */
  retryNow(): void {
    if (this.manager.state === 'closed') this.manager.start();
    else this.manager.visibilityChanged(true);
  }

  setOnline(online: boolean): void {
    this.manager.onlineChanged(online);
  }

  /** Sends a client message if a socket is open; returns whether it was sent. */
  send(msg: ClientMessage): boolean {
    const s = this.manager.current;
    if (!s || s.readyState !== 1) return false;
    s.send(JSON.stringify(msg));
    return true;
  }

  pin(nodeId: number, x: number, y: number, z: number): void {
    this.send({ type: 'pin', nodeId, x, y, z });
  }

  unpin(nodeId: number): void {
    this.send({ type: 'unpin', nodeId });
  }

  /** True when this page computes the layout everyone sees. */
  isLeader(): boolean {
    const s = this.opts.store.getState();
    return s.connection === 'open' && s.layoutRole === 'leader' && !this.followOnly;
  }

  /**
   * Leader: uploads the current positions as a V2 frame, at most config.positionHz per second (settledHz
   * once the layout has settled) and never while the socket still has a backlog. Returns whether it sent.
   */
  maybeUploadPositions(settled: boolean): boolean {
    if (!this.isLeader()) return false;
    const s = this.manager.current;
    const cfg = this.opts.store.getState().serverConfig;
    if (!s || !cfg || this.opts.positions.count === 0) return false;
    const hz = settled ? cfg.settledHz : cfg.positionHz;
    if (!(hz > 0)) return false;
    const now = this.now();
    if (now - this.lastUploadAt < 1000 / hz) return false;
    if (s.bufferedAmount > UPLOAD_BACKPRESSURE_BYTES) return false;
    const frame = this.opts.positions.encode(this.uploadBuffer);
    if (frame.byteLength > WS_MAX_PAYLOAD) return false;
    this.uploadBuffer = frame;
    s.send(frame);
    this.lastUploadAt = now;
    this.stats.framesOut++;
    return true;
  }

  /** Re-sends hello (the relay accepts it any time) after the physics backend or its score changed. */
  resendHello(): void {
    const s = this.manager.current;
    if (s && s.readyState === 1) this.sendHello(s);
  }

  private handleOpen(socket: BrowserSocket): void {
    this.sendHello(socket);
    this.sendSubscribe();
    // From each log's last `next` and logId: no gap and no repeat across the reconnect.
    this.logs.resubscribeAll();
    // The hello must be the first message on the socket: pings start after it.
    this.startPing();
  }

  private sendHello(socket: BrowserSocket): void {
    const st = this.opts.store.getState();
    const phys = this.opts.physics();
    const hello: ClientMessage = {
      type: 'hello',
      protocolVersion: PROTOCOL_VERSION,
      physicsBackend: phys.backend,
      physicsScore: phys.score !== null && Number.isFinite(phys.score) && phys.score >= 0 ? phys.score : null,
      visible: this.visible,
      followOnly: this.followOnly,
      resumeFrom: st.eventCursor,
    };
    socket.send(JSON.stringify(hello));
  }

  private sendSubscribe(): void {
    const s = this.opts.store.getState();
    this.send({
      type: 'subscribe',
      swarmIds: null,
      includePerformance: true,
      selectedAgentIds: s.selectedAgentId ? [s.selectedAgentId] : [],
      includeMock: s.settings.rendering.showMock,
    });
  }

  private handleMessage(data: unknown): void {
    if (typeof data === 'string') {
      const cap = this.opts.maxMessageBytes ?? MAX_SERVER_MESSAGE_BYTES;
      // UTF-16 length <= UTF-8 bytes for these messages, so this bounds before parsing anything.
      if (data.length > cap) return this.bad(`message over ${cap} bytes`);
      let json: unknown;
      try {
        json = JSON.parse(data);
      } catch {
        return this.bad('not JSON');
      }
      const r = ServerMessageSchema.safeParse(json);
      if (!r.success) {
        const type = typeof json === 'object' && json !== null && 'type' in json ? String((json as { type: unknown }).type).slice(0, 40) : '?';
        return this.bad(`invalid ${type} message: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`);
      }
      if (r.data.type === 'pong') this.lastPongAt = this.now();
      // Log text goes to the views that follow it, never through the store (it can be megabytes).
      if (r.data.type === 'log' || r.data.type === 'log-status') return this.logs.handle(r.data);
      applyServerMessage(this.opts.store, r.data, { now: this.now(), performance: this.opts.performance });
      return;
    }
    if (data instanceof ArrayBuffer) {
      if (data.byteLength > (this.opts.maxMessageBytes ?? MAX_SERVER_MESSAGE_BYTES)) return this.bad('frame over the size cap');
      this.handleFrame(data);
      return;
    }
    this.bad('unexpected message kind');
  }

  private handleFrame(bytes: ArrayBuffer): void {
    try {
      const n = frameRecordCount(bytes.byteLength);
      const capacity = recordCapacity(this.frame);
      if (n > capacity) this.frame = allocNodeFrameRecords(Math.max(n, capacity * 2));
      const records = decodeNodeFrameInto(bytes, this.frame);
      this.stats.framesIn++;
      // The leader's own layout is authoritative for itself; only followers take the relay's positions.
      if (this.isLeader()) return;
      if (this.opts.positions.applyRemote(this.frame, records) > 0) for (const l of this.positionListeners) l();
    } catch (e) {
      this.stats.badFrames++;
      this.stats.lastBadMessage = e instanceof FrameError ? `bad frame: ${e.message}` : `bad frame: ${(e as Error).message}`;
    }
  }

  private bad(reason: string): void {
    this.stats.badMessages++;
    this.stats.lastBadMessage = reason;
    console.warn(`hivescope: dropped a relay message (${reason})`);
  }

  private startPing(): void {
    this.stopPing();
    this.lastPingAt = null;
    this.lastPongAt = null;
    const ping = () => {
      const now = this.now();
      // A ping that never came back means the path is dead even if the socket has not noticed.
      if (this.lastPingAt !== null && (this.lastPongAt === null || this.lastPongAt < this.lastPingAt) && now - this.lastPingAt > PONG_TIMEOUT_MS) {
        this.manager.reconnect('no pong from the relay');
        return;
      }
      if (this.lastPingAt === null || this.lastPongAt === null || this.lastPongAt >= this.lastPingAt) {
        this.lastPingAt = now;
        this.send({ type: 'ping', t: now });
      }
    };
    ping();
    this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
  }

  private stopPing(): void {
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}

/** The /wss URL for a page location, carrying `?token=` over when present. */
export function websocketUrl(location: { protocol: string; host: string; search: string }): string {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/wss${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
