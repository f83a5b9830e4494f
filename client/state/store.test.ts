import { describe, expect, it } from 'vitest';
import { createHiveStore, EVENT_LOG_CAP, visibleAgentCount } from './store.js';
import { applyServerMessage, spawnPhase } from './apply.js';
import { PerformanceHistory, PERFORMANCE_CAPACITY } from './performance.js';
import { pageAttributes, bindPageAttributes } from '../page/attributes.js';
import { unknownAgent, PROTOCOL_VERSION, type Agent, type ActivityEvent, type Edge, type Session, type ServerMessage } from '../../shared/index.js';

const T = 1_700_000_000_000;

function agent(id: string, patch: Partial<Agent> = {}): Agent {
  return { ...unknownAgent(id, Math.abs(hash(id)) % 100000, T), status: 'idle', swarmId: 'swarm-abc', ...patch };
}
function hash(s: string): number {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
function edge(a: string, b: string, patch: Partial<Edge> = {}): Edge {
  return { id: `${a}->${b}`, source: a, target: b, kind: 'message', messageCount: 1, dataVolume: 10, lastMessageTime: T, ...patch };
}
function session(uuid: string, patch: Partial<Session> = {}): Session {
  return {
    uuid,
    swarmId: null,
    task: 't',
    priority: 'medium',
    status: 'running',
    createdAt: T,
    updatedAt: T,
    lastActivity: T,
    config: null,
    backend: 'session-manager',
    progress: null,
    agentCount: null,
    replaces: null,
    ...patch,
  };
}
function event(seq: number, patch: Partial<ActivityEvent> = {}): ActivityEvent {
  return { seq, time: T + seq, kind: 'log', level: 'info', message: `e${seq}`, agentId: null, swarmId: null, sessionUuid: null, progress: null, ...patch };
}
const ctx = { now: T };

function snapshot(agents: Agent[], extra: Partial<{ edges: Edge[]; sessions: Session[] }> = {}): ServerMessage {
  return { type: 'snapshot', graph: { agents, edges: extra.edges ?? [], sessions: extra.sessions ?? [], swarms: [] }, eventCursor: 5, layoutRole: 'leader' };
}

describe('store: snapshot and delta application', () => {
  it('a snapshot replaces every map, marks the snapshot applied and bumps the structure version', () => {
    const store = createHiveStore();
    const before = store.getState();
    applyServerMessage(store, snapshot([agent('a'), agent('b')], { edges: [edge('a', 'b')], sessions: [session('s1')] }), ctx);
    const s = store.getState();
    expect(s.agents.size).toBe(2);
    expect(s.edges.size).toBe(1);
    expect(s.sessions.size).toBe(1);
    expect(s.snapshotApplied).toBe(true);
    expect(s.layoutRole).toBe('leader');
    expect(s.eventCursor).toBe(5);
    expect(s.structureVersion).toBe(before.structureVersion + 1);
    expect(s.agents).not.toBe(before.agents);
  });

  it('a metric-only delta replaces the agents Map but does not move the structure version (no reheat)', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([agent('a'), agent('b')]), ctx);
    const before = store.getState();
    const oldMap = before.agents;
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: { agents: [agent('a', { cpuUsage: 50 })] }, removals: {} }, ctx);
    const s = store.getState();
    expect(s.agents).not.toBe(oldMap);
    expect(oldMap.get('a')!.cpuUsage).toBeNull(); // the old Map was not mutated
    expect(s.agents.get('a')!.cpuUsage).toBe(50);
    expect(s.structureVersion).toBe(before.structureVersion);
    expect(s.graphVersion).toBe(before.graphVersion + 1);
  });

  it('adding or removing agents and edges, or changing a parent, is structural', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([agent('a')]), ctx);
    let v = store.getState().structureVersion;
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: { agents: [agent('b')] }, removals: {} }, ctx);
    expect(store.getState().structureVersion).toBe(++v);
    applyServerMessage(store, { type: 'delta', seq: 2, upserts: { edges: [edge('a', 'b')] }, removals: {} }, ctx);
    expect(store.getState().structureVersion).toBe(++v);
    applyServerMessage(store, { type: 'delta', seq: 3, upserts: { agents: [agent('b', { parentQueenId: 'a' })] }, removals: {} }, ctx);
    expect(store.getState().structureVersion).toBe(++v);
    applyServerMessage(store, { type: 'delta', seq: 4, upserts: {}, removals: { agents: ['b'] } }, ctx);
    expect(store.getState().structureVersion).toBe(++v);
    expect(store.getState().agents.has('b')).toBe(false);
  });

  it('removing the selected agent clears the selection', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([agent('a'), agent('b')]), ctx);
    store.getState().select('b');
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: {}, removals: { agents: ['b'] } }, ctx);
    expect(store.getState().selectedAgentId).toBeNull();
  });

  it('an empty delta changes nothing', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([agent('a')]), ctx);
    const before = store.getState();
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: {}, removals: {} }, ctx);
    expect(store.getState()).toBe(before);
  });

  it('mock agents are kept but not counted as visible unless shown', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([agent('a'), agent('m', { mock: true })]), ctx);
    expect(visibleAgentCount(store.getState().agents, false)).toBe(1);
    expect(visibleAgentCount(store.getState().agents, true)).toBe(2);
  });
});

