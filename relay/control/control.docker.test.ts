// Real Docker engine, a container from the kit's image (kitContainer.ts; a local fallback without it):
// the docker driver (framing, exit codes, caps, timeouts), and the control plane through HTTP across
// docker restart and docker pause. One unique container per file, removed afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { DockerDriver } from './drivers/docker.js';
import { ControlError } from './errors.js';
import { createControlPlane, type ControlPlane, type SessionChange, type ControlHealth } from './index.js';
import { controlRoutes } from '../http/controlRoutes.js';
import { loadConfig } from '../config.js';
import { tmpStateDir, validSpawn, until as waitUntil } from './testing/harness.js';
import { dockerAvailable, removeContainer, startKitContainer, kitContainerSource } from '../../testkit/kitContainer.js';
import { containerId, pauseWhenIdle, unpauseContainer } from '../../testkit/docker.js';
import fs from 'node:fs';
import { repoRoot } from './paths.js';
import { routes, SessionsResponseSchema } from '../../shared/api.js';

const NAME = `hivescope-control-${process.pid}`;
const haveDocker = dockerAvailable();
const o = { timeoutMs: 10_000, maxOutputBytes: 4 * 1024 * 1024 };

// Integration waits are longer than the harness default.
const until = (cond: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition') => waitUntil(cond, ms, what);

describe.skipIf(!haveDocker)('docker driver and control plane against a real engine', () => {
  let d: DockerDriver;
  let cp: ControlPlane;
  let server: ReturnType<ReturnType<typeof express>['listen']>;
  let url: string;
  const changes: SessionChange[] = [];
  const health: ControlHealth[] = [];

  beforeAll(async () => {
    await startKitContainer(NAME);
    d = new DockerDriver(NAME);
    await until(async () => (await d.exec(['test', '-x', '/app/scripts/hive-session-manager.sh'], o)).exitCode === 0, 30_000, 'container ready');
  });

  afterAll(async () => {
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await cp?.close();
    await d?.close();
    await removeContainer(NAME);
  });

  it('runs against the kit\'s image (scripts/container.mjs) when the kit has one', () => {
    expect(kitContainerSource).toBe(fs.existsSync(`${repoRoot()}/scripts/container.mjs`) ? 'kit-image' : 'local-fallback');
  });

  it('demultiplexes stdout and stderr and reads the exit code after the stream ended', async () => {
    const r = await d.exec(['sh', '-c', 'echo out; echo err >&2; exit 7'], o);
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('passes argv literally (no shell) and env', async () => {
    const r = await d.exec(['node', '-e', 'process.stdout.write(JSON.stringify([process.argv.slice(1), process.env.HS_X]))', '$(id)', '; ls'], { ...o, env: { HS_X: 'a b' } });
    expect(JSON.parse(r.stdout)).toEqual([['$(id)', '; ls'], 'a b']);
  });

  it('outputFile: a detached command runs under the constant sh -c wrapper; the task text reaches it as one argv element unchanged and its stdout+stderr are appended to the file', async () => {
    const file = `/tmp/hivescope out/${process.pid}/spawn.log`;
    const task = 'it\'s "quoted" $(id) `whoami` ; ls\nsecond line $HOME && exit 1 | cat > /tmp/x';
    const prog = 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n"); process.stderr.write("on stderr\\n")';
    await d.exec(['node', '-e', prog, task], { ...o, detached: true, outputFile: file });
    await until(async () => (await d.exec(['cat', file], o)).stdout.includes('on stderr\n'), 10_000, 'output in the file');
    await d.exec(['node', '-e', prog, 'second'], { ...o, detached: true, outputFile: file });
    await until(async () => (await d.exec(['cat', file], o)).stdout.split('on stderr\n').length === 3, 10_000, 'the second run appended');
    const lines = (await d.exec(['cat', file], o)).stdout.split('\n');
    expect(JSON.parse(lines[0]!)).toEqual([task]);
    expect(lines).toEqual([lines[0], 'on stderr', JSON.stringify(['second']), 'on stderr', '']);
    // Nothing the task text names ran or was written.
    expect((await d.exec(['test', '-e', '/tmp/x'], o)).exitCode).not.toBe(0);
  });

  it('returns 1 MB of output byte-exact across many frames', async () => {
    const r = await d.exec(['node', '-e', 'for (let i = 0; i < 1024; i++) process.stdout.write(String(i % 10).repeat(1024))'], o);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.stdout.slice(1024 * 5, 1024 * 5 + 3)).toBe('555');
  });

  it('fails output over the cap instead of truncating it', async () => {
    const err = await d.exec(['node', '-e', 'process.stdout.write("x".repeat(100000))'], { ...o, maxOutputBytes: 1024 }).catch((e: unknown) => e);
    expect((err as ControlError).kind).toBe('output-too-large');
  });

  it('times out a command that hangs, and the command does not linger in the container', async () => {
    expect(await d.probeTimeoutWrapper()).toBe(true);
    const err = await d.exec(['sleep', '37'], { ...o, timeoutMs: 500 }).catch((e: unknown) => e);
    expect((err as ControlError).kind).toBe('timeout');
    await until(async () => !(await d.exec(['ps', '-o', 'args'], o)).stdout.includes('sleep 37'), 10_000, 'sleep 37 gone');
  });

  it('a timed-out script run through its shebang, with a child, is ended whole: nothing lingers, no zombie', async () => {
    // ps shows it as `/bin/sh /tmp/hivescope-two.sh` (as claude-flow's bin shows as `node /usr/local/bin/claude-flow`):
    // matching the joined argv alone never found it, so it ran on with its child after every timeout.
    const script = '/tmp/hivescope-two.sh';
    expect((await d.exec(['sh', '-c', 'printf "#!/bin/sh\\nsleep 41\\necho done\\n" > "$0" && chmod +x "$0"', script], o)).exitCode).toBe(0);
    const err = await d.exec([script], { ...o, timeoutMs: 800 }).catch((e: unknown) => e);
    expect((err as ControlError).kind).toBe('timeout');
    const table = async () => (await d.exec(['ps', '-o', 'pid,ppid,stat,args'], o)).stdout;
    await until(async () => !/hivescope-two\.sh|sleep 41/.test(await table()), 10_000, 'the script and its sleep gone');
    expect((await table()).split('\n').filter((l) => /\sZ\s/.test(l))).toEqual([]);
  });

  it('a missing container is container-not-running; an unreachable engine is docker-unavailable', async () => {
    const missing = new DockerDriver(`${NAME}-missing`);
    expect(((await missing.exec(['true'], o).catch((e: unknown) => e)) as ControlError).kind).toBe('container-not-running');
    const nowhere = new DockerDriver(NAME, new Docker({ socketPath: '/tmp/hivescope-no-such-docker.sock' }));
    expect(((await nowhere.exec(['true'], o).catch((e: unknown) => e)) as ControlError).kind).toBe('docker-unavailable');
    await missing.close();
    await nowhere.close();
  });

  it('control plane: detects the session manager, spawns through HTTP, swarm id arrives as an event', async () => {
    const config = loadConfig({ HIVE_STATE_DIR: tmpStateDir(), HIVE_DRIVER: 'docker', HIVE_CONTAINER: NAME, LOG_LEVEL: 'silent' });
    cp = await createControlPlane({ config, logger: pino({ level: 'silent' }), timing: { probeMs: 1000, reapMs: 3_600_000, listTtlMs: 0 } });
    cp.on('session', (c) => changes.push(c));
    cp.on('health', (h) => health.push(h));
    const app = express();
    app.use(controlRoutes(cp));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(cp.health()).toMatchObject({ driver: 'docker', backend: 'session-manager', container: NAME });
    const res = await fetch(url + routes.initializeSwarm.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validSpawn) });
    expect(res.status).toBe(202);
    const { uuid } = (await res.json()) as { uuid: string };
    await until(() => changes.some((c) => c.uuid === uuid && c.status === 'running' && c.swarmId !== null), 30_000, 'swarm id event');
    const list = SessionsResponseSchema.parse(await (await fetch(url + routes.sessions.path)).json());
    expect(list.sessions.find((s) => s.uuid === uuid)).toMatchObject({ status: 'running', backend: 'session-manager' });
    await until(() => cp.health().state === 'healthy', 10_000, 'healthy');
    expect(cp.health().execLatencyMs).not.toBeNull();
  });

  it('docker restart: unavailable, then back; the running session is re-spawned linked to the one it replaces', async () => {
    const running = cp.sessions().sessions.find((s) => s.status === 'running')!;
    expect(running).toBeDefined();
    await new Docker().getContainer(NAME).restart({ t: 1 });
    await until(() => health.some((h) => h.state === 'unavailable'), 30_000, 'unavailable seen');
    await until(() => changes.some((c) => c.replaces === running.uuid), 30_000, 'restored');
    const restored = changes.find((c) => c.replaces === running.uuid)!;
    await until(() => changes.some((c) => c.uuid === restored.uuid && c.status === 'running' && c.swarmId !== null), 30_000, 'restored running');
    await until(() => cp.health().state === 'healthy', 10_000, 'healthy again');
    const old = await cp.getSession(running.uuid);
    expect(['interrupted', 'failed', 'stopped']).toContain(old.status);
  });

  it('docker pause: unavailable with a container-down mode naming docker unpause; unpause: healthy', async () => {
    // Paused when no exec is starting: an exec frozen mid-start deadlocks dockerd 20.10's unpause (testkit/docker.ts).
    const id = await containerId(NAME);
    await pauseWhenIdle(NAME);
    await until(() => cp.health().state === 'unavailable', 10_000, 'unavailable while paused');
    expect(cp.degraded().find((m) => m.code === 'container-down')?.action).toBe(`docker unpause ${NAME}`);
    // A spawn while paused is refused (Docker answers 409 "is paused"); it must not make the relay think
    // the container stopped, or control would stay unavailable after the unpause.
    const refused = await fetch(url + routes.initializeSwarm.path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...validSpawn, customPrompt: 'while paused' }) });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('container-not-running');
    await unpauseContainer(NAME, id);
    await until(() => cp.health().state === 'healthy', 15_000, 'healthy after unpause');
  });

  it('stop through HTTP ends the session', async () => {
    const s = cp.sessions().sessions.find((x) => x.status === 'running')!;
    const res = await fetch(`${url}/api/bots/remove-task/${s.uuid}`, { method: 'DELETE' });
    expect(await res.json()).toEqual({ uuid: s.uuid, status: 'stopped' });
  });
});
