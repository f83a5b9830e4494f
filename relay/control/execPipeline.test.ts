/** The exec pipeline's bounds: a plane's own slots, and the slots planes on one Docker engine share (issue 14). */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ExecPipeline } from './execPipeline.js';
import { CircuitBreaker, ExecMetrics, Semaphore } from './resilience.js';
import { PlaneStatus } from './planeHealth.js';
import type { ExecDriver, ExecResult } from './exec.js';

/** A driver whose execs stay running until released, counting how many run at once (per engine: shared). */
function engine() {
  const e = { running: 0, peak: 0, waiting: [] as (() => void)[] };
  const driver = (): ExecDriver =>
    ({
      kind: 'docker',
      container: 'c',
      exec: async (): Promise<ExecResult> => {
        e.running++;
        e.peak = Math.max(e.peak, e.running);
        await new Promise<void>((r) => e.waiting.push(r));
        e.running--;
        return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, pid: null };
      },
      close: async () => undefined,
    }) as unknown as ExecDriver;
  return { e, driver };
}

function pipeline(driver: ExecDriver, concurrency: number, engineSlots?: Semaphore) {
  const breaker = new CircuitBreaker({ threshold: 5, openMs: 1000 });
  const status = new PlaneStatus({ driver, breaker, backendName: () => 'session-manager', emit: () => undefined });
  return new ExecPipeline({ driver, exec: { timeoutMs: 10_000, maxOutputBytes: 1024 }, logger: pino({ level: 'silent' }), breaker, metrics: new ExecMetrics(), status, concurrency, queue: 100, engineSlots, onFailure: () => undefined });
}

const tick = () => new Promise((r) => setTimeout(r, 5));

async function drain(e: { running: number; waiting: (() => void)[] }, calls: Promise<unknown>[]) {
  while (e.waiting.length > 0 || e.running > 0) {
    e.waiting.shift()?.();
    await tick();
  }
  await Promise.all(calls);
}

describe('exec slots per plane and per engine', () => {
  it('two planes on one engine together run no more than the engine allows; every exec still runs', async () => {
    const { e, driver } = engine();
    const shared = new Semaphore(3, Number.MAX_SAFE_INTEGER);
    const a = pipeline(driver(), 8, shared);
    const b = pipeline(driver(), 8, shared);
    const calls = [...Array.from({ length: 6 }, () => a.run(['true'], { idempotent: true })), ...Array.from({ length: 6 }, () => b.run(['true'], { idempotent: true }))];
    await tick();
    expect(e.running).toBe(3);
    await drain(e, calls);
    expect(e.peak).toBe(3);
    expect(e.running).toBe(0);
  });

  it('without a shared bound each plane has its own: the same two planes run 8 + 8', async () => {
    const { e, driver } = engine();
    const a = pipeline(driver(), 8);
    const b = pipeline(driver(), 8);
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).run(['true'], { idempotent: true }));
    await tick();
    expect(e.running).toBe(16);
    await drain(e, calls);
  });

  it("a plane's own bound still holds under a larger engine bound, and slots come back after failures", async () => {
    const { e, driver } = engine();
    const shared = new Semaphore(16, Number.MAX_SAFE_INTEGER);
    const a = pipeline(driver(), 2, shared);
    const calls = Array.from({ length: 5 }, () => a.run(['true'], { idempotent: true }));
    await tick();
    expect(e.running).toBe(2);
    await drain(e, calls);
    const failing = pipeline({ kind: 'docker', container: 'c', exec: async () => Promise.reject(new Error('boom')), close: async () => undefined } as unknown as ExecDriver, 2, shared);
    await expect(failing.run(['x'], { idempotent: false })).rejects.toThrow();
    // Every slot was given back: 16 execs can hold the engine's slots again at once.
    const again = pipeline(driver(), 16, shared);
    const more = Array.from({ length: 16 }, () => again.run(['true'], { idempotent: true }));
    await tick();
    expect(e.running).toBe(16);
    await drain(e, more);
  });
});
