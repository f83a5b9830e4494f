// A client that stops reading must not grow the relay's memory past its bound: its socket buffer stays
// near BUFFERED_HIGH_WATER, frames for it are dropped (latest wins), and once it reads again it gets the
// newest frame, not a backlog. Real sockets; the stalled client pauses its TCP socket.
import { afterEach, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { encodeNodeFrame, type NodeState } from '../../shared/protocol/binaryV2.js';
import { BUFFERED_HIGH_WATER } from './outbound.js';
import { connectClient, startHarness, type Harness, type TestClient } from './testing/harness.js';
import { waitFor } from '../telemetry/testing/helpers.js';

let h: Harness;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
});

it('bounds a stalled client and sends it only the newest frame when it drains', async () => {
  h = await startHarness({ env: { POSITION_HZ: '60' } });
  const N = 8000;
  const raw = Array.from({ length: N }, (_, i) => ({ id: `agent-${i}`, name: `A${i}`, type: 'coder', status: 'idle', swarmId: 'swarm-big-1' }));
  h.telemetry.agents(...raw);
  const ids = h.telemetry.snapshot().agents.map((a) => a.nodeId);
  const frame = (k: number) => {
    const nodes: NodeState[] = ids.map((id, i) => ({ id, type: 'agent', x: k, y: i, z: 0, vx: 1, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
    return Buffer.from(encodeNodeFrame(nodes));
  };
  const frameBytes = 1 + 36 * N;

  const leader = await connectClient(h.url);
  const stalled = await connectClient(h.url);
  const healthy = await connectClient(h.url);
  clients.push(leader, stalled, healthy);
  leader.hello({ physicsScore: 100 });
  stalled.hello({ physicsScore: 1 });
  healthy.hello({ physicsScore: 1 });
  await leader.waitFor((x) => x.role() === 'leader', 'leader');
  const sock = (stalled.ws as unknown as { _socket: Socket })._socket;
  sock.pause();

  // Upload far more than the kernel buffers can absorb (about 29 MB) while the stalled client reads nothing.
  let k = 0;
  for (; k < 100; k++) {
    leader.ws.send(frame(k));
    const want = k;
    await waitFor(() => healthy.frames.some((f) => f.readFloatLE(5) === want), `healthy client got frame ${want}`);
  }
  const m = h.stream.metrics();
  expect(m.framesDropped).toBeGreaterThan(0);
  // Bound: the high-water mark plus what was already in flight when it was crossed (one frame and small JSON).
  expect(m.maxBufferedAmount).toBeLessThanOrEqual(BUFFERED_HIGH_WATER + 2 * frameBytes + 64 * 1024);
  expect(healthy.closed).toBeNull();

  sock.resume();
  const last = k - 1;
  await waitFor(() => stalled.frames.some((f) => f.readFloatLE(5) === last), 'stalled client catches up with the newest frame');
  // It received far fewer frames than were uploaded: no queue of stale positions was kept for it.
  expect(stalled.frames.length).toBeLessThan(k / 2);
});
