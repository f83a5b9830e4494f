// The telemetry planes' Prometheus families on a prom-client Registry: names and types as before, a
// `target` label (issue 14), values read from the planes at scrape time.
import { expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerTelemetryMetrics, type TelemetryMetrics } from './metrics.js';

it('registers the MCP and graph families, read when scraped', async () => {
  const m: TelemetryMetrics = {
    state: 'ready', connects: 1, reconnects: 2, requests: 30, requestFailures: 3, requestTimeouts: 1, inFlight: 0, linesRejected: 4, notifications: 9,
    latencyP50Ms: 2, latencyP95Ms: 9, latencyCount: 3, agents: 5, edges: 6, rejectedAgents: 0, rejectedFields: 0, ageMs: null,
  };
  const samples = [1, 2, 9];
  const registry = new Registry();
  registerTelemetryMetrics(registry, () => [['local', { metrics: () => m, latencySamples: () => samples }]]);
  let text = await registry.metrics();
  for (const [name, type] of [
    ['hivescope_mcp_connected', 'gauge'],
    ['hivescope_mcp_reconnects_total', 'counter'],
    ['hivescope_mcp_requests_total', 'counter'],
    ['hivescope_mcp_request_failures_total', 'counter'],
    ['hivescope_mcp_lines_rejected_total', 'counter'],
    ['hivescope_mcp_latency_ms', 'summary'],
    ['hivescope_graph_agents', 'gauge'],
    ['hivescope_graph_edges', 'gauge'],
    ['hivescope_telemetry_age_ms', 'gauge'],
  ]) expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
  expect(text).toMatch(/^hivescope_mcp_connected\{target="local"\} 1$/m);
  expect(text).toMatch(/^hivescope_mcp_requests_total\{target="local"\} 30$/m);
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.5",target="local"\} 2$/m);
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.95",target="local"\} 9$/m);
  expect(text).toMatch(/^hivescope_graph_edges\{target="local"\} 6$/m);
  expect(text).toMatch(/^hivescope_telemetry_age_ms\{target="local"\} nan$/im);
  m.state = 'backoff';
  m.requests = 31;
  text = await registry.metrics();
  expect(text).toMatch(/^hivescope_mcp_connected\{target="local"\} 0$/m);
  expect(text).toMatch(/^hivescope_mcp_requests_total\{target="local"\} 31$/m);
});

it('an MCP latency summary with no requests yet says unknown (NaN), not 0 ms', async () => {
  const m: TelemetryMetrics = {
    state: 'connecting', connects: 0, reconnects: 0, requests: 0, requestFailures: 0, requestTimeouts: 0, inFlight: 0, linesRejected: 0, notifications: 0,
    latencyP50Ms: null, latencyP95Ms: null, latencyCount: 0, agents: 0, edges: 0, rejectedAgents: 0, rejectedFields: 0, ageMs: null,
  };
  const samples: number[] = [];
  const registry = new Registry();
  registerTelemetryMetrics(registry, () => [['local', { metrics: () => m, latencySamples: () => samples }]]);
  let text = await registry.metrics();
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.5",target="local"\} nan$/im);
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.95",target="local"\} nan$/im);
  expect(text).toMatch(/^hivescope_mcp_latency_ms_count\{target="local"\} 0$/m);
  samples.push(4);
  text = await registry.metrics();
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.5",target="local"\} 4$/m);
});

it('one series per target the sources yield at each scrape; a target that left has none', async () => {
  const metrics = (state: TelemetryMetrics['state'], requests: number): TelemetryMetrics => ({
    state, connects: 1, reconnects: 0, requests, requestFailures: 0, requestTimeouts: 0, inFlight: 0, linesRejected: 0, notifications: 0,
    latencyP50Ms: null, latencyP95Ms: null, latencyCount: 0, agents: requests, edges: 0, rejectedAgents: 0, rejectedFields: 0, ageMs: 5,
  });
  const planes = new Map([
    ['alpha', { metrics: () => metrics('ready', 3), latencySamples: () => [10, 20] }],
    ['beta', { metrics: () => metrics('backoff', 8), latencySamples: () => [] }],
  ]);
  const registry = new Registry();
  registerTelemetryMetrics(registry, () => planes.entries());
  let text = await registry.metrics();
  expect(text).toMatch(/^hivescope_mcp_connected\{target="alpha"\} 1$/m);
  expect(text).toMatch(/^hivescope_mcp_connected\{target="beta"\} 0$/m);
  expect(text).toMatch(/^hivescope_mcp_requests_total\{target="alpha"\} 3$/m);
  expect(text).toMatch(/^hivescope_mcp_requests_total\{target="beta"\} 8$/m);
  expect(text).toMatch(/^hivescope_graph_agents\{target="beta"\} 8$/m);
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.95",target="alpha"\} 20$/m);
  expect(text).toMatch(/^hivescope_mcp_latency_ms_sum\{target="alpha"\} 30$/m);
  expect(text).toMatch(/^hivescope_mcp_latency_ms\{quantile="0.5",target="beta"\} nan$/im);
  expect(text).toMatch(/^hivescope_mcp_latency_ms_count\{target="beta"\} 0$/m);
  expect(text.match(/^# TYPE hivescope_mcp_connected /gm)).toHaveLength(1);
  planes.delete('beta');
  text = await registry.metrics();
  expect(text).toMatch(/^hivescope_mcp_requests_total\{target="alpha"\} 3$/m);
  expect(text).not.toMatch(/target="beta"/);
});
