// The page's view of a fleet's targets (issue 14): chips and their summary, stale targets, cluster order,
// the target filter. Pure functions, fed health shaped as the relay sends it.
import { describe, expect, it } from 'vitest';
import type { TargetHealth } from '../../shared/index.js';
import { HealthSchema } from '../../shared/index.js';
import { CHIP_LIMIT, chipSummary, chipTone, graphTargets, healthTargets, isFleet, matchesTarget, mcpIndicator, orderedTargets, sessionStaleReason, staleTargets, targetChip, targetOf, worstTone } from './targets.js';
import { createHiveStore } from './store.js';
import { applyServerMessage } from './apply.js';

function target(name: string, over: Partial<TargetHealth> = {}): TargetHealth {
  return {
    name,
    source: 'config',
    lifecycle: 'running',
    docker: 'unix:///var/run/docker.sock',
    container: `hive-${name}`,
    status: 'healthy',
    control: { state: 'healthy', backend: 'session-manager', backendInfo: null, execLatencyMs: 12.4, breaker: 'closed', lastError: null },
    telemetry: { state: 'connected', host: '127.0.0.1', port: 9500, latencyMs: 3, ageMs: 100 },
    activeSessions: 1,
    degraded: [],
    ...over,
  };
}

describe('target chips', () => {
  it('a chip says healthy, degraded, starting, unavailable or gone, with a tone to match', () => {
    expect(chipTone(target('a'))).toBe('ok');
    expect(chipTone(target('a', { status: 'degraded' }))).toBe('warn');
    expect(chipTone(target('a', { lifecycle: 'starting' }))).toBe('warn');
    expect(chipTone(target('a', { status: 'unavailable' }))).toBe('down');
    expect(chipTone(target('a', { lifecycle: 'gone', status: 'unavailable' }))).toBe('gone');
    expect(targetChip(target('a', { lifecycle: 'gone' })).state).toBe('gone');
    expect(targetChip(target('a', { lifecycle: 'starting' })).state).toBe('starting');
    expect(targetChip(target('a', { status: 'degraded' })).state).toBe('degraded');
  });

  it("the chip's title names the engine, container, both planes and sessions; unknown latency says so", () => {
    const d = targetChip(target('gpu-box', { docker: 'tcp://gpu.lan:2376 (TLS)', source: 'label', control: { ...target('x').control, execLatencyMs: null, breaker: 'open', lastError: 'exec timed out' }, activeSessions: 2 })).detail;
    expect(d).toContain('gpu-box: hive-gpu-box on tcp://gpu.lan:2376 (TLS) (discovered by label)');
    expect(d).toContain('Docker healthy, exec unknown, breaker open');
    expect(d).toContain('MCP connected at 127.0.0.1:9500, 3 ms');
    expect(d).toContain('2 running sessions');
    expect(d).toContain('last error: exec timed out');
  });

  it('past five targets one summary says how many are healthy and how many down: "7 targets: 6 healthy, 1 down"', () => {
    expect(CHIP_LIMIT).toBe(5);
    const seven = [...Array.from({ length: 6 }, (_, i) => target(`t${i}`)), target('t6', { status: 'unavailable' })].map(targetChip);
    expect(chipSummary(seven)).toBe('7 targets: 6 healthy, 1 down');
    expect(worstTone(seven)).toBe('down');
    const mixed = [target('a'), target('b', { status: 'degraded' }), target('c', { lifecycle: 'gone' }), target('d', { status: 'unavailable' })].map(targetChip);
    expect(chipSummary(mixed)).toBe('4 targets: 1 healthy, 1 degraded, 1 down, 1 gone');
    expect(chipSummary([])).toBe('0 targets');
    expect(chipSummary([targetChip(target('a'))])).toBe('1 target: 1 healthy');
    expect(worstTone([])).toBe('ok');
  });
});

describe('stale targets', () => {
  it('gone and unavailable targets are stale, and so is a target the graph names but the relay no longer lists', () => {
    const list = [target('a'), target('b', { status: 'unavailable' }), target('c', { lifecycle: 'gone' }), target('d', { status: 'degraded' })];
    expect([...staleTargets(list, ['a', 'b', 'c', 'd', 'e'])].sort()).toEqual(['b', 'c', 'e']);
  });

  it('nothing is stale while the relay sends no targets (an old relay, or before the first health)', () => {
    expect(staleTargets([], ['a', 'b']).size).toBe(0);
  });
});

describe('cluster order and the fleet switch', () => {
  it("the relay's order first, then targets only the graph still names, by name", () => {
    expect(orderedTargets([target('z'), target('a')], ['q', 'a', 'b', 'z'])).toEqual(['z', 'a', 'b', 'q']);
    expect(orderedTargets([], [])).toEqual([]);
  });

  it('one target is not a fleet: the page shows it as it always did', () => {
    expect(isFleet(['local'])).toBe(false);
    expect(isFleet([])).toBe(false);
    expect(isFleet(['a', 'b'])).toBe(true);
  });

  it("an entity's target is its target field; a relay that sends none leaves it unknown (null), never invented", () => {
    expect(targetOf({ target: 'gpu-box' })).toBe('gpu-box');
    expect(targetOf({})).toBeNull();
    expect([...graphTargets([{ target: 'a' }, {}, { target: 'b' }, { target: 'a' }])]).toEqual(['a', 'b']);
  });
});

