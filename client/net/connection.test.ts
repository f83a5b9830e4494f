import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HiveConnection, websocketUrl, PING_INTERVAL_MS, PONG_TIMEOUT_MS, type BrowserSocket } from './connection.js';
import { createHiveStore } from '../state/store.js';
import { PerformanceHistory } from '../state/performance.js';
import { NodePositions } from '../scene/positions.js';
import { encodeNodeFrame, decodeNodeFrame, PROTOCOL_VERSION, unknownAgent, type ClientMessage, type ServerMessage } from '../../shared/index.js';

class FakeWs implements BrowserSocket {
  binaryType = 'blob';
  bufferedAmount = 0;
  readyState = 0;
  onopen: BrowserSocket['onopen'] = null;
  onclose: BrowserSocket['onclose'] = null;
  onerror: BrowserSocket['onerror'] = null;
  onmessage: BrowserSocket['onmessage'] = null;
  sent: (string | Uint8Array)[] = [];
  closed = false;
  send(d: string | ArrayBufferView | ArrayBuffer) {
    this.sent.push(typeof d === 'string' ? d : new Uint8Array(d as ArrayBuffer).slice());
  }
  close() {
    this.closed = true;
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(m: ServerMessage | string | ArrayBuffer) {
    this.onmessage?.({ data: typeof m === 'string' || m instanceof ArrayBuffer ? m : JSON.stringify(m) });
  }
  json(): ClientMessage[] {
    return this.sent.filter((x): x is string => typeof x === 'string').map((x) => JSON.parse(x) as ClientMessage);
  }
}

const T = 1_700_000_000_000;
const hello: ServerMessage = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  serverTime: T,
  clientId: 'c1',
  config: { positionHz: 10, settledHz: 1, deltaHz: 4, hideMock: true, readOnly: false },
  eventCursor: 0,
};

function setup(followOnly = false, maxMessageBytes?: number) {
  const store = createHiveStore();
  const positions = new NodePositions(16, 1);
  const sockets: FakeWs[] = [];
  const conn = new HiveConnection({
    store,
    positions,
    performance: new PerformanceHistory(),
    url: 'ws://x/wss',
    followOnly,
    physics: () => ({ backend: 'cpu', score: 1234 }),
    maxMessageBytes,
    createSocket: () => {
      const s = new FakeWs();
      sockets.push(s);
      return s;
    },
  });
  return { store, positions, sockets, conn };
}

function snapshotWith(ids: [string, number][], role: 'leader' | 'follower'): ServerMessage {
  return {
    type: 'snapshot',
    graph: { agents: ids.map(([id, n]) => ({ ...unknownAgent(id, n, T), status: 'idle' as const })), edges: [], sessions: [], swarms: [] },
    eventCursor: 0,
    layoutRole: role,
  };
}

