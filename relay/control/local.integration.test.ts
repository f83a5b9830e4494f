// Real child processes: the local driver, and the control plane running the kit's compiled session
// manager and engine (dist/, built by vitest's global setup) exactly as `npm start` does.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { LocalDriver } from './drivers/local.js';
import { ControlError } from './errors.js';
import { createControlPlane, type ControlPlane, type SessionChange } from './index.js';
import { controlRoutes } from '../http/controlRoutes.js';
import { loadConfig } from '../config.js';
import { tmpStateDir, validSpawn, until as waitUntil } from './testing/harness.js';
import { routes, SessionsResponseSchema } from '../../shared/api.js';
import { localEngineMain, localSessionManagerCli } from './paths.js';
import { SessionManagerBackend } from './backends/sessionManager.js';
import { pidAlive as alive } from '../../testkit/processes.js';
import { freePort } from '../../testkit/ports.js';

// Integration waits are longer than the harness default.
const until = (cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition') => waitUntil(cond, ms, what);

describe('local driver', () => {
  const d = new LocalDriver();
  afterAll(() => d.close());
  const o = { timeoutMs: 5000, maxOutputBytes: 1024 * 1024 };

  it('runs argv without a shell: metacharacters arrive literally', async () => {
    const r = await d.exec([process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '$(id)', '; ls', '`x`'], o);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['$(id)', '; ls', '`x`']);
  });

  it('returns exit code and stderr', async () => {
    const r = await d.exec([process.execPath, '-e', 'console.error("bad thing"); process.exit(3)'], o);
    expect(r).toMatchObject({ exitCode: 3, stderr: 'bad thing\n' });
  });

  it('times out and kills the whole process group (grandchildren too)', async () => {
    const pidFile = `${tmpStateDir()}/grandchild.pid`;
    const script = `const c = require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
    const err = await d.exec([process.execPath, '-e', script], { ...o, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlError);
    expect((err as ControlError).kind).toBe('timeout');
    const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
    await until(() => !alive(grandchild), 5000, 'grandchild gone');
  });

  it('fails (never truncates) output over the cap', async () => {
    const err = await d.exec([process.execPath, '-e', 'process.stdout.write("x".repeat(200000))'], { ...o, maxOutputBytes: 1024 }).catch((e: unknown) => e);
    expect((err as ControlError).kind).toBe('output-too-large');
  });

  it('a missing command is command-failed', async () => {
    const err = await d.exec(['/nonexistent/hivescope-binary'], o).catch((e: unknown) => e);
    expect((err as ControlError).kind).toBe('command-failed');
  });

  it('refuses NUL in argv before spawning', async () => {
    await expect(d.exec(['echo', 'a\u0000b'], o)).rejects.toThrow(/NUL/);
  });

  it('outputFile: a detached command\'s stdout and stderr are appended to the file (its folder made), the task text one argv element unchanged', async () => {
    const dir = fs.mkdtempSync(`${os.tmpdir()}/hivescope-outfile-`);
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = `${dir}/not yet/there/out.log`;
    const task = 'it\'s "quoted" $(id) `whoami` ; ls\nsecond line $HOME && exit 1 | cat > /tmp/x';
    const prog = 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n"); process.stderr.write("on stderr\\n")';
    const first = await d.exec([process.execPath, '-e', prog, task], { ...o, detached: true, outputFile: file });
    expect(first.exitCode).toBe(0);
    await until(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('on stderr\n'), 10_000, 'output in the file');
    await d.exec([process.execPath, '-e', prog, 'second'], { ...o, detached: true, outputFile: file });
    await until(() => fs.readFileSync(file, 'utf8').split('on stderr\n').length === 3, 10_000, 'the second run appended');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(JSON.parse(lines[0]!)).toEqual([task]);
    expect(lines).toEqual([lines[0], 'on stderr', JSON.stringify(['second']), 'on stderr', '']);
  });

  it('detached commands get their own group and die on close()', async () => {
    const d2 = new LocalDriver();
    const r = await d2.exec([process.execPath, '-e', 'setInterval(() => {}, 1000)'], { ...o, detached: true });
    expect(r.pid).toBeGreaterThan(0);
    expect(alive(r.pid!)).toBe(true);
    await d2.close();
    await until(() => !alive(r.pid!), 5000, 'detached child gone');
  });
});

const kitBuilt = fs.existsSync(localSessionManagerCli()) && fs.existsSync(localEngineMain());

describe.skipIf(!kitBuilt)('listing at scale through the kit\'s session manager', () => {
  // Regression: the CLI used to exit before stdout drained, cutting piped output at the pipe buffer
  // (64-128 KB), so a registry of ~1000 sessions arrived truncated and the relay answered parse-error.
  it('lists 1000 sessions with one exec', async () => {
    const dir = tmpStateDir();
    const root = `${dir}/hive`;
    fs.mkdirSync(`${root}/.swarm/sessions`, { recursive: true });
    const sessions: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) {
      const u = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
      sessions[u] = { task: `task ${i} ${'x'.repeat(200)}`, status: 'completed', created: new Date().toISOString(), updated: new Date().toISOString(), last_activity: new Date().toISOString(), dir: `${root}/.swarm/sessions/${u}`, priority: 'medium', metadata: null, swarm_id: null, runner_pid: null, runner_pgid: null, engine: null, replaces: null, progress: null, agent_count: null };
    }
    fs.writeFileSync(`${root}/.swarm/sessions/index.json`, JSON.stringify({ sessions, created: new Date().toISOString() }));
    const d = new LocalDriver({ env: { HIVE_ROOT: root } });
    const b = new SessionManagerBackend((argv, o) => d.exec(argv, { timeoutMs: 30_000, maxOutputBytes: 16 << 20, ...(o.detached ? { detached: true } : {}) }), [process.execPath, localSessionManagerCli()]);
    try {
      const { sessions: listed } = await b.list();
      expect(listed).toHaveLength(1000);
    } finally {
      await d.close();
    }
  });
});

describe.skipIf(!kitBuilt)('control plane with the local driver and the kit\'s session manager + engine', () => {
  let cp: ControlPlane;
  let stateDir: string;
  let url: string;
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  const changes: SessionChange[] = [];
  let enginePid: number | null = null;

  beforeAll(async () => {
    process.env.HIVE_SIM_SPEED = '1'; // slow enough that a swarm is still running when the test pauses it
    stateDir = tmpStateDir();
    const config = loadConfig({ HIVE_STATE_DIR: stateDir, HIVE_DRIVER: 'local', HIVE_EMBEDDED: '1', MCP_PORT: String(await freePort()), LOG_LEVEL: 'silent' });
    cp = await createControlPlane({ config, logger: pino({ level: 'silent' }), timing: { probeMs: 1000, reapMs: 3_600_000, listTtlMs: 0 } });
    cp.on('session', (c) => changes.push(c));
    await cp.engine!.ready();
    enginePid = cp.engine!.pid;
    const app = express();
    app.use(controlRoutes(cp));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    await cp?.close();
    if (enginePid) expect(alive(enginePid)).toBe(false);
  });

  afterEach(() => {
    changes.length = 0;
  });

  const post = async (p: string, body?: unknown) => {
    const res = await fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('reports the local driver, the session manager backend and a healthy plane', async () => {
    await until(() => cp.health().state === 'healthy', 10_000, 'healthy');
    expect(cp.health()).toMatchObject({ driver: 'local', backend: 'session-manager', container: null, breaker: 'closed' });
  });

  it('spawns: 202 with the uuid at once, then the swarm id as a session event; lists, pauses, resumes, stops', async () => {
    const r = await post(routes.initializeSwarm.path, validSpawn);
    expect(r.status).toBe(202);
    const uuid = r.body.uuid as string;
    expect(r.body).toEqual({ uuid, status: 'spawning', swarmId: null, target: 'local', pickedBecause: null });
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null && c.status === 'running'), 30_000, 'swarm id event');
    const listed = SessionsResponseSchema.parse(await (await fetch(url + routes.sessions.path)).json());
    expect(listed.sessions.find((s) => s.uuid === uuid)).toMatchObject({ status: 'running', swarmId: expect.stringMatching(/^swarm-/), task: validSpawn.customPrompt });
    expect((await post(`/api/bots/pause-task/${uuid}`)).body).toEqual({ uuid, status: 'paused' });
    expect((await post(`/api/bots/resume-task/${uuid}`)).body).toEqual({ uuid, status: 'running' });
    const stop = await fetch(`${url}/api/bots/remove-task/${uuid}`, { method: 'DELETE' });
    expect(await stop.json()).toEqual({ uuid, status: 'stopped' });
    const s = await cp.getSession(uuid);
    expect(s.status).toBe('stopped');
  });

  it('pausing a stopped session is a 409 conflict from the kit', async () => {
    const r = await post(routes.initializeSwarm.path, validSpawn);
    const uuid = r.body.uuid as string;
    await until(() => changes.some((c) => c.uuid === uuid && c.status === 'running'), 30_000, 'running');
    await cp.stopSession(uuid);
    const res = await post(`/api/bots/pause-task/${uuid}`);
    expect(res.status).toBe(409);
    expect((res.body.error as { code: string }).code).toBe('conflict');
  });

  it('the reaper marks sessions the engine lost (engine killed and restarted) as interrupted', async () => {
    const r = await post(routes.initializeSwarm.path, validSpawn);
    const uuid = r.body.uuid as string;
    await until(() => changes.some((c) => c.uuid === uuid && c.status === 'running'), 30_000, 'running');
    const pid = cp.engine!.pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => cp.engine!.pid !== null && cp.engine!.pid !== pid, 15_000, 'engine restarted');
    await cp.engine!.ready();
    enginePid = cp.engine!.pid;
    await until(async () => (await cp.reap()).includes(uuid) || (await cp.getSession(uuid)).status === 'interrupted', 20_000, 'reaped');
    expect((await cp.getSession(uuid)).status).toBe('interrupted');
    expect(changes.some((c) => c.uuid === uuid && c.status === 'interrupted')).toBe(true);
  });

  it('the uuid -> swarm id map survives a relay restart (persisted under stateDir)', async () => {
    const stored = JSON.parse(fs.readFileSync(`${stateDir}/control/sessions.json`, 'utf8').length ? (cp.store.flush(), fs.readFileSync(`${stateDir}/control/sessions.json`, 'utf8')) : '{}') as {
      sessions: Record<string, { swarmId: string | null }>;
    };
    const withIds = Object.values(stored.sessions).filter((s) => s.swarmId);
    expect(withIds.length).toBeGreaterThan(0);
  });

  it('never orphans: when the relay is killed with SIGKILL, its engine ends at once and its swarm runners after the engine wait', async () => {
    const dir = tmpStateDir();
    const child = spawn(process.execPath, [fileURLToPath(new URL('./testing/relayProcess.mjs', import.meta.url))], {
      env: { ...process.env, HIVE_STATE_DIR: dir, HIVE_DRIVER: 'local', HIVE_EMBEDDED: '1', MCP_PORT: String(await freePort()), LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // However this test ends, the relay process it started must not outlive it.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await until(() => out.includes('\n'), 30_000, 'relay child ready');
    const { enginePid, uuid } = JSON.parse(out.split('\n')[0]!) as { enginePid: number; uuid: string };
    // Every process of this relay's hive carries its HIVE_ROOT (the runner, if it still runs, too).
    const hiveProcs = () =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return fs.readFileSync(`/proc/${d}/environ`, 'utf8').includes(`HIVE_ROOT=${dir}/hive`);
          } catch {
            return false;
          }
        })
        .map(Number);
    expect(alive(enginePid)).toBe(true);
    expect(hiveProcs()).toContain(enginePid);
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    child.kill('SIGKILL');
    await until(() => !alive(enginePid), 10_000, 'engine gone after the relay was killed');
    // A runner waits HIVE_ENGINE_WAIT_MS (30 s) for its engine to come back, then ends.
    await until(() => hiveProcs().length === 0, 60_000, 'no process of the killed relay left');
  }, 120_000);

  it('restarts the embedded engine when it dies', async () => {
    const pid = cp.engine!.pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => cp.engine!.pid !== null && cp.engine!.pid !== pid && cp.engine!.running, 15_000, 'engine restarted');
    enginePid = cp.engine!.pid;
    await cp.engine!.ready();
  });
});
