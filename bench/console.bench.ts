/**
 * The session console's live log (issue 13), against the kit's image in a real container, a relay child
 * process (docker driver, `node dist/relay/main.js`) and clients in this process:
 * - a line written in the container -> shown in the console's terminal in a real Chromium page (the built
 *   app served by that relay, the console opened from the Sessions tab), and -> a Node `ws` client
 *   subscribed with `log-subscribe` has it, both p95 on the same lines, beside the same path's bare
 *   `docker exec <container> cat <file>` (the docker CLI, start to exit), measured in the same run. The
 *   writer is a node process in the container that stamps each line with its epoch milliseconds just
 *   before appending it; the container and the page share this machine's clock. This part runs against
 *   a relay whose graph is the kit engine's two agents, so the page's 3D scene costs little.
 * - a session printing 10 MB/s while a stalled log subscriber (a raw socket that stops reading, the
 *   stalled-browser row's method) and normal clients watch: the relay's RSS and V8 heap (from its own
 *   /metrics) against the same relay with the same clients before the noise, and the normal clients'
 *   V2 position frame rate (2k agents at 20 Hz from a leader) against their rate before the noise.
 */
import net from 'node:net';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import WebSocket from 'ws';
import type { Browser, Page } from 'playwright-core';
import { encodeNodeFrame, type NodeState } from '../shared/protocol/binaryV2.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import { InitializeSwarmResponseSchema, routes, routePath } from '../shared/api.js';
import { LogChunkSchema, type LogChunk } from '../shared/model/console.js';
import { connectClient, type TestClient } from '../relay/stream/testing/harness.js';
import { startReplayServer } from '../relay/telemetry/testing/replayServer.js';
import { KIT_ENGINE, type Recording } from '../relay/telemetry/testing/recordings.js';
import { validSpawn } from '../relay/control/testing/harness.js';
import { LOG_POLL_MS, LOG_WATCHED_POLL_MS } from '../relay/stream/log/feed.js';
import { dockerAvailable, removeContainer, startKitContainer } from '../testkit/kitContainer.js';
import { dockerCli, dockerExec, uniqueName } from '../testkit/docker.js';
import { startRelayProcess } from '../testkit/relayProcess.js';
import { makeTempDir } from '../testkit/tempDirs.js';
import { LogClient } from '../testkit/logClient.js';
import { waitUntil, pollFor } from '../testkit/wait.js';
import { percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';
import { clockOffset, launchBrowser, openApp } from './browser.js';

const AGENTS = 2000;
const HZ = 20;
const NOISE_BYTES_PER_SEC = 10 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const f1 = (x: number) => x.toFixed(1);

const BARE_CAT = 'bare `docker exec <container> cat <file>` (docker CLI, start to exit), p95';
const ROWS = {
  browser: ['console.log.browser.p95', 'log line written in the container -> shown in the session console\'s terminal (xterm.js) in headless Chromium (p95)', 'ms', BARE_CAT, 'ratio <= 2'],
  latency: ['console.log.latency.p95', 'log line written in the container -> a Node ws client subscribed with log-subscribe has it (p95; the same lines as the browser row)', 'ms', BARE_CAT, 'ratio <= 2'],
  fps: ['console.noisy-log.other-fps', 'a session printing 10 MB/s, a stalled log subscriber and a reading one: V2 position frames per second at the normal clients (2k agents, 20 Hz)', 'frames/s', 'the same clients before the noise (same run)', 'ratio >= 0.9'],
  rss: ['console.noisy-log.rss', 'a session printing 10 MB/s, a stalled log subscriber: relay RSS, peak while it prints', 'MB', 'the same relay and clients before the noise, peak', 'ratio <= 1.5'],
  heap: ['console.noisy-log.heap', 'a session printing 10 MB/s, a stalled log subscriber: relay V8 heap in use, peak while it prints', 'MB', 'the same relay and clients before the noise, peak', 'ratio <= 1.5'],
} as const;
type RowKey = keyof typeof ROWS;

function notRun(key: RowKey, why: string): BenchRow {
  const [id, what, unit, floor, goal] = ROWS[key];
  return { id, what, ours: { value: null, unit }, floor: { value: null, unit, name: floor }, ratio: null, goal, met: null, notes: `not run: ${why}` };
}

function row(key: RowKey, ours: number, floor: number, direction: 'lower-is-better' | 'higher-is-better', limit: number, notes: string): BenchRow {
  const [id, what, unit, floorName, goal] = ROWS[key];
  return ratioRow({ id, what, ours: { value: Number(f1(ours)), unit }, floor: { value: Number(f1(floor)), unit, name: floorName }, goal, notes }, direction, limit);
}

/** The relay's own figures from its GET /metrics (the relay is a child process: nothing of ours counts). */
async function scrape(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(hivescope_[a-z_]+) (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** A client frame (client frames are masked, RFC 6455 5.3) carrying one text message. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const body = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

/** A browser that subscribes to a log and then never reads again (the kernel's window stays small). */
async function stalledSubscriber(port: number, uuid: string): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.once('connect', () =>
      s.write(
        `GET /wss?follow=1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      s.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.slice(0, 40)}`));
    };
    s.on('data', onData);
  });
  s.write(maskedText(JSON.stringify({ type: 'log-subscribe', uuid, from: null, logId: null })));
  return s;
}

