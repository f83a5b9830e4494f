// The /wss stream over real sockets: hello/snapshot/health on connect, coalesced and filtered deltas,
// malformed input closing only the offending socket with the right code, upgrade authorization,
// shared layout (leader election, fan-out, failover, follow-only), and event resume.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeNodeFrame, type NodeState } from '../../shared/protocol/binaryV2.js';
import { CloseCode, EVENT_RING_SIZE, WS_MAX_PAYLOAD, type DeltaMessage } from '../../shared/protocol/messages.js';
import { METRIC_DELTA_HZ } from './scheduler.js';
import { connectClient, startHarness, TestClient, type Harness } from './testing/harness.js';

let h: Harness;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
});

async function client(url = h.url): Promise<TestClient> {
  const c = await connectClient(url);
  clients.push(c);
  return c;
}

function agent(i: number, extra: Record<string, unknown> = {}) {
  return { id: `agent-${i}`, name: `Agent ${i}`, type: 'coder', status: 'idle', swarmId: 'swarm-abc-1', ...extra };
}

function frameFor(ids: number[], v = 1): Buffer {
  const nodes: NodeState[] = ids.map((id, i) => ({ id, type: 'agent', x: i, y: 2 * i, z: 3, vx: v, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
  return Buffer.from(encodeNodeFrame(nodes));
}

describe('/wss basics', () => {
  it('greets with hello, snapshot and health', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1), agent(2));
    const c = await client();
    const [hello, snapshot] = c.msgs;
    expect(hello).toMatchObject({ type: 'hello', protocolVersion: 1, config: { positionHz: 20, settledHz: 1, deltaHz: 10, hideMock: true } });
    expect(snapshot).toMatchObject({ type: 'snapshot', layoutRole: 'follower' });
    expect(snapshot?.type === 'snapshot' && snapshot.graph.agents.map((a) => a.id).sort()).toEqual(['agent-1', 'agent-2']);
    await c.waitFor((x) => x.of('health').length > 0, 'health');
    expect(c.of('health')[0]!.health.telemetry.state).toBe('connected');
  });

  it('coalesces many changes into few merged deltas with the final state', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const c = await client();
    for (let i = 0; i < 100; i++) h.telemetry.agents(agent(1, { tokens: i }));
    await c.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.tokens === 99)), 'final delta');
    const deltas = c.of('delta');
    expect(deltas.length).toBeLessThan(100);
    for (const d of deltas) expect(d.upserts.agents?.filter((a) => a.id === 'agent-1').length ?? 0).toBeLessThanOrEqual(1);
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
  });

  it('caps metric-only deltas at METRIC_DELTA_HZ and structural ones at deltaHz, losing no final state', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const c = await client();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const countSince = (from: number, pred: (d: DeltaMessage) => boolean) => c.of('delta').slice(from).filter(pred).length;

    // Metric churn (tokens) every 10 ms: merged into deltas at most METRIC_DELTA_HZ apart.
    let from = c.of('delta').length;
    let t0 = Date.now();
    for (let i = 1; i <= 50; i++) {
      h.telemetry.agents(agent(1, { tokens: i }));
      await sleep(10);
    }
    await c.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.tokens === 50)), 'final tokens');
    // Upper bounds only (the relay's spacing cannot be shorter than what the client saw over the span).
    let span = Date.now() - t0;
    expect(countSince(from, (d) => (d.upserts.agents?.length ?? 0) > 0)).toBeLessThanOrEqual(Math.floor(span / (1000 / METRIC_DELTA_HZ)) + 2);

    // Status churn is structural: it may use every 1/deltaHz slot, never more.
    from = c.of('delta').length;
    t0 = Date.now();
    for (let i = 1; i <= 50; i++) {
      h.telemetry.agents(agent(1, { status: i % 2 ? 'busy' : 'idle', tokens: 100 + i }));
      await sleep(10);
    }
    await c.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.tokens === 150 && a.status === 'idle')), 'final status');
    span = Date.now() - t0;
    expect(countSince(from, (d) => (d.upserts.agents?.length ?? 0) > 0)).toBeLessThanOrEqual(Math.floor(span / 100) + 2);
    // A new agent behind a pending metric update carries it along.
    h.telemetry.agents(agent(1, { tokens: 999 }));
    h.telemetry.agents(agent(2));
    await c.waitFor((x) => x.of('delta').some((d) => (d.upserts.agents ?? []).some((a) => a.id === 'agent-2')), 'new agent');
    await c.waitFor((x) => x.of('delta').some((d) => (d.upserts.agents ?? []).some((a) => a.id === 'agent-1' && a.tokens === 999)), 'metric update delivered');
    const seqs = c.of('delta').map((d) => d.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('sends a status change as a delta and an event; removals as removals', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const c = await client();
    c.hello();
    h.telemetry.agents(agent(1, { status: 'busy' }));
    await c.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.[0]?.status === 'busy'), 'status delta');
    await c.waitFor((x) => x.of('event').some((e) => e.events.some((ev) => ev.kind === 'status' && ev.agentId === 'agent-1')), 'status event');
    h.telemetry.graph.removeAgent('agent-1');
    await c.waitFor((x) => x.of('delta').some((d) => d.removals.agents?.includes('agent-1') ?? false), 'removal');
  });

  it('hides mock agents unless the client subscribes with includeMock', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1), { id: 'mock-1', name: 'm', type: 'coder', status: 'idle', swarmId: 'mock-swarm' });
    const c = await client();
    const first = c.of('snapshot')[0]!;
    expect(first.graph.agents.map((a) => a.id)).toEqual(['agent-1']);
    c.send({ type: 'subscribe', swarmIds: null, includePerformance: true, selectedAgentIds: ['agent-1'], includeMock: true });
    await c.waitFor((x) => x.of('snapshot').length === 2, 'second snapshot');
    expect(c.of('snapshot')[1]!.graph.agents.map((a) => a.id).sort()).toEqual(['agent-1', 'mock-1']);
    await c.waitFor(() => h.telemetry.selected.includes('agent-1'), 'selection forwarded');
    h.telemetry.performance([{ agentId: 'agent-1', time: 1, cpuUsage: 5, memoryUsage: null, tokenRate: null, tokens: null }, { agentId: 'agent-2', time: 1, cpuUsage: 1, memoryUsage: null, tokenRate: null, tokens: null }]);
    await c.waitFor((x) => x.of('performance').length > 0, 'performance');
    expect(c.of('performance')[0]!.samples.map((s) => s.agentId)).toEqual(['agent-1']);
  });

  it('pings every interval and terminates a client that stopped answering', async () => {
    h = await startHarness({ pingIntervalMs: 50 });
    const alive = await client();
    const silent = await connectClient(h.url, { autoPong: false });
    clients.push(silent);
    await silent.waitFor((x) => x.closed !== null, 'silent client terminated');
    expect(silent.closed!.code).toBe(1006);
    expect(alive.closed).toBeNull();
    expect(h.stream.clientCount()).toBe(1);
  });

  it('sends health on change, and session changes as session messages', async () => {
    h = await startHarness();
    const c = await client();
    await c.waitFor((x) => x.of('health').length > 0, 'first health');
    h.telemetry.setHealth({ state: 'reconnecting', lastError: 'ECONNREFUSED' });
    await c.waitFor((x) => x.of('health').some((m) => m.health.telemetry.state === 'reconnecting'), 'health change');
    expect(c.of('health').at(-1)!.health.degraded.map((d) => d.code)).toContain('mcp-down');
    h.telemetry.graph.upsertSession({ uuid: '3f2b8c1e-9a4d-4e5f-8b7a-1c2d3e4f5a6b', swarmId: 'swarm-abc-1', task: 't', priority: 'medium', status: 'running', createdAt: 1, updatedAt: 1, lastActivity: 1, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null });
    await c.waitFor((x) => x.of('session').length > 0, 'session message');
    expect(c.of('session')[0]).toEqual({ type: 'session', uuid: '3f2b8c1e-9a4d-4e5f-8b7a-1c2d3e4f5a6b', swarmId: 'swarm-abc-1', status: 'running', replaces: null });
    await c.waitFor((x) => x.of('delta').some((d) => (d.upserts.sessions?.length ?? 0) > 0), 'session delta');
  });

  it('answers ping with pong', async () => {
    h = await startHarness();
    const c = await client();
    c.send({ type: 'ping', t: 42 });
    await c.waitFor((x) => x.of('pong').length > 0, 'pong');
    expect(c.of('pong')[0]!.t).toBe(42);
  });
});

