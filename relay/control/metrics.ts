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

export interface ControlPerformance {
  execLatencyMs: { p50: number | null; p95: number | null; count: number };
  execFailures: Record<string, number>;
}

export interface ControlMetricsSnapshot {
  /** Cumulative counts per upper bound (ms), Prometheus-style. */
  execLatencyBucketsMs: { le: number; count: number }[];
  execLatencyCount: number;
  execLatencySumMs: number;
  failuresByKind: Record<ControlErrorKind, number>;
  breaker: BreakerState;
  sessionsByStatus: Record<SessionStatus, number>;
  state: PlaneHealth;
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
  new Gauge({
    name: 'hivescope_control_breaker_state',
    help: 'Circuit breaker state (1 for the current one).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const now = control.breaker.state;
      for (const state of BreakerStateSchema.options) this.set({ state }, now === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hivescope_control_health',
    help: 'Control plane health (1 for the current state).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const now = control.health().state;
      for (const state of PlaneHealthSchema.options) this.set({ state }, now === state ? 1 : 0);
    },
  });
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

/**
 * The same families as text without a registry, from a snapshot. Kept only while relay/app.ts still
 * joins plane texts by hand; it goes once /metrics serves one prom-client Registry.
 */
export function renderControlMetrics(control: { metricsSnapshot(): ControlMetricsSnapshot }): string {
  const m = control.metricsSnapshot();
  const L: string[] = [];
  L.push('# HELP hivescope_exec_duration_seconds Latency of execs into the container (or local processes).');
  L.push('# TYPE hivescope_exec_duration_seconds histogram');
  for (const b of m.execLatencyBucketsMs) L.push(`hivescope_exec_duration_seconds_bucket{le="${b.le / 1000}"} ${b.count}`);
  L.push(`hivescope_exec_duration_seconds_bucket{le="+Inf"} ${m.execLatencyCount}`);
  L.push(`hivescope_exec_duration_seconds_sum ${m.execLatencySumMs / 1000}`);
  L.push(`hivescope_exec_duration_seconds_count ${m.execLatencyCount}`);
  L.push('# HELP hivescope_exec_failures_total Failed execs by error kind.');
  L.push('# TYPE hivescope_exec_failures_total counter');
  for (const [k, v] of Object.entries(m.failuresByKind)) L.push(`hivescope_exec_failures_total{kind="${k}"} ${v}`);
  L.push('# HELP hivescope_control_breaker_state Circuit breaker state (1 for the current one).');
  L.push('# TYPE hivescope_control_breaker_state gauge');
  for (const s of BreakerStateSchema.options) L.push(`hivescope_control_breaker_state{state="${s}"} ${m.breaker === s ? 1 : 0}`);
  L.push('# HELP hivescope_control_health Control plane health (1 for the current state).');
  L.push('# TYPE hivescope_control_health gauge');
  for (const s of PlaneHealthSchema.options) L.push(`hivescope_control_health{state="${s}"} ${m.state === s ? 1 : 0}`);
  L.push('# HELP hivescope_sessions Sessions by status (from the cached registry).');
  L.push('# TYPE hivescope_sessions gauge');
  for (const [s, n] of Object.entries(m.sessionsByStatus)) L.push(`hivescope_sessions{status="${s}"} ${n}`);
  return L.join('\n') + '\n';
}
