/**
 * The session registry on disk (upstream-contracts.md section 2): `<root>/.swarm/sessions/index.json`
 * plus one `session.json` per session. Every write happens under an exclusive lock
 * (`<sessions>/.lock`, created with O_EXCL, holding the owner's pid; a lock whose owner is dead or that is
 * older than LOCK_STALE_MS is broken under a second short-lived lock), is written to a temporary file,
 * fsynced and renamed over the target, so concurrent writers never lose entries and a writer killed at
 * any point leaves either the old or the new file, never a truncated one.
 * Synchronous on purpose: the CLI is a short-lived process and the lock is held for milliseconds.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface RegistryEntry {
  task: string;
  status: string;
  created: string;
  dir: string;
  updated: string;
  last_activity: string;
  priority: string;
  metadata: Record<string, unknown> | null;
  swarm_id: string | null;
  runner_pid: number | null;
  /** Process group to signal on stop (the claude-flow child's group, or the runner's own). */
  runner_pgid: number | null;
  /** `simulated` (hive-engine) or `claude-flow`; null until started. */
  engine: string | null;
  /** claude-flow's own session id (`Session ID: session-...` of its summary), for `hive-mind stop`. */
  cf_session_id?: string | null;
  replaces: string | null;
  progress: number | null;
  agent_count: number | null;
}

export interface Registry {
  sessions: Record<string, RegistryEntry>;
  created: string;
  [extra: string]: unknown;
}

export interface SessionFile extends Omit<RegistryEntry, 'dir'> {
  session_id: string;
  working_dir: string;
  output_dir: string;
  database: string;
  log_file: string;
}

export interface Paths {
  root: string;
  sessionsDir: string;
  registry: string;
  lock: string;
  outputRoot: string;
  logDir: string;
}

export function paths(env: NodeJS.ProcessEnv = process.env): Paths {
  const root = path.resolve(env.HIVE_ROOT || '/workspace');
  const sessionsDir = path.join(root, '.swarm', 'sessions');
  return {
    root,
    sessionsDir,
    registry: path.join(sessionsDir, 'index.json'),
    lock: path.join(sessionsDir, '.lock'),
    outputRoot: path.join(root, 'ext', 'hive-sessions'),
    logDir: path.resolve(env.HIVE_LOG_DIR || path.join(root, '.swarm', 'logs')),
  };
}

export class RegistryError extends Error {}

const LOCK_STALE_MS = 30_000;
const LOCK_TIMEOUT_MS = Number(process.env.HIVE_LOCK_TIMEOUT_MS) > 0 ? Number(process.env.HIVE_LOCK_TIMEOUT_MS) : 60_000;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockIsStale(file: string): boolean {
  let content: string;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    content = fs.readFileSync(file, 'utf8');
  } catch {
    return false; // vanished: not ours to break, just retry
  }
  const age = Date.now() - st.mtimeMs;
  const pid = Number.parseInt(content, 10);
  if (Number.isInteger(pid) && pid > 0) return !pidAlive(pid) || age > LOCK_STALE_MS;
  // Empty: its creator is between open and write; only old ones are stale.
  return age > 5_000;
}

