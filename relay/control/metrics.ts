/**
 * The control plane's Prometheus families, through prom-client: exec latency (histogram, seconds), exec
 * failures by kind, breaker state, plane health and sessions by status. Latency and failures are
 * observed as they happen (a histogram cannot be filled from a snapshot), so each plane owns those two
 * from its construction, registered nowhere (a second plane never collides with the first in prom-client's
 * global registry); registerControlMetrics adds them, and gauges that read the plane in collect(), to the
 * caller's registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState, PlaneHealth } from '../../shared/model/health.js';
import { BreakerStateSchema, PlaneHealthSchema } from '../../shared/model/health.js';
import type { SessionStatus } from '../../shared/model/session.js';
import { SESSION_STATUSES } from '../../shared/model/session.js';
import { CONTROL_ERROR_KINDS, type ControlErrorKind } from './errors.js';
import { EXEC_LATENCY_BUCKETS_MS, type ExecObserver } from './resilience.js';
import { oneHotGauge } from '../metrics.js';

export interface ControlPerformance {
  execLatencyMs: { p50: number | null; p95: number | null; count: number };
  execFailures: Record<string, number>;
}

/** The two families observed per exec; ExecMetrics feeds them (ExecObserver). */
export class ExecFamilies implements ExecObserver {
  readonly duration = new Histogram({
    name: 'hivescope_exec_duration_seconds',
    help: 'Latency of execs into the container (or local processes).',
    buckets: EXEC_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers: [],
  });
  readonly failures = new Counter({ name: 'hivescope_exec_failures_total', help: 'Failed execs by error kind.', labelNames: ['kind'] as const, registers: [] });

  constructor() {
    // Every kind from the start: a rate over a series that appears mid-way reads as nothing.
    for (const kind of CONTROL_ERROR_KINDS) this.failures.inc({ kind }, 0);
  }

  observe(ms: number): void {
    this.duration.observe(ms / 1000);
  }

  fail(kind: ControlErrorKind): void {
    this.failures.inc({ kind });
  }
}

/** What the families read of a plane (ControlPlane has it). */
export interface ControlMetricsSource {
  readonly execFamilies: ExecFamilies;
  readonly breaker: { readonly state: BreakerState };
  health(): { state: PlaneHealth };
  sessions(): { sessions: readonly { status: SessionStatus }[] };
}

/** Adds the control plane's families to `registry` (one plane per registry: the names carry no target label yet). */
export function registerControlMetrics(registry: Registry, control: ControlMetricsSource): void {
  registry.registerMetric(control.execFamilies.duration);
  registry.registerMetric(control.execFamilies.failures);
  oneHotGauge(registry, 'hivescope_control_breaker_state', 'Circuit breaker state (1 for the current one).', 'state', BreakerStateSchema.options, () => control.breaker.state);
  oneHotGauge(registry, 'hivescope_control_health', 'Control plane health (1 for the current state).', 'state', PlaneHealthSchema.options, () => control.health().state);
  new Gauge({
    name: 'hivescope_sessions',
    help: 'Sessions by status (from the cached registry).',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      const by = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
      for (const s of control.sessions().sessions) by[s.status]++;
      for (const status of SESSION_STATUSES) this.set({ status }, by[status]);
    },
  });
}
