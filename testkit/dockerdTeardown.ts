/**
 * Teardown of a private dockerd (privateDockerd.ts): whatever state the daemon was left in, remove its
 * containers (through runc when the daemon cannot), the processes that name its folder or containerd
 * namespace, every mount under its folder, and the folder. sweepStalePrivateDockerds() does the same for
 * folders whose owning test process died before its afterAll ran.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, pidAlive as alive, runCommand } from './processes.js';

export const DIR_PREFIX = 'hivescope-private-dockerd-';
/** Written into the folder so a later run can tell whose it was. */
export const OWNER_FILE = 'owner.json';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = (cmd: string, args: string[], o: { timeoutMs: number }) => runCommand(cmd, args, { timeoutMs: o.timeoutMs, maxBuffer: 32 * 1024 * 1024 });

export interface TeardownReport {
  /** Mount points under the folder still mounted afterwards (expected: none). */
  mountsLeft: string[];
  /** Pids of processes naming the folder or the namespace still alive afterwards (expected: none). */
  processesLeft: number[];
  dirRemoved: boolean;
  /** What had to be forced (runc kill, a SIGKILL, a lazy unmount), for the report. */
  forced: string[];
}

/** Mount points at or under `dir` in this mount namespace (the daemon shares it). */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    const mp = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === dir || mp.startsWith(dir + '/')) out.push(mp);
  }
  return out;
}

/** Pids (not ours) whose command line names `needles` (our folder, our containerd namespace). */
function processesNaming(needles: string[]): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (needles.some((n) => cmdline.includes(n))) out.push(Number(e));
  }
  return out;
}

export interface Owner {
  pid: number;
  namespace: string;
}

/**
 * Removes what a private daemon left in `dir`: containers (runc), its processes, mounts, the folder.
 * The daemon itself must already be stopped, or is stopped here by the pid in its pidfile when that
 * process still names the folder.
 */
export async function scrub(dir: string, namespace: string, forced: string[]): Promise<TeardownReport> {
  const needles = [dir + '/', `-namespace ${namespace} `];
  const pidfile = path.join(dir, 'dockerd.pid');
  const daemonPid = Number(fs.existsSync(pidfile) ? fs.readFileSync(pidfile, 'utf8').trim() : NaN);
  if (Number.isInteger(daemonPid) && daemonPid > 0 && processesNaming([dir + '/']).includes(daemonPid)) {
    forced.push(`SIGKILL dockerd ${daemonPid}`);
    process.kill(daemonPid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(daemonPid); i++) await sleep(50);
  }
  // Containers the daemon could not remove (or that outlived it): kill and delete them through runc,
  // whose state lives in our exec root.
  const runcRoot = path.join(dir, 'exec', 'runtime-runc', namespace);
  const runc = findOnPath('runc');
  if (runc && fs.existsSync(runcRoot)) {
    for (const id of fs.readdirSync(runcRoot)) {
      forced.push(`runc kill ${id.slice(0, 12)}`);
      await run(runc, ['--root', runcRoot, 'kill', '--all', id, 'KILL'], { timeoutMs: 10_000 });
      await run(runc, ['--root', runcRoot, 'delete', '--force', id], { timeoutMs: 10_000 });
    }
  }
  // Shims and a managed containerd name our exec root (or, with a system containerd, our namespace).
  for (const pid of processesNaming(needles)) {
    forced.push(`SIGKILL ${pid}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 40 && processesNaming(needles).length > 0; i++) await sleep(50);
  // Deepest first; a busy mount is detached lazily so the folder can go.
  for (let pass = 0; pass < 3 && mountsUnder(dir).length > 0; pass++) {
    for (const mp of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
      if ((await run('umount', [mp], { timeoutMs: 10_000 })).code !== 0) {
        forced.push(`umount -l ${mp}`);
        await run('umount', ['-l', mp], { timeoutMs: 10_000 });
      }
    }
  }
  const mountsLeft = mountsUnder(dir);
  let dirRemoved = false;
  if (mountsLeft.length === 0) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      dirRemoved = !fs.existsSync(dir);
    } catch {
      dirRemoved = false;
    }
  }
  return { mountsLeft, processesLeft: processesNaming(needles), dirRemoved, forced };
}

/** Cleans up private daemons whose owning process died before its teardown ran (a killed test run). */
export async function sweepStalePrivateDockerds(log: (msg: string) => void = () => undefined): Promise<number> {
  let n = 0;
  const tmp = os.tmpdir();
  for (const e of fs.readdirSync(tmp)) {
    if (!e.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(tmp, e);
    let owner: Owner;
    try {
      owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as Owner;
    } catch {
      continue; // not one of ours, or still being created
    }
    if (alive(owner.pid) || !/^[a-z0-9-]+$/.test(owner.namespace)) continue;
    const r = await scrub(dir, owner.namespace, []);
    log(`swept stale private dockerd ${dir} (owner ${owner.pid} gone): ${r.dirRemoved ? 'removed' : `left ${r.mountsLeft.length} mounts`}`);
    n++;
  }
  return n;
}
