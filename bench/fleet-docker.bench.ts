/**
 * Fleet benchmarks over real Docker (issue 14), each against a one-target relay measured in the same run:
 * - spawn answer latency with 4 targets (POST /api/bots/initialize-swarm naming each target in turn);
 * - listing with 4 targets x 250 sessions (GET /api/sessions, merged from the targets' caches);
 * - fan-out of 4 x 2k agents (V2 frames from a leader at 20 Hz) to 100 ws clients: frames/s and the
 *   leader -> client delay p95;
 * - relay memory (RSS, V8 heap) per added target;
 * - an exec through an ssh:// target (the test kit's loopback sshd in front of the machine's dockerd, the
 *   relay's own driver and ssh transport) against the same exec on the unix socket, interleaved.
 *
 * Both relays are child processes (`node dist/relay/main.js`, as users run it) in fleet mode
 * (`HIVE_TARGETS`; the peer has one entry, so only the count differs); memory comes from their own
 * /metrics, CPU from /proc. Control: five kit containers on the machine's dockerd, on the host network with
 * their own MCP_TCP_PORT (no private daemons: the engine behind a target does not change what the relay
 * does per target, and fleet.docker.test.ts proves TLS engines). Graph: each target's `mcp` is a replayed
 * MCP server answering agent_list with 2000 agents (the same raw ids on every target, as two real
 * containers would have), so each target holds 2k agents whatever the simulated swarms do.
 * bench/fleet.bench.ts measures spawn and memory without Docker (the kit as local processes).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeNodeFrame, type NodeState } from '../shared/protocol/binaryV2.js';
import { PROTOCOL_VERSION, WS_MAX_PAYLOAD } from '../shared/protocol/messages.js';
import { AgentsResponseSchema, HybridStatusResponseSchema, SessionsResponseSchema, routes } from '../shared/api.js';
import { startReplayServer, type ReplayServer } from '../relay/telemetry/testing/replayServer.js';
import { KIT_ENGINE, type Recording } from '../relay/telemetry/testing/recordings.js';
import { validSpawn } from '../relay/control/testing/harness.js';
import { SESSION_MANAGER_PATH } from '../relay/control/backends/sessionManager.js';
import { DockerDriver } from '../relay/control/drivers/docker.js';
import { createDocker, sshTransportOf } from '../relay/control/drivers/dockerConnection.js';
import type { DockerEndpoint } from '../relay/targets.js';
import { LoopbackSshd, makeSshKey, sshdUnavailableReason } from '../testkit/sshd.js';
import { dockerAvailable } from '../testkit/kitContainer.js';
import { ensureImage, kitModule } from '../testkit/kitImage.js';
import { dockerCli, uniqueName } from '../testkit/docker.js';
import { freePort, portAccepts } from '../testkit/ports.js';
import { startRelayProcess, type RelayProcess } from '../testkit/relayProcess.js';
import { heapAfterGc, inspectorUrl } from '../testkit/inspector.js';
import { makeTempDir } from '../testkit/tempDirs.js';
import { waitUntil } from '../testkit/wait.js';
import { percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';

const TARGETS = 4;
/** The pause between the ssh row's execs: about how often the relay polls a target. */
const SSH_EXEC_GAP_MS = 500;
const AGENTS = 2000;
const CLIENTS = 100;
const HZ = 20;

