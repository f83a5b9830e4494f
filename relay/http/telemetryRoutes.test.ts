// GET /api/bots/status|agents|data from the telemetry graph, validated against the shared route table.
import http from 'node:http';
import express from 'express';
import { afterEach, expect, it } from 'vitest';
import { routes } from '../../shared/api.js';
import { telemetryRoutes } from './telemetryRoutes.js';
import { FakeTelemetry } from '../stream/testing/harness.js';

let server: http.Server | null = null;
afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = null;
});

async function start(t: FakeTelemetry): Promise<string> {
  const app = express();
  app.use(telemetryRoutes(t));
  server = http.createServer(app);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

it('serves status, agents and data in the shared shapes, hiding mock agents unless asked', async () => {
  const t = new FakeTelemetry();
  t.agents(
    { id: 'q', name: 'Queen', type: 'queen', status: 'active', swarmId: 'swarm-a-1', cpuUsage: 5 },
    { id: 'w', name: 'Worker', type: 'coder', status: 'busy', swarmId: 'swarm-a-1' },
    { id: 'm', name: 'Mock', type: 'coder', status: 'idle', swarmId: 'mock-swarm' },
  );
  const base = await start(t);
  const status = routes.botsStatus.response.parse(await (await fetch(base + routes.botsStatus.path)).json());
  expect(status).toMatchObject({ connected: true, host: '127.0.0.1', port: 9500, agentCount: 2 });
  const agents = routes.botsAgents.response.parse(await (await fetch(base + routes.botsAgents.path)).json());
  expect(agents.agents.map((a) => a.id).sort()).toEqual(['q', 'w']);
  expect(agents.agents.find((a) => a.id === 'w')!.cpuUsage).toBeNull();
  const data = routes.botsData.response.parse(await (await fetch(base + routes.botsData.path)).json());
  expect(data.edges).toEqual([expect.objectContaining({ kind: 'hierarchy', source: 'q', target: 'w' })]);
  expect(data.swarms.map((s) => s.id)).toEqual(['swarm-a-1']);
  const withMock = routes.botsAgents.response.parse(await (await fetch(`${base}${routes.botsAgents.path}?includeMock=1`)).json());
  expect(withMock.agents).toHaveLength(3);
});

it('lists mock agents without being asked when the relay runs with hideMock false (HIDE_MOCK=0)', async () => {
  const t = new FakeTelemetry();
  t.agents(
    { id: 'w', name: 'Worker', type: 'coder', status: 'busy', swarmId: 'swarm-a-1' },
    { id: 'm', name: 'Mock', type: 'coder', status: 'idle', swarmId: 'mock-swarm' },
  );
  const app = express();
  app.use(telemetryRoutes(t, { hideMock: false }));
  server = http.createServer(app);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  for (const q of ['', '?includeMock=0', '?includeMock=nonsense']) {
    const agents = routes.botsAgents.response.parse(await (await fetch(base + routes.botsAgents.path + q)).json());
    expect(agents.agents.map((a) => a.id).sort()).toEqual(['m', 'w']);
  }
  expect(routes.botsStatus.response.parse(await (await fetch(base + routes.botsStatus.path)).json()).agentCount).toBe(2);
});

it('ignores an unknown or repeated includeMock value (mock agents stay hidden) and other query keys', async () => {
  const t = new FakeTelemetry();
  t.agents({ id: 'w', name: 'Worker', type: 'coder', status: 'busy', swarmId: 'swarm-a-1' }, { id: 'm', name: 'Mock', type: 'coder', status: 'idle', swarmId: 'mock-swarm' });
  const base = await start(t);
  for (const q of ['?includeMock=2', '?includeMock=1&includeMock=1', '?includeMock=', '?token=x']) {
    const agents = routes.botsAgents.response.parse(await (await fetch(base + routes.botsAgents.path + q)).json());
    expect(agents.agents.map((a) => a.id), q).toEqual(['w']);
  }
  for (const q of ['?includeMock=true', '?includeMock=yes&token=x']) {
    expect(routes.botsAgents.response.parse(await (await fetch(base + routes.botsAgents.path + q)).json()).agents, q).toHaveLength(2);
  }
});