/** A viewer that counts position frames (and log bytes when subscribed) without keeping them. */
class Viewer {
  frames = 0;
  logBytes = 0;
  readonly ws: WebSocket;
  constructor(url: string) {
    this.ws = new WebSocket(`${url}?follow=1`, { perMessageDeflate: false });
    this.ws.on('message', (d, bin) => {
      if (bin) this.frames++;
      else if ((d as Buffer).subarray(0, 16).toString().startsWith('{"type":"log",')) this.logBytes += (d as Buffer).length;
    });
    this.ws.on('error', () => undefined);
  }
  opened(): Promise<void> {
    return new Promise((r, j) => this.ws.once('open', () => r()).once('error', j));
  }
}

/** Runs a node program in the container (argv only); resolves when it exits. */
function inContainer(name: string, program: string, ...args: string[]) {
  return dockerExec(name, ['node', '-e', program, ...args]);
}

// Appends `count` stamped lines at random gaps (250-500 ms, spread over the poll periods).
const MARKER_WRITER = `
const fs = require('fs');
const [file, count] = process.argv.slice(1);
let i = 0;
const next = () => {
  if (i >= Number(count)) return;
  const t = performance.timeOrigin + performance.now();
  fs.appendFileSync(file, 'bench-mark ' + (i++) + ' ' + t.toFixed(3) + '\\n');
  setTimeout(next, 250 + Math.random() * 250);
};
setTimeout(next, 100);
`;

// Appends printable 100-byte lines at bytesPerSec for seconds, in 50 ms steps, keeping to the schedule.
const NOISE_WRITER = `
const fs = require('fs');
const [file, rate, seconds] = process.argv.slice(1).map((x, i) => (i ? Number(x) : x));
const line = (n) => ('noisy ' + n + ' ').padEnd(99, 'abcdefghijklmnopqrstuvwxyz0123456789') + '\\n';
const fd = fs.openSync(file, 'a');
const t0 = Date.now();
let written = 0, n = 0;
const step = () => {
  const el = (Date.now() - t0) / 1000;
  if (el >= seconds) { fs.closeSync(fd); console.log(JSON.stringify({ written, seconds: el })); return; }
  const due = Math.floor(el * rate) - written;
  if (due > 0) {
    const lines = [];
    for (let b = 0; b < due; b += 100) lines.push(line(n++));
    const buf = Buffer.from(lines.join(''));
    fs.writeSync(fd, buf);
    written += buf.length;
  }
  setTimeout(step, 50);
};
step();
`;

/**
 * Installed in the page: stamps (Date.now(), epoch ms) when each marker line first enters the console's
 * terminal rows, from a MutationObserver on xterm's DOM renderer (the rows change inside its animation
 * frame callback, so that frame paints them).
 */
function installShownProbe(): void {
  // Runs in the page; bench/ compiles without DOM types, so the page's globals are typed here.
  type El = { textContent: string | null; querySelector(sel: string): El | null };
  const g = globalThis as unknown as { document: El; MutationObserver: new (cb: () => void) => { observe(el: El, o: object): void }; __benchShown?: Record<string, number> };
  const host = g.document.querySelector('[data-testid="log-terminal"]');
  if (!host) throw new Error('no log terminal on the page');
  const shown: Record<string, number> = {};
  g.__benchShown = shown;
  const scan = () => {
    const t = Date.now();
    const text = host.querySelector('.xterm-rows')?.textContent ?? '';
    for (const m of text.matchAll(/bench-mark (\d+) /g)) if (!(m[1]! in shown)) shown[m[1]!] = t;
  };
  new g.MutationObserver(scan).observe(host, { childList: true, subtree: true, characterData: true });
}