describe('HiveConnection', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T);
  });
  afterEach(() => vi.useRealTimers());

  it('sends hello (backend, score, followOnly, resume cursor) then subscribe on open, with binaryType arraybuffer', () => {
    const { sockets, conn, store } = setup(true);
    store.setState({ eventCursor: 17 });
    conn.start();
    const ws = sockets[0]!;
    expect(ws.binaryType).toBe('arraybuffer');
    ws.open();
    const [h, sub] = ws.json();
    expect(h).toEqual({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: 1234, visible: true, followOnly: true, resumeFrom: 17 });
    expect(sub).toMatchObject({ type: 'subscribe', swarmIds: null, selectedAgentIds: [], includeMock: false });
    conn.stop();
  });

  it('becomes ready after hello + snapshot, and not ready again after a drop', () => {
    const { sockets, conn, store } = setup();
    conn.start();
    sockets[0]!.open();
    sockets[0]!.receive(hello);
    sockets[0]!.receive(snapshotWith([['a', 1]], 'leader'));
    expect(store.getState().connection).toBe('open');
    expect(store.getState().snapshotApplied).toBe(true);
    sockets[0]!.onclose?.({ code: 1006, reason: '' });
    expect(store.getState().connection).toBe('reconnecting');
    expect(store.getState().snapshotApplied).toBe(false);
    // The last known graph stays visible while reconnecting.
    expect(store.getState().agents.size).toBe(1);
    conn.stop();
  });

  it('re-subscribes with the selected agent so the relay sends its performance samples', () => {
    const { sockets, conn, store } = setup();
    conn.start();
    sockets[0]!.open();
    store.getState().select('a');
    const last = sockets[0]!.json().at(-1)!;
    expect(last).toMatchObject({ type: 'subscribe', selectedAgentIds: ['a'] });
    conn.stop();
  });

  it('drops malformed and hostile messages without touching the store', () => {
    const { sockets, conn, store } = setup(false, 1024 * 1024);
    conn.start();
    sockets[0]!.open();
    const before = store.getState();
    const ws = sockets[0]!;
    ws.receive('not json {');
    ws.receive(JSON.stringify({ type: 'snapshot', graph: { agents: [{ id: '<script>' }] } }));
    ws.receive(JSON.stringify({ type: 'nope' }));
    ws.receive('{"__proto__":{"polluted":true},"type":"health"}');
    ws.receive('x'.repeat(2 * 1024 * 1024));
    ws.receive(new ArrayBuffer(2 * 1024 * 1024));
    expect(conn.stats.badMessages).toBe(6);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(store.getState().agents).toBe(before.agents);
    expect(store.getState().health).toBeNull();
    conn.stop();
  });

  it('a follower applies relay frames to positions; bad frames are counted and ignored', () => {
    const { sockets, conn, positions } = setup();
    conn.start();
    const ws = sockets[0]!;
    ws.open();
    ws.receive(hello);
    ws.receive(snapshotWith([['a', 7], ['b', 9]], 'follower'));
    positions.sync([
      { nodeId: 7, parentNodeId: null },
      { nodeId: 9, parentNodeId: null },
    ]);
    let notified = 0;
    conn.onPositions(() => notified++);
    const frame = encodeNodeFrame([{ id: 9, type: 'agent', x: 1, y: 2, z: 3, vx: 0, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 }]);
    ws.receive(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer);
    expect(Array.from(positions.target.slice(3, 6))).toEqual([1, 2, 3]);
    expect(notified).toBe(1);
    ws.receive(new Uint8Array([1, 0, 0]).buffer); // version 1
    ws.receive(new Uint8Array([2, 0, 0]).buffer); // bad length
    expect(conn.stats.badFrames).toBe(2);
    conn.stop();
  });

  it('a leader uploads V2 frames at most positionHz per second and never while the socket is backed up', () => {
    const { sockets, conn, positions } = setup();
    conn.start();
    const ws = sockets[0]!;
    ws.open();
    ws.receive(hello);
    ws.receive(snapshotWith([['a', 5]], 'leader'));
    positions.sync([{ nodeId: 5, parentNodeId: null }]);
    expect(conn.maybeUploadPositions(false)).toBe(true);
    expect(conn.maybeUploadPositions(false)).toBe(false); // within 1/10 s
    vi.advanceTimersByTime(100);
    ws.bufferedAmount = 10_000_000;
    expect(conn.maybeUploadPositions(false)).toBe(false);
    ws.bufferedAmount = 0;
    expect(conn.maybeUploadPositions(false)).toBe(true);
    const frames = ws.sent.filter((x): x is Uint8Array => x instanceof Uint8Array);
    expect(frames.length).toBe(2);
    const nodes = decodeNodeFrame(frames[0]!);
    expect(nodes[0]).toMatchObject({ id: 5, type: 'agent' });
    // Settled layouts upload at settledHz.
    vi.advanceTimersByTime(200);
    expect(conn.maybeUploadPositions(true)).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(conn.maybeUploadPositions(true)).toBe(true);
    conn.stop();
  });

  it('followers and followOnly pages never upload', () => {
    const { sockets, conn, positions } = setup(true);
    conn.start();
    sockets[0]!.open();
    sockets[0]!.receive(hello);
    sockets[0]!.receive(snapshotWith([['a', 5]], 'leader'));
    positions.sync([{ nodeId: 5, parentNodeId: null }]);
    expect(conn.maybeUploadPositions(false)).toBe(false);
    conn.stop();
  });

  it('pings for latency and replaces a connection whose pongs stop', () => {
    const { sockets, conn, store } = setup();
    conn.start();
    const ws = sockets[0]!;
    ws.open();
    const ping = ws.json().find((m) => m.type === 'ping') as { t: number };
    vi.advanceTimersByTime(25);
    ws.receive({ type: 'pong', t: ping.t, serverTime: T });
    expect(store.getState().latencyMs).toBe(25);
    // No more pongs: after the timeout the socket is orphaned and a reconnect scheduled.
    vi.advanceTimersByTime(PING_INTERVAL_MS + PONG_TIMEOUT_MS + PING_INTERVAL_MS);
    expect(ws.closed).toBe(true);
    expect(['reconnecting', 'connecting']).toContain(store.getState().connection);
    conn.stop();
  });

  it('entering XR (followOnly) reconnects so the relay sees the new role', () => {
    const { sockets, conn } = setup();
    conn.start();
    sockets[0]!.open();
    conn.setFollowOnly(true);
    expect(sockets[0]!.closed).toBe(true);
    vi.advanceTimersByTime(1000);
    sockets[1]!.open();
    expect(sockets[1]!.json()[0]).toMatchObject({ type: 'hello', followOnly: true });
    conn.stop();
  });

  it('session logs: subscribed over the socket, kept out of the store, resumed from the last next after a reconnect', () => {
    const { sockets, conn, store } = setup();
    const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
    conn.start();
    sockets[0]!.open();
    sockets[0]!.receive(hello);
    const seen: string[] = [];
    conn.logs.subscribe(uuid, (e) => e.kind === 'text' && seen.push(e.text));
    expect(sockets[0]!.json().at(-1)).toEqual({ type: 'log-subscribe', uuid, from: null, logId: null });
    const before = store.getState();
    const chunk = { text: 'hello\n', from: 100, next: 106, size: 106, truncated: false, rotated: false, logId: 'i1', path: '/p' };
    sockets[0]!.receive({ type: 'log', uuid, chunk, behind: 0 });
    expect(seen).toEqual(['hello\n']);
    // Log text never goes through the store (no re-render of anything bound to it).
    expect(store.getState()).toBe(before);

    sockets[0]!.onclose?.({ code: 1006, reason: '' });
    vi.advanceTimersByTime(5000);
    sockets[1]!.open();
    const out = sockets[1]!.json();
    // hello first, then the graph subscription, then the log from where it stood.
    expect(out[0]).toMatchObject({ type: 'hello' });
    expect(out).toContainEqual({ type: 'log-subscribe', uuid, from: 106, logId: 'i1' });
    // A hostile log message (wrong shape) is dropped like any other.
    sockets[1]!.receive(JSON.stringify({ type: 'log', uuid, chunk: { ...chunk, from: -1 }, behind: 0 }));
    expect(conn.stats.badMessages).toBe(1);
    expect(seen).toEqual(['hello\n']);
    conn.stop();
  });
});

describe('websocketUrl', () => {
  it('uses ws/wss by page scheme and carries the token', () => {
    expect(websocketUrl({ protocol: 'http:', host: 'h:3000', search: '' })).toBe('ws://h:3000/wss');
    expect(websocketUrl({ protocol: 'https:', host: 'h', search: '?token=a b&x=1' })).toBe('wss://h/wss?token=a%20b');
  });
});
