/**
 * The relay against the REAL claude-flow 3.43.0 and 2.7.47 (hivescope/claude-flow:<version>, built by
 * `node scripts/claude-flow-images.mjs build`; rows say "not run" when an image is missing), one row set
 * per backend, each beside its floor measured in the same run:
 *  - spawn answer latency (POST /api/bots/initialize-swarm answered with a uuid) beside a bare
 *    `docker exec true` in the same container;
 *  - change to the browser's store: a worker added by exec (3.x: `hive-mind spawn -n 1` in a session's
 *    directory; 2.7: a new `hive-mind spawn`) until its agent is in the zustand store of the built app
 *    (served by the relay) in headless Chromium, beside the floor of reading the change at all (3.x: one
 *    `hive-mind status --format json` exec; 2.7: repeated status execs until the swarm is listed). The page
 *    stamps Date.now() in a store subscription the first time an id appears; the bench takes Date.now()
 *    for the start, both this machine's clock. A Node `ws` client of the relay's /wss on the same samples
 *    is in the row's note, so the browser's own share shows; the relay reads every AGENTS_MS (one status
 *    period);
 *  - processes and zombies left in the container (node as PID 1, which never reaps) after 1,000 relay
 *    execs, against a floor of zero.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { Browser, Page } from 'playwright-core';
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
import { clockOffset, launchBrowser, openApp } from './browser.js';

const VERSIONS = [
  { version: '3.43.0', id: 'cf3', v3: true },
  { version: '2.7.47', id: 'cf27', v3: false },
] as const;
/** The relay's exec-read period here (its default is 5 s; the rows judge against one period). */
const AGENTS_MS = 1000;
// Epoch ms of this machine's clock: what the page's Date.now() reads, so the page's stamps and ours subtract.
const now = () => Date.now();
const f0 = (x: number) => x.toFixed(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SPAWN = { topology: 'mesh', maxAgents: 3, strategy: 'adaptive', priority: 'medium', agentTypes: ['coder'], customPrompt: 'bench: build a REST API' } as const;

function notRun(id: string, note: string): BenchRow[] {
  const row = (suffix: string, what: string, goal: string): BenchRow => ({ id: `${id}.${suffix}`, what, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'not measured' }, ratio: null, goal, met: null, notes: note });
  return [row('spawn.p50', 'spawn answer latency p50', 'ratio <= 1.5'), row('change-to-browser.p50', 'worker added by exec -> its agent in the browser\'s store p50', `ours - floor <= ${AGENTS_MS} ms`), row('execs.leftover', 'processes + zombies left after 1,000 execs', '= 0')];
}

async function imagePresent(version: string): Promise<boolean> {
  return (await dockerCli(['image', 'inspect', `hivescope/claude-flow:${version}`])).code === 0;
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // One browser for both versions (each opens its own page); built and started only when a version runs.
  let launched: { browser: Browser | null; why: string } | null = null;
  try {
    for (const v of VERSIONS) {
      if (!ctx.docker) {
        rows.push(...notRun(v.id, 'not run: needs a Docker engine'));
        continue;
      }
      if (!(await imagePresent(v.version))) {
        rows.push(...notRun(v.id, `not run: image hivescope/claude-flow:${v.version} missing (node scripts/claude-flow-images.mjs build)`));
        continue;
      }
      launched ??= await launchBrowser(ctx);
      rows.push(...(await benchVersion(ctx, v, launched.browser, launched.why)));
    }
  } finally {
    await launched?.browser?.close().catch(() => undefined);
  }
  return rows;
}

/**
 * Installed in the page (the app with ?hooks=1): stamps Date.now() the first time each agent id and each
 * swarm id appears in the store, from a store subscription (it runs in the setState that adds them, before
 * React renders). The maps hold what the hive shows (a few dozen ids here).
 */
function installStoreProbe(): void {
  // Runs in the page; bench/ compiles without DOM types, so the page's globals are typed here.
  type State = { agents: ReadonlyMap<string, { swarmId: string | null }> };
  type Store = { getState(): State; subscribe(l: (s: State, prev: State) => void): () => void };
  const g = globalThis as unknown as { __hivescope: { store: Store }; __benchSeen?: { agents: Record<string, number>; swarms: Record<string, number> } };
  const seen = { agents: {} as Record<string, number>, swarms: {} as Record<string, number> };
  g.__benchSeen = seen;
  const scan = (s: State) => {
    const t = Date.now();
    for (const [id, a] of s.agents) {
      if (!(id in seen.agents)) seen.agents[id] = t;
      if (a.swarmId !== null && !(a.swarmId in seen.swarms)) seen.swarms[a.swarmId] = t;
    }
  };
  scan(g.__hivescope.store.getState());
  g.__hivescope.store.subscribe((s, prev) => {
    if (s.agents !== prev.agents) scan(s);
  });
}

