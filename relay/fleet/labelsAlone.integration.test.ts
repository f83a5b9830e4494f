// A fleet of labelled containers alone (HIVE_TARGETS=[], docs/fleet.md section 5), through a real relay
// without Docker: label discovery watches the environment's engine (here a fake engine that answers the
// list and the event stream), and the labelled target is the kit's real session manager (local processes,
// through the test seam `targetDriver`) with its real engine on its own MCP port. With no target the relay
// serves: health says there is none and how one joins, spawns are 503 with that hint, lists are empty,
// /metrics and the stream work. A labelled container that starts joins and takes a spawn; removed, it is
// gone (stale) and then dropped, and the fleet is back to no target.
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { AgentsResponseSchema, BotsStatusResponseSchema, GraphDataResponseSchema, InitializeSwarmResponseSchema, SessionsResponseSchema, routes } from '../../shared/api.js';
import { HealthSchema, type Health } from '../../shared/model/health.js';
import { WS_PATH } from '../../shared/protocol/messages.js';
import type { DockerEndpoint } from '../targets.js';
import { relayApi } from '../../testkit/relayApi.js';
import { LocalDriver } from '../control/drivers/local.js';
import { repoRoot } from '../control/paths.js';
import { runCli, startEngineProcess, tempRoot, type EngineProc } from '../../testkit/kitProcesses.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { connectClient } from '../stream/testing/harness.js';
import { waitUntil } from '../../testkit/wait.js';
import { MCP_LABEL, TARGET_LABEL, type DiscoveryEngineClient } from './discovery.js';

/** An engine as label discovery sees it: the labelled containers it lists, and its event stream. */
class FakeEngine {
  containers: { Names: string[]; Labels: Record<string, string> }[] = [];
  private readonly streams: PassThrough[] = [];
  readonly client = {
    getEvents: async () => {
      const s = new PassThrough();
      this.streams.push(s);
      return s;
    },
    listContainers: async () => this.containers,
  } as unknown as DiscoveryEngineClient;

  /** Docker's event line for a container (its labels are among the actor's attributes, as Docker sends them). */
  event(action: 'start' | 'destroy', name: string, labels: Record<string, string>): void {
    const line = `${JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'f'.repeat(64), Attributes: { name, ...labels } } })}\n`;
    for (const s of this.streams) if (!s.destroyed) s.write(line);
  }
}