describe('store: events', () => {
  it('appends events, skips ones already seen (replay overlap) and advances the cursor', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'event', events: [event(1), event(2)], replay: false, gap: false }, ctx);
    applyServerMessage(store, { type: 'event', events: [event(2), event(3)], replay: true, gap: false }, ctx);
    const s = store.getState();
    expect(s.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(s.eventCursor).toBe(3);
  });

  it(`caps the log at ${EVENT_LOG_CAP}, keeping the newest`, () => {
    const store = createHiveStore();
    const batch = Array.from({ length: 1500 }, (_, i) => event(i + 1));
    applyServerMessage(store, { type: 'event', events: batch, replay: false, gap: false }, ctx);
    const s = store.getState();
    expect(s.events.length).toBe(EVENT_LOG_CAP);
    expect(s.events[0]!.seq).toBe(501);
    expect(s.events.at(-1)!.seq).toBe(1500);
  });

  it('remembers a gap reported by the relay', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'event', events: [], replay: true, gap: true }, ctx);
    expect(store.getState().eventGap).toBe(true);
  });

  it('a hello whose cursor is behind ours (relay restarted) resets the cursor', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'event', events: [event(40)], replay: false, gap: false }, ctx);
    applyServerMessage(
      store,
      { type: 'hello', protocolVersion: PROTOCOL_VERSION, serverTime: T, clientId: 'c', config: { positionHz: 20, settledHz: 1, deltaHz: 4, hideMock: true, readOnly: false }, eventCursor: 3 },
      ctx,
    );
    expect(store.getState().eventCursor).toBeNull();
    expect(store.getState().protocolMismatch).toBeNull();
  });

  it('a hello with another protocol version is reported, not ignored', () => {
    const store = createHiveStore();
    applyServerMessage(
      store,
      { type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, serverTime: T, clientId: 'c', config: { positionHz: 20, settledHz: 1, deltaHz: 4, hideMock: true, readOnly: false }, eventCursor: 0 },
      ctx,
    );
    expect(store.getState().protocolMismatch).toMatch(/protocol/);
  });
});

describe('store: spawn notice', () => {
  it('advances from requested to swarm-known to agents-arriving', () => {
    const store = createHiveStore();
    applyServerMessage(store, snapshot([], { sessions: [session('u1', { status: 'spawning' })] }), ctx);
    store.setState({ spawnNotice: { uuid: 'u1', status: 'spawning', swarmId: null, agentsSeen: 0, startedAt: T, error: null } });
    expect(spawnPhase(store.getState().spawnNotice!)).toBe('requested');
    applyServerMessage(store, { type: 'session', uuid: 'u1', swarmId: 'swarm-xyz', status: 'running', replaces: null }, ctx);
    expect(spawnPhase(store.getState().spawnNotice!)).toBe('swarm-known');
    expect(store.getState().sessions.get('u1')!.swarmId).toBe('swarm-xyz');
    applyServerMessage(store, { type: 'delta', seq: 1, upserts: { agents: [agent('q', { swarmId: 'swarm-xyz' }), agent('w', { swarmId: 'swarm-xyz' })] }, removals: {} }, ctx);
    const n = store.getState().spawnNotice!;
    expect(spawnPhase(n)).toBe('agents-arriving');
    expect(n.agentsSeen).toBe(2);
  });

  it('a failed session or an error event makes the notice fail', () => {
    const store = createHiveStore();
    store.setState({ spawnNotice: { uuid: 'u2', status: 'spawning', swarmId: null, agentsSeen: 0, startedAt: T, error: null } });
    applyServerMessage(store, { type: 'event', events: [event(1, { sessionUuid: 'u2', level: 'error', message: 'container not running' })], replay: false, gap: false }, ctx);
    expect(spawnPhase(store.getState().spawnNotice!)).toBe('failed');
    expect(store.getState().spawnNotice!.error).toBe('container not running');
  });
});

