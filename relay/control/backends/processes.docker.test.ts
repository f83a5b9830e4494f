// Real Docker, the kit's busybox image run with node as PID 1 (which never reaps orphans, as in many
// users' containers): no exec leaves a process or a zombie behind, a timed-out command is killed, and
// a session's processes are found without pgrep and ended TERM -> KILL (issue 12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../drivers/docker.js';
import { dockerAvailable, dockerCli, uniqueName } from '../../../testkit/docker.js';
import { ensureImage } from '../../../testkit/kitImage.js';
import { endProcesses, scanProcesses } from './processes.js';
import type { RunFn } from './types.js';

const NAME = uniqueName('hivescope-procs');
const U = '3f1c2a9e-1111-4222-8333-444455556666';
const o = { timeoutMs: 10_000, maxOutputBytes: 4 * 1024 * 1024 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!dockerAvailable())('processes in a container whose PID 1 does not reap', () => {
  let d: DockerDriver;
  const run: RunFn = (argv, r) => d.exec(argv, { ...o, ...(r.detached ? { detached: true } : {}) });
  const table = async () => (await d.exec(['ps', '-eo', 'pid,ppid,pgid,stat,args'], o)).stdout;
  const zombies = async () => (await table()).split('\n').filter((l) => /^\s*\d+\s+\d+\s+\d+\s+Z/.test(l));

  beforeAll(async () => {
    const { image } = await ensureImage();
    await dockerCli(['rm', '-f', '-v', NAME]);
    const r = await dockerCli(['run', '-d', '--name', NAME, '--entrypoint', 'node', image, '-e', 'setInterval(() => {}, 1e9)']);
    expect(r.code, r.stderr).toBe(0);
    d = new DockerDriver(NAME);
  });
  afterAll(async () => {
    await d?.close();
    await dockerCli(['rm', '-f', '-v', NAME]);
  });

  it('why the timeout wrapper went: busybox `timeout -s KILL` leaves one zombie per exec here', async () => {
    for (let i = 0; i < 5; i++) await d.exec(['timeout', '-s', 'KILL', '11', 'true'], o);
    await sleep(1500); // its watcher polls once a second
    expect((await zombies()).length).toBe(5);
    await dockerCli(['restart', '-t', '0', NAME]);
  });

  it('100 execs leave no process and no zombie; a hung command is killed after the timeout', async () => {
    expect(await d.probeTimeoutWrapper()).toBe(true);
    for (let i = 0; i < 100; i++) await d.exec(['true'], o);
    await sleep(1500);
    const rows = (await table()).split('\n').slice(1).filter((l) => l.trim() && !l.includes('ps -eo'));
    expect(rows.map((l) => l.trim().split(/\s+/).slice(4).join(' '))).toEqual(['node -e setInterval(() => {}, 1e9)']);
    const err = await d.exec(['sleep', '37'], { ...o, timeoutMs: 500 }).catch((e: unknown) => e);
    expect((err as { kind: string }).kind).toBe('timeout');
    for (let i = 0; i < 40 && (await table()).includes('sleep 37'); i++) await sleep(250);
    expect(await table()).not.toContain('sleep 37');
    expect(await zombies()).toEqual([]);
  }, 120_000);

  it('busybox ps lists a detached tagged spawn and its child; TERM ends them, and nothing is left as a zombie', async () => {
    // The shape of claude-flow 3.43.0's `spawn --claude` (cli/dist/src/commands/hive-mind.js): it exits when
    // its child does, and on TERM kills the child and exits at once without reaping it; under a group TERM
    // that child was left to PID 1, a zombie (found by claudeFlow.docker.test.ts). Detached, no setsid: a
    // docker exec leads its own group.
    await run(['node', '-e', "const c=require('child_process').spawn('sleep',['1000'],{stdio:'ignore'});c.on('exit',()=>process.exit(0));process.on('SIGTERM',()=>{c.kill();process.exit(0)});setInterval(()=>{},1e9)", '--', '--hivescope-session', U], { idempotent: false, detached: true });
    await sleep(800);
    const scan = await scanProcesses(run, U);
    expect(scan.method).toBe('ps');
    expect(scan.matched.size).toBe(1);
    const r = await endProcesses(run, U, { graceMs: 2000 });
    expect(r).toMatchObject({ found: 2, escalated: false, remaining: [] });
    await sleep(300);
    expect(await zombies()).toEqual([]);
  }, 60_000);

  it('a spawn that ignores TERM is KILLed after the grace period and verified gone', async () => {
    await run(['node', '-e', "process.on('SIGTERM',()=>{});setInterval(()=>{},1e9)", '--', '--hivescope-session', U], { idempotent: false, detached: true });
    await sleep(800);
    const r = await endProcesses(run, U, { graceMs: 1000 });
    expect(r).toMatchObject({ found: 1, escalated: true, remaining: [] });
    expect(await table()).not.toContain(U);
  }, 60_000);
});
