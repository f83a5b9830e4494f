import { afterEach, describe, expect, it } from 'vitest';
import { routes, InitializeSwarmResponseSchema } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until, tmpStateDir } from './testing/harness.js';
import { FakeDriver } from './testing/fakeDriver.js';
import type { SessionChange, ControlActivity, ControlHealth } from './planeEvents.js';
import { Registry } from 'prom-client';
import { registerControlMetrics } from './metrics.js';

let hs: (Harness & { fake: FakeDriver })[] = [];
afterEach(async () => {
  for (const h of hs) {
    expect(h.fake.violations).toEqual([]);
    await h.close();
  }
  hs = [];
});


async function dockerHarness(env: Record<string, string> = {}, stateDir?: string) {
  const fake = new FakeDriver('docker', 'hive-test');
  const h = await startHarness({ driver: fake, env: { HIVE_CONTAINER: 'hive-test', ...env }, ...(stateDir ? { stateDir } : {}) });
  hs.push(h);
  return h;
}

async function spawnRunning(h: Harness & { fake: FakeDriver }, changes: SessionChange[], task: string) {
  const { uuid } = InitializeSwarmResponseSchema.parse((await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, customPrompt: task })).body);
  await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null && c.status === 'running'), 5000, `${uuid} running`);
  return uuid;
}

describe('container restarts', () => {
  it('health follows Docker events: die -> unavailable (container-down), start -> healthy', async () => {
    const h = await dockerHarness();
    const health: ControlHealth[] = [];
    h.cp.on('health', (x) => health.push(x));
    await until(() => h.cp.health().state === 'healthy', 5000, 'healthy');
    expect(h.cp.health()).toMatchObject({ driver: 'docker', container: 'hive-test', backend: 'session-manager' });
    h.fake.emitEvent('die');
    expect(h.cp.health().state).toBe('unavailable');
    expect(h.cp.degraded()).toEqual([expect.objectContaining({ code: 'container-down', action: expect.stringContaining('docker start hive-test') })]);
    h.fake.emitEvent('start');
    await until(() => h.cp.health().state === 'healthy', 5000, 'healthy again');
    expect(health.map((x) => x.state)).toEqual(expect.arrayContaining(['unavailable', 'healthy']));
    h.fake.emitEvent('pause');
    expect(h.cp.health().state).toBe('unavailable');
    expect(h.cp.degraded()[0]!.action).toBe('docker unpause hive-test');
    h.fake.emitEvent('unpause');
    expect(h.cp.health().state).toBe('healthy');
  });

  it('an exec refused because the container is paused does not mark it stopped: unpause makes control healthy at once', async () => {
    const h = await dockerHarness();
    await until(() => h.cp.health().state === 'healthy', 5000, 'healthy');
    h.fake.emitEvent('pause');
    h.fake.failures.push('container-not-running');
    expect((await h.call('POST', routes.initializeSwarm.path, validSpawn)).status).toBe(503);
    expect(h.cp.degraded()[0]!.action).toBe('docker unpause hive-test');
    // No probe runs in this harness: only the unpause event can bring control back.
    h.fake.emitEvent('unpause');
    expect(h.cp.health().state).toBe('healthy');
    expect(h.cp.degraded()).toEqual([]);
  });

  it('re-spawns the sessions that were running, each linked to the one it replaces, once', async () => {
    const h = await dockerHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const a = await spawnRunning(h, changes, 'task a');
    const b = await spawnRunning(h, changes, 'task b');
    await h.cp.stopSession(b);
    // The container dies; its runners die with it.
    h.fake.emitEvent('die');
    h.fake.dead.add(a);
    h.fake.emitEvent('start');
    await until(() => changes.some((c) => c.replaces === a), 5000, 'restored');
    const restored = changes.find((c) => c.replaces === a)!;
    expect(restored.uuid).not.toBe(a);
    const create = h.fake.calls.filter((c) => c.argv[1] === 'create').at(-1)!;
    expect(create.argv[2]).toBe('task a');
    expect(JSON.parse(create.argv[4]!)).toMatchObject({ replaces: a, topology: 'mesh', maxAgents: 5, agentTypes: ['coordinator', 'coder'] });
    await until(() => h.cp.sessions().sessions.find((s) => s.uuid === a)?.status === 'interrupted', 5000, 'old one interrupted');
    // The stopped one is not restored, and a second start event restores nothing twice.
    expect(changes.some((c) => c.replaces === b)).toBe(false);
    const creates = h.fake.calls.filter((c) => c.argv[1] === 'create').length;
    h.fake.emitEvent('restart');
    h.fake.emitEvent('start');
    await new Promise((r) => setTimeout(r, 100));
    expect(h.fake.calls.filter((c) => c.argv[1] === 'create').length).toBe(creates);
  });

  it('with HIVE_RESTORE=0 nothing is re-spawned', async () => {
    const h = await dockerHarness({ HIVE_RESTORE: '0' });
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const a = await spawnRunning(h, changes, 'task a');
    h.fake.emitEvent('die');
    h.fake.dead.add(a);
    h.fake.emitEvent('start');
    await until(() => h.cp.sessions().sessions.find((s) => s.uuid === a)?.status === 'interrupted', 5000, 'interrupted');
    expect(changes.some((c) => c.replaces !== null)).toBe(false);
  });

  it('a restart the event stream missed is caught by the probe (new StartedAt)', async () => {
    const h = await dockerHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const a = await spawnRunning(h, changes, 'task a');
    h.fake.dead.add(a);
    h.fake.state = { ...h.fake.state, startedAt: '2026-11-21T09:99:99Z' };
    await h.cp.probe();
    await until(() => changes.some((c) => c.replaces === a), 5000, 'restored after missed restart');
  });

  it('Docker unreachable: unavailable with a docker-unavailable mode, cached sessions stay visible but stale', async () => {
    const h = await dockerHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    await spawnRunning(h, changes, 'task a');
    h.fake.failures.push('docker-unavailable');
    await h.cp.probe();
    expect(h.cp.health().state).toBe('unavailable');
    expect(h.cp.degraded().map((d) => d.code)).toContain('docker-unavailable');
    const list = h.cp.sessions();
    expect(list.stale).toBe(true);
    expect(list.sessions).toHaveLength(1);
  });
});

