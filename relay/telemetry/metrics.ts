/**
 * The telemetry plane's Prometheus families (MCP connection, request counts and latency, graph size,
 * telemetry age), registered on a prom-client Registry with collect() callbacks, so every value is read
 * from the plane when /metrics is scraped.
 */
import type { Registry } from 'prom-client';
import { mirroredCounter, scrapedGauge, UnknownWhenEmptySummary } from '../metrics.js';
import type { McpClientState } from './client.js';

export interface TelemetryMetrics {
  state: McpClientState;
  connects: number;
  reconnects: number;
  requests: number;
  requestFailures: number;
  requestTimeouts: number;
  inFlight: number;
  linesRejected: number;
  notifications: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyCount: number;
  agents: number;
  edges: number;
  rejectedAgents: number;
  rejectedFields: number;
  ageMs: number | null;
}

/** What the registration reads at scrape time. */
export interface TelemetryMetricsSource {
  metrics(): TelemetryMetrics;
  /** The MCP latency window's samples (ms), for the summary's quantiles. */
  latencySamples(): readonly number[];
}

/** Registers the telemetry families on `registry`; values are read from `telemetry` at each scrape. */
export function registerTelemetryMetrics(registry: Registry, telemetry: TelemetryMetricsSource): void {
  const gauge = (name: string, help: string, read: (m: TelemetryMetrics) => number | null) => scrapedGauge(registry, name, help, () => read(telemetry.metrics()));
  const counter = (name: string, help: string, read: (m: TelemetryMetrics) => number) => mirroredCounter(registry, name, help, () => read(telemetry.metrics()));
  gauge('hivescope_mcp_connected', 'MCP telemetry connection ready (1) or not (0).', (m) => (m.state === 'ready' ? 1 : 0));
  counter('hivescope_mcp_reconnects_total', 'MCP connections lost and retried.', (m) => m.reconnects);
  counter('hivescope_mcp_requests_total', 'MCP requests sent.', (m) => m.requests);
  counter('hivescope_mcp_request_failures_total', 'MCP requests that failed or timed out.', (m) => m.requestFailures);
  counter('hivescope_mcp_lines_rejected_total', 'MCP lines refused by the framing (too long, not JSON).', (m) => m.linesRejected);
  new UnknownWhenEmptySummary({
    name: 'hivescope_mcp_latency_ms',
    help: 'MCP request latency over the last requests (ms).',
    percentiles: [0.5, 0.95],
    registers: [registry],
    collect() {
      this.reset();
      for (const ms of telemetry.latencySamples()) this.observe(ms);
    },
  });
  gauge('hivescope_graph_agents', 'Agents in the graph.', (m) => m.agents);
  gauge('hivescope_graph_edges', 'Edges in the graph.', (m) => m.edges);
  gauge('hivescope_telemetry_age_ms', 'Milliseconds since the last telemetry (NaN before any).', (m) => m.ageMs);
}
