/**
 * The relay against the REAL claude-flow 3.43.0 and 2.7.47 (hivescope/claude-flow:<version>, built by
 * `node scripts/claude-flow-images.mjs build`; rows say "not run" when an image is missing), one row set
 * per backend, each beside its floor measured in the same run:
 *  - spawn answer latency (POST /api/bots/initialize-swarm answered with a uuid) beside a bare
 *    `docker exec true` in the same container;
 *  - change to a WebSocket client's graph: a worker added by exec (3.x: `hive-mind spawn -n 1` in a
 *    session's directory; 2.7: a new `hive-mind spawn`) until a Node `ws` client of the relay's /wss has it,
 *    beside the floor of reading the change at all (3.x: one `hive-mind status --format json` exec; 2.7:
 *    repeated status execs until the swarm is listed). A Node ws client stands in for the browser (the
 *    browser's own share is e2e-latency's row); the relay reads every AGENTS_MS (one status period);
 *  - processes and zombies left in the container (node as PID 1, which never reaps) after 1,000 relay
 *    execs, against a floor of zero.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../shared/protocol/messages.js';
import { loadConfig } from '../relay/config.js';
import { startRelay, type RelayHandle } from '../relay/app.js';
import { DockerDriver } from '../relay/control/drivers/docker.js';
import { PS_ARGV, isZombie, parsePsTable } from '../relay/control/backends/processes.js';
import { SESSIONS_ROOT } from '../relay/control/backends/claudeFlow3.js';
import { dockerCli, dockerExec, uniqueName } from '../testkit/docker.js';
import { portAccepts, reservePort } from '../testkit/ports.js';
import { waitUntil } from '../testkit/wait.js';
import { marginRow, percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';

const VERSIONS = [
  { version: '3.43.0', id: 'cf3', v3: true },
  { version: '2.7.47', id: 'cf27', v3: false },
] as const;
/** The relay's exec-read period here (its default is 5 s; the rows judge against one period). */
const AGENTS_MS = 1000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SPAWN = { topology: 'mesh', maxAgents: 3, strategy: 'adaptive', priority: 'medium', agentTypes: ['coder'], customPrompt: 'bench: build a REST API' } as const;

function notRun(id: string, note: string): BenchRow[] {
  const row = (suffix: string, what: string, goal: string): BenchRow => ({ id: `${id}.${suffix}`, what, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'not measured' }, ratio: null, goal, met: null, notes: note });
  return [row('spawn.p50', 'spawn answer latency p50', 'ratio <= 1.5'), row('change-to-ws.p50', 'worker added by exec -> WebSocket client p50', `ours - floor <= ${AGENTS_MS} ms`), row('execs.leftover', 'processes + zombies left after 1,000 execs', '= 0')];
}

async function imagePresent(version: string): Promise<boolean> {
  return (await dockerCli(['image', 'inspect', `hivescope/claude-flow:${version}`])).code === 0;
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const v of VERSIONS) {
    if (!ctx.docker) {
      rows.push(...notRun(v.id, 'not run: needs a Docker engine'));
      continue;
    }
    if (!(await imagePresent(v.version))) {
      rows.push(...notRun(v.id, `not run: image hivescope/claude-flow:${v.version} missing (node scripts/claude-flow-images.mjs build)`));
      continue;
    }
    rows.push(...(await benchVersion(ctx, v)));
  }
  return rows;
}