describe('events, reaper, metrics, persistence', () => {
  it('emits activity for spawn, swarm id and reaped sessions', async () => {
    const h = await dockerHarness();
    const acts: ControlActivity[] = [];
    const changes: SessionChange[] = [];
    h.cp.on('activity', (a) => acts.push(a));
    h.cp.on('session', (c) => changes.push(c));
    const a = await spawnRunning(h, changes, 'task a');
    h.fake.dead.add(a);
    expect(await h.cp.reap()).toEqual([a]);
    expect(acts.map((x) => x.kind)).toEqual(expect.arrayContaining(['spawn', 'status']));
    expect(acts.find((x) => x.message.includes('interrupted'))).toMatchObject({ level: 'warn', sessionUuid: a });
    expect(changes.at(-1)).toMatchObject({ uuid: a, status: 'interrupted' });
  });

  it('one list exec serves concurrent readers (single flight)', async () => {
    const h = await dockerHarness();
    h.fake.latencyMs = 30;
    const before = h.fake.calls.filter((c) => c.argv[1] === 'list').length;
    await Promise.all(Array.from({ length: 20 }, () => h.cp.listSessions()));
    expect(h.fake.calls.filter((c) => c.argv[1] === 'list').length - before).toBe(1);
  });

  it('renders Prometheus text with the histogram, failures by kind, breaker and sessions by status', async () => {
    const h = await dockerHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    await spawnRunning(h, changes, 'task a');
    h.fake.failures.push('parse-error');
    await h.cp.listSessions().catch(() => undefined);
    const registry = new Registry();
    registerControlMetrics(registry, h.cp.execFamilies, () => [['local', h.cp]]);
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE hivescope_exec_duration_seconds histogram$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="\+Inf",target="local"\} \d+$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{target="local",kind="parse-error"\} 1$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{target="local",state="closed"\} 1$/m);
    expect(text).toMatch(/^hivescope_sessions\{target="local",status="running"\} 1$/m);
    // prom-client separates families with an empty line (valid exposition format); every other line is checked.
    for (const line of text.trim().split('\n').filter((l) => l !== '')) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\} -?[\d.e+]+)$/);
  });

  it('the uuid -> swarm id map survives a relay restart', async () => {
    const h1 = await dockerHarness();
    const changes: SessionChange[] = [];
    h1.cp.on('session', (c) => changes.push(c));
    const a = await spawnRunning(h1, changes, 'task a');
    const swarmId = changes.find((c) => c.uuid === a && c.swarmId)!.swarmId;
    await h1.close();
    hs = hs.filter((x) => x !== h1);
    // A new relay over a registry that lost the swarm id (e.g. an older kit): the relay's record fills it in.
    const fake2 = new FakeDriver('docker', 'hive-test');
    fake2.registry.set(a, { ...h1.fake.registry.get(a)!, swarm_id: null });
    fake2.swarmIdAfterLists = 1e9;
    const h2 = await startHarness({ driver: fake2, env: { HIVE_CONTAINER: 'hive-test' }, stateDir: h1.stateDir });
    hs.push(h2);
    expect((await h2.cp.listSessions()).sessions.find((s) => s.uuid === a)?.swarmId).toBe(swarmId);
  });

  it('a corrupt state file does not stop the relay', async () => {
    const h1 = await dockerHarness();
    await h1.close();
    hs = hs.filter((x) => x !== h1);
    const fs = await import('node:fs');
    fs.writeFileSync(`${h1.stateDir}/control/sessions.json`, '{"version": 1, "sessions": ');
    const h2 = await dockerHarness({}, h1.stateDir);
    expect(h2.cp.health().state).toBe('healthy');
    expect(fs.existsSync(`${h1.stateDir}/control/sessions.json.corrupt`)).toBe(true);
  });
});

describe('one plane per Docker target', () => {
  it('two planes over two containers keep their own health, sessions and record (deps.stateDir)', async () => {
    const fs = await import('node:fs');
    const shared = tmpStateDir();
    const [dirA, dirB] = [tmpStateDir(), tmpStateDir()];
    const a = await startHarness({ driver: new FakeDriver('docker', 'hive-a'), stateDir: shared, deps: { stateDir: dirA } });
    const b = await startHarness({ driver: new FakeDriver('docker', 'hive-b'), stateDir: shared, deps: { stateDir: dirB } });
    hs.push(a, b);
    const changes: SessionChange[] = [];
    a.cp.on('session', (c) => changes.push(c));
    const ua = await spawnRunning(a, changes, 'task a');
    expect(b.cp.sessions().sessions).toEqual([]);
    a.fake.emitEvent('die');
    expect(a.cp.health()).toMatchObject({ state: 'unavailable', container: 'hive-a' });
    expect(b.cp.health()).toMatchObject({ state: 'healthy', container: 'hive-b' });
    a.cp.store.flush();
    expect(JSON.parse(fs.readFileSync(`${dirA}/control/sessions.json`, 'utf8')).sessions).toHaveProperty(ua);
    expect(fs.existsSync(`${shared}/control/sessions.json`)).toBe(false);
  });
});
