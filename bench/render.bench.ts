/**
 * Render benchmark, in one headless Chromium run: the cost of drawing one frame of the built app with
 * 1k and 10k agents (instanced meshes, glow, edges, labels, pulses) beside the same page drawing an
 * empty swarm (the floor). The page follows the layout (`?follow=1`), so physics is not in the figure.
 * A throwaway in-process server serves build/client and speaks the relay's WebSocket protocol with one
 * hello and one snapshot of a synthetic swarm; nothing here runs in the app itself.
 *
 * What is timed is the work of a frame, not the requestAnimationFrame cadence: the rAF interval is
 * capped by the display rate (the old rows read 33.3 ms for every size, floor 16.7 ms). In the page,
 * frames are driven back to back through the app's own R3F root: `advance()` runs every useFrame
 * callback (instance updates, pulses, labels) and `gl.render(scene, camera)`, then a 1x1 readPixels
 * waits until the GPU process has finished drawing. A readPixels before each frame drains whatever the
 * app's own loop queued, so each sample holds exactly one frame.
 * On this machine WebGL runs on SwiftShader (a CPU rasteriser): absolute numbers need a real GPU.
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { chromium, type Browser } from 'playwright-core';
import { PROTOCOL_VERSION, unknownAgent, type Agent, type Edge, type ServerMessage } from '../shared/index.js';
import { median, ratioRow, type BenchContext, type BenchRow } from './types.js';
import { CHROMIUM_ARGS } from '../e2e/chromium.js';

/** Per-frame draw cost of one page, ms. */
interface FrameTimes {
  median: number;
  p95: number;
  /** Median time until advance() returned (JS, three.js and WebGL command submission), before the sync. */
  submitMedian: number;
  frames: number;
}

const TYPES = ['coder', 'tester', 'researcher', 'analyst', 'architect', 'reviewer', 'optimizer', 'documenter'];

/** A deterministic synthetic swarm: one queen per 16 workers, hierarchy edges, metrics that pulse. */
function swarm(n: number): { agents: Agent[]; edges: Edge[] } {
  const now = Date.now();
  const agents: Agent[] = [];
  const edges: Edge[] = [];
  for (let i = 0; i < n; i++) {
    const queen = i % 16 === 0;
    const id = `bench-${i}`;
    const parent = queen ? null : `bench-${i - (i % 16)}`;
    agents.push({
      ...unknownAgent(id, i + 1, now),
      name: queen ? `Queen ${i / 16}` : `Worker ${i}`,
      type: queen ? 'queen' : TYPES[i % TYPES.length]!,
      status: i % 3 === 0 ? 'busy' : 'active',
      swarmId: 'swarm-bench-1',
      parentQueenId: parent,
      health: 50 + (i % 50),
      cpuUsage: i % 100,
      workload: (i % 10) / 10,
      activity: (i % 7) / 7,
      tokenRate: 10 + (i % 90),
      sources: { health: 'mcp', cpuUsage: 'mcp', workload: 'mcp', activity: 'mcp', tokenRate: 'mcp' },
    });
    if (parent) edges.push({ id: `${parent}->${id}`, source: parent, target: id, kind: 'hierarchy', messageCount: i % 50, dataVolume: 100 * (i % 50), lastMessageTime: now });
  }
  return { agents, edges };
}

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.ttf': 'font/ttf', '.json': 'application/json' };

