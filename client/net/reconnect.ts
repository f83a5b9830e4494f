/**
 * The WebSocket reconnect state machine (after tldraw's ReconnectManager). It owns exactly one live socket
 * at a time; a socket it gives up on is "orphaned": its handlers are detached and it is closed, so a late
 * open/close/message from it can never touch the app again.
 *
 *   idle --start--> connecting --open--> open --close/error--> reconnecting --delay--> connecting
 *   connecting --attempt timeout/close--> reconnecting        any --offline hint--> offline --online--> connecting
 *   any --stop--> closed
 *
 * Hints: the page becoming visible or the browser coming back online skip the remaining backoff; while the
 * browser says it is offline we do not burn attempts.
 */
import type { ConnectionState } from '../state/store.js';

/** First retry delay, ms. */
export const RECONNECT_BASE_DELAY_MS = 500;
/** Cap on the retry delay, ms (reached after about 5 failures). */
export const RECONNECT_MAX_DELAY_MS = 15_000;
/** Each delay is scaled by a random factor in [1 - JITTER, 1 + JITTER] so many tabs do not stampede. */
export const RECONNECT_JITTER = 0.25;
/** A connection attempt that has not opened after this long is abandoned (orphaned) and retried, ms. */
export const CONNECT_ATTEMPT_TIMEOUT_MS = 8_000;
/** A socket that stayed open this long resets the backoff; shorter ones count as failures (flapping), ms. */
export const STABLE_CONNECTION_MS = 5_000;

/** What the machine needs from a WebSocket (the browser's, or a fake in unit tests). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface ReconnectOptions<S extends SocketLike> {
  /** Opens a new socket (called once per attempt). */
  connect: () => S;
  onState?: (state: ConnectionState, info: { attempt: number; nextAttemptAt: number | null; reason: string | null }) => void;
  onOpen?: (socket: S) => void;
  onMessage?: (data: unknown, socket: S) => void;
  /** Initial online state (navigator.onLine). */
  online?: boolean;
  random?: () => number;
  now?: () => number;
}

/** Backoff for the n-th consecutive failure (1-based), before jitter. */
export function backoffDelay(failures: number): number {
  const exp = RECONNECT_BASE_DELAY_MS * 2 ** Math.max(0, failures - 1);
  return Math.min(RECONNECT_MAX_DELAY_MS, exp);
}

export class ReconnectManager<S extends SocketLike = SocketLike> {
  private socket: S | null = null;
  private stateValue: ConnectionState = 'idle';
  private failures = 0;
  private openedAt: number | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attemptTimer: ReturnType<typeof setTimeout> | null = null;
  private online: boolean;
  private nextAttemptAt: number | null = null;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly opts: ReconnectOptions<S>) {
    this.online = opts.online ?? true;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  get state(): ConnectionState {
    return this.stateValue;
  }
  get attempt(): number {
    return this.failures;
  }
  /** The open socket, or null. */
  get current(): S | null {
    return this.stateValue === 'open' ? this.socket : null;
  }

  start(): void {
    if (this.stateValue !== 'idle' && this.stateValue !== 'closed') return;
    if (!this.online) return this.setState('offline', 'browser is offline');
    this.attemptNow();
  }

  stop(): void {
    this.clearTimers();
    this.orphan(1000, 'client closing');
    this.setState('closed', 'stopped');
  }

  /** Page visibility hint: a visible page retries at once instead of waiting out the backoff. */
  visibilityChanged(visible: boolean): void {
    if (visible && this.stateValue === 'reconnecting') this.attemptNow();
  }

  /** navigator online/offline hint. */
  onlineChanged(online: boolean): void {
    this.online = online;
    if (!online) {
      if (this.stateValue === 'reconnecting' || this.stateValue === 'connecting') {
        this.clearTimers();
        this.orphan(1000, 'browser offline');
        this.setState('offline', 'browser is offline');
      }
      return;
    }
    if (this.stateValue === 'offline' || this.stateValue === 'reconnecting') {
      this.failures = 0;
      this.attemptNow();
    }
  }

  /** Forces a reconnect (e.g. the server said something we cannot parse, or a heartbeat went missing). */
  reconnect(reason: string): void {
    if (this.stateValue === 'closed' || this.stateValue === 'idle') return;
    this.handleLoss(reason);
  }

  private attemptNow(): void {
    this.clearTimers();
    this.orphan(1000, 'superseded');
    this.setState('connecting', null);
    let socket: S;
    try {
      socket = this.opts.connect();
    } catch (e) {
      this.handleLoss(`could not open socket: ${(e as Error).message}`);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.clearTimers();
      this.openedAt = this.now();
      this.setState('open', null);
      this.opts.onOpen?.(socket);
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.opts.onMessage?.(ev.data, socket);
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.handleLoss(`closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    };
    socket.onerror = () => {
      if (this.socket !== socket) return;
      this.handleLoss('socket error');
    };
    this.attemptTimer = setTimeout(() => {
      if (this.socket === socket && this.stateValue === 'connecting') this.handleLoss('connection attempt timed out');
    }, CONNECT_ATTEMPT_TIMEOUT_MS);
  }

  private handleLoss(reason: string): void {
    if (this.stateValue === 'closed') return;
    const wasStable = this.openedAt !== null && this.now() - this.openedAt >= STABLE_CONNECTION_MS;
    this.openedAt = null;
    this.clearTimers();
    this.orphan(1000, 'reconnecting');
    if (!this.online) return this.setState('offline', 'browser is offline');
    this.failures = wasStable ? 1 : this.failures + 1;
    const jitter = 1 + RECONNECT_JITTER * (2 * this.random() - 1);
    const delay = Math.round(backoffDelay(this.failures) * jitter);
    this.nextAttemptAt = this.now() + delay;
    this.setState('reconnecting', reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.attemptNow();
    }, delay);
  }

  /** Detaches and closes the current socket so nothing it does later reaches us. */
  private orphan(code: number, reason: string): void {
    const s = this.socket;
    if (!s) return;
    this.socket = null;
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    s.onerror = null;
    try {
      s.close(code, reason);
    } catch {
      // Closing a socket that never connected can throw in some browsers; it is gone either way.
    }
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.attemptTimer !== null) clearTimeout(this.attemptTimer);
    this.retryTimer = null;
    this.attemptTimer = null;
  }

  private setState(state: ConnectionState, reason: string | null): void {
    if (state !== 'reconnecting') this.nextAttemptAt = null;
    this.stateValue = state;
    this.opts.onState?.(state, { attempt: this.failures, nextAttemptAt: this.nextAttemptAt, reason });
  }
}
