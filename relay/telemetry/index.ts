/**
 * The telemetry plane's public surface for the relay's composition root: the MCP client plus the one
 * agent graph (relay/graph), fed by push and polling. The implementation is split by concern:
 * telemetry.ts (wiring, health), poller.ts, notifications.ts, selectedMetrics.ts, controlSync.ts,
 * metrics.ts (Prometheus families), client.ts (the MCP client) and transport.ts.
 */
export { createTelemetry, type Telemetry, type TelemetryEvents, type TelemetryHealth, type TelemetryOptions } from './telemetry.js';
export { registerTelemetryMetrics, type LabelledTelemetrySource, type TelemetryMetrics, type TelemetryMetricsSource } from './metrics.js';
export { MAX_SELECTED, type PerformanceSample } from './selectedMetrics.js';
export { PUSH_RECONCILE_MS } from './poller.js';
export type { ControlView, ExecAgentInfo, SessionCause } from './controlSync.js';
export { AgentGraph, type ChangeSet, type GraphDelta, type GraphEvent } from '../graph/graph.js';
export { McpClient, RECONNECT, MAX_IN_FLIGHT, McpBusyError, McpRpcError, McpTimeoutError, McpUnavailableError } from './client.js';
export { mapTaskList, taskEntry, TaskProgressMemo, tasksUnsupported } from './tasks.js';
export { openStdioMcp, type StdioMcp, type ByteStream } from './stdioMcp.js';