const ROWS = {
  spawn: ['fleet-docker.spawn.4t.p50', `spawn answer latency p50 with ${TARGETS} targets (POST initialize-swarm naming each target in turn; kit containers)`, 'ms', 'one-target relay, same spawns interleaved', 'ratio <= 1.5'],
  list: ['fleet-docker.list.4x250', `GET /api/sessions with ${TARGETS} targets x 250 sessions (merged from the targets' caches), p50`, 'ms', 'one-target relay with 250 sessions', 'ratio <= 4 (at most linear in sessions)'],
  fanout: ['fleet-docker.fanout.4x2k.100c', `V2 frames of ${TARGETS} x ${AGENTS} agents at ${HZ} Hz to ${CLIENTS} ws clients: frames delivered per second, all clients`, 'frames/s', `one-target relay, ${AGENTS} agents, same clients`, 'ratio >= 0.8'],
  fanoutP95: ['fleet-docker.fanout.4x2k.100c.p95', `leader upload -> client receipt p95, ${TARGETS} x ${AGENTS} agents at ${HZ} Hz to ${CLIENTS} clients`, 'ms', `one-target relay, ${AGENTS} agents`, `ours - floor <= ${1000 / HZ} ms (one frame interval: a later frame is superseded by the next)`],
  rss: ['fleet-docker.memory.per-target.rss', `relay RSS per added target ((4 targets - 1 target) / 3), ${AGENTS} agents each`, 'MB', 'the whole one-target relay', 'ratio <= 0.25'],
  sshExec: ['fleet.ssh.exec.p50', `exec of \`true\` in a kit container through an ssh:// target (one SSH login, a dial-stdio channel per connection), p50, ${SSH_EXEC_GAP_MS} ms apart (a relay's poll pace)`, 'ms', 'the same exec on the unix socket, interleaved', 'ratio <= 1.5'],
  heap: ['fleet-docker.memory.per-target.heap', `relay V8 heap per added target ((4 targets - 1 target) / 3), ${AGENTS} agents each`, 'MB', 'the whole one-target relay', 'ratio <= 0.25'],
} as const;
type RowKey = keyof typeof ROWS;

function row(key: RowKey, ours: number | null, floor: number | null, direction: 'lower-is-better' | 'higher-is-better', limit: number, notes: string): BenchRow {
  const [id, what, unit, floorName, goal] = ROWS[key];
  const r = (v: number | null) => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(2)));
  return ratioRow({ id, what, ours: { value: r(ours), unit }, floor: { value: r(floor), unit, name: floorName }, goal, notes }, direction, limit);
}

function notRun(key: RowKey, note: string): BenchRow {
  const [id, what, unit, floorName, goal] = ROWS[key];
  return { id, what, ours: { value: null, unit }, floor: { value: null, unit, name: floorName }, ratio: null, goal, met: null, notes: note };
}

