// End to end against the kit's real engine (a child process running dist/container/engine/main.js):
// MCP over TCP -> telemetry graph -> /wss -> a real WebSocket client. A simulated agent's status change
// must arrive as a delta (and as a status event). Skipped when the engine has not been built.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import pino from 'pino';
import { createTelemetry, type Telemetry } from '../telemetry/index.js';
import { createStreamServer, type StreamServer } from './server.js';
import { testConfig, waitFor } from '../telemetry/testing/helpers.js';
import { connectClient, type TestClient } from './testing/harness.js';

const ENGINE = path.resolve('dist/container/engine/main.js');
const haveEngine = fs.existsSync(ENGINE);

let engine: ChildProcess | null = null;
let telemetry: Telemetry | null = null;
let stream: StreamServer | null = null;
let server: http.Server | null = null;
let client: TestClient | null = null;

afterEach(async () => {
  await client?.close();
  await stream?.close();
  await telemetry?.close();
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  if (engine && engine.exitCode === null) {
    const exited = new Promise((r) => engine!.once('exit', r));
    engine.kill('SIGTERM');
    await exited;
  }
  engine = null;
});

async function startEngineProcess(): Promise<number> {
  engine = spawn(process.execPath, [ENGINE], {
    env: { ...process.env, MCP_HOST: '127.0.0.1', MCP_PORT: '0', HIVE_SIM_SEED: '7', HIVE_SIM_SPEED: '20' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = readline.createInterface({ input: engine.stdout! });
  return new Promise((resolve, reject) => {
    engine!.once('exit', (code) => reject(new Error(`engine exited ${code}`)));
    rl.on('line', (line) => {
      const m = /hive-engine listening on .*:(\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
  });
}

it.skipIf(!haveEngine)('a simulated agent status change reaches a WebSocket client as a delta', async () => {
  const port = await startEngineProcess();
  const config = testConfig({ MCP_PORT: String(port), MCP_POLL_MS: '500' });
  const logger = pino({ level: 'silent' });
  telemetry = createTelemetry({ config, logger });
  server = http.createServer();
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  stream = createStreamServer({ config, logger, telemetry, server });
  await waitFor(() => telemetry!.health().state === 'connected', 'MCP connected');

  client = await connectClient(`ws://127.0.0.1:${(server.address() as { port: number }).port}/wss`);
  client.hello();
  const init = (await telemetry.callTool('swarm_init', { topology: 'hierarchical', maxAgents: 4, objective: 'build a REST API' })) as { swarmId: string };
  expect(init.swarmId).toMatch(/^swarm-/);
  await telemetry.callTool('task_orchestrate', { task: 'write the handlers', swarmId: init.swarmId });

  // Track each agent's status as the client sees it; wait for one to change after it first appeared.
  const seen = new Map<string, string>();
  let changed: { id: string; from: string; to: string } | null = null;
  let read = 0;
  await waitFor(() => {
    for (; read < client!.msgs.length; read++) {
      const m = client!.msgs[read]!;
      const agents = m.type === 'snapshot' ? m.graph.agents : m.type === 'delta' ? (m.upserts.agents ?? []) : [];
      for (const a of agents) {
        const prev = seen.get(a.id);
        if (prev !== undefined && prev !== a.status && !changed) changed = { id: a.id, from: prev, to: a.status };
        seen.set(a.id, a.status);
      }
    }
    return changed !== null;
  }, 'an agent status change delta', 20_000);
  expect(changed!.from).not.toBe(changed!.to);
  await client.waitFor((c) => c.of('event').some((e) => e.events.some((ev) => ev.kind === 'status' || ev.kind === 'task-start')), 'activity event');
  const h = telemetry.health();
  expect(h).toMatchObject({ state: 'connected', push: true });
  const agent = telemetry.snapshot().agents.find((a) => a.id === changed!.id)!;
  expect(agent.swarmId).toBe(init.swarmId);
  expect(agent.sources.cpuUsage === undefined || ['mcp', 'mcp-push'].includes(agent.sources.cpuUsage)).toBe(true);
}, 60_000);
