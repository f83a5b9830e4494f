/**
 * Loopback ports for tests and benches that must name a port before the server that binds it starts
 * (a relay child, an engine the control plane spawns, a kit container on host networking): handed out
 * without the classic race of "bind port 0, read it, close, pass it on".
 *
 * That old way freed the port before the consumer bound it, and the kernel hands ports of its ephemeral
 * range to anyone who binds port 0 or connects out (every other test process on the machine), so a second
 * test could get the same port in between. Here a port is reserved, and stays reserved until released:
 * - it is taken from below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), which the
 *   kernel never gives out by itself, so no port-0 bind or outgoing connection can land on it;
 * - a lock file created with O_EXCL in one folder under the system temp dir, naming the owner's pid, keeps
 *   every other process that reserves through here (parallel vitest workers, other test runs, benches) off
 *   it until the owner releases it or dies;
 * - it is checked bindable on 127.0.0.1 when reserved (a service may sit there on a fixed port).
 * Reservations end with PortLease.release(), releasePorts() (scripts/vitest-setup.ts after each test file)
 * or this process's exit; a lock whose owner died (SIGKILL) is reclaimed by the next reservation that meets it.
 *
 * Servers started in this process need none of this: bind port 0 and read the bound port back.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from './processes.js';

export interface PortLease {
  readonly port: number;
  /** Ends the reservation (idempotent). The port may be bound or not at that point. */
  release(): void;
}

export interface ReserveOptions {
  /** Inclusive port range to draw from. Default: the 12,000 ports below the kernel's ephemeral range. */
  range?: readonly [number, number];
  /** Where lock files live. Default <tmpdir>/hivescope-ports (shared by every process on the machine). */
  lockDir?: string;
  /** Candidates tried before giving up. Default 200. */
  attempts?: number;
}

const DEFAULT_LOCK_DIR = path.join(os.tmpdir(), 'hivescope-ports');
const SPAN = 12_000;

/** The kernel's ephemeral range (ports it assigns to port-0 binds and outgoing connections). */
export function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi)) return [lo!, hi!];
  } catch {
    // not Linux: use the IANA dynamic range, which macOS and Windows use
  }
  return [49152, 65535];
}

/** The range reservations draw from: below the ephemeral range, else above it, never overlapping it. */
export function reservableRange(): [number, number] {
  const [lo, hi] = ephemeralRange();
  if (lo - 1 - 1024 >= 1000) return [Math.max(1024, lo - SPAN), lo - 1];
  if (65535 - (hi + 1) >= 1000) return [hi + 1, Math.min(65535, hi + SPAN)];
  throw new Error(`the kernel's ephemeral port range ${lo}-${hi} leaves no room for reserved test ports`);
}

/** Leases of this process, released together by releasePorts() or at exit. */
const held = new Set<Lease>();
let exitHook = false;

class Lease implements PortLease {
  private released = false;
  constructor(
    readonly port: number,
    private readonly file: string,
    private readonly ino: number,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    // Only our own lock: after a reclaim race (see reclaim) the file could be someone else's.
    try {
      if (fs.statSync(this.file).ino === this.ino) fs.unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}

function ownerPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Removes a lock whose owner is gone. The lock is renamed aside first (atomic) and checked to be the file
 * we judged stale (same inode); a fresh lock that another process created in between is put back.
 */
function reclaim(file: string): void {
  let ino: number;
  try {
    ino = fs.statSync(file).ino;
  } catch {
    return;
  }
  const pid = ownerPid(file);
  if (pid !== null && pidAlive(pid)) return;
  const aside = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else reclaimed it
  }
  try {
    if (fs.statSync(aside).ino !== ino) fs.linkSync(aside, file);
  } catch {
    // a new lock already took the name: it stands
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/** Creates the lock for `port`; null when another live process holds it. */
function lock(dir: string, port: number): Lease | null {
  const file = path.join(dir, `${port}.lock`);
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      const { ino } = fs.fstatSync(fd);
      fs.closeSync(fd);
      return new Lease(port, file, ino);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      reclaim(file);
    }
  }
  return null;
}

/** True when nothing listens on 127.0.0.1:port (our probe binds and closes; no connection, no TIME_WAIT). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Reserves a loopback port until the lease is released (or this process exits). */
export async function reservePort(o: ReserveOptions = {}): Promise<PortLease> {
  const [lo, hi] = o.range ?? reservableRange();
  const dir = o.lockDir ?? DEFAULT_LOCK_DIR;
  fs.mkdirSync(dir, { recursive: true });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', releasePorts);
  }
  const attempts = o.attempts ?? 200;
  for (let i = 0; i < attempts; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    const lease = lock(dir, port);
    if (!lease) continue;
    if (await bindable(port)) {
      held.add(lease);
      return lease;
    }
    lease.release();
  }
  throw new Error(`no free port reserved in ${lo}-${hi} after ${attempts} tries (lock dir ${dir})`);
}

/**
 * A port reserved for this process until releasePorts() runs (after each test file, by
 * scripts/vitest-setup.ts) or the process exits: for a server another process or component binds later.
 */
export async function freePort(): Promise<number> {
  return (await reservePort()).port;
}

/** Ends every reservation this process holds. */
export function releasePorts(): void {
  for (const lease of [...held]) lease.release();
}

/** True when something accepts TCP connections on 127.0.0.1:port (within 1 s). */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setTimeout(1000, () => s.destroy());
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}
