/**
 * The control plane's health: one state (healthy, degraded, unavailable), the degraded modes that say
 * what still works and what to do, and a `health` event only when something a reader sees changed. The
 * Docker-only part (daemon reachable, container running or paused) comes from the container watch as a
 * TargetHealth; with the local driver there is none.
 */
import type { BackendInfo, DegradedMode, PlaneHealth } from '../../shared/model/health.js';
import type { ExecDriver } from './exec.js';
import type { CircuitBreaker } from './resilience.js';
import type { ControlHealth } from './planeEvents.js';

export type BackendName = 'session-manager' | 'claude-flow' | 'none';

/** What the thing the plane execs into (a Docker container) adds to the plane's health. */
export interface TargetHealth {
  /** Control cannot work now (Docker gone, the container stopped or paused). */
  readonly down: boolean;
  /** Changes whenever what `degraded()` or `down` would say changes (deduplicates `health` events). */
  readonly key: string;
  readonly cpuPercent: number | null;
  readonly memoryBytes: number | null;
  degraded(): DegradedMode[];
}

export interface PlaneStatusDeps {
  driver: ExecDriver | null;
  breaker: CircuitBreaker;
  backendName(): BackendName;
  /** The detected backend's describe() (kind, version, operations, limits); null while none answered. */
  backendInfo?(): BackendInfo | null;
  emit(h: ControlHealth): void;
}

export class PlaneStatus {
  lastError: string | null = null;
  execLatencyMs: number | null = null;
  probeFailed = false;
  /** Set once by the plane when its driver has a container watch. */
  target: TargetHealth | null = null;
  private lastKey = '';

  constructor(private readonly d: PlaneStatusDeps) {}

  health(): ControlHealth {
    return {
      state: this.state(),
      driver: this.d.driver?.kind ?? 'none',
      backend: this.d.backendName(),
      backendInfo: this.d.backendInfo?.() ?? null,
      container: this.d.driver?.container ?? null,
      execLatencyMs: this.execLatencyMs,
      breaker: this.d.breaker.state,
      lastError: this.lastError,
      containerCpuPercent: this.target?.cpuPercent ?? null,
      containerMemoryBytes: this.target?.memoryBytes ?? null,
    };
  }

  state(): PlaneHealth {
    if (!this.d.driver) return 'unavailable';
    if (this.target?.down) return 'unavailable';
    if (this.d.breaker.state === 'open') return 'unavailable';
    if (this.d.breaker.state === 'half-open' || this.probeFailed || this.d.backendName() === 'none') return 'degraded';
    return 'healthy';
  }

  /** The control plane's share of Health.degraded (relay/health.ts adds telemetry's). */
  degraded(): DegradedMode[] {
    if (!this.d.driver) {
      return [{ code: 'read-only', message: 'HIVE_DRIVER=none: swarms cannot be spawned or stopped from here.', stillWorks: 'Telemetry: watching agents and sessions.', action: 'Start the relay with HIVE_DRIVER=auto, docker or local to control swarms.' }];
    }
    const out: DegradedMode[] = [...(this.target?.degraded() ?? [])];
    if (this.d.breaker.state !== 'closed') {
      out.push({ code: 'breaker-open', message: `Commands in the container failed ${this.d.breaker.threshold} times in a row; the relay pauses them. Last error: ${this.lastError ?? 'unknown'}`, stillWorks: 'Telemetry and the cached session list.', action: 'Check the container logs; the relay retries by itself every few seconds.' });
    }
    return out;
  }

  /** Emits `health` when the state, breaker, backend or the target's flags changed since the last one. */
  changed(): void {
    const h = this.health();
    // Another claude-flow after a restart (kind or version) is news even when the backend's name is the same.
    const key = `${h.state}|${h.breaker}|${h.backend}|${h.backendInfo?.kind ?? ''}@${h.backendInfo?.version ?? ''}|${this.target?.key ?? ''}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.d.emit(h);
  }
}
