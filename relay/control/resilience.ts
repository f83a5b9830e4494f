/**
 * Circuit breaker, retry with backoff, a spawn rate limiter, and the exec metrics they feed.
 * Time comes from Date.now/setTimeout so tests can drive it with fake timers.
 */
import type { BreakerState } from '../../shared/model/health.js';
import { ControlError, type ControlErrorKind } from './errors.js';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  threshold?: number;
  /** How long it stays open before one half-open probe is let through. Default 5000 ms. */
  openMs?: number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private _state: BreakerState = 'closed';
  readonly threshold: number;
  readonly openMs: number;
  onChange: ((s: BreakerState) => void) | null = null;

  constructor(o: BreakerOptions = {}) {
    this.threshold = o.threshold ?? 5;
    this.openMs = o.openMs ?? 5000;
  }

  get state(): BreakerState {
    return this._state;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  private set(s: BreakerState) {
    if (s === this._state) return;
    this._state = s;
    this.onChange?.(s);
  }

  /** Throws circuit-open unless a call may go through now (closed, or the one half-open probe). */
  acquire(): void {
    if (this._state === 'closed') return;
    if (this._state === 'open' && Date.now() - this.openedAt >= this.openMs) this.set('half-open');
    if (this._state === 'half-open' && !this.probing) {
      this.probing = true;
      return;
    }
    const wait = Math.max(0, this.openMs - (Date.now() - this.openedAt));
    throw new ControlError('circuit-open', `the container stopped answering (${this.failures} failures in a row); next try in ${Math.ceil(wait / 1000)} s`, {
      retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
    });
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    this.set('closed');
  }

  failure(): void {
    this.failures++;
    this.probing = false;
    if (this._state === 'half-open' || this.failures >= this.threshold) {
      this.openedAt = Date.now();
      this.set('open');
    }
  }

  /** Close at once (e.g. the container was seen starting again). */
  reset(): void {
    this.failures = 0;
    this.probing = false;
    this.set('closed');
  }
}

export interface RetryOptions {
  /** Total attempts including the first. Default 3 (the cap). */
  attempts?: number;
  /** First backoff; doubles each time. Default 100 ms. */
  baseMs?: number;
  isTransient: (err: ControlError) => boolean;
  /** Called before each backoff wait with the failure, the attempt that failed and the wait. */
  onRetry?: (err: ControlError, attempt: number, delayMs: number) => void;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs fn until it succeeds, fails non-transiently, or the attempts are spent. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const attempts = Math.min(3, Math.max(1, o.attempts ?? 3));
  const base = o.baseMs ?? 100;
  for (let i = 1; ; i++) {
    try {
      return await fn(i);
    } catch (err) {
      const ce = err instanceof ControlError ? err : null;
      if (!ce || i >= attempts || !o.isTransient(ce)) throw err;
      const delayMs = base * 2 ** (i - 1);
      o.onRetry?.(ce, i, delayMs);
      await sleep(delayMs);
    }
  }
}

/** Sliding one-minute window of spawn times. */
export class RateLimiter {
  private times: number[] = [];
  constructor(private readonly perMinute: number) {}

  /** Takes one slot or throws rate-limited with the seconds until one frees up. */
  take(): void {
    const now = Date.now();
    while (this.times.length > 0 && now - this.times[0]! >= 60_000) this.times.shift();
    if (this.times.length >= this.perMinute) {
      const wait = Math.max(1, Math.ceil((60_000 - (now - this.times[0]!)) / 1000));
      throw new ControlError('rate-limited', `more than ${this.perMinute} spawns in a minute; try again in ${wait} s`, { retryAfterSeconds: wait });
    }
    this.times.push(now);
  }
}

/** Latency histogram bucket upper bounds (ms). */
export const EXEC_LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const;

/** Where each observation is also recorded as it happens (the Prometheus families: see metrics.ts). */
export interface ExecObserver {
  observe(ms: number): void;
  fail(kind: ControlErrorKind): void;
}

export class ExecMetrics {
  constructor(private readonly observer: ExecObserver | null = null) {}

  readonly buckets = new Array<number>(EXEC_LATENCY_BUCKETS_MS.length).fill(0);
  count = 0;
  sumMs = 0;
  readonly failures = new Map<ControlErrorKind, number>();
  private readonly recent: number[] = [];
  lastLatencyMs: number | null = null;

  observe(ms: number): void {
    this.count++;
    this.sumMs += ms;
    this.lastLatencyMs = ms;
    for (let i = 0; i < EXEC_LATENCY_BUCKETS_MS.length; i++) if (ms <= EXEC_LATENCY_BUCKETS_MS[i]!) this.buckets[i]!++;
    this.recent.push(ms);
    if (this.recent.length > 512) this.recent.shift();
    this.observer?.observe(ms);
  }

  fail(kind: ControlErrorKind): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
    this.observer?.fail(kind);
  }

  percentile(p: number): number | null {
    if (this.recent.length === 0) return null;
    const s = [...this.recent].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  }
}

/**
 * Bounds concurrent execs (each one is a process in the container) and the queue waiting for them:
 * a burst of 1000 spawns must not become 1000 simultaneous processes.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get queued(): number {
    return this.waiters.length;
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.max) {
      if (this.waiters.length >= this.maxQueue) {
        throw new ControlError('rate-limited', `${this.waiters.length} commands are already queued for the container; try again shortly`, { retryAfterSeconds: 2 });
      }
      await new Promise<void>((r) => this.waiters.push(r));
    } else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }
}
