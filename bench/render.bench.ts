/**
 * Render benchmark, in one headless Chromium run: frame time of the built app drawing 1k and 10k agents
 * (instanced meshes, glow, edges, labels; pulses keep the loop running) beside the same page drawing an
 * empty swarm (the floor). The page follows the layout (`?follow=1`), so physics is not in the figure.
 * A throwaway in-process server serves build/client and speaks the relay's WebSocket protocol with one
 * hello and one snapshot of a synthetic swarm; nothing here runs in the app itself.
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
    sizes.map((n) => ({ id: `render.frame.${n / 1000}k`, what: `frame time drawing ${n} agents`, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'same page, empty swarm' }, ratio: null, goal: 'ratio <= 4', met: null, notes: `not run: ${why}` }));
  if (!ctx.chromium) return notRun('no chromium');
  const build = spawnSync(process.execPath, [path.join(ctx.root, 'scripts/build.mjs'), 'client'], { cwd: ctx.root, stdio: 'inherit' });
  if (build.status !== 0) return notRun('client build failed');

  let current: { agents: Agent[]; edges: Edge[] } = { agents: [], edges: [] };
  const server = await serve(ctx.root, () => ({ type: 'snapshot', graph: { ...current, sessions: [], swarms: [] }, eventCursor: 0, layoutRole: 'follower' }));
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: ctx.chromium, args: CHROMIUM_ARGS });
    const measure = async (n: number): Promise<number | null> => {
      current = swarm(n);
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await page.goto(`${server.url}/?follow=1&hooks=1`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
        await page.waitForSelector(`body[data-agent-count="${n}"]`, { timeout: 120_000 });
        // Frame intervals measured by rAF while the scene redraws every frame (pulses; invalidate for the empty case).
        return await page.evaluate(async (ms) => {
          // This runs in the page; bench/ compiles without DOM types, so the page's globals are typed here.
          const g = globalThis as unknown as {
            __hivescope: { services: { store: { setState(p: object): void; getState(): { fitRequest: number } } } };
            requestAnimationFrame(cb: (t: number) => void): number;
          };
          const h = g.__hivescope;
          const requestAnimationFrame = (cb: (t: number) => void) => g.requestAnimationFrame(cb);
          const times: number[] = [];
          let last = performance.now();
          const end = last + ms;
          await new Promise<void>((resolve) => {
            const tick = (t: number) => {
              times.push(t - last);
              last = t;
              // A store change invalidates the demand loop: keeps the empty scene drawing too.
              h.services.store.setState({ fitRequest: h.services.store.getState().fitRequest });
              if (t < end) requestAnimationFrame(tick);
              else resolve();
            };
            requestAnimationFrame(tick);
          });
          times.shift();
          times.sort((a, b) => a - b);
          return times.length ? times[Math.floor(times.length / 2)]! : null;
        }, ctx.quick ? 3000 : 5000);
      } finally {
        await page.close();
      }
    };
    const floors: number[] = [];
    for (let i = 0; i < (ctx.quick ? 1 : 2); i++) {
      const f = await measure(0);
      if (f !== null) floors.push(f);
    }
    const floor = floors.length ? median(floors) : null;
    for (const n of sizes) {
      const ours = await measure(n).catch((e: unknown) => {
        ctx.log(`render ${n}: ${(e as Error).message}`);
        return null;
      });
      rows.push(
        ratioRow(
          {
            id: `render.frame.${n / 1000}k`,
            what: `median frame time drawing ${n} agents (instanced, glow, edges, labels, pulses)`,
            ours: { value: ours, unit: 'ms' },
            floor: { value: floor, unit: 'ms', name: 'same page, empty swarm' },
            goal: 'ratio <= 4',
            notes: 'SwiftShader (CPU rasteriser) on this machine; rAF caps the floor at the display rate',
          },
          'lower-is-better',
          4,
        ),
      );
    }
  } finally {
    await browser?.close();
    await server.close();
  }
  return rows;
}