describe('/wss upgrade authorization', () => {
  async function status(url: string): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        resolve(101);
        ws.close();
      });
      ws.on('error', () => undefined);
    });
  }

  it('answers 401 or 403 before upgrading, and 404 for other paths', async () => {
    h = await startHarness({ authorize: (req) => (req.url?.includes('token=good') ? true : req.url?.includes('token=') ? 403 : false) });
    expect(await status(`${h.url}?token=good`)).toBe(101);
    expect(await status(h.url)).toBe(401);
    expect(await status(`${h.url}?token=bad`)).toBe(403);
    expect(await status(h.url.replace('/wss', '/other'))).toBe(404);
  });
});

describe('/wss malformed input closes only that socket', () => {
  const cases: [string, (c: TestClient, ids: number[]) => void, number][] = [
    ['invalid JSON', (c) => c.send('{"type":'), CloseCode.invalidPayload],
    ['unknown type', (c) => c.send({ type: 'launch-missiles' }), CloseCode.unsupportedData],
    ['JSON that is not an object', (c) => c.send('[1,2]'), CloseCode.unsupportedData],
    ['a hello with wrong field types', (c) => c.send({ type: 'hello', protocolVersion: 'one' }), CloseCode.invalidPayload],
    ['a pin with NaN-like coordinates', (c) => c.send('{"type":"pin","nodeId":1,"x":1e999,"y":0,"z":0}'), CloseCode.invalidPayload],
    ['a pin with an injection string as node id', (c) => c.send({ type: 'pin', nodeId: '1; rm -rf /', x: 0, y: 0, z: 0 }), CloseCode.invalidPayload],
    ['an unpin of a node id outside the V2 id space', (c) => c.send({ type: 'unpin', nodeId: 2 ** 31 }), CloseCode.invalidPayload],
    ['binary before hello', (c, ids) => c.ws.send(frameFor(ids)), CloseCode.unsupportedData],
    ['an oversized message', (c) => c.send('x'.repeat(WS_MAX_PAYLOAD + 1)), CloseCode.messageTooBig],
    ['a frame of the wrong length', (c, ids) => { c.hello(); c.ws.send(Buffer.concat([frameFor(ids), Buffer.from([1, 2, 3])])); }, CloseCode.invalidPayload],
    ['a version 1 frame', (c, ids) => { c.hello(); const f = frameFor(ids); f[0] = 1; c.ws.send(f); }, CloseCode.invalidPayload],
    ['a frame with NaN', (c, ids) => { c.hello(); const f = frameFor(ids); f.writeFloatLE(NaN, 1 + 4); c.ws.send(f); }, CloseCode.invalidPayload],
    ['a frame naming unknown node ids', (c) => { c.hello(); c.ws.send(frameFor([123456])); }, CloseCode.invalidPayload],
    ['a frame with both flag bits', (c, ids) => { c.hello(); const f = frameFor(ids); f.writeUInt32LE((ids[0]! | 0xc0000000) >>> 0, 1); c.ws.send(f); }, CloseCode.invalidPayload],
  ];
  for (const [name, act, code] of cases) {
    it(`${name} -> ${code}`, async () => {
      h = await startHarness();
      h.telemetry.agents(agent(1), agent(2));
      const ids = h.telemetry.snapshot().agents.map((a) => a.nodeId);
      const bystander = await client();
      const bad = await client();
      act(bad, ids);
      await bad.waitFor((x) => x.closed !== null, 'close');
      expect(bad.closed!.code).toBe(code);
      h.telemetry.agents(agent(3));
      await bystander.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.id === 'agent-3')), 'bystander still served');
      expect(bystander.closed).toBeNull();
      expect(h.stream.metrics().closedMalformed).toBeGreaterThanOrEqual(1);
    });
  }

  it('binary from a ?follow=1 client -> 1003', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const c = await client(`${h.url}?follow=1`);
    c.hello({ physicsScore: 1000 });
    c.ws.send(frameFor([h.telemetry.snapshot().agents[0]!.nodeId]));
    await c.waitFor((x) => x.closed !== null, 'close');
    expect(c.closed!.code).toBe(CloseCode.unsupportedData);
  });
});

