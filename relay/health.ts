/**
 * Combines the two planes' health into the one `Health` the relay reports (WebSocket `health`,
 * GET /api/hybrid/status, /health). Each degraded mode says what is wrong, what still works, and what
 * to do, so the browser's banners and the README's troubleshooting read the same words.
 */
import type { DegradedMode, Health, PlaneHealth } from '../shared/model/health.js';

export type ControlHealth = Health['control'];
export type TelemetryHealth = Health['telemetry'];

/** Telemetry older than this is shown as stale. */
export const TELEMETRY_STALE_MS = 10_000;

export function degradedModes(control: ControlHealth, telemetry: TelemetryHealth): DegradedMode[] {
  const modes: DegradedMode[] = [];
  const dockerDown = control.driver !== 'none' && control.state === 'unavailable';
  const mcpDown = telemetry.state !== 'connected' && telemetry.state !== 'disabled';
  const where = control.driver === 'docker' ? `container ${control.container ?? ''}`.trim() : 'the embedded hive';
  if (dockerDown && mcpDown) {
    modes.push({
      code: 'both-down',
      message: `Neither the control plane (${where}) nor MCP telemetry (${telemetry.host}:${telemetry.port}) answers.${control.lastError ? ` Last error: ${control.lastError}` : ''}`,
      stillWorks: 'The page and the last known graph (shown as stale). Nothing can be spawned or stopped.',
      action:
        control.driver === 'docker'
          ? `Start the container (npm run container:up, or docker start ${control.container ?? 'multi-agent-container'}) and check that dockerd runs; the relay reconnects by itself.`
          : 'Restart the relay (npm start); if it persists, check the relay log for the engine error.',
    });
  } else if (dockerDown) {
    const notRunning = /not running|no such container|paused/i.test(control.lastError ?? '');
    modes.push({
      code: notRunning ? 'container-down' : 'docker-unavailable',
      message: notRunning
        ? `The container ${control.container ?? ''} is not running.${control.lastError ? ` (${control.lastError})` : ''}`
        : `Docker does not answer.${control.lastError ? ` Last error: ${control.lastError}` : ''}`,
      stillWorks: 'Live telemetry keeps streaming; sessions are listed from the last good read.',
      action: notRunning
        ? `Start it: docker start ${control.container ?? 'multi-agent-container'} (or docker unpause). Running sessions are restored when it is back.`
        : 'Check that dockerd runs and that the relay can reach DOCKER_HOST or /var/run/docker.sock.',
    });
  } else if (mcpDown) {
    modes.push({
      code: 'mcp-down',
      message: `MCP telemetry at ${telemetry.host}:${telemetry.port} is ${telemetry.state}.${telemetry.lastError ? ` Last error: ${telemetry.lastError}` : ''}`,
      stillWorks: 'Spawning, stopping, pausing and listing sessions. Agent data is the last known, shown as stale.',
      action: 'Check that the MCP server runs on that port (inside the container: the engine or mcp-tcp-server); the relay reconnects by itself.',
    });
  }
  if (control.breaker === 'open') {
    modes.push({
      code: 'breaker-open',
      message: 'Docker exec failed 5 times in a row; the relay pauses execs and probes again shortly.',
      stillWorks: 'Telemetry and the cached session list.',
      action: 'Wait for the probe, or check the container with docker ps / docker logs.',
    });
  }
  if (!mcpDown && telemetry.state === 'connected' && telemetry.ageMs !== null && telemetry.ageMs > TELEMETRY_STALE_MS) {
    modes.push({
      code: 'telemetry-stale',
      message: `No telemetry for ${Math.round(telemetry.ageMs / 1000)} s although MCP is connected.`,
      stillWorks: 'Control operations; the graph shows the last known values.',
      action: 'The MCP server may be overloaded or stuck; check its log.',
    });
  }
  if (control.driver === 'none') {
    modes.push({
      code: 'read-only',
      message: 'The relay runs without a control driver (HIVE_DRIVER=none).',
      stillWorks: 'Watching swarms through MCP telemetry.',
      action: 'Set HIVE_DRIVER=docker or local to spawn and stop swarms.',
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

export function combineHealth(control: ControlHealth, telemetry: TelemetryHealth, websocketClients: number, activeSessions: number, now = Date.now()): Health {
  return {
    status: overallStatus(control, telemetry),
    serverTime: now,
    control,
    telemetry,
    websocketClients,
    activeSessions,
    degraded: degradedModes(control, telemetry),
  };
}
