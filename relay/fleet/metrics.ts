/**
 * Per-target Prometheus families (issue 14, docs/fleet.md section 3): every target's health, control
 * state, MCP connection, latency, sessions and exec failures under a `target` label, read from the
 * planes at each scrape. These cover every target whatever its state (starting, gone: no planes); the
 * control and telemetry families (relay/control/metrics.ts, relay/telemetry/metrics.ts) carry the same
 * `target` label for the targets whose planes are made.
 */
import { Gauge, type Registry } from 'prom-client';
import { PlaneHealthSchema, BreakerStateSchema } from '../../shared/model/health.js';
import { SESSION_STATUSES, type SessionStatus } from '../../shared/model/session.js';
import { isReady, type Fleet } from './fleet.js';

export function registerFleetMetrics(registry: Registry, fleet: Fleet): void {
  const gauge = (name: string, help: string, labelNames: string[], collect: (set: (labels: Record<string, string>, v: number) => void) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // Targets come and go (discovery): each scrape says only what exists now.
        this.reset();
        collect((labels, v) => this.set(labels, v));
      },
    });
  gauge('hivescope_target_health', 'Each fleet target\'s health (1 for the current state).', ['target', 'state'], (set) => {
    for (const [name, rt] of fleet.targets) {
      const h = fleet.targetHealth(rt);
      for (const state of PlaneHealthSchema.options) set({ target: name, state }, h.status === state ? 1 : 0);
    }
  });
  gauge('hivescope_target_control_health', 'Each target\'s control plane health (1 for the current state).', ['target', 'state'], (set) => {
    for (const [name, rt] of fleet.targets) {
      const now = rt.control?.health().state ?? 'unavailable';
      for (const state of PlaneHealthSchema.options) set({ target: name, state }, now === state ? 1 : 0);
    }
  });
  gauge('hivescope_target_breaker_state', 'Each target\'s exec circuit breaker (1 for the current state).', ['target', 'state'], (set) => {
    for (const rt of fleet.ready()) for (const state of BreakerStateSchema.options) set({ target: rt.config.name, state }, rt.control.breaker.state === state ? 1 : 0);
  });
  gauge('hivescope_target_mcp_connected', 'Each target\'s MCP telemetry connection ready (1) or not (0).', ['target'], (set) => {
    for (const [name, rt] of fleet.targets) set({ target: name }, isReady(rt) && rt.telemetry.health().state === 'connected' ? 1 : 0);
  });
  gauge('hivescope_target_mcp_latency_ms', 'Each target\'s MCP latency (ms, last measured; absent when unknown).', ['target'], (set) => {
    for (const rt of fleet.ready()) {
      const ms = rt.telemetry.health().latencyMs;
      if (ms !== null) set({ target: rt.config.name }, ms);
    }
  });
  gauge('hivescope_target_sessions', 'Sessions by target and status (from each plane\'s cached registry).', ['target', 'status'], (set) => {
    for (const rt of fleet.ready()) {
      const by = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
      for (const s of rt.control.sessions().sessions) by[s.status]++;
      for (const status of SESSION_STATUSES) set({ target: rt.config.name, status }, by[status]);
    }
  });
  gauge('hivescope_target_exec_failures', 'Failed execs by target and error kind, since the target\'s plane was made.', ['target', 'kind'], (set) => {
    for (const rt of fleet.ready()) for (const [kind, n] of Object.entries(rt.control.performance().execFailures)) set({ target: rt.config.name, kind }, n);
  });
}