async function benchVersion(ctx: BenchContext, v: (typeof VERSIONS)[number]): Promise<BenchRow[]> {
  const name = uniqueName(`hivescope-bench-${v.id}`);
  const lease = await reservePort();
  const stops: (() => Promise<unknown> | void)[] = [];
  const rows: BenchRow[] = [];
  try {
    const r = await dockerCli(['run', '-d', '--name', name, '--network', 'host', '-e', `MCP_TCP_PORT=${lease.port}`, '-e', 'MCP_TCP_HOST=127.0.0.1', '-e', 'CLAUDE_STANDIN_STAY=1', '-e', 'CLAUDE_STANDIN_SECONDS=1', `hivescope/claude-flow:${v.version}`]);
    if (r.code !== 0) throw new Error(`docker run: ${r.stderr}`);
    stops.push(() => dockerCli(['rm', '-f', name]));
    await waitUntil(() => portAccepts(lease.port), 60_000, 100, `the front of ${name}`);
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `hivescope-bench-${v.id}-`));
    stops.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));
    const config = loadConfig({ PORT: '0', HIVE_DRIVER: 'docker', HIVE_CONTAINER: name, MCP_PORT: String(lease.port), HIVE_STATE_DIR: stateDir, HIVE_EMBEDDED: '0', HIVE_DEMO: '0', SPAWN_RATE_PER_MIN: '100000', LOG_LEVEL: 'silent' });
    const relay: RelayHandle = await startRelay(config, pino({ level: 'silent' }), { control: { timing: { agentsMs: AGENTS_MS, listTtlMs: 0 } } });
    stops.push(() => relay.close());
    await waitUntil(async () => relay.control.health().backendInfo?.version === v.version, 60_000, 100, `${v.version} detected`);
    const driver = new DockerDriver(name);
    stops.push(() => driver.close());
    const o = { timeoutMs: 60_000, maxOutputBytes: 4 << 20 };
    const api = async (p: string, body: unknown) => {
      const res = await fetch(relay.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { uuid?: string } };
    };

    // 1. Spawn answer latency beside `docker exec true`, interleaved so both see the same load.
    const reps = ctx.quick ? 3 : v.v3 ? 6 : 4;
    const spawnXs: number[] = [];
    const floorXs: number[] = [];
    let firstUuid: string | null = null;
    for (let i = 0; i < 3; i++) await driver.exec(['true'], o);
    for (let i = 0; i < reps; i++) {
      floorXs.push((await driver.exec(['true'], o)).durationMs);
      const t = performance.now();
      const res = await api('/api/bots/initialize-swarm', SPAWN);
      spawnXs.push(performance.now() - t);
      if (res.status !== 202) throw new Error(`spawn answered ${res.status}`);
      firstUuid ??= res.body.uuid ?? null;
      floorXs.push((await driver.exec(['true'], o)).durationMs);
    }
    rows.push(
      ratioRow(
        { id: `${v.id}.spawn.p50`, what: `claude-flow ${v.version}: spawn answer latency p50 (POST initialize-swarm -> uuid)`, ours: { value: percentile(spawnXs, 0.5), unit: 'ms' }, floor: { value: percentile(floorXs, 0.5), unit: 'ms', name: 'docker exec true' }, goal: 'ratio <= 1.5', notes: `p95 ${percentile(spawnXs, 0.95).toFixed(0)} ms vs ${percentile(floorXs, 0.95).toFixed(0)} ms; the session starts detached afterwards` },
        'lower-is-better',
        1.5,
      ),
    );
    // Only a couple of sessions keep running for the rest (the others would load the container).
    const keep = new Set([firstUuid]);
    for (const s of relay.control.sessions().sessions) if (!keep.has(s.uuid)) await relay.control.stopSession(s.uuid).catch((e: unknown) => ctx.log(`${v.id}: stop ${s.uuid} failed: ${String(e)}`));

    // 2. Processes and zombies after 1,000 execs by the relay's Docker driver, the relay running beside (node as PID 1 reaps nothing).
    const psTable = async () => parsePsTable((await driver.exec([...PS_ARGV], o)).stdout) ?? [];
    const before = await psTable();
    const baseline = new Set(before.map((p) => p.pid));
    // Zombies from before the execs (the sessions stopped above) are reported, not blamed on the execs.
    const earlier = before.filter(isZombie);
    const execs = ctx.quick ? 200 : 1000;
    const t = performance.now();
    let next = 0;
    let failed = 0;
    // The driver the relay execs with (its own pipeline's breaker would stop a storm like this one).
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < execs) {
          next++;
          await driver.exec(['true'], { timeoutMs: 30_000, maxOutputBytes: 1 << 16 }).catch(() => failed++);
        }
      }),
    );
    const execMs = performance.now() - t;
    // Left behind means still there a while later: the relay's own reads run all the time (2.7's status
    // takes ~1 s of every 1 s period), so only what two listings 3 s apart both show counts.
    await sleep(500);
    const first = await psTable();
    await sleep(3000);
    const again = new Set(first.map((p) => `${p.pid} ${p.args}`));
    const after = (await psTable()).filter((p) => !p.args.startsWith('ps -eo') && again.has(`${p.pid} ${p.args}`));
    const zombies = after.filter((p) => isZombie(p) && !baseline.has(p.pid));
    // Anything new since before the execs, live or zombie, counts (a leak of the execs or of the relay).
    // The relay's own per-session MCP servers (3.x) are meant to run: one per live session is no leftover.
    const liveSessions = relay.control.sessions().sessions.filter((x) => x.status === 'running').length;
    const isServer = (p: { ppid: number; args: string }) => p.ppid === 0 && p.args.endsWith('claude-flow mcp start');
    const servers = after.filter((p) => !isZombie(p) && isServer(p));
    const extraServers = Math.max(0, servers.length - (v.v3 ? liveSessions : 0));
    // `runc init` is an exec being started at that moment (the relay's own timers), not a leftover.
    const extra = [...after.filter((p) => !isZombie(p) && !baseline.has(p.pid) && !isServer(p) && !p.args.includes('runc init')), ...servers.slice(0, extraServers)];
    if (extra.length || zombies.length) ctx.log(`${v.id} left: ${JSON.stringify([...zombies, ...extra].map((p) => `${p.pid} ${p.ppid} ${p.stat} ${p.args.slice(0, 80)}`))}`);
    rows.push({
      id: `${v.id}.execs.leftover`,
      what: `claude-flow ${v.version}: processes + zombies left in the container after ${execs} relay execs`,
      ours: { value: zombies.length + extra.length, unit: 'processes' },
      floor: { value: 0, unit: 'processes', name: 'none left (floor)' },
      ratio: null,
      goal: '= 0',
      met: zombies.length + extra.length === 0,
      notes: `${zombies.length} zombies, ${extra.length} new live processes${earlier.length ? `; ${earlier.length} zombie(s) already there before the execs, left by the stops of step 1 (${earlier.map((p) => `${p.pid} ppid ${p.ppid} ${p.args.slice(0, 30)}`).join(', ')})` : ''} (${servers.length} session MCP servers for ${liveSessions} running sessions not counted up to one each); ${execs} execs (${failed} failed) in ${(execMs / 1000).toFixed(1)} s, 4 at a time`,
    });
    // 3. Change -> a WebSocket client's graph (after the exec count: 2.7's samples start and end processes).
    const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/wss`, { perMessageDeflate: false });
    stops.push(() => ws.terminate());
    const arrived = new Map<string, number>();
    const names = new Map<string, number>();
    ws.on('message', (d, bin) => {
      if (bin) return;
      const msg = JSON.parse(d.toString()) as ServerMessage;
      const list = msg.type === 'delta' ? (msg.upserts.agents ?? []) : msg.type === 'snapshot' ? msg.graph.agents : [];
      for (const a of list) {
        if (!arrived.has(a.id)) arrived.set(a.id, now());
        if (a.swarmId && !names.has(a.swarmId)) names.set(a.swarmId, now());
      }
    });
    await new Promise((res, rej) => ws.once('open', res).once('error', rej));
    // 2.7 spawns stay in the foreground (two node processes each): fewer samples, each ended after it.
    const samples = ctx.quick ? 2 : v.v3 ? 8 : 4;
    const ours: number[] = [];
    const floors: number[] = [];
    let lost = 0;
    if (v.v3) {
      const uuid = firstUuid!;
      await waitUntil(() => relay.control.sessions().sessions.some((s) => s.uuid === uuid && s.status === 'running'), 30_000, 100, 'session running');
      const dir = `${SESSIONS_ROOT}/${uuid}`;
      const env = { CLAUDE_FLOW_AUTO_UPDATE: 'false', CLAUDE_FLOW_CWD: dir };
      for (let i = 0; i < samples; i++) {
        await sleep(200 + Math.random() * AGENTS_MS);
        const add = await driver.exec(['claude-flow', 'hive-mind', 'spawn', '-n', '1', '-t', 'tester', '--format', 'json'], { ...o, cwd: dir, env });
        const t0 = now();
        const id = /"agentId":\s*"([^"]+)"/.exec(add.stdout)?.[1];
        if (!id) throw new Error(`spawn printed no worker: ${add.stdout.slice(0, 200)}`);
        floors.push((await driver.exec(['claude-flow', 'hive-mind', 'status', '--format', 'json'], { ...o, cwd: dir, env })).durationMs);
        const ok = await waitUntil(() => arrived.has(id), 15_000, 5, 'worker at the ws client').then(() => true, () => false);
        if (ok) ours.push(arrived.get(id)! - t0);
        else lost++;
      }
    } else {
      // 2.7: each sample is a new swarm spawned from outside the relay (it shows every swarm of the hive).
      await waitUntil(() => relay.control.sessions().sessions.some((s) => s.uuid === firstUuid && s.status === 'running' && s.swarmId !== null), 60_000, 100, 'session running').catch((e: unknown) => {
        ctx.log(`sessions: ${JSON.stringify(relay.control.sessions().sessions.map((s) => ({ uuid: s.uuid, status: s.status, swarmId: s.swarmId })))}`);
        throw e;
      });
      await sleep(2 * AGENTS_MS);
      for (let i = 0; i < samples; i++) {
        const label = `bench-${i}-${process.pid}`;
        await sleep(200 + Math.random() * AGENTS_MS);
        const known = new Set(names.keys());
        const t0 = now();
        await dockerExec(name, ['claude-flow', 'hive-mind', 'spawn', label], { detach: true });
        // Floor: status execs back to back until 2.7 itself lists the swarm (by its objective).
        let tFloor: number | null = null;
        for (let k = 0; k < 40 && tFloor === null; k++) if ((await driver.exec(['claude-flow', 'hive-mind', 'status'], o)).stdout.includes(label)) tFloor = now();
        const fresh = () => [...names.keys()].find((s) => !known.has(s));
        const ok = await waitUntil(() => fresh() !== undefined, 30_000, 5, 'new swarm at the ws client').then(() => true, () => false);
        if (ok && tFloor !== null) {
          ours.push(names.get(fresh()!)! - t0);
          floors.push(tFloor - t0);
        } else lost++;
        const mine = (parsePsTable((await driver.exec([...PS_ARGV], o)).stdout) ?? []).filter((p) => p.args.includes(label) && !isZombie(p)).map((p) => String(p.pid));
        if (mine.length) await driver.exec(['kill', '-TERM', ...mine], o).catch(() => undefined);
      }
    }
    rows.push(
      marginRow(
        {
          id: `${v.id}.change-to-ws.p50`,
          what: `claude-flow ${v.version}: worker added by exec -> a Node ws client of /wss has it, p50`,
          ours: { value: ours.length ? percentile(ours, 0.5) : null, unit: 'ms' },
          floor: { value: floors.length ? percentile(floors, 0.5) : null, unit: 'ms', name: v.v3 ? 'one hive-mind status --format json exec' : 'status execs until 2.7 lists the swarm' },
          notes: `${ours.length} samples, ${lost} lost; p95 ${ours.length ? percentile(ours, 0.95).toFixed(0) : 'n/a'} ms; the relay reads every ${AGENTS_MS} ms${v.v3 ? ' (through the session MCP once connected)' : ''}; a Node ws client stands in for the browser`,
        },
        AGENTS_MS,
        'one status period',
      ),
    );

    ctx.log(`${v.id}: ${rows.map((x) => `${x.id}=${x.ours.value === null ? 'n/a' : x.ours.value.toFixed(1)}`).join(' ')}`);
  } finally {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
    lease.release();
  }
  return rows;
}