describe('/wss shared layout', () => {
  it('elects the best visible non-follow client, fans its frames out byte for byte, ignores others, fails over', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1), agent(2), agent(3));
    const ids = h.telemetry.snapshot().agents.map((a) => a.nodeId);
    const fast = await client();
    const slow = await client();
    const follower = await client(`${h.url}?follow=1`);
    fast.hello({ physicsScore: 200 });
    slow.hello({ physicsScore: 50 });
    follower.hello({ physicsScore: 10_000 });
    await fast.waitFor((x) => x.role() === 'leader', 'fast leads');
    await slow.waitFor((x) => x.role() === 'follower', 'slow follows');
    expect(follower.role()).toBe('follower');

    const f1 = frameFor(ids, 1);
    fast.ws.send(f1);
    await slow.waitFor((x) => x.frames.length > 0, 'frame to slow');
    await follower.waitFor((x) => x.frames.length > 0, 'frame to follower');
    expect(slow.frames.at(-1)!.equals(f1)).toBe(true);
    expect(follower.frames.at(-1)!.equals(f1)).toBe(true);

    // A non-leader's frame is ignored.
    const fromSlow = frameFor(ids, 7);
    slow.ws.send(fromSlow);
    const viewer = await client();
    // A new viewer gets the latest frame at once: the leader's, not the ignored one.
    await viewer.waitFor((x) => x.frames.length > 0, 'latest frame for new viewer');
    expect(viewer.frames[0]!.equals(f1)).toBe(true);
    expect(fast.frames.some((f) => f.equals(fromSlow))).toBe(false);

    // Leader leaves: the next best takes over and followers keep the last positions.
    await fast.close();
    await slow.waitFor((x) => x.role() === 'leader', 'slow takes over');
    expect(follower.role()).toBe('follower');
    const f2 = frameFor(ids, 2);
    slow.ws.send(f2);
    await follower.waitFor((x) => x.frames.some((f) => f.equals(f2)), 'new leader frames');
  });

  it('a hidden leader hands over; a better newcomer only takes over when clearly better', async () => {
    h = await startHarness();
    const a = await client();
    const b = await client();
    a.hello({ physicsScore: 100 });
    await a.waitFor((x) => x.role() === 'leader', 'a leads');
    b.hello({ physicsScore: 110 });
    await b.waitFor((x) => x.role() === 'follower', 'b follows');
    a.send({ type: 'visibility', visible: false });
    await b.waitFor((x) => x.role() === 'leader', 'b leads after a hides');
    await a.waitFor((x) => x.role() === 'follower', 'a follows');
  });

  it('tells followers when the layout settles', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const ids = h.telemetry.snapshot().agents.map((a) => a.nodeId);
    const leader = await client();
    const f = await client();
    leader.hello({ physicsScore: 100 });
    f.hello({ physicsScore: 1 });
    await leader.waitFor((x) => x.role() === 'leader', 'leader');
    leader.ws.send(frameFor(ids, 0));
    await f.waitFor((x) => x.of('layout').some((m) => m.settled), 'settled');
  });
});

