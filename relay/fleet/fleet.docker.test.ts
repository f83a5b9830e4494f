// The fleet against real engines (issue 14): one relay drives a kit container on the machine's dockerd
// and one on a private dockerd reached over tcp://127.0.0.1 with TLS certificates made in the test
// (testkit/privateDockerd.ts), each on its own MCP port (MCP_TCP_PORT) on the shared host network. Spawns
// land on the target asked for; agents of both targets are in the one graph with no id or node id
// clashing; SIGKILL of the private engine leaves the other target's spawns and telemetry working, and
// the killed target's control recovers by itself when its engine is back. One private engine (not two)
// keeps the docker phase short: the machine's dockerd on its unix socket is the other engine. A second
// relay with HIVE_DISCOVER=1 and no HIVE_TARGETS sees the labelled container join too.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { AgentsResponseSchema, InitializeSwarmResponseSchema, SessionsResponseSchema, routes } from '../../shared/api.js';
import { HealthSchema } from '../../shared/model/health.js';
import { relayApi } from '../../testkit/relayApi.js';
import { SESSION_MANAGER_PATH } from '../control/backends/sessionManager.js';
import { dockerCli, uniqueName } from '../../testkit/docker.js';
import { dockerAvailable } from '../../testkit/kitContainer.js';
import { ensureImage, kitModule, loadKitImageInto } from '../../testkit/kitImage.js';
import { freePort, portAccepts } from '../../testkit/ports.js';
import { PrivateDockerd, privateDockerdUnavailableReason } from '../../testkit/privateDockerd.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { tlsCertsUnavailableReason } from '../../testkit/tlsCerts.js';
import { waitUntil } from '../../testkit/wait.js';

