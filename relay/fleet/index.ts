/**
 * The fleet's public surface (issue 14, docs/fleet.md): one control plane and one telemetry per target,
 * and the facades app.ts hands the routes and the stream.
 */
export { Fleet, isReady, controlView, TARGET_RETRY_MS, FLEET_START_WAIT_MS, type TargetRuntime, type ReadyTarget, type FleetOptions } from './fleet.js';
export { FleetControl } from './fleetControl.js';
export { FleetTelemetry } from './fleetTelemetry.js';
export { registerFleetMetrics } from './metrics.js';
export { TARGET_LABEL, MCP_LABEL } from './discovery.js';
export { pickTarget, type PickCandidate, type PickResult } from './pick.js';
export { qualifyId, splitQualifiedId, type IdScope } from './ids.js';
