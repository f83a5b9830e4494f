/**
 * Data-plane benchmarks (issue 5):
 * - fan-out of 2k-agent V2 frames at 20 Hz to 100 WebSocket clients through the relay's /wss
 *   (leader uploads, relay fans out) beside a bare `ws` broadcast of the same bytes; relay CPU is the
 *   main thread's event-loop utilisation (clients run in a worker thread so they do not count);
 * - relay heap at 0 and 100 clients beside the bare ws server's;
 * - end-to-end latency from a change in the kit's engine to a Node WebSocket client receiving the delta,
 *   with push and with polling (a proxy strips the engine's notifications), when the engine is built
 *   (the same to the browser app's store, in Chromium: e2e-latency.bench.ts).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { WebSocketServer, WebSocket } from 'ws';
import { encodeNodeFrame, type NodeState } from '../shared/protocol/binaryV2.js';
import { PROTOCOL_VERSION, type ServerMessage } from '../shared/protocol/messages.js';
import { createStreamServer } from '../relay/stream/server.js';
import { createTelemetry } from '../relay/telemetry/index.js';
import { startPushStripProxy } from '../relay/testing/pushStripProxy.js';
import { FakeTelemetry } from '../relay/stream/testing/harness.js';
import { testConfig, waitFor } from '../relay/telemetry/testing/helpers.js';
import { percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';

const AGENTS = 2000;
const CLIENTS = 100;
const HZ = 20;

/** Worker: N clients (plus optionally one leader uploading frames at HZ) counting binary frames. */
const CLIENT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.wsPath);
const { url, clients, leaderFrame, hz, seconds, protocolVersion } = workerData;
let received = 0, counting = false;
const sockets = [];
let open = 0;
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(url + (url.includes('/wss') ? '?follow=1' : ''), { perMessageDeflate: false });
  ws.on('open', () => { if (++open === clients) start(); });
  ws.on('message', (d, bin) => { if (bin && counting) received++; });
  ws.on('error', () => {});
  sockets.push(ws);
}
function start() {
  let leader = null;
  const go = () => {
    counting = true;
    const t0 = Date.now();
    let k = 0;
    const timer = leaderFrame ? setInterval(() => {
      const f = Buffer.from(leaderFrame);
      f.writeFloatLE(k++, 5);
      leader.send(f);
    }, 1000 / hz) : null;
    setTimeout(() => {
      counting = false;
      if (timer) clearInterval(timer);
      parentPort.postMessage({ received, seconds: (Date.now() - t0) / 1000 });
      for (const s of sockets) s.terminate();
      if (leader) leader.terminate();
    }, seconds * 1000);
  };
  if (!leaderFrame) return go();
  leader = new WebSocket(url, { perMessageDeflate: false });
  leader.on('message', (d, bin) => {
    if (bin) return;
    const m = JSON.parse(d.toString());
    if (m.type === 'layout' && m.role === 'leader' && !counting) go();
  });
  leader.on('open', () => leader.send(JSON.stringify({ type: 'hello', protocolVersion, physicsBackend: 'cpu', physicsScore: 1000, visible: true, followOnly: false, resumeFrom: null })));
}
parentPort.postMessage({ ready: true });
`;

function runClients(data: Record<string, unknown>): Promise<{ received: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT_WORKER, { eval: true, workerData: data });
    w.on('message', (m: { ready?: boolean; received?: number; seconds?: number }) => {
      if (!m.ready) {
        resolve({ received: m.received!, seconds: m.seconds! });
        void w.terminate();
      }
    });
    w.on('error', reject);
  });
}

/** Runs `fn` while measuring the main thread's event-loop utilisation and process CPU. */
async function measured<T>(fn: () => Promise<T>): Promise<{ value: T; elu: number; cpuMs: number }> {
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const value = await fn();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const cpu = process.cpuUsage(cpu0);
  return { value, elu, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 1024 / 1024;
}

function frameBytes(ids: number[]): Buffer {
  const nodes: NodeState[] = ids.map((id, i) => ({ id, type: 'agent', x: i, y: i % 97, z: i % 13, vx: 1, vy: 0.5, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
  return Buffer.from(encodeNodeFrame(nodes));
}

async function fanout(ctx: BenchContext, rows: BenchRow[]): Promise<void> {
  const seconds = ctx.quick ? 3 : 8;
  const wsPath = createRequire(import.meta.url).resolve('ws');

  // Ours: relay /wss with a leader in the worker.
  const telemetry = new FakeTelemetry();
  telemetry.agents(...Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, name: `A${i}`, type: 'coder', status: 'busy', swarmId: 'swarm-bench-1' })));
  const ids = telemetry.snapshot().agents.map((a) => a.nodeId);
  const frame = frameBytes(ids);
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const config = testConfig({ POSITION_HZ: String(HZ) });
  const stream = createStreamServer({ config, logger: pino({ level: 'silent' }), telemetry, server });
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/wss`;
  const mem0 = heapMb();
  let memAt100 = 0;
  const sampler = setInterval(() => {
    if (stream.clientCount() >= CLIENTS) memAt100 = Math.max(memAt100, heapMb());
  }, 500);
  const ours = await measured(() => runClients({ wsPath, url, clients: CLIENTS, leaderFrame: frame, hz: HZ, seconds, protocolVersion: PROTOCOL_VERSION }));
  clearInterval(sampler);
  const oursRate = ours.value.received / ours.value.seconds;
  const sm = stream.metrics();
  await stream.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));

  // Floor: bare ws broadcast of the same bytes at the same rate.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const bareUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  let k = 0;
  const timer = setInterval(() => {
    const f = Buffer.from(frame);
    f.writeFloatLE(k++, 5);
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(f, { binary: true });
  }, 1000 / HZ);
  let bareMem = 0;
  const bareSampler = setInterval(() => {
    if (wss.clients.size >= CLIENTS) bareMem = Math.max(bareMem, heapMb());
  }, 500);
  const bare = await measured(() => runClients({ wsPath, url: bareUrl, clients: CLIENTS, leaderFrame: null, hz: HZ, seconds, protocolVersion: PROTOCOL_VERSION }));
  clearInterval(timer);
  clearInterval(bareSampler);
  const bareRate = bare.value.received / bare.value.seconds;
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => r()));

  rows.push(
    ratioRow(
      {
        id: 'stream.fanout.2k.100c',
        what: `V2 frames of ${AGENTS} agents (${frame.length} B) at ${HZ} Hz to ${CLIENTS} ws clients: frames delivered per second, all clients`,
        ours: { value: Math.round(oursRate), unit: 'frames/s' },
        floor: { value: Math.round(bareRate), unit: 'frames/s', name: 'bare ws broadcast of the same bytes' },
        goal: 'ratio >= 0.8',
        notes: `relay main thread busy ${(ours.elu * 100).toFixed(1)}% (bare ws ${(bare.elu * 100).toFixed(1)}%); ideal ${HZ * CLIENTS} frames/s; relay framesDropped=${sm.framesDropped}, bytesSent=${sm.bytesSent}; clients run in a worker thread`,
      },
      'higher-is-better',
      0.8,
    ),
    {
      id: 'stream.memory.0c',
      what: 'relay heap + array buffers with 0 clients (2k agents in the graph)',
      ours: { value: Number(mem0.toFixed(1)), unit: 'MB' },
      floor: { value: null, unit: 'MB', name: 'none' },
      ratio: null,
      goal: 'reported',
      met: null,
    },
    ratioRow(
      {
        id: 'stream.memory.100c',
        what: `relay heap + array buffers with ${CLIENTS} clients during the fan-out`,
        ours: { value: Number(memAt100.toFixed(1)), unit: 'MB' },
        floor: { value: Number(bareMem.toFixed(1)), unit: 'MB', name: `bare ws server with ${CLIENTS} clients` },
        goal: 'ratio <= 2 (process-wide arrayBuffers include the client worker)',
        notes: `per-client cost ${((memAt100 - mem0) / CLIENTS * 1024).toFixed(0)} KB`,
      },
      'lower-is-better',
      2,
    ),
  );
}