/** The app from the relay, following, with the probe in its store (throws when the page does not come up). */
async function openStorePage(browser: Browser, relayUrl: string): Promise<Page> {
  const page = await openApp(browser, relayUrl, '&hooks=1');
  try {
    await page.waitForFunction(() => 'store' in ((globalThis as unknown as { __hivescope?: object }).__hivescope ?? {}), undefined, { timeout: 30_000 });
    await page.evaluate(installStoreProbe);
    return page;
  } catch (e) {
    await page.close().catch(() => undefined);
    throw e;
  }
}

/** The page's stamp for an agent id or swarm id, waiting up to `ms` for it; null when it never came. */
async function pageStamp(page: Page, kind: 'agents' | 'swarms', key: string, ms: number): Promise<number | null> {
  return page
    .waitForFunction(([k, id]) => (globalThis as unknown as { __benchSeen: Record<string, Record<string, number>> }).__benchSeen[k]![id] ?? false, [kind, key] as const, { timeout: ms, polling: 50 })
    .then(async (h) => (await h.jsonValue()) as number)
    .catch(() => null);
}

async function benchVersion(ctx: BenchContext, v: (typeof VERSIONS)[number], browser: Browser | null, noBrowser: string): Promise<BenchRow[]> {
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
    const config = loadConfig({ PORT: '0', HIVE_DRIVER: 'docker', HIVE_CONTAINER: name, MCP_PORT: String(lease.port), HIVE_STATE_DIR: stateDir, STATIC_DIR: path.join(ctx.root, 'build/client'), HIVE_EMBEDDED: '0', HIVE_DEMO: '0', SPAWN_RATE_PER_MIN: '100000', LOG_LEVEL: 'silent' });
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
    // 3. Change -> the browser's store, with a Node ws client on the same samples (after the exec count:
    // 2.7's samples start and end processes).
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
    let page: Page | null = null;
    let pageFailed = noBrowser;
    if (browser) {
      page = await openStorePage(browser, relay.url).catch((e: unknown) => {
        pageFailed = `the app page failed: ${String(e).slice(0, 200)}`;
        return null;
      });
    }
    if (page) {
      const p = page;
      stops.push(() => p.close());
      p.on('pageerror', (e) => ctx.log(`${v.id} page error: ${e.message}`));
    }
    // 2.7 spawns stay in the foreground (two node processes each): fewer samples, each ended after it.
    const samples = ctx.quick ? 2 : v.v3 ? 8 : 4;
    const inPage: number[] = [];
    const atWs: number[] = [];
    const afterWs: number[] = [];
    const floors: number[] = [];
    // 3.x only: the same page stamps from the spawn exec's start, and that exec's own duration.
    const fromExecStart: number[] = [];
    const spawnExec: number[] = [];
    let wsLost = 0;
    let pageLost = 0;
    let clock0: { offset: number; error: number } | null = null;
    if (v.v3) {
      const uuid = firstUuid!;
      await waitUntil(() => relay.control.sessions().sessions.some((s) => s.uuid === uuid && s.status === 'running'), 30_000, 100, 'session running');
      const dir = `${SESSIONS_ROOT}/${uuid}`;
      const env = { CLAUDE_FLOW_AUTO_UPDATE: 'false', CLAUDE_FLOW_CWD: dir };
      clock0 = page ? await clockOffset(page) : null;
      for (let i = 0; i < samples; i++) {
        await sleep(200 + Math.random() * AGENTS_MS);
        const tExec = now();
        const add = await driver.exec(['claude-flow', 'hive-mind', 'spawn', '-n', '1', '-t', 'tester', '--format', 'json'], { ...o, cwd: dir, env });
        const t0 = now();
        const id = /"agentId":\s*"([^"]+)"/.exec(add.stdout)?.[1];
        if (!id) throw new Error(`spawn printed no worker: ${add.stdout.slice(0, 200)}`);
        spawnExec.push(add.durationMs);
        floors.push((await driver.exec(['claude-flow', 'hive-mind', 'status', '--format', 'json'], { ...o, cwd: dir, env })).durationMs);
        const ok = await waitUntil(() => arrived.has(id), 15_000, 5, 'worker at the ws client').then(() => true, () => false);
        if (ok) atWs.push(arrived.get(id)! - t0);
        else wsLost++;
        if (!page) continue;
        const tPage = await pageStamp(page, 'agents', id, 15_000);
        if (tPage === null) {
          pageLost++;
          continue;
        }
        inPage.push(tPage - t0);
        fromExecStart.push(tPage - tExec);
        if (ok) afterWs.push(tPage - arrived.get(id)!);
      }
    } else {
      // 2.7: each sample is a new swarm spawned from outside the relay (it shows every swarm of the hive).
      await waitUntil(() => relay.control.sessions().sessions.some((s) => s.uuid === firstUuid && s.status === 'running' && s.swarmId !== null), 60_000, 100, 'session running').catch((e: unknown) => {
        ctx.log(`sessions: ${JSON.stringify(relay.control.sessions().sessions.map((s) => ({ uuid: s.uuid, status: s.status, swarmId: s.swarmId })))}`);
        throw e;
      });
      await sleep(2 * AGENTS_MS);
      clock0 = page ? await clockOffset(page) : null;
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
        // The new swarm's id comes from the ws client (the page is matched on it: its first agent in the store).
        const swarm = ok ? fresh()! : null;
        if (ok && tFloor !== null) {
          atWs.push(names.get(swarm!)! - t0);
          floors.push(tFloor - t0);
        } else wsLost++;
        if (page) {
          const tPage = swarm === null ? null : await pageStamp(page, 'swarms', swarm, 15_000);
          if (tPage === null) pageLost++;
          else {
            inPage.push(tPage - t0);
            afterWs.push(tPage - names.get(swarm!)!);
          }
        }
        const mine = (parsePsTable((await driver.exec([...PS_ARGV], o)).stdout) ?? []).filter((p) => p.args.includes(label) && !isZombie(p)).map((p) => String(p.pid));
        if (mine.length) await driver.exec(['kill', '-TERM', ...mine], o).catch(() => undefined);
      }
    }
    const clock1 = page ? await clockOffset(page) : null;
    const q = (xs: number[], p: number) => (xs.length ? f0(percentile(xs, p)) : 'n/a');
    ctx.log(`${v.id} change: page ${inPage.map(f0).join(' ')} | ws ${atWs.map(f0).join(' ')} | floor ${floors.map(f0).join(' ')}`);
    const wsNote = `Node ws client of /wss on the same samples: p50 ${q(atWs, 0.5)} ms, p95 ${q(atWs, 0.95)} ms, ${atWs.length} of ${samples}${wsLost ? ` (${wsLost} lost)` : ''}`;
    const start = v.v3
      ? "the bench's Date.now() when the `hive-mind spawn -n 1 --format json` exec returned (the worker is in claude-flow's store then, and the floor's status exec starts there)"
      : "the bench's Date.now() just before the detached `docker exec <container> claude-flow hive-mind spawn <label>` (the floor starts there too)";
    const measured =
      `measured: the page's Date.now() taken in a zustand store subscription the first time the ${v.v3 ? "worker's agent id" : "new swarm's id (its first agent)"} appears in window.__hivescope.store's agents, minus ${start}; ` +
      `same machine clock, page clock minus ours ${clock0 ? `${f0(clock0.offset)} ± ${clock0.error.toFixed(1)}` : 'n/a'} ms before / ${clock1 ? `${f0(clock1.offset)} ± ${clock1.error.toFixed(1)}` : 'n/a'} ms after (not subtracted); ` +
      `the built app served by this relay in headless Chromium (/?follow=1&physics=cpu&hooks=1, SwiftShader rendering)`;
    const relayNote = `the relay reads every ${AGENTS_MS} ms${v.v3 ? ' (through the session MCP once connected)' : ''}`;
    const change = marginRow(
      {
        id: `${v.id}.change-to-browser.p50`,
        what: `claude-flow ${v.version}: worker added by exec -> its agent in the browser's store (the built app in headless Chromium), p50`,
        ours: { value: page && inPage.length ? percentile(inPage, 0.5) : null, unit: 'ms' },
        floor: { value: floors.length ? percentile(floors, 0.5) : null, unit: 'ms', name: v.v3 ? 'one hive-mind status --format json exec' : 'status execs until 2.7 lists the swarm' },
        notes: page
          ? `${inPage.length} of ${samples} samples in the page${pageLost ? `, ${pageLost} never arrived` : ''}; p95 ${q(inPage, 0.95)} ms; ` +
            `${v.v3 ? `from the spawn exec's start instead: p50 ${q(fromExecStart, 0.5)} ms (the spawn exec itself p50 ${q(spawnExec, 0.5)} ms); ` : ''}` +
            `the page after the ws client (negative: the page first; that client shares this process's event loop with the relay and Playwright): p50 ${q(afterWs, 0.5)} ms, max ${afterWs.length ? f0(Math.max(...afterWs)) : 'n/a'} ms; ${wsNote}; ${measured}; ${relayNote}`
          : `not run in the browser: ${pageFailed}; ${wsNote}; ${relayNote}`,
      },
      AGENTS_MS,
      'one status period',
    );
    // Without a page there is no browser figure to judge (the ws figure is in the note).
    rows.push(page ? change : { ...change, met: null });

    ctx.log(`${v.id}: ${rows.map((x) => `${x.id}=${x.ours.value === null ? 'n/a' : x.ours.value.toFixed(1)}`).join(' ')}`);
  } finally {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
    lease.release();
  }
  return rows;
}
