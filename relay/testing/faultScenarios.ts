/**
 * The fault scenarios of issue 7 as functions: each starts what it needs (real relays, in-process through
 * startRelay or `node dist/relay/main.js` as a child; the kit's real engine and session manager; real
 * sockets), injects its fault, measures, stops everything it started whatever happened, and returns its
 * figures. relay/faults.integration.test.ts asserts on them (in `npm test`); bench/faults.bench.ts
 * reports them as rows beside the limits and the same run's own before-the-fault figures.
 *
 * Every wait here is bounded (a hang guard, not a goal): a figure outside its goal is returned, so the
 * bench can report it as missed and the test can fail on it with the figure in hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import pino from 'pino';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { connectClient, type TestClient } from '../stream/testing/harness.js';
import { BUFFERED_HIGH_WATER } from '../stream/server.js';
import { startReplayServer } from '../telemetry/testing/replayServer.js';
import { KIT_ENGINE, type Recording } from '../telemetry/testing/recordings.js';
import { encodeNodeFrame, type NodeState } from '../../shared/protocol/binaryV2.js';
import { localEngineMain, localSessionManagerCli, repoRoot } from '../control/paths.js';
import { until } from '../control/testing/harness.js';
import { freePort } from '../../container/testing/tcp.js';
import { pidAlive as alive } from '../../container/testing/cli.js';

/** Issue 7: telemetry connected again within 5 s of the restarted engine listening. */
export const ENGINE_RECONNECT_LIMIT_MS = 5000;
/** Issue 7: a browser next to a stalled one keeps at least half the frame rate it had alone. */
export const STALLED_MIN_FPS_RATIO = 0.5;

export const relayMain = (): string => path.join(repoRoot(), 'dist/relay/main.js');

/** What the scenarios need built; empty when everything is there. */
export function missingKit(): string[] {
  return [localEngineMain(), localSessionManagerCli(), relayMain()].filter((p) => !fs.existsSync(p)).map((p) => path.relative(repoRoot(), p));
}

/**
 * Stops what a scenario started, newest first. A scenario disposes its own in `finally`; a test passes
 * one shared instance too, so an afterAll can still stop everything when a test times out mid-scenario.
 */
export class FaultResources {
  private readonly stack: (() => Promise<void> | void)[] = [];
  add(stop: () => Promise<void> | void): void {
    this.stack.push(stop);
  }
  async dispose(): Promise<void> {
    for (let stop = this.stack.pop(); stop; stop = this.stack.pop()) {
      try {
        await stop();
      } catch {
        // keep stopping the rest
      }
    }
  }
}

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-faults-'));

/** Like until, but resolves false instead of throwing (for figures the caller judges). */
const within = (cond: () => boolean, ms: number) => until(cond, ms, '').then(() => true, () => false);