describe('/wss event resume', () => {
  it('resumes from a cursor with no gap and no duplicate; reports a gap when the cursor fell out of the ring', async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++) h.telemetry.log(`before ${i}`);
    const c1 = await client();
    c1.hello({ resumeFrom: null });
    await c1.waitFor((x) => x.of('event').flatMap((e) => e.events).length === 5, 'recent events');
    h.telemetry.log('live 1');
    await c1.waitFor((x) => x.of('event').flatMap((e) => e.events).some((e) => e.message === 'live 1'), 'live');
    const seen = c1.of('event').flatMap((e) => e.events);
    const cursor = seen.at(-1)!.seq;
    await c1.close();

    for (let i = 0; i < 3; i++) h.telemetry.log(`missed ${i}`);
    const c2 = await client();
    c2.hello({ resumeFrom: cursor });
    await c2.waitFor((x) => x.of('event').length > 0, 'replay');
    const replay = c2.of('event')[0]!;
    expect(replay).toMatchObject({ replay: true, gap: false });
    expect(replay.events.map((e) => e.message)).toEqual(['missed 0', 'missed 1', 'missed 2']);
    h.telemetry.log('after');
    await c2.waitFor((x) => x.of('event').flatMap((e) => e.events).some((e) => e.message === 'after'), 'live after replay');
    const all = c2.of('event').flatMap((e) => e.events).map((e) => e.seq);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    await c2.close();

    for (let i = 0; i < EVENT_RING_SIZE + 10; i++) h.telemetry.log(`flood ${i}`);
    const c3 = await client();
    c3.hello({ resumeFrom: cursor });
    await c3.waitFor((x) => x.of('event').length > 0, 'gap replay');
    expect(c3.of('event')[0]).toMatchObject({ replay: true, gap: true });
    expect(c3.of('event')[0]!.events).toHaveLength(EVENT_RING_SIZE);
  });
});

