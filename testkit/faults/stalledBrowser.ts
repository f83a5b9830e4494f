/**
 * Fault scenario c (issue 7): a browser that stops reading while 2k-agent frames stream at 20 Hz. Its
 * socket's buffer stays bounded and another browser keeps its frame rate.
 */
import net from 'node:net';
import { BUFFERED_HIGH_WATER } from '../../relay/stream/outbound.js';
import { startReplayServer } from '../../relay/telemetry/testing/replayServer.js';
import { KIT_ENGINE, type Recording } from '../../relay/telemetry/testing/recordings.js';
import { encodeNodeFrame, type NodeState } from '../../shared/protocol/binaryV2.js';
import { inProcessRelay, scenario, sleep, stateDir, until, wsClient, type FaultResources } from './resources.js';

/** Issue 7: a browser next to a stalled one keeps at least half the frame rate it had alone. */
export const STALLED_MIN_FPS_RATIO = 0.5;

export interface StalledBrowserFigures {
  /** Agents in the snapshot the leader got (2000 expected). */
  agentsInSnapshot: number;
  /** The healthy browser's frame rate before the stalled one attached, and while it is backed up. */
  fpsAlone: number;
  fpsWithStalled: number;
  /** Largest bufferedAmount the relay saw on any socket, and the bound it must stay under. */
  maxBufferedBytes: number;
  boundBytes: number;
  /** Frames dropped for the stalled browser while measuring. */
  framesDropped: number;
  /** This process's RSS growth while the stalled browser was backed up (the relay runs in-process). */
  rssGrowthMb: number;
  /** The healthy browser's socket closed (false expected), the stalled socket destroyed (false expected). */
  healthyClosed: boolean;
  stalledDestroyed: boolean;
  /** Browsers the relay serves at the end (leader, healthy, stalled: 3 expected). */
  clientsAfter: number;
  frameBytes: number;
}

/**
 * A browser that stops reading while 2k-agent frames stream at 20 Hz (an in-process relay fed by a
 * replayed MCP server): its buffer stays bounded and another browser keeps its frame rate. `windowMs`
 * is each frame-rate window (default 3000).
 */
export function stalledBrowser(opts: { resources?: FaultResources; windowMs?: number } = {}): Promise<StalledBrowserFigures> {
  const windowMs = opts.windowMs ?? 3000;
  return scenario(opts.resources, async (res) => {
    const N = 2000;
    const agents = Array.from({ length: N }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}`, type: 'coder', status: 'busy', swarmId: 'swarm-1795219796568-faults', cpuUsage: 1 }));
    const text = JSON.stringify({ success: true, agents, count: N });
    const listLine = JSON.stringify({ jsonrpc: '2.0', id: '{{id}}', result: { content: [{ type: 'text', text }] } }).replace('"{{id}}"', '{{id}}');
    const rec: Recording = { ...KIT_ENGINE, name: 'faults-2k', replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [listLine] } };
    const mcp = await startReplayServer(rec);
    res.add(() => mcp.close());
    const relay = await inProcessRelay(res, { HIVE_DRIVER: 'none', HIVE_STATE_DIR: stateDir(res), MCP_PORT: String(mcp.port) });
    await until(() => relay.telemetry.snapshot().agents.length === N, 20_000, '2k agents in the graph');
    const url = `ws://127.0.0.1:${relay.port}/wss`;

    const leader = await wsClient(res, url);
    leader.hello({ physicsScore: 1000 });
    await leader.waitFor((x) => x.role() === 'leader', 'leader elected');
    const ids = leader.of('snapshot')[0]!.graph.agents.map((a) => a.nodeId);
    let k = 0;
    const frame = () => {
      k++;
      const nodes: NodeState[] = ids.map((id, i) => ({ id, type: 'agent', x: k, y: i, z: 0, vx: 1, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
      return Buffer.from(encodeNodeFrame(nodes));
    };
    const frameBytes = frame().length;
    // The leader uploads at 20 Hz (what a browser's physics does).
    const upload = setInterval(() => leader.ws.send(frame()), 50);
    res.add(() => clearInterval(upload));

    const healthy = await wsClient(res, `${url}?follow=1`);
    healthy.hello({ physicsScore: 1 });
    await healthy.waitFor((x) => x.frames.length > 5, 'frames flowing');
    const rate = async (ms: number) => {
      const n0 = healthy.frames.length;
      const t0 = Date.now();
      await sleep(ms);
      return ((healthy.frames.length - n0) * 1000) / (Date.now() - t0);
    };
    const fpsAlone = await rate(windowMs);

    // The stalled browser: a real WebSocket upgrade on a raw socket that then never reads again (so the
    // kernel's receive window stays small, as for a frozen tab, instead of growing while it read).
    const stalled = net.connect(relay.port, '127.0.0.1');
    res.add(() => void stalled.destroy());
    await new Promise<void>((resolve, reject) => {
      stalled.once('error', reject);
      stalled.once('connect', () => {
        stalled.write(
          `GET /wss?follow=1 HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${Buffer.from('hivescope-faults').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = '';
      const onData = (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        stalled.off('data', onData);
        stalled.pause();
        if (head.startsWith('HTTP/1.1 101')) resolve();
        else reject(new Error(`upgrade refused: ${head.slice(0, 40)}`));
      };
      stalled.on('data', onData);
    });
    await until(() => relay.stream.clientCount() === 3, 5_000, 'stalled client attached');
    const dropped0 = relay.stream.metrics().framesDropped;
    // Wait until the stalled socket is really backed up (frames for it are being dropped), then measure.
    await until(() => relay.stream.metrics().framesDropped > dropped0 + 5, 40_000, 'stalled client backed up');
    const rssBefore = process.memoryUsage().rss;
    const fpsWithStalled = await rate(windowMs);
    const m = relay.stream.metrics();
    return {
      agentsInSnapshot: ids.length,
      fpsAlone,
      fpsWithStalled,
      maxBufferedBytes: m.maxBufferedAmount,
      boundBytes: BUFFERED_HIGH_WATER + 2 * frameBytes + 64 * 1024,
      framesDropped: m.framesDropped - dropped0,
      rssGrowthMb: (process.memoryUsage().rss - rssBefore) / 1e6,
      healthyClosed: healthy.closed !== null,
      stalledDestroyed: stalled.destroyed,
      clientsAfter: relay.stream.clientCount(),
      frameBytes,
    };
  });
}

