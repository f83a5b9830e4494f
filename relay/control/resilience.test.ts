import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker, RateLimiter, withRetry, ExecMetrics } from './resilience.js';
import { ControlError } from './errors.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-11-21T00:00:00Z'));
});
afterEach(() => vi.useRealTimers());

describe('circuit breaker', () => {
  it('opens after 5 consecutive failures and refuses calls while open', () => {
    const b = new CircuitBreaker({ threshold: 5, openMs: 5000 });
    for (let i = 0; i < 4; i++) {
      b.acquire();
      b.failure();
    }
    expect(b.state).toBe('closed');
    b.acquire();
    b.failure();
    expect(b.state).toBe('open');
    expect(() => b.acquire()).toThrow(expect.objectContaining({ kind: 'circuit-open' }));
  });

  it('a success in between resets the count', () => {
    const b = new CircuitBreaker();
    for (let i = 0; i < 4; i++) b.failure();
    b.success();
    for (let i = 0; i < 4; i++) b.failure();
    expect(b.state).toBe('closed');
  });

  it('lets exactly one half-open probe through after the open period; success closes', () => {
    const b = new CircuitBreaker({ openMs: 5000 });
    for (let i = 0; i < 5; i++) b.failure();
    vi.advanceTimersByTime(4999);
    expect(() => b.acquire()).toThrow(ControlError);
    vi.advanceTimersByTime(1);
    b.acquire();
    expect(b.state).toBe('half-open');
    expect(() => b.acquire()).toThrow(/next try/);
    b.success();
    expect(b.state).toBe('closed');
    b.acquire();
  });

  it('a failed half-open probe opens it again for another period', () => {
    const changes: string[] = [];
    const b = new CircuitBreaker({ openMs: 1000 });
    b.onChange = (s) => changes.push(s);
    for (let i = 0; i < 5; i++) b.failure();
    vi.advanceTimersByTime(1000);
    b.acquire();
    b.failure();
    expect(b.state).toBe('open');
    expect(() => b.acquire()).toThrow(ControlError);
    expect(changes).toEqual(['open', 'half-open', 'open']);
  });
});

describe('retry', () => {
  it('retries transient failures with doubling backoff, at most 3 attempts', async () => {
    const times: number[] = [];
    const p = withRetry(
      async () => {
        times.push(Date.now());
        throw new ControlError('docker-unavailable', 'down');
      },
      { isTransient: (e) => e.transient, baseMs: 100 },
    );
    const done = expect(p).rejects.toMatchObject({ kind: 'docker-unavailable' });
    await vi.runAllTimersAsync();
    await done;
    expect(times.map((t) => t - times[0]!)).toEqual([0, 100, 300]);
  });

  it('never retries non-transient failures', async () => {
    let n = 0;
    await expect(
      withRetry(
        async () => {
          n++;
          throw new ControlError('command-failed', 'exit 1');
        },
        { isTransient: (e) => e.transient },
      ),
    ).rejects.toMatchObject({ kind: 'command-failed' });
    expect(n).toBe(1);
  });

  it('returns the first success', async () => {
    let n = 0;
    const p = withRetry(
      async () => {
        if (++n < 2) throw new ControlError('timeout', 'slow');
        return 'ok';
      },
      { isTransient: () => true },
    );
    await vi.runAllTimersAsync();
    await expect(p).resolves.toBe('ok');
    expect(n).toBe(2);
  });

  it('caps attempts at 3 even when asked for more', async () => {
    let n = 0;
    const p = withRetry(
      async () => {
        n++;
        throw new ControlError('timeout', 'slow');
      },
      { isTransient: () => true, attempts: 10 },
    );
    const done = expect(p).rejects.toBeInstanceOf(ControlError);
    await vi.runAllTimersAsync();
    await done;
    expect(n).toBe(3);
  });
});

describe('spawn rate limiter', () => {
  it('allows N per sliding minute, then says when to come back', () => {
    const r = new RateLimiter(3);
    r.take();
    vi.advanceTimersByTime(10_000);
    r.take();
    r.take();
    expect(() => r.take()).toThrow(expect.objectContaining({ kind: 'rate-limited', details: { retryAfterSeconds: 50 } }));
    vi.advanceTimersByTime(50_000);
    r.take();
  });
});

describe('exec metrics', () => {
  it('keeps cumulative histogram buckets and percentiles; unknown is null', () => {
    const m = new ExecMetrics();
    expect(m.percentile(0.5)).toBeNull();
    for (const ms of [3, 40, 40, 200, 9000]) m.observe(ms);
    expect(m.buckets[0]).toBe(1); // <= 5
    expect(m.buckets[3]).toBe(3); // <= 50
    expect(m.buckets[m.buckets.length - 1]).toBe(5);
    expect(m.percentile(0.5)).toBe(40);
    expect(m.percentile(0.95)).toBe(9000);
  });
});