/** The built app, its console opened on the session from the Sessions tab as a user does, following. */
async function openConsole(browser: Browser, relayUrl: string, uuid: string): Promise<Page> {
  const page = await openApp(browser, relayUrl);
  await page.getByTestId('tab-sessions').click();
  await page.locator(`li[data-session="${uuid}"]`).getByTestId('open-console').click({ timeout: 30_000 });
  await page.locator('[data-testid="console"] .console-log[data-log-state="following"]').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => Number((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('[data-testid="log-terminal"]')?.getAttribute('data-next') || -1) > 0, undefined, { timeout: 30_000 });
  await page.evaluate(installShownProbe);
  return page;
}

async function latency(ctx: BenchContext, name: string, relayUrl: string, uuid: string, logPath: string, browser: Browser | null, noBrowser: string): Promise<BenchRow[]> {
  const samples = ctx.quick ? 12 : 40;
  const c = await LogClient.connect(relayUrl);
  let page: Page | null = null;
  let pageFailed = noBrowser;
  try {
    if (browser) {
      page = await openConsole(browser, relayUrl, uuid).catch((e: unknown) => {
        pageFailed = `the console page failed: ${String(e).slice(0, 200)}`;
        return null;
      });
    }
    c.subscribe(uuid, null);
    await waitUntil(() => c.statuses.some((s) => s.state === 'following') && c.lastChunk(uuid) !== null, 20_000, 20, 'following the log');
    const clock0 = page ? await clockOffset(page) : null;
    const m0 = await scrape(relayUrl);
    const t0 = Date.now();
    const r = await inContainer(name, MARKER_WRITER, logPath, String(samples));
    if (r.code !== 0) throw new Error(`marker writer: ${r.stderr.slice(0, 200)}`);
    await waitUntil(() => c.textOf(uuid).includes(`bench-mark ${samples - 1} `), 20_000, 20, 'the last marker');
    const m1 = await scrape(relayUrl);
    const seconds = (Date.now() - t0) / 1000;
    // Each marker line's arrival: the chunk that completed it (chunks are in order; a line may span two).
    const written = new Map<number, number>();
    const atClient = new Map<number, number>();
    let partial = '';
    for (const m of c.logs) {
      partial += m.chunk.text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const x = /^bench-mark (\d+) (\d+\.\d+)$/.exec(l);
        if (!x) continue;
        written.set(Number(x[1]), Number(x[2]));
        atClient.set(Number(x[1]), performance.timeOrigin + m.at);
      }
    }
    const lat = [...atClient].map(([i, at]) => at - written.get(i)!);
    let shown: Record<string, number> = {};
    if (page) {
      await page
        .waitForFunction((n) => String(n) in ((globalThis as unknown as { __benchShown: Record<string, number> }).__benchShown ?? {}), samples - 1, { timeout: 20_000 })
        .catch(() => ctx.log('console browser: the last marker was not shown within 20 s'));
      shown = await page.evaluate(() => (globalThis as unknown as { __benchShown: Record<string, number> }).__benchShown);
    }
    const clock1 = page ? await clockOffset(page) : null;
    // The floor: the bare docker CLI reading the same file, one after another.
    const bare: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = now();
      const b = await dockerCli(['exec', name, 'cat', logPath]);
      if (b.code !== 0) throw new Error(`docker exec cat: ${b.stderr.slice(0, 200)}`);
      bare.push(now() - t);
    }
    const floor = percentile(bare, 0.95);
    const d = (k: string) => (m1[k] ?? 0) - (m0[k] ?? 0);
    const reads = d('hivescope_log_reads_total');
    const watched = m1.hivescope_log_watched ?? 0;
    const how =
      `the relay ${watched > 0 ? `watched the log (a node fs.watch of its directory in the container, over one long-lived exec; a change makes the tail read at once, one docker exec; polls every ${LOG_WATCHED_POLL_MS} ms only as a safety net)` : `did NOT watch the log (no watcher running), so it polled every ${LOG_POLL_MS} ms`}: ` +
      `${reads} reads in ${seconds.toFixed(1)} s (${(reads / seconds).toFixed(1)}/s; polling every ${LOG_POLL_MS} ms is ${(1000 / LOG_POLL_MS).toFixed(1)}/s), ${d('hivescope_log_wakeups_total')} wake-ups; ` +
      `lines written by a node process in the container at 250-500 ms gaps, stamped with its epoch ms (same kernel clock); relay as a child process (docker driver, kit image), graph of 2 agents`;
    ctx.log(`console latency ws   ${lat.map((x) => x.toFixed(0)).join(' ')}`);
    ctx.log(`console latency bare ${bare.map((x) => x.toFixed(0)).join(' ')}`);
    const rows: BenchRow[] = [];
    if (page && clock0 && clock1) {
      const inPage = [...written].filter(([i]) => String(i) in shown).map(([i, w]) => shown[String(i)]! - w);
      const afterWs = [...written].filter(([i]) => String(i) in shown && atClient.has(i)).map(([i]) => shown[String(i)]! - atClient.get(i)!);
      const lost = samples - inPage.length;
      ctx.log(`console latency page ${inPage.map((x) => x.toFixed(0)).join(' ')}`);
      rows.push(
        inPage.length === 0
          ? notRun('browser', 'no marker was shown in the page')
          : row(
              'browser',
              percentile(inPage, 0.95),
              floor,
              'lower-is-better',
              2,
              `p50 ${f1(percentile(inPage, 0.5))} ms (bare cat p50 ${f1(percentile(bare, 0.5))} ms), n=${inPage.length} of ${samples}${lost ? `, ${lost} never shown` : ''}; ` +
                `the page after the Node ws client: p50 ${f1(percentile(afterWs, 0.5))} ms, max ${f1(Math.max(...afterWs))} ms; ` +
                `shown = the line entered xterm.js's DOM rows in the console opened from the Sessions tab (built app, headless Chromium, /?follow=1&physics=cpu), stamped with the page's Date.now() by a MutationObserver (the rows change in xterm's animation-frame render, painted in that frame); ` +
                `page clock minus ours ${f1(clock0.offset)} ± ${f1(clock0.error)} ms before / ${f1(clock1.offset)} ± ${f1(clock1.error)} ms after (not subtracted: one machine clock); ${how}`,
            ),
      );
    } else rows.push(notRun('browser', pageFailed));
    rows.push(
      row(
        'latency',
        percentile(lat, 0.95),
        floor,
        'lower-is-better',
        2,
        `p50 ${f1(percentile(lat, 0.5))} ms (bare cat p50 ${f1(percentile(bare, 0.5))} ms), n=${lat.length} of ${samples}${c.discontinuities.length ? `, ${c.discontinuities.length} discontinuities` : ''}; ${how}`,
      ),
    );
    return rows;
  } finally {
    await page?.close().catch(() => undefined);
    await c.close();
  }
}

