// The fleet through a real relay without Docker (issue 14): two targets from HIVE_TARGETS, each the kit's
// real session manager (as local processes, through the test seam `targetDriver`) and its own real kit
// engine on its own MCP port, and a third whose engine never answers. Spawns land on the target asked for; both targets' agents share one graph
// with qualified ids and distinct node ids, the same node ids after a relay restart; ?target= filters;
// unknown or malformed targets are refused; one target's MCP going away leaves the other serving and the
// pick avoiding it, and it reconnects by itself when its engine is back on the same port.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type RelayConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { AgentsResponseSchema, InitializeSwarmResponseSchema, SessionsResponseSchema, routes } from '../../shared/api.js';
import { HealthSchema } from '../../shared/model/health.js';
import { relayApi } from '../../testkit/relayApi.js';
import { LocalDriver } from '../control/drivers/local.js';
import { repoRoot } from '../control/paths.js';
import { validSpawn } from '../control/testing/harness.js';
import { runCli, startEngineProcess, tempRoot, type EngineProc } from '../../testkit/kitProcesses.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { connectClient } from '../stream/testing/harness.js';
import { WS_PATH } from '../../shared/protocol/messages.js';
import { waitUntil } from '../../testkit/wait.js';

interface Kit {
  root: string;
  engine: EngineProc;
}

