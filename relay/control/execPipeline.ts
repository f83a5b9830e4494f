/**
 * Every exec the control plane runs goes through here: the circuit breaker, a bounded number running at
 * once (the rest wait in a bounded queue), the per-exec timeout and output cap, retries of transient
 * failures, latency and failure metrics. Each exec and each retry is logged with the logger of the
 * request that caused it (`o.ctx`, so the line carries its reqId), else with the plane's at debug level:
 * the periodic probe and list refreshes would otherwise fill the log.
 */
import type { Logger } from 'pino';
import { type ControlError, asControlError, readOnlyError } from './errors.js';
import type { ExecDriver, ExecResult } from './exec.js';
import { type CircuitBreaker, type ExecMetrics, Semaphore, withRetry } from './resilience.js';
import type { RunFn, RunOptions } from './backends/types.js';
import type { PlaneStatus } from './planeHealth.js';

export interface ExecPipelineDeps {
  driver: ExecDriver | null;
  exec: { timeoutMs: number; maxOutputBytes: number };
  logger: Logger;
  breaker: CircuitBreaker;
  metrics: ExecMetrics;
  status: PlaneStatus;
  concurrency: number;
  queue: number;
  /**
   * Slots shared by every plane whose target is on the same Docker engine (the fleet's per-engine bound):
   * taken after the plane's own slot, always in that order, so two planes never wait on each other's.
   */
  engineSlots?: Semaphore | undefined;
  /** Each failed exec, after the breaker saw it: the container watch reads Docker's and the container's state from it. */
  onFailure(ce: ControlError): void;
}

/** The command for log lines: its first words, each clipped (a task text can be 8 KB). */
function describe(argv: readonly string[]): string {
  return argv
    .slice(0, 3)
    .map((a) => (a.length > 80 ? `${a.slice(0, 80)}...` : a))
    .join(' ');
}

export class ExecPipeline {
  private readonly slots: Semaphore;

  constructor(private readonly d: ExecPipelineDeps) {
    this.slots = new Semaphore(d.concurrency, d.queue);
  }

  readonly run: RunFn = async (argv, o) => {
    const driver = this.d.driver;
    if (!driver) throw readOnlyError();
    const log = o.ctx?.log ?? this.d.logger;
    const cmd = describe(argv);
    return withRetry((attempt) => this.once(driver, argv, o, log, cmd, attempt), {
      isTransient: (e) => e.kind === 'docker-unavailable' || (o.idempotent && e.kind === 'timeout'),
      onRetry: (ce, attempt, delayMs) => log[o.ctx ? 'warn' : 'debug']({ cmd, attempt, kind: ce.kind, delayMs }, 'exec retry'),
    });
  };

  private async once(driver: ExecDriver, argv: readonly string[], o: RunOptions, log: Logger, cmd: string, attempt: number): Promise<ExecResult> {
    const { breaker, metrics, status } = this.d;
    breaker.acquire();
    const mine = await this.slots.acquire();
    let engine: (() => void) | null = null;
    try {
      engine = (await this.d.engineSlots?.acquire()) ?? null;
    } catch (err) {
      mine();
      throw err;
    }
    const release = () => {
      engine?.();
      mine();
    };
    // The breaker may have opened while this call waited for a slot.
    if (breaker.state === 'open') {
      try {
        breaker.acquire();
      } catch (err) {
        release();
        throw err;
      }
    }
    const level = o.ctx ? 'info' : 'debug';
    try {
      const r = await driver.exec(argv, {
        timeoutMs: o.timeoutMs ?? this.d.exec.timeoutMs,
        maxOutputBytes: this.d.exec.maxOutputBytes,
        ...(o.env ? { env: o.env } : {}),
        ...(o.detached ? { detached: true } : {}),
        ...(o.outputFile ? { outputFile: o.outputFile } : {}),
        ...(o.cwd ? { cwd: o.cwd } : {}),
      });
      metrics.observe(r.durationMs);
      breaker.success();
      log[level]({ cmd, attempt, exitCode: r.exitCode, ms: Math.round(r.durationMs * 10) / 10 }, 'exec');
      return r;
    } catch (err) {
      const ce = asControlError(err);
      metrics.fail(ce.kind);
      status.lastError = ce.message;
      // The breaker guards against a container that is up but whose execs fail or hang. Docker gone or
      // the container down are states of their own (the container watch's) with their own banner and
      // recovery; counting them would open the breaker and add a wrong "check the container logs" mode
      // on top, and turn the next spawns' docker-unavailable into circuit-open.
      if (ce.kind !== 'output-too-large' && ce.kind !== 'docker-unavailable' && ce.kind !== 'container-not-running') breaker.failure();
      log[level]({ cmd, attempt, kind: ce.kind }, 'exec failed');
      this.d.onFailure(ce);
      status.changed();
      throw ce;
    } finally {
      release();
    }
  }
}