const skipReason = !dockerAvailable() ? 'Docker is not available' : (privateDockerdUnavailableReason() ?? tlsCertsUnavailableReason());
if (skipReason) console.warn(`fleet.docker.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)(`one relay, two Docker engines${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const d = new PrivateDockerd({ tls: true, log: (m) => process.stdout.write(`[fleet-engine] ${m}\n`) });
  const sysName = uniqueName('hive-fleet-sys');
  const tlsName = uniqueName('hive-fleet-tls');
  const labName = uniqueName('hive-fleet-lab');
  const ports: { port: number }[] = [];
  let relay: RelayHandle;
  let image = '';

  const { get, spawn, target } = relayApi(() => relay.url);
  /** The session manager's own list in a container: where a spawn really landed. */
  const uuidsIn = async (cli: (args: string[]) => Promise<{ code: number | null; stdout: string }>, name: string) => (await cli(['exec', name, SESSION_MANAGER_PATH, 'list'])).stdout;

  beforeAll(async () => {
    await ensureImage();
    const [pSys, pTls] = [{ port: await freePort() }, { port: await freePort() }];
    ports.push(pSys, pTls);
    const kit = await kitModule();
    image = kit.IMAGE;
    // Speed 10: agents appear within a second or two of a spawn.
    const env = ['-e', 'HIVE_SIM_SPEED=10'];
    const sys = await dockerCli(['run', '-d', '--name', sysName, '--network', 'host', '-e', `MCP_TCP_PORT=${pSys.port}`, ...env, kit.IMAGE]);
    if (sys.code !== 0) throw new Error(`docker run failed: ${sys.stderr}`);
    await d.start();
    const loaded = await loadKitImageInto(d);
    const tls = await d.cli(['run', '-d', '--name', tlsName, '--network', 'host', '-e', `MCP_TCP_PORT=${pTls.port}`, ...env, loaded.image], 60_000);
    if (tls.code !== 0) throw new Error(`docker run on the private engine failed: ${tls.stderr}`);
    await waitUntil(async () => (await portAccepts(pSys.port)) && (await portAccepts(pTls.port)), 60_000, 100, 'both kit engines');
    // No `mcp` in either entry: the relay reads each container's MCP_TCP_PORT from its environment.
    const config = loadConfig({
      PORT: '0',
      HIVE_DRIVER: 'docker',
      HIVE_TARGETS: JSON.stringify([
        { name: 'sys', container: sysName },
        { name: 'tls', docker: d.tcp!.url, container: tlsName, tls: { certPath: d.tcp!.clientDir } },
      ]),
      HIVE_STATE_DIR: makeTempDir('hivescope-fleet-docker-'),
      HIVE_DEMO: '0',
      LOG_LEVEL: 'silent',
    });
    relay = await startRelay(config, pino({ level: 'silent' }));
    await waitUntil(async () => (await target('sys'))?.status === 'healthy' && (await target('tls'))?.status === 'healthy', 60_000, 200, 'both targets healthy');
  }, 300_000);

  afterAll(async () => {
    await relay?.close();
    await dockerCli(['rm', '-f', '-v', sysName]);
    await dockerCli(['rm', '-f', '-v', labName]);
    await d.close();
  }, 120_000);

  it('reports each target with its engine, container and MCP endpoint', async () => {
    const [sys, tls] = [(await target('sys'))!, (await target('tls'))!];
    expect(sys).toMatchObject({ source: 'config', lifecycle: 'running', container: sysName, telemetry: { state: 'connected', port: ports[0]!.port }, control: { backend: 'session-manager' } });
    expect(tls).toMatchObject({ source: 'config', lifecycle: 'running', container: tlsName, docker: `${d.tcp!.url} (TLS)`, telemetry: { state: 'connected', port: ports[1]!.port } });
    // A key path never shows.
    expect(JSON.stringify(tls)).not.toContain(d.tcp!.clientDir);
  });

  it('spawns land on the target asked for; without one the relay picks and says why; unknown targets are 404 naming those that exist', async () => {
    const onTls = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: on the TLS engine', target: 'tls' })).body);
    const onSys = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: on the machine engine', target: 'sys' })).body);
    expect([onTls.target, onTls.pickedBecause, onSys.target]).toEqual(['tls', null, 'sys']);
    // Each session is in its own container's registry only.
    expect(await uuidsIn((a) => d.cli(a), tlsName)).toContain(onTls.uuid);
    expect(await uuidsIn((a) => d.cli(a), tlsName)).not.toContain(onSys.uuid);
    expect(await uuidsIn(dockerCli, sysName)).toContain(onSys.uuid);
    expect(await uuidsIn(dockerCli, sysName)).not.toContain(onTls.uuid);
    // Lists filter by target and say which target each session is on.
    await waitUntil(async () => SessionsResponseSchema.parse((await get(`${routes.sessions.path}?target=tls`)).body).sessions.some((s) => s.uuid === onTls.uuid), 20_000, 100, 'the tls session listed');
    const tlsList = SessionsResponseSchema.parse((await get(`${routes.sessions.path}?target=tls`)).body).sessions;
    expect(tlsList.every((s) => s.target === 'tls')).toBe(true);
    expect(tlsList.map((s) => s.uuid)).not.toContain(onSys.uuid);

    const picked = await spawn({ customPrompt: 'fleet: wherever' });
    expect(picked.status).toBe(202);
    expect(InitializeSwarmResponseSchema.parse(picked.body).pickedBecause).toMatch(/^fewest running sessions/);

    for (const res of [await spawn({ target: 'nope' }), await get(`${routes.sessions.path}?target=nope`), await get(`${routes.botsAgents.path}?target=nope`)]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not-found', message: 'unknown target "nope"; targets: sys, tls' } });
    }
  });

  it("agents of both targets are in the one graph, with no id or node id clashing", async () => {
    await waitUntil(
      async () => {
        const agents = AgentsResponseSchema.parse((await get(routes.botsAgents.path)).body).agents;
        return agents.some((a) => a.target === 'sys') && agents.some((a) => a.target === 'tls');
      },
      30_000,
      200,
      'agents from both targets',
    );
    const agents = AgentsResponseSchema.parse((await get(routes.botsAgents.path)).body).agents;
    for (const a of agents) expect(a.id.startsWith(`${a.target}:`), a.id).toBe(true);
    expect(new Set(agents.map((a) => a.id)).size).toBe(agents.length);
    expect(new Set(agents.map((a) => a.nodeId)).size).toBe(agents.length);
    const tlsOnly = AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}?target=tls`)).body).agents;
    expect(tlsOnly.length).toBeGreaterThan(0);
    expect(tlsOnly.every((a) => a.target === 'tls')).toBe(true);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toContain('hivescope_target_health{target="tls",state="healthy"} 1');
    expect(metrics).toContain('hivescope_target_mcp_connected{target="sys"} 1');
  });

  it("SIGKILL of one engine leaves the other target's spawns and telemetry working; the killed target recovers when its engine returns", async () => {
    await d.stop('SIGKILL');
    await waitUntil(async () => (await target('tls'))?.control.state !== 'healthy', 30_000, 200, 'the tls target seen down');
    const tlsDown = await spawn({ customPrompt: 'fleet: on a dead engine', target: 'tls' });
    expect(tlsDown.status).toBeGreaterThanOrEqual(500);
    // The machine engine's target is untouched: a spawn lands, its session and agents arrive.
    const onSys = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: while the other engine is down', target: 'sys' })).body);
    expect(onSys.target).toBe('sys');
    expect(await uuidsIn(dockerCli, sysName)).toContain(onSys.uuid);
    await waitUntil(async () => AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}?target=sys`)).body).agents.some((a) => a.sessionUuid === onSys.uuid), 30_000, 200, 'agents of the new sys session');
    expect((await target('sys'))).toMatchObject({ status: 'healthy', telemetry: { state: 'connected' } });
    // Without a target, the pick skips the one that is down.
    const picked = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: picked while one is down' })).body);
    expect(picked.target).toBe('sys');

    await d.start();
    await waitUntil(async () => (await target('tls'))?.status === 'healthy', 60_000, 250, 'the tls target back by itself');
    const back = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: after the engine returned', target: 'tls' })).body);
    expect(await uuidsIn((a) => d.cli(a), tlsName)).toContain(back.uuid);
  });

  it('a container labelled org.hivescope.target started later joins by itself, and leaves (kept, stale) when removed', async () => {
    const port = await freePort();
    const run = await dockerCli(['run', '-d', '--name', labName, '--network', 'host', '--label', 'org.hivescope.target=lab', '-e', `MCP_TCP_PORT=${port}`, '-e', 'HIVE_SIM_SPEED=10', image]);
    expect(run.code, run.stderr).toBe(0);
    await waitUntil(async () => (await target('lab'))?.status === 'healthy', 60_000, 200, 'the labelled container joined');
    expect(await target('lab')).toMatchObject({ source: 'label', lifecycle: 'running', container: labName, telemetry: { port } });
    const onLab = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'fleet: on a discovered target', target: 'lab' })).body);
    expect(await uuidsIn(dockerCli, labName)).toContain(onLab.uuid);
    await waitUntil(async () => AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}?target=lab`)).body).agents.length > 0, 30_000, 200, 'agents of the discovered target');

    // HIVE_DISCOVER=1 without HIVE_TARGETS: a fleet on the environment's engine, its default target
    // beside the labelled container.
    const alone = await startRelay(
      loadConfig({ PORT: '0', HIVE_DRIVER: 'docker', HIVE_DISCOVER: '1', HIVE_CONTAINER: sysName, MCP_PORT: String(ports[0]!.port), HIVE_STATE_DIR: makeTempDir('hivescope-fleet-discover-'), HIVE_DEMO: '0', LOG_LEVEL: 'silent' }),
      pino({ level: 'silent' }),
    );
    try {
      const targets = async () => HealthSchema.parse(await (await fetch(`${alone.url}${routes.hybridStatus.path}`)).json()).targets!;
      await waitUntil(async () => (await targets()).some((t) => t.name === 'lab' && t.status === 'healthy'), 60_000, 200, 'the labelled container joined the discovering relay');
      expect((await targets()).map((t) => [t.name, t.source])).toEqual([['local', 'config'], ['lab', 'label']]);
      expect(alone.fleet.qualify).toBe(true);
    } finally {
      await alone.close();
    }

    expect((await dockerCli(['rm', '-f', '-v', labName])).code).toBe(0);
    await waitUntil(async () => (await target('lab'))?.lifecycle === 'gone', 30_000, 200, 'the removed container left');
    expect(await target('lab')).toMatchObject({ status: 'unavailable', degraded: [{ code: 'container-down' }] });
    // Its agents stay in the graph (the page greys them); nothing can be spawned there.
    expect(AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}?target=lab`)).body).agents.length).toBeGreaterThan(0);
    expect((await spawn({ customPrompt: 'fleet: on a gone target', target: 'lab' })).status).toBe(503);
    // The others are untouched.
    expect(await target('sys')).toMatchObject({ status: 'healthy' });
  });
});