async function serve(root: string, snapshot: () => ServerMessage): Promise<{ url: string; close(): Promise<void> }> {
  const dir = path.join(root, 'build/client');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let file = path.join(dir, url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(dir, 'index.html');
    res.setHeader('content-type', MIME[path.extname(file)] ?? 'application/octet-stream');
    fs.createReadStream(file).pipe(res);
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws)));
  wss.on('connection', (ws) => {
    const send = (m: ServerMessage) => ws.send(JSON.stringify(m));
    send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, serverTime: Date.now(), clientId: 'bench', config: { positionHz: 20, settledHz: 1, deltaHz: 4, hideMock: true, readOnly: true }, eventCursor: 0 });
    send(snapshot());
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(String(data)) as { type: string; t?: number };
      if (m.type === 'ping') send({ type: 'pong', t: m.t ?? 0, serverTime: Date.now() });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
      }),
  };
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const sizes = ctx.quick ? [1000] : [1000, 10000];
  const rows: BenchRow[] = [];
  const notRun = (why: string) =>
    sizes.flatMap((n): BenchRow[] => [
      { id: `render.frame.${n / 1000}k`, what: `time to draw one frame of ${n} agents`, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'same page, empty swarm' }, ratio: null, goal: 'informational here (needs a real GPU)', met: null, notes: `not run: ${why}` },
      { id: `render.submit.${n / 1000}k`, what: `JS per frame with ${n} agents`, ours: { value: null, unit: 'ms' }, floor: { value: 16.7, unit: 'ms', name: 'one frame at 60 Hz' }, ratio: null, goal: 'ratio <= 0.5', met: null, notes: `not run: ${why}` },
    ]);
  if (!ctx.chromium) return notRun('no chromium');
  const build = spawnSync(process.execPath, [path.join(ctx.root, 'scripts/build.mjs'), 'client'], { cwd: ctx.root, stdio: 'inherit' });
  if (build.status !== 0) return notRun('client build failed');

  let current: { agents: Agent[]; edges: Edge[] } = { agents: [], edges: [] };
  const server = await serve(ctx.root, () => ({ type: 'snapshot', graph: { ...current, sessions: [], swarms: [] }, eventCursor: 0, layoutRole: 'follower' }));
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: ctx.chromium, args: CHROMIUM_ARGS });
    const measure = async (n: number): Promise<FrameTimes | null> => {
      current = swarm(n);
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await page.goto(`${server.url}/?follow=1&hooks=1`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
        await page.waitForSelector(`body[data-agent-count="${n}"]`, { timeout: 120_000 });
        // The store (and so data-agent-count) can be ahead of the canvas: wait for the scene itself.
        await page.waitForFunction(
          () => {
            const h = (globalThis as unknown as { __hivescope: { swarm(): unknown; frames(): number } }).__hivescope;
            return h.swarm() !== null && h.frames() > 0;
          },
          null,
          { timeout: 120_000 },
        );
        return await page.evaluate(
          async ({ warmup, frames, minFrames, budgetMs }) => {
            // This runs in the page; bench/ compiles without DOM types, so the page's globals are typed here.
            interface GL {
              readPixels(x: number, y: number, w: number, h: number, format: number, type: number, out: Uint8Array): void;
              RGBA: number;
              UNSIGNED_BYTE: number;
            }
            interface Obj {
              parent: Obj | null;
              __r3f?: { root: { getState(): { scene: Obj; gl: { getContext(): GL }; advance(t: number, runGlobalEffects?: boolean): void } } };
            }
            const g = globalThis as unknown as { __hivescope: { swarm(): Obj | null }; setTimeout(cb: () => void, ms: number): unknown };
            // The scene root's R3F descriptor (`__r3f`, what R3F's own getRootState reads) holds the
            // canvas's store: its advance() is the frame the app's loop runs, useFrame callbacks and render.
            let top = g.__hivescope.swarm();
            while (top?.parent) top = top.parent;
            const root = top?.__r3f?.root.getState();
            if (!root || root.scene !== top) throw new Error('no R3F root found from the swarm group');
            const gl = root.gl.getContext();
            const px = new Uint8Array(4);
            const sync = () => gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
            const total: number[] = [];
            const submit: number[] = [];
            const started = performance.now();
            // Stop at `frames` samples or after `budgetMs`, whichever comes first, but take at least
            // `minFrames` samples however slow the frames are.
            for (let i = 0; i < warmup + frames && (i < warmup + minFrames || performance.now() - started < budgetMs); i++) {
              sync();
              const t0 = performance.now();
              root.advance(t0, true);
              const t1 = performance.now();
              sync();
              const t2 = performance.now();
              // Warm-up frames compile shaders and upload instance buffers the first time.
              if (i >= warmup) {
                total.push(t2 - t0);
                submit.push(t1 - t0);
              }
              // Let the page handle its messages between frames, as it would between real frames.
              await new Promise<void>((r) => g.setTimeout(r, 0));
            }
            const at = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
            return total.length ? { median: at(total, 0.5), p95: at(total, 0.95), submitMedian: at(submit, 0.5), frames: total.length } : null;
          },
          ctx.quick ? { warmup: 3, frames: 30, minFrames: 5, budgetMs: 15_000 } : { warmup: 3, frames: 100, minFrames: 10, budgetMs: 45_000 },
        );
      } finally {
        await page.close();
      }
    };
    const floors: FrameTimes[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : 2); i++) {
      const f = await measure(0);
      if (f !== null) floors.push(f);
    }
    const floor = floors.length ? median(floors.map((f) => f.median)) : null;
    for (const n of sizes) {
      const ours = await measure(n).catch((e: unknown) => {
        ctx.log(`render ${n}: ${(e as Error).message}`);
        return null;
      });
      // Drawing time on SwiftShader is the CPU rasteriser's fill rate: reported, judged only on a real GPU.
      const frame = ratioRow(
        {
          id: `render.frame.${n / 1000}k`,
          what: `median time to draw one frame of ${n} agents (instanced, glow, edges, labels, pulses): useFrame work + gl.render + readPixels sync, frames back to back, not the rAF interval`,
          ours: { value: ours?.median ?? null, unit: 'ms' },
          floor: { value: floor, unit: 'ms', name: 'same page, empty swarm' },
          goal: 'informational here (needs a real GPU)',
          notes:
            `WebGL on SwiftShader, a CPU rasteriser: the figure is its fill rate, not GPU speed. ` +
            (ours ? `${ours.frames} frames, p95 ${ours.p95.toFixed(1)} ms; ` : '') +
            (floors.length ? `floor: ${floors.map((f) => `${f.frames} frames, p95 ${f.p95.toFixed(1)} ms`).join('; ')}` : ''),
        },
        'lower-is-better',
        4,
      );
      rows.push({ ...frame, met: null });
      // What our code costs the CPU per frame (useFrame work, buffer updates, draw submission) does not
      // depend on the rasteriser: judged against a 60 Hz frame's 16.7 ms.
      rows.push(
        ratioRow(
          {
            id: `render.submit.${n / 1000}k`,
            what: `JS per frame with ${n} agents: useFrame work + gl.render command submission (median), before the draw is waited for`,
            ours: { value: ours ? Number(ours.submitMedian.toFixed(2)) : null, unit: 'ms' },
            floor: { value: 16.7, unit: 'ms', name: 'one frame at 60 Hz' },
            goal: 'ratio <= 0.5 (leaves half the frame to the GPU and the browser)',
            notes: 'measured in the same frames as render.frame; on a real GPU this is what bounds the frame rate at these sizes',
          },
          'lower-is-better',
          0.5,
        ),
      );
    }
  } finally {
    await browser?.close();
    await server.close();
  }
  return rows;
}
