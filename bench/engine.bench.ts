/**
 * Hive engine at scale (issue 3): 1000 concurrent sessions of 8 agents in one `hive-engine` process.
 * Rows: engine RSS (goal < 300 MB; floor: an idle node process), agent_list over every agent round trip
 * over TCP (goal < 50 ms; floor: building and encoding the same payload in this process), and one
 * simulation tick over all swarms (goal: well under the 100 ms tick interval; floor: a bare loop
 * touching the same agents).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { McpClient } from '../container/engine/client.js';
import { Simulation } from '../container/engine/sim.js';
import { agentJson } from '../container/engine/tools.js';
import { median, type BenchContext, type BenchRow } from './types.js';

function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function startNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ pid: number; port: number | null; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no readiness line: ${buf}`)), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on [^\s]+:(\d+)|^ready/m.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve({ pid: proc.pid!, port: m[1] ? Number(m[1]) : null, stop: () => proc.kill('SIGTERM') });
      }
    });
    proc.once('exit', (c) => reject(new Error(`exited ${c}: ${buf}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one request on a raw socket; resolves with its response line and the ms until that line's last byte. */
function timedRequest(sock: net.Socket, id: number, line: string): Promise<{ ms: number; response: string }> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    const prefix = `{"jsonrpc":"2.0","id":${id},`;
    const t0 = performance.now();
    const onData = (d: Buffer): void => {
      let start = 0;
      let nl: number;
      while ((nl = d.indexOf(10, start)) >= 0) {
        chunks.push(d.subarray(start, nl));
        const full = Buffer.concat(chunks);
        chunks = [];
        start = nl + 1;
        if (full.subarray(0, prefix.length).toString() === prefix) {
          const ms = performance.now() - t0;
          sock.off('data', onData);
          resolve({ ms, response: full.toString('utf8') });
          return;
        }
      }
      chunks.push(d.subarray(start));
    };
    sock.on('data', onData);
    sock.write(line);
  });
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const sessions = ctx.quick ? 200 : 1000;
  const agentsPer = 8;
  const rows: BenchRow[] = [];
  const enginePath = path.join(ctx.root, 'dist/container/engine/main.js');

  // Floor for RSS: an idle node process.
  const idle = await startNode(['-e', 'console.log("ready"); setInterval(() => {}, 1000)'], {});
  await sleep(500);
  const idleRss = rssBytes(idle.pid);
  idle.stop();

  const engine = await startNode([enginePath], { MCP_PORT: '0', HIVE_SIM_SEED: '1', HIVE_SIM_SPEED: '1', TCP_CONNECTION_TIMEOUT: '0' });
  const client = new McpClient({ host: '127.0.0.1', port: engine.port!, timeoutMs: 60_000 });
  try {
    await client.connect();
    await client.request('hive/subscribe', { kinds: [] });
    ctx.log(`engine: creating ${sessions} swarms x ${agentsPer} agents`);
    for (let i = 0; i < sessions; i++) {
      await client.callTool('swarm_init', { objective: `Bench objective ${i}: research, implement, test and document`, maxAgents: agentsPer, topology: ['mesh', 'ring', 'star', 'hierarchical'][i % 4] });
    }
    // Let every swarm initialise and get busy.
    await sleep(ctx.quick ? 3_000 : 6_000);
    const rss = rssBytes(engine.pid);
    rows.push({
      id: `engine.rss.${sessions}x${agentsPer}`,
      what: `hive-engine RSS with ${sessions} running swarms of ${agentsPer} agents`,
      ours: { value: rss === null ? null : rss / 1e6, unit: 'MB' },
      floor: { name: 'idle node process', value: idleRss === null ? null : idleRss / 1e6, unit: 'MB' },
      ratio: rss !== null && idleRss ? rss / idleRss : null,
      goal: 'ours < 300 MB',
      met: rss === null ? null : rss < 300e6,
    });

    // A quiet raw connection (no pushes): time from request to the last byte of the answer.
    const sock = net.connect({ host: '127.0.0.1', port: engine.port! });
    await new Promise((r) => sock.once('connect', r));
    await timedRequest(sock, 0, `${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'hive/subscribe', params: { kinds: [] } })}\n`);
    const times: number[] = [];
    const parseTimes: number[] = [];
    let count = 0;
    let textBytes = 0;
    for (let i = 0; i < (ctx.quick ? 5 : 15); i++) {
      const { ms, response } = await timedRequest(sock, i + 1, `${JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'agent_list', arguments: {} } })}\n`);
      times.push(ms);
      const t1 = performance.now();
      const text = (JSON.parse(response) as { result: { content: Array<{ text: string }> } }).result.content[0]!.text;
      count = (JSON.parse(text) as { count: number }).count;
      parseTimes.push(performance.now() - t1);
      textBytes = text.length;
    }
    sock.destroy();
    const ours = median(times);

    // Floor: producing and consuming the same payload in-process (no engine, no socket).
    const sim = new Simulation({ seed: 1, speed: 1 });
    for (let i = 0; i < sessions; i++) sim.createSwarm({ objective: `Bench objective ${i}`, maxAgents: agentsPer });
    sim.tick(3_000);
    const floorTimes: number[] = [];
    for (let i = 0; i < (ctx.quick ? 5 : 15); i++) {
      const t0 = performance.now();
      const agents = [];
      for (const s of sim.swarms.values()) for (const a of s.agents) agents.push(agentJson(a));
      const text = JSON.stringify({ success: true, agents, count: agents.length });
      JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }] } });
      floorTimes.push(performance.now() - t0);
    }
    const floor = median(floorTimes);
    rows.push({
      id: `engine.agent_list.${sessions}x${agentsPer}`,
      what: `agent_list over all ${count} agents: request to last byte of the answer over TCP (${(textBytes / 1e6).toFixed(1)} MB text)`,
      ours: { value: ours, unit: 'ms' },
      floor: { name: 'building + JSON-encoding the same agents and wrapping them as MCP text, in-process', value: floor, unit: 'ms' },
      ratio: floor > 0 ? ours / floor : null,
      goal: 'ours < 50 ms',
      met: ours < 50,
      notes: `max ${Math.max(...times).toFixed(1)} ms over ${times.length} calls; client-side parsing of the answer adds a median ${median(parseTimes).toFixed(1)} ms`,
    });

    // One simulation tick over every swarm vs a bare loop over the same agents.
    const tickTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      sim.tick(100);
      tickTimes.push(performance.now() - t0);
    }
    const loopTimes: number[] = [];
    let sink = 0;
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      for (const s of sim.swarms.values()) for (const a of s.agents) sink += a.cpuUsage * 0.5 + a.tokens;
      loopTimes.push(performance.now() - t0);
    }
    const tick = median(tickTimes);
    const loop = median(loopTimes);
    rows.push({
      id: `engine.tick.${sessions}x${agentsPer}`,
      what: `one 100 ms simulation tick over ${sessions} swarms (single timer loop)`,
      ours: { value: tick, unit: 'ms' },
      floor: { name: 'bare loop over the same agents', value: loop, unit: 'ms' },
      ratio: loop > 0 ? tick / loop : null,
      goal: 'ours < 20 ms (a fifth of the tick interval)',
      met: tick < 20,
      notes: `checksum ${Math.round(sink) % 10}`,
    });
  } finally {
    client.close();
    engine.stop();
  }
  return rows;
}
