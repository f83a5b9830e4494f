import { describe, expect, it } from 'vitest';
import type { DegradedMode } from '../shared/model/health.js';
import { combineHealth, countActiveSessions, type ControlHealth, type TelemetryHealth } from './health.js';
import { SESSION_STATUSES } from '../shared/model/session.js';

const control = (p: Partial<ControlHealth> = {}): ControlHealth => ({
  state: 'healthy', driver: 'docker', backend: 'session-manager', container: 'multi-agent-container', execLatencyMs: 90, breaker: 'closed',
  lastError: null, containerCpuPercent: null, containerMemoryBytes: null, ...p,
});
const telemetry = (p: Partial<TelemetryHealth> = {}): TelemetryHealth => ({
  state: 'connected', host: '127.0.0.1', port: 9500, latencyMs: 2, reconnects: 0, ageMs: 500, push: true, lastError: null, ...p,
});

const mode = (code: DegradedMode['code'], action = 'do something'): DegradedMode => ({ code, message: `${code} message`, stillWorks: 'telemetry', action });

describe('combined health', () => {
  it('is healthy with both planes up and no degraded modes', () => {
    const h = combineHealth(control(), [], telemetry(), 2, 1);
    expect(h.status).toBe('healthy');
    expect(h.degraded).toEqual([]);
  });

  it('MCP down: degraded, control still works, says so', () => {
    const h = combineHealth(control(), [], telemetry({ state: 'reconnecting', lastError: 'ECONNREFUSED' }), 0, 0);
    expect(h.status).toBe('degraded');
    expect(h.degraded.map((d) => d.code)).toEqual(['mcp-down']);
    expect(h.degraded[0]!.stillWorks).toMatch(/Spawning/);
    expect(h.degraded[0]!.message).toMatch(/ECONNREFUSED/);
  });

  it("a paused container: the control plane's own mode (it knows paused from stopped) is reported as is", async () => {
    const paused = mode('container-down', 'docker unpause multi-agent-container');
    const h = combineHealth(control({ state: 'unavailable', lastError: 'container multi-agent-container is paused' }), [paused], telemetry(), 0, 0);
    expect(h.status).toBe('degraded');
    expect(h.degraded).toEqual([paused]);
  });

  it('both down: unavailable, one mode naming both, and what to do', () => {
    const h = combineHealth(control({ state: 'unavailable', lastError: 'connect ENOENT /var/run/docker.sock' }), [mode('docker-unavailable')], telemetry({ state: 'disconnected' }), 0, 0);
    expect(h.status).toBe('unavailable');
    expect(h.degraded.map((d) => d.code)).toEqual(['both-down']);
    expect(h.degraded[0]!.message).toMatch(/docker.sock/);
    // An open breaker is still said beside both-down; control's own "down" mode is folded into it.
    const h2 = combineHealth(control({ state: 'unavailable', breaker: 'open' }), [mode('docker-unavailable'), mode('breaker-open')], telemetry({ state: 'disconnected' }), 0, 0);
    expect(h2.degraded.map((d) => d.code)).toEqual(['both-down', 'breaker-open']);
  });

  it('stale telemetry and an open breaker are reported alongside', () => {
    const h = combineHealth(control({ breaker: 'open', state: 'degraded' }), [mode('breaker-open')], telemetry({ ageMs: 60_000 }), 0, 0);
    expect(h.status).toBe('degraded');
    expect(h.degraded.map((d) => d.code).sort()).toEqual(['breaker-open', 'telemetry-stale']);
  });

  it('read-only mode is healthy but labelled', () => {
    const h = combineHealth(control({ driver: 'none', backend: 'none', state: 'unavailable' }), [mode('read-only')], telemetry(), 0, 0);
    expect(h.status).toBe('healthy');
    expect(h.degraded.map((d) => d.code)).toEqual(['read-only']);
  });
});

describe('active sessions', () => {
  it('counts created, starting and running sessions, nothing spawning, paused or ended', () => {
    expect(countActiveSessions(SESSION_STATUSES.map((status) => ({ status })))).toBe(3);
    expect(countActiveSessions([{ status: 'running' }, { status: 'running' }, { status: 'paused' }, { status: 'spawning' }])).toBe(2);
    expect(countActiveSessions([])).toBe(0);
  });
});
