import { describe, expect, it } from 'vitest';
import { combineHealth, type ControlHealth, type TelemetryHealth } from './health.js';

const control = (p: Partial<ControlHealth> = {}): ControlHealth => ({
  state: 'healthy', driver: 'docker', backend: 'session-manager', container: 'multi-agent-container', execLatencyMs: 90, breaker: 'closed',
  lastError: null, containerCpuPercent: null, containerMemoryBytes: null, ...p,
});
const telemetry = (p: Partial<TelemetryHealth> = {}): TelemetryHealth => ({
  state: 'connected', host: '127.0.0.1', port: 9500, latencyMs: 2, reconnects: 0, ageMs: 500, push: true, lastError: null, ...p,
});

describe('combined health', () => {
  it('is healthy with both planes up and no degraded modes', () => {
    const h = combineHealth(control(), telemetry(), 2, 1);
    expect(h.status).toBe('healthy');
    expect(h.degraded).toEqual([]);
  });

  it('MCP down: degraded, control still works, says so', () => {
    const h = combineHealth(control(), telemetry({ state: 'reconnecting', lastError: 'ECONNREFUSED' }), 0, 0);
    expect(h.status).toBe('degraded');
    expect(h.degraded.map((d) => d.code)).toEqual(['mcp-down']);
    expect(h.degraded[0]!.stillWorks).toMatch(/Spawning/);
    expect(h.degraded[0]!.message).toMatch(/ECONNREFUSED/);
  });

  it('container paused: container-down with the docker command to fix it', () => {
    const h = combineHealth(control({ state: 'unavailable', lastError: 'container multi-agent-container is paused' }), telemetry(), 0, 0);
    expect(h.degraded[0]!.code).toBe('container-down');
    expect(h.degraded[0]!.action).toMatch(/docker start multi-agent-container/);
  });

  it('both down: unavailable, one mode naming both, and what to do', () => {
    const h = combineHealth(control({ state: 'unavailable', lastError: 'connect ENOENT /var/run/docker.sock' }), telemetry({ state: 'disconnected' }), 0, 0);
    expect(h.status).toBe('unavailable');
    expect(h.degraded.map((d) => d.code)).toEqual(['both-down']);
    expect(h.degraded[0]!.message).toMatch(/docker.sock/);
  });

  it('stale telemetry and an open breaker are reported alongside', () => {
    const h = combineHealth(control({ breaker: 'open', state: 'degraded' }), telemetry({ ageMs: 60_000 }), 0, 0);
    expect(h.status).toBe('degraded');
    expect(h.degraded.map((d) => d.code).sort()).toEqual(['breaker-open', 'telemetry-stale']);
  });

  it('read-only mode is healthy but labelled', () => {
    const h = combineHealth(control({ driver: 'none', backend: 'none', state: 'unavailable' }), telemetry(), 0, 0);
    expect(h.status).toBe('healthy');
    expect(h.degraded.map((d) => d.code)).toEqual(['read-only']);
  });
});