describe('a fleet of two kit targets (local processes, real MCP over TCP)', () => {
  const kits: Record<'alpha' | 'beta', Kit> = {} as never;
  let config: RelayConfig;
  let relay: RelayHandle;

  const start = () =>
    startRelay(config, pino({ level: 'silent' }), {
      control: { embedded: false },
      targetDriver: (t) => {
        // epsilon: a target that joins as a labelled one would (the last test), over alpha's kit.
        const k = kits[(t.name === 'epsilon' ? 'alpha' : t.name) as 'alpha' | 'beta'];
        // gamma: its engine, a socket nobody listens on.
        if (!k) return undefined;
        return new LocalDriver({ env: { HIVE_ROOT: k.root, MCP_HOST: '127.0.0.1', MCP_PORT: String(k.engine.port), MCP_TCP_PORT: String(k.engine.port) }, cwd: repoRoot() });
      },
    });
  const { get, post, target } = relayApi(() => relay.url);
  const registry = async (k: Kit) => (await runCli(['list'], { HIVE_ROOT: k.root })).stdout;
  const agents = async (q = '') => AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}${q}`)).body).agents;

  beforeAll(async () => {
    for (const name of ['alpha', 'beta'] as const) {
      const root = tempRoot(`hive-fleet-${name}-`);
      kits[name] = { root, engine: await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '10' }) };
    }
    config = loadConfig({
      PORT: '0',
      HIVE_DRIVER: 'docker',
      HIVE_TARGETS: JSON.stringify([
        { name: 'alpha', container: 'hive-alpha', mcp: `127.0.0.1:${kits.alpha.engine.port}` },
        { name: 'beta', container: 'hive-beta', mcp: `127.0.0.1:${kits.beta.engine.port}` },
        { name: 'gamma', docker: `unix://${makeTempDir('hivescope-fleet-nodocker-')}/docker.sock`, container: 'hive-gamma' },
      ]),
      HIVE_STATE_DIR: makeTempDir('hivescope-fleet-int-'),
      HIVE_DEMO: '0',
      // A removed labelled target's stale swarms are dropped after 1 s (the last test).
      HIVE_STALE_TTL: '1',
      LOG_LEVEL: 'silent',
    });
    relay = await start();
    await waitUntil(async () => (await target('alpha'))?.status === 'healthy' && (await target('beta'))?.status === 'healthy', 30_000, 100, 'both targets healthy');
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    for (const k of Object.values(kits)) await k.engine?.stop();
  }, 60_000);

  it('spawns land on the target asked for, and the answer says which', async () => {
    const a = InitializeSwarmResponseSchema.parse((await post(routes.initializeSwarm.path, { ...validSpawn, customPrompt: 'on alpha', target: 'alpha' })).body);
    const b = InitializeSwarmResponseSchema.parse((await post(routes.initializeSwarm.path, { ...validSpawn, customPrompt: 'on beta', target: 'beta' })).body);
    expect([a.target, b.target, a.pickedBecause]).toEqual(['alpha', 'beta', null]);
    expect(await registry(kits.alpha)).toContain(a.uuid);
    expect(await registry(kits.alpha)).not.toContain(b.uuid);
    expect(await registry(kits.beta)).toContain(b.uuid);
    // A session's routes find its target by uuid.
    const s = (await get(`/api/sessions/${b.uuid}`)).body as { session: { target: string } };
    expect(s.session.target).toBe('beta');
    await waitUntil(async () => SessionsResponseSchema.parse((await get(`${routes.sessions.path}?target=alpha`)).body).sessions.some((x) => x.uuid === a.uuid), 10_000, 100, 'alpha session listed');
    const alphaOnly = SessionsResponseSchema.parse((await get(`${routes.sessions.path}?target=alpha`)).body).sessions;
    expect(alphaOnly.map((x) => x.uuid)).not.toContain(b.uuid);
    expect(alphaOnly.every((x) => x.target === 'alpha')).toBe(true);
  });

  it('/metrics: every control and telemetry family once, with a series per target that has its planes', async () => {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    const types = text.match(/^# TYPE \S+/gm) ?? [];
    expect(new Set(types).size).toBe(types.length);
    for (const t of ['alpha', 'beta']) {
      for (const series of [
        `hivescope_exec_duration_seconds_count{target="${t}"}`,
        `hivescope_exec_failures_total{target="${t}",kind="timeout"}`,
        `hivescope_control_health{target="${t}",state="healthy"} 1`,
        `hivescope_control_breaker_state{target="${t}",state="closed"} 1`,
        `hivescope_sessions{target="${t}",status="running"}`,
        `hivescope_mcp_connected{target="${t}"} 1`,
        `hivescope_mcp_requests_total{target="${t}"}`,
        `hivescope_mcp_latency_ms_count{target="${t}"}`,
        `hivescope_graph_agents{target="${t}"}`,
      ]) expect(text, series).toContain(series);
      // Each target's execs are its own: the spawn above ran on both.
      expect(Number(new RegExp(`^hivescope_exec_duration_seconds_count\\{target="${t}"\\} (\\d+)$`, 'm').exec(text)?.[1])).toBeGreaterThan(0);
    }
    // gamma has no planes yet: no plane series, and its health says so.
    expect(text).not.toMatch(/^hivescope_(exec|control|mcp|graph|sessions)\S*\{[^}]*target="gamma"/m);
    expect(text).toContain('hivescope_target_health{target="gamma",state="unavailable"} 1');
    // Nothing unlabelled is left of the per-plane families.
    expect(text).not.toMatch(/^hivescope_(exec_duration_seconds_count|mcp_connected|graph_agents) /m);
  });

  it('both targets\' agents are in one graph: qualified ids, distinct node ids, the same node ids after a relay restart', async () => {
    await waitUntil(async () => {
      const all = await agents();
      return all.some((x) => x.target === 'alpha') && all.some((x) => x.target === 'beta');
    }, 20_000, 100, 'agents of both targets');
    const before = await agents();
    for (const x of before) {
      expect(x.id.startsWith(`${x.target}:`), x.id).toBe(true);
      if (x.swarmId !== null) expect(x.swarmId.startsWith(`${x.target}:`), x.swarmId).toBe(true);
    }
    expect(new Set(before.map((x) => x.id)).size).toBe(before.length);
    expect(new Set(before.map((x) => x.nodeId)).size).toBe(before.length);
    expect((await agents('?target=beta')).every((x) => x.target === 'beta')).toBe(true);

    await relay.close();
    relay = await start();
    const nodeIds = new Map(before.map((x) => [x.id, x.nodeId]));
    await waitUntil(async () => (await agents()).some((x) => nodeIds.has(x.id)), 20_000, 100, 'agents back after the restart');
    const after = (await agents()).filter((x) => nodeIds.has(x.id));
    for (const x of after) expect(x.nodeId, x.id).toBe(nodeIds.get(x.id));
  });

  it("the stream carries both targets' agents under qualified ids; a selected agent's metrics come back under its qualified id", async () => {
    // The relay was restarted by the test before: both targets' telemetry must be back before the snapshot
    // can hold both (a fresh CI run connected while only alpha's had returned).
    await waitUntil(async () => {
      const all = await agents();
      return all.some((x) => x.target === 'alpha') && all.some((x) => x.target === 'beta');
    }, 20_000, 100, 'agents of both targets after the restart');
    const c = await connectClient(relay.url.replace(/^http/, 'ws') + WS_PATH);
    try {
      const graph = c.of('snapshot')[0]!.graph;
      expect(new Set(graph.agents.map((a) => a.target))).toEqual(new Set(['alpha', 'beta']));
      for (const a of graph.agents) expect(a.id.startsWith(`${a.target}:`), a.id).toBe(true);
      const beta = graph.agents.find((a) => a.target === 'beta' && a.swarmId !== null)!;
      c.send({ type: 'subscribe', swarmIds: null, includePerformance: true, selectedAgentIds: [beta.id], includeMock: false });
      await c.waitFor((x) => x.of('performance').some((m) => m.samples.some((smp) => smp.agentId === beta.id)), `metrics of ${beta.id}`, 15_000);
    } finally {
      await c.close();
    }
  });

  it('a target whose engine does not answer stays starting with its reason and holds up nothing', async () => {
    const g = (await target('gamma'))!;
    expect(g).toMatchObject({ lifecycle: 'starting', status: 'unavailable', degraded: [{ code: 'docker-unavailable' }] });
    expect(g.control.lastError).toMatch(/docker|ENOENT|connect/i);
    const r = await post(routes.initializeSwarm.path, { ...validSpawn, target: 'gamma' });
    expect(r.status).toBe(503);
    expect((r.body as { error: { message: string } }).error.message).toMatch(/^target "gamma" is not reachable yet/);
    // The fleet as a whole is degraded, not down; the others serve.
    expect(HealthSchema.parse((await get(routes.hybridStatus.path)).body).status).toBe('degraded');
    expect((await post(routes.initializeSwarm.path, { ...validSpawn, target: 'alpha' })).status).toBe(202);
  });

  it('refuses unknown and malformed targets', async () => {
    const unknown = { error: { code: 'not-found', message: 'unknown target "delta"; targets: alpha, beta, gamma' } };
    expect(await post(routes.initializeSwarm.path, { ...validSpawn, target: 'delta' })).toEqual({ status: 404, body: unknown });
    expect(await get(`${routes.sessions.path}?target=delta`)).toEqual({ status: 404, body: unknown });
    expect(await get(`${routes.botsData.path}?target=delta`)).toEqual({ status: 404, body: unknown });
    for (const bad of ['Alpha', 'a'.repeat(33), '-a', 'a:b', '../alpha', '']) {
      expect((await post(routes.initializeSwarm.path, { ...validSpawn, target: bad })).status, bad).toBe(400);
      if (bad) expect((await get(`${routes.botsAgents.path}?target=${encodeURIComponent(bad)}`)).status, bad).toBe(400);
    }
    expect((await get(`${routes.sessions.path}?target=%00`)).status).toBe(400);
    // With several targets a swarm id must say whose it is.
    const r = await post(routes.spawnAgentHybrid.path, { agentType: 'coder', swarmId: 'swarm-1700000000000-abc', method: 'docker' });
    expect(r.status).toBe(400);
    expect((r.body as { error: { message: string } }).error.message).toMatch(/names no target/);
  });

  it("one target's MCP going away leaves the other serving and the pick avoiding it; it reconnects by itself", async () => {
    const port = kits.beta.engine.port;
    await kits.beta.engine.stop();
    await waitUntil(async () => (await target('beta'))?.telemetry.state !== 'connected', 20_000, 100, 'beta seen down');
    expect(await target('alpha')).toMatchObject({ status: 'healthy' });
    const events: string[] = [];
    relay.telemetry.on('event', (e) => events.push(e.message));
    for (let i = 0; i < 3; i++) {
      const p = InitializeSwarmResponseSchema.parse((await post(routes.initializeSwarm.path, { ...validSpawn, customPrompt: `picked ${i}` })).body);
      expect(p.target).toBe('alpha');
      expect(p.pickedBecause).toMatch(/among 1 healthy target$/);
      // The activity log says where it went and why.
      expect(events).toContain(`session ${p.uuid} spawned on target alpha, picked: ${p.pickedBecause}`);
    }
    kits.beta.engine = await startEngineProcess({ HIVE_ROOT: kits.beta.root, HIVE_SIM_SPEED: '10', MCP_PORT: String(port) });
    await waitUntil(async () => (await target('beta'))?.status === 'healthy', 30_000, 100, 'beta back by itself');
  });

  it('a discovered target that left keeps its swarms as stale for HIVE_STALE_TTL, then it and its swarms are dropped', async () => {
    // What discovery does for a labelled container (relay/fleet/discovery.ts), without Docker.
    await relay.fleet.add({ name: 'epsilon', docker: null, container: 'hive-epsilon', mcp: { host: '127.0.0.1', port: kits.alpha.engine.port, explicit: true }, source: 'label' }, 'label');
    await waitUntil(async () => (await agents('?target=epsilon')).length > 0, 20_000, 100, 'agents of epsilon');
    const c = await connectClient(relay.url.replace(/^http/, 'ws') + WS_PATH);
    try {
      await relay.fleet.remove('epsilon');
      expect(await target('epsilon')).toMatchObject({ lifecycle: 'gone', status: 'unavailable' });
      expect((await agents('?target=epsilon')).length).toBeGreaterThan(0);
      await waitUntil(async () => (await target('epsilon')) === undefined, 10_000, 100, 'epsilon dropped after its TTL');
      expect((await get(`${routes.botsAgents.path}?target=epsilon`)).status).toBe(404);
      expect((await agents()).some((a) => a.target === 'epsilon')).toBe(false);
      // Clients are told: its agents leave the page's graph.
      await c.waitFor((x) => x.of('delta').some((d) => (d.removals.agents ?? []).some((id) => id.startsWith('epsilon:'))), 'epsilon agents removed on the stream', 10_000);
    } finally {
      await c.close();
    }
  });
});