describe('store: health, layout, pong, performance, errors', () => {
  it('pong sets the round-trip latency', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'pong', t: T - 42, serverTime: T }, ctx);
    expect(store.getState().latencyMs).toBe(42);
  });

  it('a pong from the future (clock skew, hostile t) is ignored', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'pong', t: T + 5000, serverTime: T }, ctx);
    expect(store.getState().latencyMs).toBeNull();
  });

  it('layout messages set the role and settled flag', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'layout', role: 'follower', settled: true }, ctx);
    expect(store.getState().layoutRole).toBe('follower');
    expect(store.getState().layoutSettled).toBe(true);
  });

  it('performance samples land in the history, not in the store', () => {
    const store = createHiveStore();
    const perf = new PerformanceHistory();
    const before = store.getState();
    applyServerMessage(store, { type: 'performance', samples: [{ agentId: 'a', time: T, cpuUsage: 10, memoryUsage: null, tokenRate: 5, tokens: 1 }] }, { now: T, performance: perf });
    expect(store.getState()).toBe(before);
    const cols = perf.columns('a', T);
    expect(cols[0]).toEqual([T / 1000]);
    expect(cols[1]).toEqual([10]);
    expect(cols[2]).toEqual([null]); // unknown memory stays unknown, not 0
  });

  it('a relay error is kept and shown as a notice', () => {
    const store = createHiveStore();
    applyServerMessage(store, { type: 'error', code: 'bad-request', message: 'nope' }, ctx);
    expect(store.getState().lastServerError).toEqual({ code: 'bad-request', message: 'nope' });
    expect(store.getState().notices.at(-1)!.text).toContain('nope');
  });
});

describe('performance history', () => {
  it('keeps a bounded ring per agent and drops out-of-order samples', () => {
    const perf = new PerformanceHistory();
    for (let i = 0; i < PERFORMANCE_CAPACITY + 100; i++) perf.push({ agentId: 'a', time: T + i * 10, cpuUsage: i, memoryUsage: i, tokenRate: i });
    expect(perf.size('a')).toBe(PERFORMANCE_CAPACITY);
    perf.push({ agentId: 'a', time: T, cpuUsage: 1, memoryUsage: 1, tokenRate: 1 });
    expect(perf.size('a')).toBe(PERFORMANCE_CAPACITY);
    const cols = perf.columns('a', T + (PERFORMANCE_CAPACITY + 100) * 10);
    expect(cols[0][0]! < cols[0][1]!).toBe(true);
  });

  it('only returns the last 5 minutes', () => {
    const perf = new PerformanceHistory();
    perf.push({ agentId: 'a', time: T, cpuUsage: 1, memoryUsage: 1, tokenRate: 1 });
    perf.push({ agentId: 'a', time: T + 6 * 60_000, cpuUsage: 2, memoryUsage: 2, tokenRate: 2 });
    expect(perf.columns('a', T + 6 * 60_000)[1]).toEqual([2]);
  });
});

describe('page attributes', () => {
  it('data-ready is true only while open with a snapshot applied', () => {
    const store = createHiveStore();
    expect(pageAttributes(store.getState())['data-ready']).toBe('false');
    store.setState({ connection: 'open' });
    expect(pageAttributes(store.getState())['data-ready']).toBe('false');
    applyServerMessage(store, snapshot([agent('a'), agent('m', { mock: true })], { sessions: [session('s')] }), ctx);
    const attrs = pageAttributes(store.getState());
    expect(attrs['data-ready']).toBe('true');
    expect(attrs['data-agent-count']).toBe('1');
    expect(attrs['data-session-count']).toBe('1');
    store.setState({ connection: 'reconnecting', snapshotApplied: false });
    expect(pageAttributes(store.getState())['data-ready']).toBe('false');
  });

  it('bindPageAttributes writes only attributes that changed', () => {
    const store = createHiveStore();
    const writes: [string, string][] = [];
    const unbind = bindPageAttributes(store, { setAttribute: (k, v) => writes.push([k, v]) });
    const initial = writes.length;
    store.getState().select('x');
    expect(writes.slice(initial)).toEqual([['data-selected-agent', 'x']]);
    unbind();
    store.getState().select('y');
    expect(writes.length).toBe(initial + 1);
  });

  it('lists degraded modes by code', () => {
    const store = createHiveStore();
    store.setState({
      health: {
        status: 'degraded',
        serverTime: T,
        control: { state: 'healthy', driver: 'local', backend: 'session-manager', container: null, execLatencyMs: null, breaker: 'closed', lastError: null, containerCpuPercent: null, containerMemoryBytes: null },
        telemetry: { state: 'disconnected', host: 'h', port: 1, latencyMs: null, reconnects: 1, ageMs: null, push: false, lastError: 'refused' },
        websocketClients: 1,
        activeSessions: 0,
        degraded: [{ code: 'mcp-down', message: 'm', stillWorks: 's', action: 'a' }],
      },
    });
    expect(pageAttributes(store.getState())['data-degraded']).toBe('mcp-down');
  });
});