describe('the target filter', () => {
  it('null passes everything; a name passes only that target, never an entry without one', () => {
    expect(matchesTarget(null, {})).toBe(true);
    expect(matchesTarget(null, { target: 'a' })).toBe(true);
    expect(matchesTarget('a', { target: 'a' })).toBe(true);
    expect(matchesTarget('a', { target: 'b' })).toBe(false);
    expect(matchesTarget('a', {})).toBe(false);
  });
});

describe('the targets slice', () => {
  it('follows health.targets, in order, and is empty for a health message without them', () => {
    const store = createHiveStore();
    expect(store.getState().targets).toEqual([]);
    expect(store.getState().targetFilter).toBeNull();
    const base = {
      status: 'healthy', serverTime: 1,
      control: { state: 'healthy', driver: 'docker', backend: 'session-manager', container: 'c', execLatencyMs: null, breaker: 'closed', lastError: null, containerCpuPercent: null, containerMemoryBytes: null },
      telemetry: { state: 'connected', host: 'h', port: 1, latencyMs: null, reconnects: 0, ageMs: null, push: false, lastError: null },
      websocketClients: 1, activeSessions: 0, degraded: [],
    };
    const health = HealthSchema.parse({ ...base, targets: [target('b'), target('a')] });
    applyServerMessage(store, { type: 'health', health }, { now: 1 });
    expect(healthTargets(store.getState().health).map((t) => t.name)).toEqual(['b', 'a']);
    expect(store.getState().targets.map((t) => t.name)).toEqual(['b', 'a']);
    applyServerMessage(store, { type: 'health', health: HealthSchema.parse(base) }, { now: 2 });
    expect(store.getState().targets).toEqual([]);
  });
});

describe("the spawn prompt's MCP indicator", () => {
  it('one target: the relay telemetry as before, with no target named', () => {
    expect(mcpIndicator('connected', [], '')).toEqual({ tone: 'ok', state: 'connected', target: null, text: 'MCP telemetry connected: agents will appear as they spawn.' });
    expect(mcpIndicator(null, [target('local')], '')).toMatchObject({ tone: 'warn', state: 'unknown', target: null });
    expect(mcpIndicator('disconnected', [target('local')], '').text).toMatch(/^MCP telemetry disconnected: the swarm can start/);
  });

  it("a picked target: that target's telemetry, not the relay's top level", () => {
    const fleet = [target('east'), target('west', { telemetry: { ...target('x').telemetry, state: 'reconnecting' } })];
    expect(mcpIndicator('connected', fleet, 'west')).toMatchObject({ tone: 'warn', state: 'reconnecting', target: 'west' });
    expect(mcpIndicator('connected', fleet, 'west').text).toMatch(/^MCP telemetry on west reconnecting:/);
    expect(mcpIndicator('disconnected', fleet, 'east')).toMatchObject({ tone: 'ok', state: 'connected', target: 'east', text: 'MCP telemetry on east connected: agents will appear as they spawn.' });
    // A name the relay no longer lists is unknown, never guessed.
    expect(mcpIndicator('connected', fleet, 'north')).toMatchObject({ tone: 'warn', state: 'unknown', target: 'north' });
  });

  it('automatic: it depends on the pick; how many targets could take it, and none means a refusal', () => {
    const down = { ...target('x').telemetry, state: 'disconnected' as const };
    const one = mcpIndicator('connected', [target('east'), target('west', { telemetry: down })], '');
    expect(one).toMatchObject({ tone: 'ok', state: 'automatic', target: null });
    expect(one.text).toBe('MCP telemetry depends on the target the relay picks: it picks one whose MCP is connected (1 of 2 now).');
    const none = mcpIndicator('connected', [target('east', { telemetry: down }), target('west', { lifecycle: 'gone' })], '');
    expect(none).toMatchObject({ tone: 'warn', state: 'automatic' });
    expect(none.text).toMatch(/\(0 of 2 now\), so with none the spawn is refused\.$/);
  });
});

describe('stale sessions', () => {
  const fleet = [target('east'), target('west', { status: 'unavailable' }), target('lab', { lifecycle: 'gone' })];
  it('a session on a gone, unavailable or unlisted target is stale, saying which and why', () => {
    expect(sessionStaleReason(fleet, true, { target: 'east' })).toBeNull();
    expect(sessionStaleReason(fleet, true, { target: 'west' })).toBe('stale: target west is unavailable');
    expect(sessionStaleReason(fleet, true, { target: 'lab' })).toBe('stale: target lab is gone');
    expect(sessionStaleReason(fleet, true, { target: 'north' })).toBe('stale: target north is no longer listed');
  });
  it('never with one target, without a target, or before the relay lists targets', () => {
    expect(sessionStaleReason([target('local', { status: 'unavailable' })], false, { target: 'local' })).toBeNull();
    expect(sessionStaleReason(fleet, true, {})).toBeNull();
    expect(sessionStaleReason([], true, { target: 'west' })).toBeNull();
  });
});
