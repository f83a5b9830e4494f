/**
 * The machine's Docker for tests and benches, through the docker CLI with argv arrays (never a shell):
 * whether it answers, docker and docker exec with their exit code and output, and names unique to this
 * test process for containers and volumes.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { runCommand, type CommandResult } from './processes.js';

export type ExecResult = CommandResult;

/** True when a Docker daemon answers the CLI (within 10 s). */
export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}

export function dockerExec(container: string, args: string[], opts: { detach?: boolean } = {}): Promise<ExecResult> {
  return runCommand('docker', ['exec', ...(opts.detach ? ['-d'] : []), container, ...args], { maxBuffer: 32 * 1024 * 1024 });
}

export function dockerCli(args: string[]): Promise<ExecResult> {
  return runCommand('docker', args, { maxBuffer: 32 * 1024 * 1024 });
}

/*
 * `docker pause` racing an exec: an exec whose `runc init` is starting when the freeze lands stays frozen,
 * and dockerd 20.10 then hangs `docker unpause` (and `rm -f`) on that container until its cgroup is thawed
 * by hand. The relay cannot prevent it (the exec started before the pause); the tests pause when no exec
 * is starting and, if unpause still hangs, thaw the cgroup the way an operator would.
 */

/**
 * The container's full id (null when Docker does not know it). When dockerd hangs on the container, read
 * it from the system daemon's own state folder instead.
 */
export async function containerId(name: string): Promise<string | null> {
  const r = await runCommand('docker', ['inspect', '-f', '{{.Id}}', name], { timeoutMs: 15_000 });
  if (r.code === 0) return r.stdout.trim();
  const dir = '/var/lib/docker/containers';
  for (const id of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    try {
      if ((JSON.parse(fs.readFileSync(`${dir}/${id}/config.v2.json`, 'utf8')) as { Name?: string }).Name === `/${name}`) return id;
    } catch {
      /* unreadable or removed meanwhile */
    }
  }
  return null;
}

/** Host pids of `runc exec` processes (an exec being started) for the container with this id. */
function startingExecs(id: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith('runc') && argv.includes('exec') && argv.includes(id)) pids.push(Number(d));
  }
  return pids;
}

/** Waits (up to `waitMs`) for a moment when no exec is being started in the container with this id. */
export async function noExecStarting(id: string | null, waitMs = 10_000): Promise<void> {
  const deadline = Date.now() + waitMs;
  while (id && startingExecs(id).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
}

/** Pauses the container at a moment no exec is being started in it (waits up to `waitMs` for one). */
export async function pauseWhenIdle(name: string, waitMs = 10_000): Promise<void> {
  await noExecStarting(await containerId(name), waitMs);
  const r = await runCommand('docker', ['pause', name], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`docker pause ${name}: ${r.stderr.trim()}`);
}

/**
 * Writes into the container's freezer cgroup (v1 freezer.state, or v2 cgroup.freeze): thawed, or frozen
 * again. False when no such file could be written (another cgroup layout, or rootless).
 */
function setFreezer(id: string, state: 'thawed' | 'frozen'): boolean {
  const v1 = state === 'thawed' ? 'THAWED' : 'FROZEN';
  const v2 = state === 'thawed' ? '0' : '1';
  const candidates: [string, string][] = [
    [`/sys/fs/cgroup/freezer/docker/${id}/freezer.state`, v1],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope/cgroup.freeze`, v2],
    [`/sys/fs/cgroup/docker/${id}/cgroup.freeze`, v2],
  ];
  for (const [file, value] of candidates) {
    if (!fs.existsSync(file)) continue;
    try {
      fs.writeFileSync(file, value);
      return true;
    } catch {
      /* not ours to write (rootless): try the next form */
    }
  }
  return false;
}

/** Docker's own word on whether the container is paused; null when it does not know the container. */
async function dockerSaysPaused(name: string): Promise<boolean | null> {
  const r = await runCommand('docker', ['inspect', '-f', '{{.State.Paused}}', name], { timeoutMs: 15_000 });
  return r.code === 0 ? r.stdout.trim() === 'true' : null;
}

/**
 * `docker unpause`, and when dockerd does not answer within `timeoutMs` (the hang above), thaw the cgroup
 * so the frozen exec can finish. Returns how it got unpaused; throws when it is still paused after that.
 *
 * After a hand thaw the pending unpause fails ("OCI runtime resume failed: container not paused") and
 * dockerd keeps State.Paused true for good, refusing every exec with "is paused" (seen in CI: the pause
 * test's unpause "worked" and the next test found the container paused). So while Docker still says
 * paused, freeze the cgroup again by hand (no exec can start meanwhile: dockerd refuses them while it
 * thinks the container paused) and let `docker unpause` resume it, which also clears Docker's flag.
 */
export async function unpauseContainer(name: string, id?: string | null, timeoutMs = 15_000): Promise<'unpaused' | 'thawed' | 'not-paused'> {
  const cid = id ?? (await containerId(name));
  const pending = runCommand('docker', ['unpause', name], { timeoutMs: 120_000 });
  const first = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), timeoutMs))]);
  if (first && first.code === 0) return 'unpaused';
  if (first && (await dockerSaysPaused(name)) !== true) return 'not-paused';
  if (!first) {
    if (!cid || !setFreezer(cid, 'thawed')) throw new Error(`docker unpause ${name} hung and its cgroup could not be thawed`);
    console.warn(`testkit: docker unpause ${name} hung (an exec frozen mid-start, a dockerd 20.10 deadlock); thawed its cgroup`);
    // The stuck unpause returns once the frozen exec can finish.
    await pending;
  }
  const how = first ? 'unpaused' : 'thawed';
  let last = first?.stderr.trim() ?? '';
  for (let attempt = 0; ; attempt++) {
    if ((await dockerSaysPaused(name)) !== true) return how;
    if (attempt === 3 || !cid || !setFreezer(cid, 'frozen')) break;
    const r = await runCommand('docker', ['unpause', name], { timeoutMs: 30_000 });
    last = r.stderr.trim();
    if (r.code === 0) console.warn(`testkit: Docker still called ${name} paused after ${first ? 'its unpause failed' : 'a hand thaw'}; froze it again and docker unpause cleared it`);
  }
  throw new Error(`docker unpause ${name}: Docker still says the container is paused (${last || 'no error text'})`);
}