interface EngineModule {
  startEngine(o: Record<string, unknown>): Promise<{ port: number; sim: { createSwarm(i: Record<string, unknown>): { id: string }; spawnAgent(s: string, t: string, n?: string | null): { id: string } }; close(): Promise<void> }>;
}

async function latency(ctx: BenchContext, rows: BenchRow[]): Promise<void> {
  const enginePath = path.join(ctx.root, 'dist/container/engine/engine.js');
  if (!fs.existsSync(enginePath)) {
    for (const mode of ['push', 'push.delta20hz', 'poll']) {
      rows.push({ id: `stream.latency.${mode}.p95`, what: `engine change -> ws delta (${mode})`, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'n/a' }, ratio: null, goal: mode === 'poll' ? 'p95 < 1100 ms' : 'p95 < 100 ms', met: null, notes: 'engine not built (dist/container/engine/engine.js missing)' });
    }
    return;
  }
  const { startEngine } = (await import(enginePath)) as EngineModule;
  const samples = ctx.quick ? 8 : 25;
  // push at the default DELTA_HZ (10), push at 20 Hz (shows how much of the figure is the throttle), poll.
  const modes = [
    { id: 'push', push: true, deltaHz: 10 },
    { id: 'push.delta20hz', push: true, deltaHz: 20 },
    { id: 'poll', push: false, deltaHz: 10 },
  ];
  for (const { id: mode, push, deltaHz } of modes) {
    // pushMs: how often the engine flushes changed agents; 20 ms makes the relay's own share visible.
    const engine = await startEngine({ host: '127.0.0.1', port: 0, seed: 11, speed: 1, pushMs: 20, connectionTimeoutMs: 0 });
    const proxy = push ? null : await startPushStripProxy(engine.port);
    const config = testConfig({ MCP_PORT: String(proxy?.port ?? engine.port), MCP_POLL_MS: '1000', DELTA_HZ: String(deltaHz) });
    const logger = pino({ level: 'silent' });
    const telemetry = createTelemetry({ config, logger, persistNodeIds: false });
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const stream = createStreamServer({ config, logger, telemetry, server });
    let swarm = engine.sim.createSwarm({ objective: 'latency bench', topology: 'mesh', maxAgents: 4 });
    await waitFor(() => telemetry.health().state === 'connected', 'MCP connected');
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as { port: number }).port}/wss`);
    const arrived = new Map<string, number>();
    ws.on('message', (d, bin) => {
      if (bin) return;
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'delta') for (const a of m.upserts.agents ?? []) if (!arrived.has(a.id)) arrived.set(a.id, performance.now());
    });
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => telemetry.snapshot().swarms.some((s) => s.id === swarm.id) || telemetry.snapshot().agents.some((a) => a.swarmId === swarm.id), 'swarm visible', 15_000).catch(() => undefined);
    const lat: number[] = [];
    for (let i = 0; i < samples; i++) {
      // Spread the changes over the poll period so polling latency is sampled fairly.
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      let t0 = performance.now();
      let a: { id: string };
      try {
        a = engine.sim.spawnAgent(swarm.id, 'coder', `bench-${mode}-${i}`);
      } catch {
        // The simulated swarm finished its objective: start another, let its own changes pass, go on.
        swarm = engine.sim.createSwarm({ objective: 'latency bench', topology: 'mesh', maxAgents: 4 });
        await new Promise((r) => setTimeout(r, 1000));
        t0 = performance.now();
        a = engine.sim.spawnAgent(swarm.id, 'coder', `bench-${mode}-${i}`);
      }
      await waitFor(() => arrived.has(a.id), `delta for ${a.id}`, 10_000);
      lat.push(arrived.get(a.id)! - t0);
    }
    ws.terminate();
    await stream.close();
    await new Promise<void>((r) => server.close(() => r()));
    await telemetry.close();
    await proxy?.close();
    await engine.close();
    const p95 = percentile(lat, 0.95);
    const limit = push ? 100 : 1100;
    rows.push({
      id: `stream.latency.${mode}.p95`,
      what: `engine change (agent spawned) -> a Node ws client has the delta, ${push ? 'push notifications' : 'polling every 1 s (push stripped by a proxy)'}, DELTA_HZ=${deltaHz}`,
      ours: { value: Number(p95.toFixed(1)), unit: 'ms' },
      floor: { value: (push ? 20 : 1000) + 1000 / deltaHz, unit: 'ms', name: 'worst case of engine flush (or poll period) + one delta interval' },
      ratio: null,
      goal: `p95 < ${limit} ms`,
      met: p95 < limit,
      notes: `p50 ${percentile(lat, 0.5).toFixed(1)} ms, n=${lat.length}; engine pushMs=20 (its default is 50); under continuous change a delta waits up to 1/DELTA_HZ; the same to the browser's store: stream.latency.browser.*`,
    });
  }
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  ctx.log('stream: fan-out');
  await fanout(ctx, rows);
  ctx.log('stream: latency');
  await latency(ctx, rows);
  return rows;
}