describe('/wss pin forwarding', () => {
  const pinsOf = (c: TestClient) => c.of('pin');

  it('forwards a follower\'s pin and unpin to the leader only, never echoing the leader\'s own', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1), agent(2));
    const [n1, n2] = h.telemetry.snapshot().agents.map((a) => a.nodeId) as [number, number];
    const leader = await client();
    const follower = await client();
    const other = await client();
    leader.hello({ physicsScore: 100 });
    follower.hello({ physicsScore: 1 });
    other.hello({ physicsScore: 1 });
    await leader.waitFor((x) => x.role() === 'leader', 'leader');
    follower.send({ type: 'pin', nodeId: n1, x: 1.5, y: -2, z: 3 });
    await leader.waitFor((x) => pinsOf(x).length === 1, 'pin at the leader');
    expect(pinsOf(leader)[0]).toEqual({ type: 'pin', nodeId: n1, x: 1.5, y: -2, z: 3 });
    follower.send({ type: 'unpin', nodeId: n1 });
    await leader.waitFor((x) => x.of('unpin').length === 1, 'unpin at the leader');
    expect(leader.of('unpin')[0]).toEqual({ type: 'unpin', nodeId: n1 });
    leader.send({ type: 'pin', nodeId: n2, x: 0, y: 0, z: 0 });
    leader.send({ type: 'ping', t: 1 });
    await leader.waitFor((x) => x.of('pong').length > 0, 'pong after own pin');
    expect(pinsOf(leader)).toHaveLength(1);
    expect(pinsOf(follower)).toHaveLength(0);
    expect(pinsOf(other)).toHaveLength(0);
    expect(h.stream.metrics().pinsApplied).toBe(3);
  });

  it('a newly elected leader receives the latest pins (not unpinned ones, not removed agents\')', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1), agent(2), agent(3));
    const [n1, n2, n3] = h.telemetry.snapshot().agents.map((a) => a.nodeId) as [number, number, number];
    const first = await client();
    const second = await client();
    const viewer = await client();
    first.hello({ physicsScore: 100 });
    second.hello({ physicsScore: 50 });
    viewer.hello({ physicsScore: 1 });
    await first.waitFor((x) => x.role() === 'leader', 'first leads');
    viewer.send({ type: 'pin', nodeId: n1, x: 1, y: 1, z: 1 });
    viewer.send({ type: 'pin', nodeId: n1, x: 9, y: 9, z: 9 });
    viewer.send({ type: 'pin', nodeId: n2, x: 2, y: 2, z: 2 });
    viewer.send({ type: 'unpin', nodeId: n2 });
    first.send({ type: 'pin', nodeId: n3, x: 3, y: 3, z: 3 });
    await first.waitFor((x) => x.of('unpin').length === 1, 'ops at the first leader');
    h.telemetry.graph.removeAgent('agent-3');
    await viewer.waitFor((x) => x.of('delta').some((d) => d.removals.agents?.includes('agent-3') ?? false), 'removal seen');
    await first.close();
    await second.waitFor((x) => x.role() === 'leader', 'second takes over');
    await second.waitFor((x) => pinsOf(x).length > 0, 'pins at the new leader');
    second.send({ type: 'ping', t: 2 });
    await second.waitFor((x) => x.of('pong').length > 0, 'settled');
    expect(pinsOf(second)).toEqual([{ type: 'pin', nodeId: n1, x: 9, y: 9, z: 9 }]);
    expect(second.of('unpin')).toHaveLength(0);
    // The role arrives before the pins.
    const roleAt = second.msgs.findIndex((m) => m.type === 'layout' && m.role === 'leader');
    expect(roleAt).toBeLessThan(second.msgs.findIndex((m) => m.type === 'pin'));
  });

  it('rate-limits a flood of pins per client, coalescing to the latest position (nothing lost, nothing queued)', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const [n1] = h.telemetry.snapshot().agents.map((a) => a.nodeId) as [number];
    const leader = await client();
    const dragger = await client();
    leader.hello({ physicsScore: 100 });
    dragger.hello({ physicsScore: 1 });
    await leader.waitFor((x) => x.role() === 'leader', 'leader');
    const N = 300;
    for (let i = 0; i < N; i++) dragger.send({ type: 'pin', nodeId: n1, x: i, y: 0, z: 0 });
    await leader.waitFor((x) => pinsOf(x).some((p) => p.x === N - 1), 'final drag position at the leader');
    expect(pinsOf(leader).length).toBeLessThan(N / 2);
    expect(pinsOf(leader).at(-1)).toEqual({ type: 'pin', nodeId: n1, x: N - 1, y: 0, z: 0 });
    expect(h.stream.metrics().pinsThrottled).toBeGreaterThan(0);
    expect(dragger.closed).toBeNull();
  });

  it('a pin naming an unknown node closes only that socket with 1007', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const leader = await client();
    const bad = await client();
    leader.hello({ physicsScore: 100 });
    bad.hello({ physicsScore: 1 });
    await leader.waitFor((x) => x.role() === 'leader', 'leader');
    bad.send({ type: 'pin', nodeId: 777_777, x: 0, y: 0, z: 0 });
    await bad.waitFor((x) => x.closed !== null, 'closed');
    expect(bad.closed!.code).toBe(CloseCode.invalidPayload);
    expect(bad.closed!.reason).toMatch(/unknown node/);
    expect(pinsOf(leader)).toHaveLength(0);
    expect(leader.closed).toBeNull();
  });
});
