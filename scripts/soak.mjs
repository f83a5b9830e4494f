#!/usr/bin/env node
// `npm run soak -- --minutes N [--clients 50] [--sessions 100]`: a real relay (child process, embedded
// hive) under 50 browsers' worth of WebSocket clients (one leading the layout at 20 Hz) and 100
// sessions for N minutes. Samples the relay's RSS and open file descriptors every 5 s; fails if RSS
// grows more than 10 % after warm-up (median of the last third of samples vs the first third) or
// descriptors keep growing (a leak).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { buildNode } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`soak: --${name} needs a positive number`);
    process.exit(2);
  }
  return v;
};
const minutes = arg('minutes', 5);
const clientCount = arg('clients', 50);
const sessionCount = arg('sessions', 100);
const SAMPLE_MS = 5000;
const warmupMs = Math.min(60_000, (minutes * 60_000) / 4);

buildNode();
const { encodeNodeFrameFrom } = await import(path.join(root, 'dist/shared/protocol/binaryV2Arrays.js'));
const { PROTOCOL_VERSION } = await import(path.join(root, 'dist/shared/protocol/messages.js'));

// Reserved until this process exits (testkit/ports.ts), so nothing takes it before the relay binds.
const { freePort } = await import(path.join(root, 'dist/testkit/ports.js'));
const port = await freePort();
const mcpPort = await freePort();
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-soak-'));
const relay = spawn(process.execPath, ['dist/relay/main.js'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, PORT: String(port), HIVE_DRIVER: 'local', HIVE_STATE_DIR: stateDir, MCP_PORT: String(mcpPort), HIVE_DEMO: '0', HIVE_SIM_SPEED: '0.2', SPAWN_RATE_PER_MIN: '100000', LOG_LEVEL: 'warn' },
});
const base = `http://127.0.0.1:${port}`;
const sockets = [];
let leaderTimer = null;

function cleanup(code) {
  clearInterval(leaderTimer);
  for (const s of sockets) s.terminate();
  relay.kill('SIGTERM');
  const t = setTimeout(() => relay.kill('SIGKILL'), 10_000);
  relay.once('exit', () => {
    clearTimeout(t);
    fs.rmSync(stateDir, { recursive: true, force: true });
    process.exit(code);
  });
}
process.on('SIGINT', () => cleanup(130));

const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {
    /* not up yet */
  }
  await new Promise((r) => setTimeout(r, 250));
}

const body = (i) => ({ topology: ['mesh', 'hierarchical', 'ring', 'star'][i % 4], maxAgents: 8, strategy: 'adaptive', priority: 'medium', enableNeural: false, agentTypes: ['coder', 'tester', 'analyst'], customPrompt: `soak session ${i}` });
let spawned = 0;
for (let i = 0; i < sessionCount; i += 10) {
  const rs = await Promise.all(Array.from({ length: Math.min(10, sessionCount - i) }, (_, k) => fetch(`${base}/api/bots/initialize-swarm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(i + k)) })));
  spawned += rs.filter((r) => r.status === 202).length;
}
console.log(`soak: relay pid ${relay.pid} on ${base}; ${spawned}/${sessionCount} sessions spawned; opening ${clientCount} clients`);

let received = 0;
for (let i = 0; i < clientCount; i++) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/wss${i === 0 ? '' : '?follow=1'}`);
  ws.on('message', () => received++);
  ws.on('error', () => {});
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: i === 0 ? 1000 : 1, visible: true, followOnly: i !== 0, resumeFrom: null }));
  ws.send(JSON.stringify({ type: 'subscribe', swarmIds: null, includePerformance: false, selectedAgentIds: [], includeMock: false }));
  sockets.push(ws);
}

// The leader uploads positions for the node ids it was sent, at 20 Hz, moving a little every tick.
let nodeIds = [];
sockets[0].on('message', (data, isBinary) => {
  if (isBinary) return;
  const m = JSON.parse(data.toString());
  if (m.type === 'snapshot') nodeIds = m.graph.agents.map((a) => a.nodeId);
  if (m.type === 'delta') for (const a of m.upserts.agents ?? []) if (!nodeIds.includes(a.nodeId)) nodeIds.push(a.nodeId);
});
let tick = 0;
leaderTimer = setInterval(() => {
  const n = nodeIds.length;
  if (!n || sockets[0].readyState !== WebSocket.OPEN) return;
  tick++;
  const pos = new Float32Array(n * 3).map((_, i) => Math.sin(i + tick / 10) * 100);
  sockets[0].send(encodeNodeFrameFrom(n, Uint32Array.from(nodeIds), new Uint8Array(n).fill(1), pos, new Float32Array(n * 3).fill(0.5)));
}, 50);

const sample = () => {
  const status = fs.readFileSync(`/proc/${relay.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const fds = fs.readdirSync(`/proc/${relay.pid}/fd`).length;
  return { t: Date.now(), rssMb: rssKb / 1024, fds };
};
const samples = [];
const start = Date.now();
const end = start + minutes * 60_000;
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  if (relay.exitCode !== null) {
    console.error('soak: the relay exited during the run');
    cleanup(1);
    break;
  }
  const s = sample();
  samples.push(s);
  console.log(`soak: ${((s.t - start) / 1000).toFixed(0)} s  rss ${s.rssMb.toFixed(1)} MB  fds ${s.fds}  messages received ${received}`);
}

const after = samples.filter((s) => s.t - start >= warmupMs);
if (after.length < 2) {
  console.error('soak: too short to judge (need at least two samples after warm-up); use --minutes 2 or more');
  cleanup(2);
} else {
  // Growth, not garbage-collector amplitude: RSS saw-tooths by tens of MB between collections, so
  // compare the median of the last third of the post-warm-up samples with the median of the first.
  const third = Math.max(1, Math.floor(after.length / 3));
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const early = med(after.slice(0, third).map((s) => s.rssMb));
  const late = med(after.slice(-third).map((s) => s.rssMb));
  const peak = Math.max(...after.map((s) => s.rssMb));
  const growth = (late - early) / early;
  const fdEarly = Math.min(...after.slice(0, third).map((s) => s.fds));
  const fdLate = Math.min(...after.slice(-third).map((s) => s.fds));
  const ok = growth <= 0.1 && fdLate - fdEarly <= 5;
  console.log(
    `soak: RSS median ${early.toFixed(1)} MB early after warm-up -> ${late.toFixed(1)} MB at the end (${(growth * 100).toFixed(1)} %, limit 10 %), peak ${peak.toFixed(1)} MB; fds ${fdEarly} -> ${fdLate}; ${ok ? 'PASS' : 'FAIL'}`,
  );
  cleanup(ok ? 0 : 1);
}
