/**
 * The control plane's Prometheus families, through prom-client: exec latency (histogram, seconds), exec
 * failures by kind, breaker state, plane health and sessions by status. Latency and failures are
 * observed as they happen (a histogram cannot be filled from a snapshot) into families registered nowhere
 * (nothing lands in prom-client's global registry); registerControlMetrics adds them, and gauges that read
 * the planes in collect(), to the caller's registry. Every family has a `target` label.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { BreakerState, PlaneHealth } from '../../shared/model/health.js';
import { BreakerStateSchema, PlaneHealthSchema } from '../../shared/model/health.js';
import type { SessionStatus } from '../../shared/model/session.js';
import { SESSION_STATUSES } from '../../shared/model/session.js';
import { CONTROL_ERROR_KINDS, type ControlErrorKind } from './errors.js';
import { EXEC_LATENCY_BUCKETS_MS, type ExecObserver } from './resilience.js';
import { scrapedGaugeFamily } from '../metrics.js';

export interface ControlPerformance {
  execLatencyMs: { p50: number | null; p95: number | null; count: number };
  execFailures: Record<string, number>;
}

/**
 * The two families observed per exec, labelled by target. prom-client forbids registering a family twice,
 * so a relay makes them once (relay/fleet) and each plane observes through `bind(its target)`; a plane
 * made without them (tests) makes its own. A target's plane made again (a retry, a labelled container
 * back) keeps adding to the same series.
 */
export class ExecFamilies {
  readonly duration = new Histogram({
    name: 'hivescope_exec_duration_seconds',
    help: 'Latency of execs into the container (or local processes).',
    labelNames: ['target'] as const,
    buckets: EXEC_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers: [],
  });
  readonly failures = new Counter({ name: 'hivescope_exec_failures_total', help: 'Failed execs by error kind.', labelNames: ['target', 'kind'] as const, registers: [] });
  private readonly bound = new Set<string>();

  /** The observer a target's plane feeds (ExecMetrics). */
  bind(target: string): ExecObserver {
    if (!this.bound.has(target)) {
      this.bound.add(target);
      // Every series from the start: a rate over a series that appears mid-way reads as nothing.
      this.duration.zero({ target });
      for (const kind of CONTROL_ERROR_KINDS) this.failures.inc({ target, kind }, 0);
    }
    const duration = this.duration.labels({ target });
    return {
      observe: (ms: number) => duration.observe(ms / 1000),
      fail: (kind: ControlErrorKind) => this.failures.inc({ target, kind }),
    };
  }
}

/** What the collect-time families read of a plane (ControlPlane has it). */
export interface ControlMetricsSource {
  readonly breaker: { readonly state: BreakerState };
  health(): { state: PlaneHealth };
  sessions(): { sessions: readonly { status: SessionStatus }[] };
}

/** One target's plane as the families read it: the target's name (a label) and its plane. */
export type LabelledControlSource = readonly [target: string, source: ControlMetricsSource];

/**
 * Adds the control families to `registry`, each once, with a `target` label (issue 14, docs/fleet.md
 * section 3): the exec families every plane observes into, and gauges reading, at each scrape, every
 * plane `sources` yields then (a relay without HIVE_TARGETS has one, `local`). A target without a plane
 * (starting, gone) has no gauge series (hivescope_target_control_health says `unavailable`).
 */
export function registerControlMetrics(registry: Registry, families: ExecFamilies, sources: () => Iterable<LabelledControlSource>): void {
  registry.registerMetric(families.duration);
  registry.registerMetric(families.failures);
  const oneHot = (name: string, help: string, states: readonly string[], current: (c: ControlMetricsSource) => string) =>
    scrapedGaugeFamily(registry, name, help, ['target', 'state'], () =>
      [...sources()].flatMap(([target, c]) => {
        const now = current(c);
        return states.map((state) => [{ target, state }, now === state ? 1 : 0] as const);
      }),
    );
  oneHot('hivescope_control_breaker_state', 'Circuit breaker state (1 for the current one).', BreakerStateSchema.options, (c) => c.breaker.state);
  oneHot('hivescope_control_health', 'Control plane health (1 for the current state).', PlaneHealthSchema.options, (c) => c.health().state);
  scrapedGaugeFamily(registry, 'hivescope_sessions', 'Sessions by status (from the cached registry).', ['target', 'status'], () =>
    [...sources()].flatMap(([target, c]) => {
      const by = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
      for (const s of c.sessions().sessions) by[s.status]++;
      return SESSION_STATUSES.map((status) => [{ target, status }, by[status]] as const);
    }),
  );
}