/** Removes a stale lock without racing another breaker (who might otherwise delete a fresh lock). */
function breakStaleLock(lock: string): void {
  const breaker = `${lock}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx');
  } catch {
    try {
      if (Date.now() - fs.statSync(breaker).mtimeMs > 10_000) fs.unlinkSync(breaker);
    } catch {
      // gone meanwhile
    }
    return;
  }
  try {
    if (lockIsStale(lock)) fs.unlinkSync(lock);
  } catch {
    // someone else removed it
  } finally {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(breaker);
    } catch {
      // ignore
    }
  }
}

/** One attempt at the lock: its fd, or null when another writer holds it (stale locks are broken). */
function tryAcquire(p: Paths): number | null {
  for (let i = 0; i < 3; i++) {
    try {
      const fd = fs.openSync(p.lock, 'wx', 0o644);
      fs.writeSync(fd, `${process.pid}\n`);
      return fd;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (!lockIsStale(p.lock)) return null;
      breakStaleLock(p.lock);
    }
  }
  return null;
}

function release(p: Paths, fd: number): void {
  fs.closeSync(fd);
  try {
    fs.unlinkSync(p.lock);
  } catch {
    // a breaker judged us stale (we held it > LOCK_STALE_MS); nothing to undo
  }
}

export function withLock<T>(p: Paths, fn: () => T): T {
  fs.mkdirSync(p.sessionsDir, { recursive: true });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let fd: number | null = null;
  let delay = 2;
  while ((fd = tryAcquire(p)) === null) {
    if (Date.now() > deadline) throw new RegistryError(`registry lock ${p.lock} busy for ${LOCK_TIMEOUT_MS} ms`);
    sleepSync(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    return fn();
  } finally {
    release(p, fd);
  }
}

/**
 * Like updateRegistry but never waits: returns undefined when another writer holds the lock. For the
 * long-lived engine, whose event loop must not block on CLI processes; it retries on its next flush.
 */
export function tryUpdateRegistry(p: Paths, fn: (reg: Registry) => boolean | void): Registry | undefined {
  fs.mkdirSync(p.sessionsDir, { recursive: true });
  const fd = tryAcquire(p);
  if (fd === null) return undefined;
  try {
    const reg = readRegistry(p);
    if (fn(reg) !== false) {
      writeFileAtomic(p.registry, `${JSON.stringify(reg, null, 2)}\n`);
      cleanTempFiles(p);
    }
    return reg;
  } finally {
    release(p, fd);
  }
}

/**
 * updateRegistry for a long-lived process: waits for a busy lock with timers (backing off 2 -> 50 ms)
 * instead of blocking its event loop, up to `timeoutMs`. The write itself is the same synchronous
 * lock + temp + fsync + rename as everyone else's.
 */
export async function updateRegistryAsync(p: Paths, fn: (reg: Registry) => boolean | void, timeoutMs = LOCK_TIMEOUT_MS): Promise<Registry> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const reg = tryUpdateRegistry(p, fn);
    if (reg) return reg;
    if (Date.now() > deadline) throw new RegistryError(`registry lock ${p.lock} busy for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Writes via temp file + fsync + rename (+ directory fsync). Never leaves a partial target. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = fs.openSync(tmp, 'wx', 0o644);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // Test hook for the crash-safety test: announce and pause between the temp write and the rename.
  const pause = Number(process.env.HIVE_TEST_PAUSE_BEFORE_RENAME_MS);
  if (pause > 0 && path.basename(file) === 'index.json') {
    process.stderr.write(`HIVE_TEST: paused before rename of ${path.basename(file)}\n`);
    sleepSync(pause);
  }
  fs.renameSync(tmp, file);
  try {
    const dfd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // directory fsync is best effort (not supported everywhere)
  }
}

export function emptyRegistry(): Registry {
  return { sessions: {}, created: new Date().toISOString() };
}

export function readRegistry(p: Paths): Registry {
  let raw: string;
  try {
    raw = fs.readFileSync(p.registry, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw e;
  }
  try {
    const parsed = JSON.parse(raw) as Registry;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.sessions !== 'object' || parsed.sessions === null) throw new Error('no sessions');
    return parsed;
  } catch (e) {
    throw new RegistryError(`registry ${p.registry} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Read-modify-write under the lock. `fn` returns false to skip the write. */
export function updateRegistry(p: Paths, fn: (reg: Registry) => boolean | void): Registry {
  return withLock(p, () => {
    const reg = readRegistry(p);
    if (fn(reg) !== false) {
      writeFileAtomic(p.registry, `${JSON.stringify(reg, null, 2)}\n`);
      cleanTempFiles(p);
    }
    return reg;
  });
}

/** Temp files of writers that died mid-write (their pid is gone). */
function cleanTempFiles(p: Paths): void {
  let names: string[];
  try {
    names = fs.readdirSync(p.sessionsDir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = /^index\.json\.tmp-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) {
      try {
        fs.unlinkSync(path.join(p.sessionsDir, n));
      } catch {
        // ignore
      }
    }
  }
}

export function sessionFilePath(p: Paths, uuid: string): string {
  return path.join(p.sessionsDir, uuid, 'session.json');
}

export function readSessionFile(p: Paths, uuid: string): SessionFile | null {
  try {
    return JSON.parse(fs.readFileSync(sessionFilePath(p, uuid), 'utf8')) as SessionFile;
  } catch {
    return null;
  }
}

/** session.json mirrors the registry entry; written under the same lock as the registry. */
export function writeSessionFile(p: Paths, uuid: string, s: SessionFile): void {
  writeFileAtomic(sessionFilePath(p, uuid), `${JSON.stringify(s, null, 2)}\n`);
}

export function toSessionFile(p: Paths, uuid: string, e: RegistryEntry): SessionFile {
  const { dir, ...rest } = e;
  return {
    session_id: uuid,
    ...rest,
    working_dir: dir,
    output_dir: path.join(p.outputRoot, uuid),
    database: path.join(dir, '.swarm', 'memory.db'),
    log_file: path.join(p.logDir, `hive-${uuid}.log`),
  };
}

/** Applies a change to one session's registry entry and session.json together. Returns null if unknown. */
export function updateSession(p: Paths, uuid: string, change: (e: RegistryEntry) => boolean | void): RegistryEntry | null {
  let result: RegistryEntry | null = null;
  updateRegistry(p, (reg) => {
    const e = reg.sessions[uuid];
    if (!e) return false;
    if (change(e) === false) {
      result = e;
      return false;
    }
    const now = new Date().toISOString();
    e.updated = now;
    e.last_activity = now;
    writeSessionFile(p, uuid, toSessionFile(p, uuid, e));
    result = e;
    return true;
  });
  return result;
}