/** The relay's own figures from its GET /metrics. */
async function scrape(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(hivescope_[a-z_]+) (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/**
 * Median RSS (MB, from /metrics) over a few scrapes, and the heap the relay retains (MB): after a full
 * collection asked through its inspector (testkit/inspector.ts), median of three. A /metrics heap counts
 * the garbage of the last polls too, and differed between runs by more than a target's share.
 */
async function memory(relay: RelayProcess): Promise<{ rss: number; heap: number; scrapedHeap: number }> {
  const rss: number[] = [];
  const scraped: number[] = [];
  for (let i = 0; i < 7; i++) {
    const m = await scrape(relay.url);
    rss.push((m.hivescope_relay_resident_memory_bytes ?? NaN) / 1e6);
    scraped.push((m.hivescope_relay_heap_used_bytes ?? NaN) / 1e6);
    await new Promise((r) => setTimeout(r, 200));
  }
  const url = inspectorUrl(relay.tail.text());
  if (!url) throw new Error('the relay printed no inspector URL (started without --inspect?)');
  const heap: number[] = [];
  for (let i = 0; i < 3; i++) heap.push((await heapAfterGc(url)) / 1e6);
  return { rss: percentile(rss, 0.5), heap: percentile(heap, 0.5), scrapedHeap: percentile(scraped, 0.5) };
}

/** CPU seconds (user + system) a child has used, from /proc (Linux; null elsewhere). */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Worker: N follower clients and (unless `leaderFrame` is null: a bare broadcaster sends) one leader
 * uploading frames at HZ; the first node's x carries the send time (float32 of the wall clock
 * timeOrigin + now() mod 1e5 ms, the same in the main thread and the worker), so each client measures
 * send -> receipt.
 */
const CLIENT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const WebSocket = require(workerData.wsPath);
const { url, clients, leaderFrame, hz, seconds, protocolVersion } = workerData;
const clock = () => (performance.timeOrigin + performance.now()) % 100000;
let received = 0, counting = false;
const delays = [];
const sockets = [];
let open = 0;
for (let i = 0; i < clients; i++) {
  const ws = new WebSocket(leaderFrame ? url + '?follow=1' : url, { perMessageDeflate: false });
  ws.on('open', () => { if (++open === clients) start(); });
  ws.on('message', (d, bin) => {
    if (!bin || !counting) return;
    received++;
    if (d.length >= 9 && received % 7 === 0) {
      let dt = clock() - d.readFloatLE(5);
      if (dt < 0) dt += 100000;
      delays.push(dt);
    }
  });
  ws.on('error', () => {});
  sockets.push(ws);
}
function start() {
  const leader = leaderFrame ? new WebSocket(url, { perMessageDeflate: false }) : null;
  const go = () => {
    counting = true;
    const t0 = Date.now();
    const timer = leader && setInterval(() => {
      const f = Buffer.from(leaderFrame);
      f.writeFloatLE(clock(), 5);
      leader.send(f);
    }, 1000 / hz);
    setTimeout(() => {
      counting = false;
      if (timer) clearInterval(timer);
      parentPort.postMessage({ received, seconds: (Date.now() - t0) / 1000, delays });
      for (const s of sockets) s.terminate();
      if (leader) leader.terminate();
    }, seconds * 1000);
  };
  if (!leader) return go();
  leader.on('message', (d, bin) => {
    if (bin) return;
    const m = JSON.parse(d.toString());
    if (m.type === 'layout' && m.role === 'leader' && !counting) go();
  });
  leader.on('open', () => leader.send(JSON.stringify({ type: 'hello', protocolVersion, physicsBackend: 'cpu', physicsScore: 1e6, visible: true, followOnly: false, resumeFrom: null })));
}
`;

interface FanoutResult {
  rate: number;
  p95: number;
  p50: number;
  cpuPct: number | null;
  frameBytes: number;
  nodes: number;
}

function clients(url: string, leaderFrame: Buffer | null, seconds: number): Promise<{ received: number; seconds: number; delays: number[] }> {
  const wsPath = createRequire(import.meta.url).resolve('ws');
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT_WORKER, { eval: true, workerData: { wsPath, url, clients: CLIENTS, leaderFrame, hz: HZ, seconds, protocolVersion: PROTOCOL_VERSION } });
    w.on('message', (m: { received: number; seconds: number; delays: number[] }) => {
      resolve(m);
      void w.terminate();
    });
    w.on('error', reject);
  });
}

async function nodeFrame(url: string): Promise<{ frame: Buffer; nodes: number }> {
  const agents = AgentsResponseSchema.parse(await (await fetch(`${url}${routes.botsAgents.path}`)).json()).agents;
  const nodes: NodeState[] = agents.map((a, i) => ({ id: a.nodeId, type: 'agent', x: i, y: i % 97, z: i % 13, vx: 1, vy: 0.5, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
  return { frame: Buffer.from(encodeNodeFrame(nodes)), nodes: nodes.length };
}

async function fanout(relay: RelayProcess, seconds: number): Promise<FanoutResult> {
  const { frame, nodes } = await nodeFrame(relay.url);
  const cpu0 = cpuSeconds(relay.child.pid);
  const t0 = performance.now();
  const r = await clients(`${relay.url.replace(/^http/, 'ws')}/wss`, frame, seconds);
  const cpu1 = cpuSeconds(relay.child.pid);
  const wall = (performance.now() - t0) / 1000;
  return {
    rate: r.received / r.seconds,
    p95: percentile(r.delays, 0.95),
    p50: percentile(r.delays, 0.5),
    cpuPct: cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) / wall) * 100,
    frameBytes: frame.length,
    nodes,
  };
}

/** The machine's own floor for the same frames: a bare `ws` server in this process broadcasting them at HZ. */
async function bareFanout(frame: Buffer, seconds: number): Promise<{ rate: number; p95: number }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const timer = setInterval(() => {
    const f = Buffer.from(frame);
    f.writeFloatLE((performance.timeOrigin + performance.now()) % 100000, 5);
    for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(f, { binary: true });
  }, 1000 / HZ);
  try {
    const r = await clients(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, null, seconds);
    return { rate: r.received / r.seconds, p95: percentile(r.delays, 0.95) };
  } finally {
    clearInterval(timer);
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}

async function spawnOn(url: string, target: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...validSpawn, customPrompt: 'fleet bench', target }) });
  await r.arrayBuffer();
  if (r.status !== 202) throw new Error(`spawn on ${target} answered ${r.status}`);
  return performance.now() - t;
}

async function listMs(url: string, query = ''): Promise<{ ms: number; count: number; bytes: number }> {
  const t = performance.now();
  const r = await fetch(`${url}${routes.sessions.path}${query}`);
  const text = await r.text();
  const ms = performance.now() - t;
  return { ms, count: SessionsResponseSchema.parse(JSON.parse(text)).sessions.length, bytes: text.length };
}

/**
 * Fills a container's registry to `n` sessions with one exec that loops the kit's own session manager
 * (`create --start`, as the relay's spawn does): 1250 spawns through the relays, one exec each, take
 * about 70 s on this machine, and the listing row measures listing, not spawning.
 */
async function seed(container: string, n: number): Promise<void> {
  if (n <= 0) return;
  const meta = JSON.stringify({ topology: 'mesh', maxAgents: 5, strategy: 'adaptive', priority: 'medium', enableNeural: true, agentTypes: ['coordinator', 'coder'] });
  // The command and its arguments travel as argv ("$@"), never spliced into the script.
  const script = 'n=$1; shift; i=0; while [ $i -lt $n ]; do "$@" >/dev/null || exit 1; i=$((i+1)); done';
  const r = await dockerCli(['exec', container, 'sh', '-c', script, 'seed', String(n), SESSION_MANAGER_PATH, 'create', '--start', '--', 'fleet bench: seeded session', 'medium', meta]);
  if (r.code !== 0) throw new Error(`seeding ${container} failed: ${r.stderr.slice(0, 200)}`);
}

/**
 * Execs of `true` in `container` through an ssh:// target (a loopback sshd, testkit/sshd.ts, in front of
 * the machine's dockerd: the relay's createDocker and DockerDriver, so its ssh transport) and on the unix
 * socket, interleaved: at the relay's poll pace (the row), and back to back (notes: each exec needs a new
 * connection, which then waits for the spare dial-stdio still starting).
 */
async function sshExec(container: string, quick: boolean): Promise<BenchRow> {
  const why = sshdUnavailableReason();
  if (why) return notRun('sshExec', `not run: ${why}`);
  const sshd = new LoopbackSshd();
  const drivers: DockerDriver[] = [];
  try {
    const dir = makeTempDir('hivescope-bench-ssh-');
    const key = await makeSshKey(dir, 'client');
    await sshd.start([key]);
    const knownHosts = path.join(dir, 'known_hosts');
    fs.writeFileSync(knownHosts, sshd.knownHostsLine('127.0.0.1'));
    const endpoint: DockerEndpoint = { kind: 'ssh', url: `ssh://root@127.0.0.1:${sshd.port}`, user: 'root', host: '127.0.0.1', port: sshd.port, identityFile: key.file, knownHosts };
    const ssh = new DockerDriver(container, createDocker(endpoint, 'bench ssh target'));
    const local = new DockerDriver(container);
    drivers.push(ssh, local);
    const o = { timeoutMs: 30_000, maxOutputBytes: 1024 * 1024 };
    const timed = async (d: DockerDriver) => {
      const t = performance.now();
      const r = await d.exec(['true'], o);
      if (r.exitCode !== 0) throw new Error(`exec of true exited ${r.exitCode}`);
      return performance.now() - t;
    };
    for (let i = 0; i < 2; i++) await Promise.all([timed(ssh), timed(local)]); // the login, image layers warm
    const reps = quick ? 8 : 20;
    const paced = { ssh: [] as number[], unix: [] as number[] };
    const burst = { ssh: [] as number[], unix: [] as number[] };
    const logins0 = sshd.accepted().length;
    for (let i = 0; i < reps; i++) {
      paced.ssh.push(await timed(ssh));
      paced.unix.push(await timed(local));
      await new Promise((r) => setTimeout(r, SSH_EXEC_GAP_MS));
    }
    for (let i = 0; i < reps; i++) {
      burst.ssh.push(await timed(ssh));
      burst.unix.push(await timed(local));
    }
    const logins = sshd.accepted().length - logins0;
    const ms = (xs: number[], p: number) => percentile(xs, p).toFixed(0);
    const notes = `${reps} execs each way; p95 ${ms(paced.ssh, 0.95)} ms (unix ${ms(paced.unix, 0.95)} ms); back to back: ssh p50 ${ms(burst.ssh, 0.5)} ms, unix ${ms(burst.unix, 0.5)} ms (an exec's hijacked stream takes its connection, so each needs a new dial-stdio: a spare opened ahead, still starting when execs come back to back); ${logins} SSH logins during the ${2 * reps} measured ssh execs, ${sshTransportOf(ssh.docker)!.logins} in all (sshd's log); loopback sshd in front of this machine's dockerd, so the figure is the transport's cost, not a network's`;
    return row('sshExec', percentile(paced.ssh, 0.5), percentile(paced.unix, 0.5), 'lower-is-better', 1.5, notes);
  } catch (e) {
    // Its own failure: the fleet rows after it do not depend on sshd.
    return notRun('sshExec', `failed: ${String(e).slice(0, 300)}`);
  } finally {
    for (const d of drivers) await d.close();
    await sshd.close();
  }
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const keys = Object.keys(ROWS) as RowKey[];
  if (!ctx.docker || !dockerAvailable()) return keys.map((k) => notRun(k, 'not run: needs a Docker engine and the kit image'));
  const stops: (() => unknown)[] = [];
  const rows: BenchRow[] = [];
  const sessionsPer = ctx.quick ? 50 : 250;
  const seconds = ctx.quick ? 3 : 6;
  try {
    await ensureImage();
    const kit = await kitModule();
    // Five containers: the peer's one and the fleet's four.
    const names = Array.from({ length: TARGETS + 1 }, (_, i) => uniqueName(`hivescope-bench-fleet-${i}`));
    const mcpPorts: number[] = [];
    for (const name of names) {
      const port = await freePort();
      mcpPorts.push(port);
      stops.push(() => dockerCli(['rm', '-f', '-v', name]));
      const run = await dockerCli(['run', '-d', '--name', name, '--network', 'host', '-e', `MCP_TCP_PORT=${port}`, '-e', 'HIVE_SIM_SPEED=1', kit.IMAGE]);
      if (run.code !== 0) throw new Error(`docker run failed: ${run.stderr}`);
    }
    // Before the relays start, so their polling is not in its figures.
    rows.push(await sshExec(names[0]!, ctx.quick));
    ctx.log('fleet-docker: ssh exec measured');
    // Each target's graph: a replayed MCP server answering agent_list with 2000 agents.
    const list = JSON.stringify({ success: true, agents: Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}`, type: 'coder', status: 'busy', swarmId: 'swarm-1795219796568-fleet', cpuUsage: 1 })), count: AGENTS });
    const listLine = JSON.stringify({ jsonrpc: '2.0', id: '{{id}}', result: { content: [{ type: 'text', text: list }] } }).replace('"{{id}}"', '{{id}}');
    const rec: Recording = { ...KIT_ENGINE, name: 'fleet-2k', replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [listLine] } };
    const mcps: ReplayServer[] = [];
    for (let i = 0; i <= TARGETS; i++) {
      const s = await startReplayServer(rec);
      mcps.push(s);
      stops.push(() => s.close());
    }
    await waitUntil(async () => (await Promise.all(mcpPorts.map((p) => portAccepts(p)))).every(Boolean), 60_000, 200, 'every kit engine');
    const entry = (i: number, name: string) => ({ name, container: names[i]!, mcp: `127.0.0.1:${mcps[i]!.port}` });
    const fleetNames = Array.from({ length: TARGETS }, (_, i) => `t${i + 1}`);
    const env = (targets: unknown[]) => ({ ...process.env, PORT: '0', HOST: '127.0.0.1', HIVE_DRIVER: 'docker', HIVE_TARGETS: JSON.stringify(targets), HIVE_DEMO: '0', SPAWN_RATE_PER_MIN: '100000', HIVE_STATE_DIR: makeTempDir('hivescope-bench-fleet-'), LOG_LEVEL: 'warn' });
    // The inspector (loopback, random port) lets the bench ask for a full collection before reading the heap.
    const one = await startRelayProcess(env([entry(0, 'solo')]), { timeoutMs: 60_000, nodeArgs: ['--inspect=127.0.0.1:0'] });
    stops.push(() => one.stop());
    const four = await startRelayProcess(env(fleetNames.map((n, i) => entry(i + 1, n))), { timeoutMs: 60_000, nodeArgs: ['--inspect=127.0.0.1:0'] });
    stops.push(() => four.stop());
    const ready = async (url: string, n: number) => {
      const h = HybridStatusResponseSchema.parse(await (await fetch(`${url}${routes.hybridStatus.path}`)).json());
      const agents = AgentsResponseSchema.parse(await (await fetch(`${url}${routes.botsAgents.path}`)).json()).agents.length;
      return (h.targets ?? []).length === n && h.targets!.every((t) => t.status === 'healthy') && agents === n * AGENTS;
    };
    await waitUntil(async () => (await ready(one.url, 1)) && (await ready(four.url, TARGETS)), 90_000, 250, 'both relays healthy with every graph');
    ctx.log('fleet-docker: relays ready');

    // 1. Memory with the graphs loaded, before any session or client.
    const [m1, m4] = [await memory(one), await memory(four)];
    const perRss = (m4.rss - m1.rss) / (TARGETS - 1);
    const perHeap = (m4.heap - m1.heap) / (TARGETS - 1);
    const memNote = `one-target relay RSS ${m1.rss.toFixed(1)} MB, heap ${m1.heap.toFixed(1)} MB; four targets RSS ${m4.rss.toFixed(1)} MB, heap ${m4.heap.toFixed(1)} MB (RSS: medians of 7 scrapes of each relay's /metrics; heap: retained, after a full collection asked through the relay's inspector, median of 3; /metrics heap without one ${m1.scrapedHeap.toFixed(1)} and ${m4.scrapedHeap.toFixed(1)} MB; no clients, no sessions); a target is its Docker client, control plane, MCP client and ${AGENTS}-agent graph`;
    rows.push(row('rss', perRss, m1.rss, 'lower-is-better', 0.25, memNote), row('heap', perHeap, m1.heap, 'lower-is-better', 0.25, memNote));

    // 2. Spawn answer latency, the two relays interleaved so both see the same machine load.
    const reps = ctx.quick ? 8 : 24;
    const s1: number[] = [];
    const s4: number[] = [];
    for (let i = 0; i < 2; i++) await Promise.all([spawnOn(one.url, 'solo'), spawnOn(four.url, fleetNames[i % TARGETS]!)]); // warm
    for (let i = 0; i < reps; i++) {
      s4.push(await spawnOn(four.url, fleetNames[i % TARGETS]!));
      s1.push(await spawnOn(one.url, 'solo'));
    }
    rows.push(row('spawn', percentile(s4, 0.5), percentile(s1, 0.5), 'lower-is-better', 1.5, `p95 ${percentile(s4, 0.95).toFixed(1)} ms (one target ${percentile(s1, 0.95).toFixed(1)} ms) over ${reps}; each one \`create --start\` exec in that target's container on the machine's dockerd; both relays poll ${AGENTS} agents per target meanwhile`));

    // 3. Listing: fill every registry to `sessionsPer`, then GET /api/sessions on both, interleaved.
    const tFill = performance.now();
    const have = [(await listMs(one.url)).count, ...(await Promise.all(fleetNames.map(async (t) => (await listMs(four.url, `?target=${t}`)).count)))];
    await Promise.all(names.map((name, i) => seed(name, sessionsPer - have[i]!)));
    const fillS = (performance.now() - tFill) / 1000;
    await waitUntil(async () => (await listMs(four.url)).count >= TARGETS * sessionsPer && (await listMs(one.url)).count >= sessionsPer, 60_000, 250, 'every session listed');
    ctx.log(`fleet-docker: ${(TARGETS + 1) * sessionsPer} sessions in ${fillS.toFixed(1)} s`);
    const l1: number[] = [];
    const l4: number[] = [];
    const lt: number[] = [];
    let c4 = 0;
    let c1 = 0;
    let bytes4 = 0;
    for (let i = 0; i < (ctx.quick ? 10 : 30); i++) {
      const a = await listMs(four.url);
      const b = await listMs(one.url);
      const t = await listMs(four.url, `?target=${fleetNames[i % TARGETS]}`);
      l4.push(a.ms);
      l1.push(b.ms);
      lt.push(t.ms);
      [c4, c1, bytes4] = [a.count, b.count, a.bytes];
    }
    const listRow = row('list', percentile(l4, 0.5), percentile(l1, 0.5), 'lower-is-better', 4, `${c4} sessions (${(bytes4 / 1024).toFixed(0)} KiB) against ${c1}; p95 ${percentile(l4, 0.95).toFixed(1)} ms (one target ${percentile(l1, 0.95).toFixed(1)} ms); one target of the four (?target=) p50 ${percentile(lt, 0.5).toFixed(1)} ms; the lists are the targets' caches (each refreshed by its own exec on its own timer), nothing execs per request; registries filled in ${fillS.toFixed(0)} s by one exec per container looping the kit's session manager (create --start)`);
    // --quick fills fewer sessions; the id stays, the words say how many.
    rows.push({ ...listRow, what: listRow.what.replace('x 250 sessions', `x ${sessionsPer} sessions`), floor: { ...listRow.floor, name: listRow.floor.name.replace('250', String(sessionsPer)) } });

    // 4. Fan-out, the one-target relay first, then the fleet (never both at once).
    const f1 = await fanout(one, seconds);
    const f4 = await fanout(four, seconds);
    const bare = await bareFanout((await nodeFrame(four.url)).frame, seconds);
    const cpu = (f: FanoutResult) => (f.cpuPct === null ? 'n/a' : `${f.cpuPct.toFixed(0)}%`);
    const fanNote = `${f4.nodes} nodes, ${f4.frameBytes} B a frame (WS_MAX_PAYLOAD ${WS_MAX_PAYLOAD} B holds ${Math.floor((WS_MAX_PAYLOAD - 1) / 36)} nodes) against ${f1.nodes} nodes, ${f1.frameBytes} B; ideal ${HZ * CLIENTS} frames/s; relay CPU ${cpu(f4)} of a core (one target ${cpu(f1)}); ${((f4.rate * f4.frameBytes) / 1e6).toFixed(0)} MB/s sent (one target ${((f1.rate * f1.frameBytes) / 1e6).toFixed(0)} MB/s); delay p50 ${f4.p50.toFixed(1)} ms (one target ${f1.p50.toFixed(1)} ms); the machine's floor for the ${f4.nodes}-node frames, a bare ws broadcast from the bench process to the same clients: ${bare.rate.toFixed(0)} frames/s, p95 ${bare.p95.toFixed(1)} ms; ${seconds} s each; clients and leader in a worker of the bench process on the same 2 cores`;
    const p95 = row('fanoutP95', f4.p95, f1.p95, 'lower-is-better', Infinity, fanNote);
    rows.push(row('fanout', f4.rate, f1.rate, 'higher-is-better', 0.8, fanNote), { ...p95, met: p95.ours.value === null || p95.floor.value === null ? null : p95.ours.value - p95.floor.value <= 1000 / HZ });
  } catch (e) {
    const have = new Set(rows.map((r) => r.id));
    for (const k of keys) if (!have.has(ROWS[k][0])) rows.push(notRun(k, `failed: ${String(e).slice(0, 300)}`));
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
  return rows;
}