function nodeFrame(ids: number[], k: number): Buffer {
  const nodes: NodeState[] = ids.map((id, i) => ({ id, type: 'agent', x: k, y: i, z: 0, vx: 1, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 }));
  return Buffer.from(encodeNodeFrame(nodes));
}

async function noisy(ctx: BenchContext, name: string, relayUrl: string, port: number, uuid: string, logPath: string): Promise<BenchRow[]> {
  const windowMs = ctx.quick ? 2000 : 4000;
  const noiseSeconds = ctx.quick ? 8 : 16;
  const wsUrl = `ws://127.0.0.1:${port}/wss`;
  const stops: (() => unknown)[] = [];
  try {
    // The leader (a browser running the layout) uploads 2k agents' positions at 20 Hz.
    let leader: TestClient | null = null;
    await waitUntil(async () => {
      const c = await connectClient(wsUrl);
      if (c.of('snapshot')[0]!.graph.agents.length >= AGENTS) return ((leader = c), true);
      c.ws.terminate();
      return false;
    }, 30_000, 200, `${AGENTS} agents in the relay's graph`);
    const lead = leader as unknown as TestClient;
    stops.push(() => lead.ws.terminate());
    lead.hello({ physicsScore: 1000 });
    await lead.waitFor((x) => x.role() === 'leader', 'leader elected');
    const ids = lead.of('snapshot')[0]!.graph.agents.map((a) => a.nodeId);
    let k = 0;
    const frameBytes = nodeFrame(ids, 0).length;
    const upload = setInterval(() => lead.ws.send(nodeFrame(ids, k++)), 1000 / HZ);
    stops.push(() => clearInterval(upload));
    // Drop what the leader keeps (deltas) now and then: this process is not what is measured, but keep it small.
    const trim = setInterval(() => lead.msgs.splice(0, lead.msgs.length - 10), 1000);
    stops.push(() => clearInterval(trim));

    // Normal clients: two watch the graph, one also reads the noisy log as fast as the relay lets it.
    const viewers = [new Viewer(wsUrl), new Viewer(wsUrl), new Viewer(wsUrl)];
    for (const v of viewers) stops.push(() => v.ws.terminate());
    await Promise.all(viewers.map((v) => v.opened()));
    for (const v of viewers) v.ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: 1, visible: true, followOnly: false, resumeFrom: null }));
    viewers[2]!.ws.send(JSON.stringify({ type: 'log-subscribe', uuid, from: null, logId: null }));
    const stalled = await stalledSubscriber(port, uuid);
    stops.push(() => stalled.destroy());
    await waitUntil(() => viewers.every((v) => v.frames > 5), 20_000, 20, 'frames flowing to the viewers');

    const frames = () => viewers.reduce((n, v) => n + v.frames, 0);
    /** Frames per second per viewer over `ms`, and the relay's peak RSS / heap sampled every 250 ms meanwhile. */
    const windowed = async (ms: number) => {
      const n0 = frames();
      const t0 = Date.now();
      let rss = 0;
      let heap = 0;
      while (Date.now() - t0 < ms) {
        const m = await scrape(relayUrl);
        rss = Math.max(rss, m.hivescope_relay_resident_memory_bytes ?? 0);
        heap = Math.max(heap, m.hivescope_relay_heap_used_bytes ?? 0);
        await sleep(250);
      }
      return { fps: ((frames() - n0) * 1000) / (Date.now() - t0) / viewers.length, rssMb: rss / 1e6, heapMb: heap / 1e6 };
    };
    await sleep(1000);
    const quiet = await windowed(windowMs);
    ctx.log(`console quiet: ${JSON.stringify(quiet)}`);

    const size0 = Number((await dockerExec(name, ['stat', '-c', '%s', logPath])).stdout.trim());
    const log0 = await scrape(relayUrl);
    const writer = inContainer(name, NOISE_WRITER, logPath, String(NOISE_BYTES_PER_SEC), String(noiseSeconds));
    await sleep(2000);
    // Peaks over the rest of the noise, in two halves (a bound holds: the second is no higher than the first).
    const halfMs = (noiseSeconds * 1000 - 3000) / 2;
    const early = await windowed(halfMs);
    const late = await windowed(halfMs);
    const logM = await scrape(relayUrl);
    const w = await writer;
    const wrote = (JSON.parse(w.stdout.trim().split('\n').pop() ?? '{}') as { written?: number; seconds?: number });
    ctx.log(`console noisy: early ${JSON.stringify(early)} late ${JSON.stringify(late)} writer ${w.stdout.trim()} ${w.stderr.slice(0, 200)}`);
    const noisyFps = (early.fps + late.fps) / 2;
    const rssPeak = Math.max(early.rssMb, late.rssMb);
    const heapPeak = Math.max(early.heapMb, late.heapMb);
    const rateMb = wrote.written && wrote.seconds ? wrote.written / wrote.seconds / 1e6 : null;
    const d = (k: string) => (logM[k] ?? 0) - (log0[k] ?? 0);
    const context =
      `writer in the container: ${wrote.written ? (wrote.written / 1e6).toFixed(0) : '?'} MB in ${wrote.seconds?.toFixed(1) ?? '?'} s (${rateMb?.toFixed(1) ?? '?'} MB/s; log was ${(size0 / 1024).toFixed(0)} KiB before); ` +
      `meanwhile the relay read ${d('hivescope_log_reads_total') + d('hivescope_log_direct_reads_total')} times (${d('hivescope_log_direct_reads_total')} for one subscriber), sent ${(d('hivescope_log_bytes_sent_total') / 1e6).toFixed(1)} MB of log messages (the reading client got ${(viewers[2]!.logBytes / 1e6).toFixed(1)} MB), ${((logM.hivescope_log_bytes_behind ?? 0) / 1e6).toFixed(0)} MB behind at the end, ring ${((logM.hivescope_log_ring_bytes ?? 0) / 1024).toFixed(0)} KiB; ` +
      `3 normal clients (one reading the log), 1 stalled log subscriber (raw socket, never reads), leader uploading ${AGENTS}-agent frames (${frameBytes} B) at ${HZ} Hz; relay as a child process (docker driver, kit image), figures from its /metrics; windows: quiet ${windowMs / 1000} s, noisy 2 x ${(halfMs / 1000).toFixed(1)} s after 2 s`;
    return [
      row('fps', noisyFps, quiet.fps, 'higher-is-better', 0.9, `first half ${f1(early.fps)}, second ${f1(late.fps)} frames/s per client; ${context}`),
      row('rss', rssPeak, quiet.rssMb, 'lower-is-better', 1.5, `first half peak ${f1(early.rssMb)} MB, second ${f1(late.rssMb)} MB; ${context}`),
      row('heap', heapPeak, quiet.heapMb, 'lower-is-better', 1.5, `first half peak ${f1(early.heapMb)} MB, second ${f1(late.heapMb)} MB; ${context}`),
    ];
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const keys = Object.keys(ROWS) as RowKey[];
  if (!ctx.docker || !dockerAvailable()) return keys.map((k) => notRun(k, 'no Docker engine or kit image'));
  const name = uniqueName('hivescope-bench-console');
  const stops: (() => unknown)[] = [];
  const rows: BenchRow[] = [];
  let browser: Browser | null = null;
  try {
    await startKitContainer(name);
    stops.push(() => removeContainer(name));
    /** A relay child on the kit container, its graph from a replayed MCP server (`rec`); stopped at the end at the latest. */
    const relayOn = async (rec: Recording, tag: string) => {
      const mcp = await startReplayServer(rec);
      stops.push(() => mcp.close());
      const relay = await startRelayProcess({ ...process.env, PORT: '0', HOST: '127.0.0.1', HIVE_DRIVER: 'docker', HIVE_CONTAINER: name, HIVE_EMBEDDED: '0', HIVE_DEMO: '0', MCP_PORT: String(mcp.port), HIVE_STATE_DIR: makeTempDir(`hivescope-bench-console-${tag}-`), STATIC_DIR: path.join(ctx.root, 'build/client'), LOG_LEVEL: 'warn' });
      stops.push(() => relay.stop());
      const stop = async () => {
        await relay.stop();
        await mcp.close();
      };
      return { relay, stop };
    };
    const logOf = (relayUrl: string, uuid: string): Promise<LogChunk> =>
      pollFor(async () => {
        const r = await fetch(`${relayUrl}${routePath(routes.sessionLog.path, { uuid })}?from=0&max=1`);
        return r.status === 200 ? LogChunkSchema.parse(await r.json()) : undefined;
      }, 30_000, 'the session\'s log', 200);

    // Latency: a relay whose graph is the kit engine's two agents (the page's scene costs little).
    const small = await relayOn(KIT_ENGINE, 'latency');
    const uuid = await pollFor(async () => {
      const r = await fetch(`${small.relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validSpawn) });
      return r.status === 202 ? InitializeSwarmResponseSchema.parse(await r.json()).uuid : undefined;
    }, 30_000, 'a session spawned in the kit container', 500);
    const first = await logOf(small.relay.url, uuid);
    ctx.log(`console: session ${uuid}, log ${first.path}`);
    const launched = await launchBrowser(ctx);
    browser = launched.browser;
    const noBrowser = launched.why;
    rows.push(
      ...(await latency(ctx, name, small.relay.url, uuid, first.path, browser, noBrowser).catch((e: unknown) => (['browser', 'latency'] as const).map((k) => notRun(k, `failed: ${String(e).slice(0, 200)}`)))),
    );
    await browser?.close();
    browser = null;
    await small.stop();

    // Noise: the graph comes from a replayed MCP server with 2k agents (the stalled-browser row's feed);
    // the control plane and the logs from the same kit container and session.
    const list = JSON.stringify({ success: true, agents: Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}`, type: 'coder', status: 'busy', swarmId: 'swarm-1795219796568-console', cpuUsage: 1 })), count: AGENTS });
    const listLine = JSON.stringify({ jsonrpc: '2.0', id: '{{id}}', result: { content: [{ type: 'text', text: list }] } }).replace('"{{id}}"', '{{id}}');
    const big = await relayOn({ ...KIT_ENGINE, name: 'console-2k', replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [listLine] } }, 'noisy');
    await logOf(big.relay.url, uuid);
    rows.push(...(await noisy(ctx, name, big.relay.url, big.relay.port, uuid, first.path).catch((e: unknown) => (['fps', 'rss', 'heap'] as const).map((k) => notRun(k, `failed: ${String(e).slice(0, 200)}`)))));
  } catch (e) {
    const have = new Set(rows.map((r) => r.id));
    for (const k of keys) if (!have.has(ROWS[k][0])) rows.push(notRun(k, `failed: ${String(e).slice(0, 200)}`));
  } finally {
    await browser?.close().catch(() => undefined);
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => undefined);
  }
  return rows;
}
