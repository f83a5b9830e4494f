/**
 * Combines the two planes' health into the one `Health` the relay reports (WebSocket `health`,
 * GET /api/hybrid/status, /health). Each degraded mode says what is wrong, what still works, and what
 * to do, so the browser's banners and the README's troubleshooting read the same words.
 */
import type { DegradedMode, Health, PlaneHealth } from '../shared/model/health.js';
import type { SessionStatus } from '../shared/model/session.js';

export type ControlHealth = Health['control'];
export type TelemetryHealth = Health['telemetry'];

/** Sessions counted as active in `Health.activeSessions`: created and not yet ended, paused or failed. */
export const ACTIVE_SESSION_STATUSES: readonly SessionStatus[] = ['created', 'starting', 'running'];

/** `Health.activeSessions`: the one count, for the relay's health and the stream's fallback alike. */
export function countActiveSessions(sessions: readonly { status: SessionStatus }[]): number {
  let n = 0;
  for (const s of sessions) if (ACTIVE_SESSION_STATUSES.includes(s.status)) n++;
  return n;
}

/** Telemetry older than this is shown as stale. */
export const TELEMETRY_STALE_MS = 10_000;

/**
 * The control plane reports its own modes from the state it holds (Docker reachable, container paused,
 * breaker, read-only); this adds telemetry's and merges the case where both planes are down.
 */
export function degradedModes(control: ControlHealth, telemetry: TelemetryHealth, controlModes: readonly DegradedMode[]): DegradedMode[] {
  const modes: DegradedMode[] = [];
  const controlDown = control.driver !== 'none' && control.state === 'unavailable';
  const mcpDown = telemetry.state !== 'connected' && telemetry.state !== 'disabled';
  const where = control.driver === 'docker' ? `container ${control.container ?? ''}`.trim() : 'the embedded hive';
  if (controlDown && mcpDown) {
    modes.push({
      code: 'both-down',
      message: `Neither the control plane (${where}) nor MCP telemetry (${telemetry.host}:${telemetry.port}) answers.${control.lastError ? ` Last error: ${control.lastError}` : ''}`,
      stillWorks: 'The page and the last known graph (shown as stale). Nothing can be spawned or stopped.',
      action:
        control.driver === 'docker'
          ? `Start the container (npm run container:up, or docker start ${control.container ?? 'multi-agent-container'}) and check that dockerd runs; the relay reconnects by itself.`
          : 'Restart the relay (npm start); if it persists, check the relay log for the engine error.',
    });
    // The both-down mode replaces the control plane's own "down" modes; its others (breaker) stay.
    modes.push(...controlModes.filter((m) => m.code !== 'docker-unavailable' && m.code !== 'container-down'));
  } else {
    modes.push(...controlModes);
    if (mcpDown) {
      modes.push({
        code: 'mcp-down',
        message: `MCP telemetry at ${telemetry.host}:${telemetry.port} is ${telemetry.state}.${telemetry.lastError ? ` Last error: ${telemetry.lastError}` : ''}`,
        stillWorks: 'Spawning, stopping, pausing and listing sessions. Agent data is the last known, shown as stale.',
        action: 'Check that the MCP server runs on that port (inside the container: the engine or mcp-tcp-server); the relay reconnects by itself.',
      });
    }
  }
  if (!mcpDown && telemetry.state === 'connected' && telemetry.ageMs !== null && telemetry.ageMs > TELEMETRY_STALE_MS) {
    modes.push({
      code: 'telemetry-stale',
      message: `No telemetry for ${Math.round(telemetry.ageMs / 1000)} s although MCP is connected.`,
      stillWorks: 'Control operations; the graph shows the last known values.',
      action: 'The MCP server may be overloaded or stuck; check its log.',
    });
  }
  return modes;
}

export function overallStatus(control: ControlHealth, telemetry: TelemetryHealth): PlaneHealth {
  const controlOk = control.driver === 'none' || control.state === 'healthy';
  const mcpOk = telemetry.state === 'connected' || telemetry.state === 'disabled';
  const controlDown = control.driver !== 'none' && control.state === 'unavailable';
  const mcpDown = !mcpOk;
  if (controlDown && mcpDown) return 'unavailable';
  if (controlOk && mcpOk && control.breaker !== 'open') return 'healthy';
  return 'degraded';
}

export function combineHealth(
  control: ControlHealth,
  controlModes: readonly DegradedMode[],
  telemetry: TelemetryHealth,
  websocketClients: number,
  activeSessions: number,
  now = Date.now(),
): Health {
  return {
    status: overallStatus(control, telemetry),
    serverTime: now,
    control,
    telemetry,
    websocketClients,
    activeSessions,
    degraded: degradedModes(control, telemetry, controlModes),
  };
}