describe('HIVE_TARGETS=[]: a fleet of labelled containers alone (fake engine, kit target as local processes)', () => {
  const engine = new FakeEngine();
  const watched: (DockerEndpoint | null)[] = [];
  let kit: { root: string; engine: EngineProc };
  let relay: RelayHandle;
  let labels: Record<string, string>;

  const { get, post, spawn, target } = relayApi(() => relay.url);
  const health = async (): Promise<Health> => HealthSchema.parse((await get(routes.hybridStatus.path)).body);
  const agents = async (q = '') => AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}${q}`)).body).agents;
  /** What a fleet with no live target says at the top of its health. */
  const noTarget = {
    status: 'unavailable',
    control: { state: 'unavailable', container: null },
    telemetry: { state: 'disconnected', host: '127.0.0.1', port: 9500 },
    activeSessions: 0,
    degraded: [
      {
        code: 'container-down',
        message: expect.stringMatching(/^No target yet: no container labelled org\.hivescope\.target runs on .+, and HIVE_TARGETS=\[\] configures none\.$/),
        action: expect.stringContaining('docker run -d --label org.hivescope.target=<name>'),
      },
    ],
  };

  beforeAll(async () => {
    const root = tempRoot('hive-fleet-labels-');
    kit = { root, engine: await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '10' }) };
    labels = { [TARGET_LABEL]: 'lab', [MCP_LABEL]: `127.0.0.1:${kit.engine.port}` };
    const config = loadConfig({
      PORT: '0',
      HIVE_DRIVER: 'docker',
      HIVE_TARGETS: '[]',
      HIVE_STATE_DIR: makeTempDir('hivescope-fleet-labels-'),
      HIVE_DEMO: '0',
      // The removed container's stale swarms are dropped after 1 s (the last test).
      HIVE_STALE_TTL: '1',
      LOG_LEVEL: 'silent',
    });
    relay = await startRelay(config, pino({ level: 'silent' }), {
      control: { embedded: false },
      targetDriver: (t) => (t.container === 'hive-lab' ? new LocalDriver({ env: { HIVE_ROOT: root, MCP_HOST: '127.0.0.1', MCP_PORT: String(kit.engine.port), MCP_TCP_PORT: String(kit.engine.port) }, cwd: repoRoot() }) : undefined),
      discovery: {
        engineClient: (docker) => {
          watched.push(docker);
          return engine.client;
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await kit?.engine.stop();
  }, 60_000);

  it('starts with no target: the environment engine is watched, and health says there is none and how one joins', async () => {
    expect(relay.config).toMatchObject({ targets: [], discover: true, container: null });
    // The environment's engine (DOCKER_HOST or the local socket), and only it.
    expect(watched).toEqual([null]);
    expect(relay.fleet.qualify).toBe(true);
    expect(await health()).toMatchObject({ ...noTarget, targets: [] });
    const h = await get('/health');
    expect(h).toMatchObject({ status: 200, body: { status: 'unavailable' } });
    // The plane old callers read has nothing to be: the same 503 a spawn gets.
    expect(() => relay.control).toThrow(/^no target yet/);
  });

  it('spawns answer 503 no-healthy-target with the hint; a named target is 404 saying there is none yet', async () => {
    const r = await spawn({ customPrompt: 'no target yet' });
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      error: {
        code: 'no-healthy-target',
        message: expect.stringMatching(/^no target yet: no container labelled org\.hivescope\.target runs on .+; start one with docker run --label org\.hivescope\.target=<name> \.\.\. and it joins by itself$/),
      },
    });
    // An agent spawn without a session or swarm goes to the pick too.
    expect((await post(routes.spawnAgentHybrid.path, { agentType: 'coder', method: 'docker' })).body).toMatchObject({ error: { code: 'no-healthy-target' } });
    const unknown = { error: { code: 'not-found', message: 'unknown target "lab"; targets: none yet' } };
    expect(await spawn({ target: 'lab' })).toEqual({ status: 404, body: unknown });
    expect(await get(`${routes.sessions.path}?target=lab`)).toEqual({ status: 404, body: unknown });
    expect(await get(`${routes.botsAgents.path}?target=lab`)).toEqual({ status: 404, body: unknown });
    // A session no target holds is unknown, as on any relay.
    const stop = await fetch(`${relay.url}${routes.removeTask.path.replace(':id', '00000000-0000-4000-8000-000000000000')}`, { method: 'DELETE' });
    expect(stop.status).toBe(404);
    expect((await get('/api/sessions/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('lists are empty (not errors); /metrics and the stream work with an empty graph', async () => {
    expect(await get(routes.sessions.path)).toEqual({ status: 200, body: { sessions: [], stale: false } });
    expect(await agents()).toEqual([]);
    expect(GraphDataResponseSchema.parse((await get(routes.botsData.path)).body)).toEqual({ nodes: [], edges: [], swarms: [] });
    expect(BotsStatusResponseSchema.parse((await get(routes.botsStatus.path)).body)).toMatchObject({ connected: false, agentCount: 0, agents: [] });
    expect((await get(routes.hybridPerformance.path)).status).toBe(200);

    const m = await fetch(`${relay.url}/metrics`);
    expect(m.status).toBe(200);
    const text = await m.text();
    expect(text).toContain('# TYPE hivescope_target_health gauge');
    // No target, no series.
    expect(text).not.toMatch(/^hivescope_\w+\{[^}]*target="/m);

    const c = await connectClient(relay.url.replace(/^http/, 'ws') + WS_PATH);
    try {
      expect(c.of('snapshot')[0]!.graph).toEqual({ agents: [], edges: [], sessions: [], swarms: [] });
      await c.waitFor((x) => x.of('health').length > 0, 'health on connect');
      expect(c.of('health')[0]!.health).toMatchObject({ ...noTarget, targets: [] });
    } finally {
      await c.close();
    }
  });

  it('a labelled container that starts joins as a target, and a spawn without a target lands in it', async () => {
    const c = await connectClient(relay.url.replace(/^http/, 'ws') + WS_PATH);
    try {
      engine.containers = [{ Names: ['/hive-lab'], Labels: labels }];
      engine.event('start', 'hive-lab', labels);
      await waitUntil(async () => (await target('lab'))?.status === 'healthy', 30_000, 100, 'the labelled container joined');
      const h = await health();
      // The top describes the first target again (its driver here is the seam's local one).
      expect(h).toMatchObject({ status: 'healthy', control: { state: 'healthy' }, telemetry: { state: 'connected', port: kit.engine.port }, targets: [{ name: 'lab', source: 'label', lifecycle: 'running', container: 'hive-lab' }] });
      expect(h.degraded).toEqual([]);

      const s = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'on the only labelled target' })).body);
      expect(s).toMatchObject({ target: 'lab', pickedBecause: expect.stringMatching(/^fewest running sessions \(0\) among 1 healthy target$/) });
      expect((await runCli(['list'], { HIVE_ROOT: kit.root })).stdout).toContain(s.uuid);
      await waitUntil(async () => (await agents()).some((a) => a.sessionUuid === s.uuid), 20_000, 100, "the session's agents");
      for (const a of await agents()) expect(a.id.startsWith('lab:'), a.id).toBe(true);
      // The stream that opened on the empty graph is told.
      await c.waitFor((x) => x.of('delta').some((d) => (d.upserts.agents ?? []).some((a) => a.target === 'lab')), 'agents of lab on the stream', 15_000);
      expect(await (await fetch(`${relay.url}/metrics`)).text()).toContain('hivescope_target_health{target="lab",state="healthy"} 1');
      expect(relay.control).toBe(relay.fleet.targets.get('lab')!.control);
    } finally {
      await c.close();
    }
  });

  it('removed, it is gone (its swarms stale) and then dropped: the fleet is back to no target', async () => {
    engine.containers = [];
    engine.event('destroy', 'hive-lab', labels);
    // Read in the same poll that sees it gone: HIVE_STALE_TTL (1 s) may drop it right after.
    let gone: Health | null = null;
    await waitUntil(async () => {
      const h = await health();
      if (h.targets?.[0]?.lifecycle === 'gone') gone = h;
      return gone !== null || h.targets?.length === 0;
    }, 10_000, 50, 'the removed container left');
    // No live target: the top says so again, the gone one is listed (its swarms stale) until HIVE_STALE_TTL.
    expect(gone).toMatchObject({ ...noTarget, targets: [{ name: 'lab', lifecycle: 'gone', status: 'unavailable' }] });
    const r = await spawn({ customPrompt: 'after it left' });
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'no-healthy-target', message: expect.stringMatching(/^no target yet: /) } } });

    await waitUntil(async () => (await health()).targets?.length === 0, 10_000, 100, 'lab dropped after its TTL');
    expect(await health()).toMatchObject({ ...noTarget, targets: [] });
    expect(await agents()).toEqual([]);
    expect(SessionsResponseSchema.parse((await get(routes.sessions.path)).body).sessions).toEqual([]);
    expect((await spawn({ customPrompt: 'still none' })).status).toBe(503);
  });
});