function killGroup(pid: number | undefined | null, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Session runners the kit's session manager started (their own process groups). */
function runnerPids(stateDir: string): number[] {
  try {
    const reg = JSON.parse(fs.readFileSync(path.join(stateDir, 'hive/.swarm/sessions/index.json'), 'utf8')) as { sessions?: Record<string, { runner_pid?: number | null }> };
    return Object.values(reg.sessions ?? {})
      .map((s) => s.runner_pid)
      .filter((p): p is number => typeof p === 'number' && p > 0);
  } catch {
    return [];
  }
}

function stateDir(res: FaultResources): string {
  const dir = tmpDir();
  res.add(() => {
    for (const pid of runnerPids(dir)) if (alive(pid)) killGroup(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

async function inProcessRelay(res: FaultResources, env: Record<string, string>): Promise<RelayHandle> {
  const relay = await startRelay(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }), silent);
  res.add(() => relay.close());
  return relay;
}

async function wsClient(res: FaultResources, url: string): Promise<TestClient> {
  const c = await connectClient(url);
  // terminate(), not close(): a stalled peer never answers a close handshake.
  res.add(() => c.ws.terminate());
  return c;
}

/** A scenario body with its own resources (and the caller's, when given, for a last-resort afterAll). */
async function scenario<T>(shared: FaultResources | undefined, body: (res: FaultResources) => Promise<T>): Promise<T> {
  const res = new FaultResources();
  shared?.add(() => res.dispose());
  try {
    return await body(res);
  } finally {
    await res.dispose();
  }
}

export interface EngineSigkillFigures {
  /** Restarted engine listening -> the browser is told telemetry is connected again; null: not within reconnectWaitMs. */
  reconnectMs: number | null;
  /** SIGKILL -> the browser has a health message with `mcp-down`. */
  outageShownMs: number;
  /** SIGKILL -> the relay's MCP client reported itself not connected (the floor for outageShownMs); null: not seen. */
  outageNoticedMs: number | null;
  /** SIGKILL -> the control plane's restarted engine listening. */
  engineRestartMs: number;
  /** SIGKILL -> the browser is told telemetry is back; null when it was not. */
  outageTotalMs: number | null;
  /** Browser WebSockets closed during the outage (0 expected). */
  wsDisconnects: number;
  /** Browsers the relay still serves at the end (1 expected). */
  clientsAfter: number;
}

/**
 * a. The embedded engine killed with SIGKILL under an in-process relay (local driver): browsers stay
 * connected and are told (health `mcp-down`); the control plane restarts the engine and telemetry
 * reconnects. `reconnectWaitMs` bounds the wait after the engine listens (default 4x the limit,
 * so a miss is measured, not cut off).
 */
export function engineSigkill(opts: { resources?: FaultResources; reconnectWaitMs?: number } = {}): Promise<EngineSigkillFigures> {
  return scenario(opts.resources, async (res) => {
    const relay = await inProcessRelay(res, { HIVE_DRIVER: 'local', HIVE_STATE_DIR: stateDir(res), MCP_PORT: String(await freePort()), HIVE_DEMO: '0' });
    const engine = relay.control.engine;
    if (!engine) throw new Error('the local driver started no embedded engine');
    await engine.ready();
    await until(() => relay.telemetry.health().state === 'connected', 20_000, 'MCP connected at start');

    const c = await wsClient(res, `ws://127.0.0.1:${relay.port}/wss`);
    c.hello({ physicsScore: 1 });
    await c.waitFor((x) => x.of('health').some((m) => m.health.telemetry.state === 'connected'), 'healthy first');
    const pid = engine.pid!;
    let tNoticed: number | null = null;
    const onHealth = (h: { state: string }) => {
      if (h.state !== 'connected') tNoticed ??= Date.now();
    };
    relay.telemetry.on('health', onHealth);
    res.add(() => void relay.telemetry.off('health', onHealth));
    const tKill = Date.now();
    process.kill(pid, 'SIGKILL');

    const outageSeen = () => c.msgs.findIndex((m, i) => c.msgTimes[i]! >= tKill && m.type === 'health' && m.health.degraded.some((d) => d.code === 'mcp-down'));
    await until(() => outageSeen() >= 0, 10_000, 'health shows mcp-down');
    const tOutage = c.msgTimes[outageSeen()]!;

    await until(() => engine.pid !== null && engine.pid !== pid, 20_000, 'engine restarted by the control plane');
    await engine.ready();
    const tListening = Date.now();
    const back = () =>
      c.msgs.findIndex((m, i) => c.msgTimes[i]! >= tOutage && m.type === 'health' && m.health.telemetry.state === 'connected' && !m.health.degraded.some((d) => d.code === 'mcp-down'));
    const isBack = await within(() => back() >= 0, opts.reconnectWaitMs ?? 4 * ENGINE_RECONNECT_LIMIT_MS);
    const tBack = isBack ? c.msgTimes[back()]! : null;
    return {
      reconnectMs: tBack === null ? null : Math.max(0, tBack - tListening),
      outageShownMs: tOutage - tKill,
      outageNoticedMs: tNoticed === null ? null : tNoticed - tKill,
      engineRestartMs: tListening - tKill,
      outageTotalMs: tBack === null ? null : tBack - tKill,
      wsDisconnects: c.closed === null ? 0 : 1,
      clientsAfter: relay.stream.clientCount(),
    };
  });
}

export interface RelaySigkillFigures {
  /** Sessions spawned before the kill. */
  sessions: number;
  /** uuid -> swarm id before the kill and as listed after the restart. */
  before: Map<string, string>;
  after: Map<string, string | null>;
  /** Sessions listed after the restart with the same swarm id. */
  sessionsIntact: number;
  /** Relay child started -> listening, first start (the cold-start floor for the restart). */
  firstStartMs: number;
  /** SIGKILL -> restarted relay listening. */
  restartToListeningMs: number;
  /** SIGKILL -> every session listed again with its swarm id. */
  restartToSessionsMs: number;
  /** The browser's event cursor when the relay died, and the last event the relay had persisted. */
  cursor: number;
  lastPersisted: number;
  /** The first event message after resuming (replay true, gap false expected). */
  firstResume: { replay: boolean; gap: boolean };
  /** Every event seq the resuming browser got, in order. */
  seqs: number[];
  /** Any event message flagged `gap`. */
  anyGap: boolean;
  /** Events replayed (written before the kill, after the cursor). */
  replayed: number;
  /** Events the browser got twice: more than once after resuming, or at or below its cursor (it had those). */
  duplicates: number;
  /** Seqs in (cursor, lastPersisted] never received. */
  missing: number;
  /** First seq is cursor + 1 and every next one is the previous + 1. */
  contiguous: boolean;
}

/**
 * b. The relay (a child process, local driver, embedded engine) killed with SIGKILL and restarted on the
 * same state dir: sessions listed with the same uuid -> swarm id, and a browser resuming from its event
 * cursor gets no gap and no duplicate.
 */
export function relaySigkill(opts: { resources?: FaultResources; sessions?: number } = {}): Promise<RelaySigkillFigures> {
  const n = opts.sessions ?? 3;
  return scenario(opts.resources, async (res) => {
    const dir = stateDir(res);
    const port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HIVE_DRIVER: 'local',
      HIVE_STATE_DIR: dir,
      MCP_PORT: String(await freePort()),
      HIVE_DEMO: '0',
      HIVE_SIM_SPEED: '10',
      LOG_LEVEL: 'silent',
    };
    const base = `http://127.0.0.1:${port}`;
    const startChild = async (): Promise<ChildProcess> => {
      // Its own process group, so a stop ends it and its embedded engine together.
      const child = spawn(process.execPath, [relayMain()], { env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
      res.add(async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        killGroup(child.pid, 'SIGTERM');
        await Promise.race([exited, sleep(3000)]);
        killGroup(child.pid, 'SIGKILL');
      });
      const rl = readline.createInterface({ input: child.stdout! });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('relay child did not start within 30 s')), 30_000);
        child.once('exit', (code, sig) => reject(new Error(`relay child exited ${code ?? sig}`)));
        rl.on('line', (line) => {
          if (line.includes('hivescope relay listening on')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      return child;
    };
    const sessions = async () => {
      const r = await fetch(`${base}/api/sessions`);
      if (r.status !== 200) throw new Error(`GET /api/sessions answered ${r.status}`);
      return ((await r.json()) as { sessions: { uuid: string; swarmId: string | null }[] }).sessions;
    };

    const t0 = Date.now();
    const first = await startChild();
    const firstStartMs = Date.now() - t0;
    const uuids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${base}/api/bots/initialize-swarm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topology: 'mesh', maxAgents: 3, agentTypes: ['coder'], customPrompt: `fault suite session ${i}` }),
      });
      if (r.status !== 202) throw new Error(`spawn ${i} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
      uuids.push(((await r.json()) as { uuid: string }).uuid);
    }
    const before = new Map<string, string>();
    await until(
      async () => {
        for (const s of await sessions()) if (uuids.includes(s.uuid) && s.swarmId) before.set(s.uuid, s.swarmId);
        return before.size === uuids.length;
      },
      40_000,
      'swarm ids of every session',
    );

    const c1 = await wsClient(res, `ws://127.0.0.1:${port}/wss`);
    c1.hello({ resumeFrom: null });
    const seen = () => c1.of('event').flatMap((e) => e.events);
    await c1.waitFor(() => seen().length > 0, 'events before the kill', 20_000);
    const cursor = Math.max(...seen().map((e) => e.seq));
    // Let the relay log a few events this browser has not seen yet (the swarms keep working): they must
    // be replayed after the restart, since they were written before the kill.
    const persisted = () =>
      fs
        .readFileSync(path.join(dir, 'events.jsonl'), 'utf8')
        .split('\n')
        .flatMap((l) => {
          try {
            return [(JSON.parse(l) as { seq: number }).seq];
          } catch {
            return [];
          }
        });
    await until(() => Math.max(...persisted()) > cursor, 15_000, 'events after the browser cursor');

    const tKill = Date.now();
    first.kill('SIGKILL');
    await new Promise((r) => (first.exitCode !== null || first.signalCode !== null ? r(null) : first.once('exit', r)));
    const lastPersisted = Math.max(...persisted());
    await c1.waitFor((x) => x.closed !== null, 'browser saw the relay go');

    await startChild();
    const tUp = Date.now();
    const after = new Map<string, string | null>();
    const intact = () => uuids.filter((u) => after.get(u) === before.get(u)).length;
    await until(
      async () => {
        after.clear();
        for (const s of await sessions().catch(() => [])) after.set(s.uuid, s.swarmId);
        return intact() === uuids.length;
      },
      20_000,
      'sessions listed with the same swarm ids after the restart',
    ).catch(() => undefined);
    const tSessions = Date.now();

    const c2 = await wsClient(res, `ws://127.0.0.1:${port}/wss`);
    c2.hello({ resumeFrom: cursor });
    await c2.waitFor((x) => x.of('event').length > 0, 'events after resuming', 20_000);
    const firstMsg = c2.of('event')[0]!;
    const seqs = c2.of('event').flatMap((e) => e.events.map((x) => x.seq));
    const got = new Set(seqs);
    let missing = 0;
    for (let s = cursor + 1; s <= lastPersisted; s++) if (!got.has(s)) missing++;
    return {
      sessions: uuids.length,
      before,
      after: new Map(after),
      sessionsIntact: intact(),
      firstStartMs,
      restartToListeningMs: tUp - tKill,
      restartToSessionsMs: tSessions - tKill,
      cursor,
      lastPersisted,
      firstResume: { replay: firstMsg.replay, gap: firstMsg.gap },
      seqs,
      anyGap: c2.of('event').some((e) => e.gap),
      replayed: c2.of('event').filter((e) => e.replay).reduce((k, e) => k + e.events.length, 0),
      duplicates: seqs.length - got.size + seqs.filter((x) => x <= cursor).length,
      missing,
      contiguous: seqs[0] === cursor + 1 && seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1),
    };
  });
}

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
 * c. A browser that stops reading while 2k-agent frames stream at 20 Hz (an in-process relay fed by a
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

export interface ConcurrentSpawnFigures {
  requested: number;
  /** Spawns answered 202, and the other answers (status: count). */
  accepted: number;
  refused: Record<string, number>;
  /** First request sent -> last answer. */
  wallMs: number;
  /** Accepted uuids present in the kit's registry file, each once, with its own task text. */
  inRegistry: number;
  /** Accepted uuids the relay lists (GET /api/sessions after the spawns). */
  listed: number;
  /** What is wrong with the registry file (unparseable, bad uuid keys, malformed entries); empty: valid. */
  registryProblems: string[];
  /** This process's RSS growth over the spawns (the relay runs in-process). */
  rssGrowthMb: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES = new Set(['created', 'starting', 'running', 'paused', 'stopped', 'completed', 'failed', 'interrupted']);

/** The kit's registry file checked the way its session manager reads it: parseable, uuid keys, whole entries. */
function registryProblems(file: string): { problems: string[]; entries: Map<string, { task: string }> } {
  const entries = new Map<string, { task: string }>();
  let reg: unknown;
  try {
    reg = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { problems: [`unreadable: ${(e as Error).message.slice(0, 120)}`], entries };
  }
  const sessions = (reg as { sessions?: unknown }).sessions;
  if (typeof sessions !== 'object' || sessions === null) return { problems: ['no sessions object'], entries };
  const problems: string[] = [];
  for (const [uuid, e] of Object.entries(sessions as Record<string, Record<string, unknown>>)) {
    if (!UUID.test(uuid)) problems.push(`key ${uuid.slice(0, 40)} is not a uuid`);
    const ok = typeof e.task === 'string' && typeof e.status === 'string' && STATUSES.has(e.status) && typeof e.created === 'string' && typeof e.dir === 'string';
    if (!ok) problems.push(`entry ${uuid.slice(0, 40)} malformed`);
    else entries.set(uuid, { task: e.task as string });
  }
  return { problems: problems.slice(0, 5), entries };
}

/**
 * N spawns sent at once to an in-process relay with the local driver (the embedded hive): every one
 * answered, present in the kit's registry exactly once with its own task, listed by the relay, and the
 * registry file still valid. The spawn rate limit is lifted for the run (it would refuse most).
 */
export function concurrentSpawns(opts: { resources?: FaultResources; n?: number } = {}): Promise<ConcurrentSpawnFigures> {
  const n = opts.n ?? 200;
  return scenario(opts.resources, async (res) => {
    const dir = stateDir(res);
    const relay = await inProcessRelay(res, { HIVE_DRIVER: 'local', HIVE_STATE_DIR: dir, MCP_PORT: String(await freePort()), HIVE_DEMO: '0', SPAWN_RATE_PER_MIN: String(n * 100) });
    await relay.control.engine?.ready();
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const task = `concurrent spawn ${i} of ${n}`;
        try {
          const r = await fetch(`${relay.url}/api/bots/initialize-swarm`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ topology: 'mesh', maxAgents: 3, agentTypes: ['coder'], customPrompt: task }),
          });
          return { status: String(r.status), uuid: r.status === 202 ? ((await r.json()) as { uuid: string }).uuid : null, task };
        } catch (e) {
          return { status: (e as Error).message.slice(0, 60), uuid: null, task };
        }
      }),
    );
    const wallMs = Date.now() - t0;
    const rssGrowthMb = (process.memoryUsage().rss - rss0) / 1e6;
    const accepted = answers.filter((a) => a.uuid !== null);
    const refused: Record<string, number> = {};
    for (const a of answers) if (a.uuid === null) refused[a.status] = (refused[a.status] ?? 0) + 1;
    const reg = registryProblems(path.join(dir, 'hive/.swarm/sessions/index.json'));
    const inRegistry = new Set(accepted.filter((a) => reg.entries.get(a.uuid!)?.task.includes(a.task)).map((a) => a.uuid)).size;
    const r = await fetch(`${relay.url}/api/sessions`);
    const listedUuids = new Set(r.status === 200 ? ((await r.json()) as { sessions: { uuid: string }[] }).sessions.map((s) => s.uuid) : []);
    return {
      requested: n,
      accepted: accepted.length,
      refused,
      wallMs,
      inRegistry,
      listed: accepted.filter((a) => listedUuids.has(a.uuid!)).length,
      registryProblems: reg.problems,
      rssGrowthMb,
    };
  });
}
