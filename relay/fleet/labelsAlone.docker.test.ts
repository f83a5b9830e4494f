// A fleet of labelled containers alone (HIVE_TARGETS=[], docs/fleet.md section 5) on the machine's dockerd:
// the relay starts with no target and says so; a kit container started with the label joins by itself
// (its MCP port read from its environment) and a spawn without a target lands in it; removed, the relay is
// back to no target. The Docker pass runs one file at a time, so no other labelled container runs on the
// engine meanwhile; the label's name is unique to this run all the same.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { AgentsResponseSchema, InitializeSwarmResponseSchema, routes } from '../../shared/api.js';
import { HealthSchema, type Health } from '../../shared/model/health.js';
import { relayApi } from '../../testkit/relayApi.js';
import { SESSION_MANAGER_PATH } from '../control/backends/sessionManager.js';
import { dockerCli, uniqueName } from '../../testkit/docker.js';
import { dockerAvailable } from '../../testkit/kitContainer.js';
import { ensureImage, kitModule } from '../../testkit/kitImage.js';
import { freePort } from '../../testkit/ports.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { waitUntil } from '../../testkit/wait.js';
import { TARGET_LABEL } from './discovery.js';

const skipReason = dockerAvailable() ? null : 'Docker is not available';
if (skipReason) console.warn(`labelsAlone.docker.test.ts skipped: ${skipReason}`);

describe.skipIf(skipReason !== null)(`HIVE_TARGETS=[] on the machine's dockerd${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const name = uniqueName('hive-solo');
  const label = uniqueName('solo');
  let relay: RelayHandle;
  let image = '';

  const { get, spawn, target } = relayApi(() => relay.url);
  const health = async (): Promise<Health> => HealthSchema.parse((await get(routes.hybridStatus.path)).body);

  beforeAll(async () => {
    await ensureImage();
    image = (await kitModule()).IMAGE;
    await dockerCli(['rm', '-f', '-v', name]);
    relay = await startRelay(
      loadConfig({ PORT: '0', HIVE_DRIVER: 'docker', HIVE_TARGETS: '[]', HIVE_STATE_DIR: makeTempDir('hivescope-labels-docker-'), HIVE_DEMO: '0', HIVE_STALE_TTL: '1', LOG_LEVEL: 'silent' }),
      pino({ level: 'silent' }),
    );
  }, 300_000);

  afterAll(async () => {
    await relay?.close();
    await dockerCli(['rm', '-f', '-v', name]);
  }, 60_000);

  it('starts with no target: health says so and how one joins, a spawn is 503 with that hint', async () => {
    expect(relay.config.targets).toEqual([]);
    expect(relay.fleet.targets.size).toBe(0);
    const h = await health();
    expect(h).toMatchObject({ status: 'unavailable', targets: [], control: { container: null }, degraded: [{ code: 'container-down', message: expect.stringMatching(/^No target yet: no container labelled org\.hivescope\.target runs on /) }] });
    const r = await spawn({ customPrompt: 'labels alone: no target yet' });
    expect(r).toMatchObject({ status: 503, body: { error: { code: 'no-healthy-target', message: expect.stringContaining(`docker run --label ${TARGET_LABEL}=<name>`) } } });
    expect(await get(routes.sessions.path)).toEqual({ status: 200, body: { sessions: [], stale: false } });
    expect((await fetch(`${relay.url}/metrics`)).status).toBe(200);
  });

  it('a labelled kit container started later joins, and a spawn without a target lands in it', async () => {
    const port = await freePort();
    const run = await dockerCli(['run', '-d', '--name', name, '--network', 'host', '--label', `${TARGET_LABEL}=${label}`, '-e', `MCP_TCP_PORT=${port}`, '-e', 'HIVE_SIM_SPEED=10', image]);
    expect(run.code, run.stderr).toBe(0);
    await waitUntil(async () => (await target(label))?.status === 'healthy', 60_000, 200, 'the labelled container joined');
    // Its MCP port from the container's environment, on the environment's engine.
    expect(await target(label)).toMatchObject({ source: 'label', lifecycle: 'running', container: name, telemetry: { state: 'connected', port }, control: { backend: 'session-manager' } });
    // No target named: the pick has one healthy target to choose.
    const s = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'labels alone: on the labelled container' })).body);
    expect(s).toMatchObject({ target: label, pickedBecause: 'fewest running sessions (0) among 1 healthy target' });
    expect((await dockerCli(['exec', name, SESSION_MANAGER_PATH, 'list'])).stdout).toContain(s.uuid);
    await waitUntil(async () => AgentsResponseSchema.parse((await get(`${routes.botsAgents.path}?target=${label}`)).body).agents.some((a) => a.sessionUuid === s.uuid), 30_000, 200, "the session's agents");
  });

  it('removed, it leaves: the relay is back to no target', async () => {
    expect((await dockerCli(['rm', '-f', '-v', name])).code).toBe(0);
    // Gone (its swarms stale) for HIVE_STALE_TTL, 1 s, then dropped.
    await waitUntil(async () => (await health()).targets?.length === 0, 30_000, 200, 'the removed container dropped');
    expect(relay.fleet.targets.size).toBe(0);
    expect(await health()).toMatchObject({ status: 'unavailable', targets: [], control: { container: null }, degraded: [{ code: 'container-down', message: expect.stringMatching(/^No target yet/) }] });
    expect(await spawn({ customPrompt: 'labels alone: after it left' })).toMatchObject({ status: 503, body: { error: { code: 'no-healthy-target', message: expect.stringMatching(/^no target yet: /) } } });
    expect(AgentsResponseSchema.parse((await get(routes.botsAgents.path)).body).agents).toEqual([]);
  });
});
