/** Prometheus text lines for the control plane (the lead's /metrics concatenates them with telemetry's). */
import type { ControlPlane } from './controlPlane.js';

export function renderControlMetrics(control: ControlPlane): string {
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
  for (const s of ['closed', 'open', 'half-open']) L.push(`hivescope_control_breaker_state{state="${s}"} ${m.breaker === s ? 1 : 0}`);
  L.push('# HELP hivescope_control_health Control plane health (1 for the current state).');
  L.push('# TYPE hivescope_control_health gauge');
  for (const s of ['healthy', 'degraded', 'unavailable']) L.push(`hivescope_control_health{state="${s}"} ${m.state === s ? 1 : 0}`);
  L.push('# HELP hivescope_sessions Sessions by status (from the cached registry).');
  L.push('# TYPE hivescope_sessions gauge');
  for (const [s, n] of Object.entries(m.sessionsByStatus)) L.push(`hivescope_sessions{status="${s}"} ${n}`);
  return L.join('\n') + '\n';
}
