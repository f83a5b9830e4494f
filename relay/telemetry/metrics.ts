/**
 * The telemetry planes' Prometheus families (MCP connection, request counts and latency, graph size,
 * telemetry age), registered on a prom-client Registry with collect() callbacks, so every value is read
 * from the planes when /metrics is scraped; one series per target.
 */
import type { Registry } from 'prom-client';
import { mirroredCounterFamily, scrapedGaugeFamily, ScrapedSummaryFamily } from '../metrics.js';
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

/** One target's telemetry as the families read it: the target's name (a label) and its plane. */
export type LabelledTelemetrySource = readonly [target: string, source: TelemetryMetricsSource];

/**
 * Registers the telemetry families on `registry`, each once, with a `target` label (issue 14,
 * docs/fleet.md section 3): at each scrape every plane `sources` yields then is read (a relay without
 * HIVE_TARGETS has one, `local`). A target without a telemetry plane (starting, gone) has no series.
 */
export function registerTelemetryMetrics(registry: Registry, sources: () => Iterable<LabelledTelemetrySource>): void {
  const each = <T>(read: (m: TelemetryMetrics) => T) => () => [...sources()].map(([target, t]) => [{ target }, read(t.metrics())] as const);
  const gauge = (name: string, help: string, read: (m: TelemetryMetrics) => number | null) => scrapedGaugeFamily(registry, name, help, ['target'], each(read));
  const counter = (name: string, help: string, read: (m: TelemetryMetrics) => number) => mirroredCounterFamily(registry, name, help, ['target'], each(read));
  gauge('hivescope_mcp_connected', 'MCP telemetry connection ready (1) or not (0).', (m) => (m.state === 'ready' ? 1 : 0));
  counter('hivescope_mcp_reconnects_total', 'MCP connections lost and retried.', (m) => m.reconnects);
  counter('hivescope_mcp_requests_total', 'MCP requests sent.', (m) => m.requests);
  counter('hivescope_mcp_request_failures_total', 'MCP requests that failed or timed out.', (m) => m.requestFailures);
  counter('hivescope_mcp_lines_rejected_total', 'MCP lines refused by the framing (too long, not JSON).', (m) => m.linesRejected);
  new ScrapedSummaryFamily(registry, 'hivescope_mcp_latency_ms', 'MCP request latency over the last requests (ms).', ['target'], [0.5, 0.95], () =>
    [...sources()].map(([target, t]) => [{ target }, t.latencySamples()] as const),
  );
  gauge('hivescope_graph_agents', 'Agents in the graph.', (m) => m.agents);
  gauge('hivescope_graph_edges', 'Edges in the graph.', (m) => m.edges);
  gauge('hivescope_telemetry_age_ms', 'Milliseconds since the last telemetry (NaN before any).', (m) => m.ageMs);
}
