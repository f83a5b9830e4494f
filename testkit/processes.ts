/**
 * Child processes for tests and benches: run one to completion (argv arrays, never a shell), start one
 * and wait for its readiness line, stop one (or its process group), and tell whether a pid still runs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed after this long (default: no limit). */
  timeoutMs?: number;
  /** Bytes of stdout or stderr kept (default 64 MiB: exec output in these tests can be large listings). */
  maxBuffer?: number;
}

/** Runs `cmd args` to completion; a failure to start, a signal or a timeout reads as exit code 1. */
export function runCommand(cmd: string, args: string[], o: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, timeout: o.timeoutMs ?? 0, maxBuffer: o.maxBuffer ?? 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals a process group (a child spawned `detached`), else the process alone; gone already is fine. */
export function killGroup(pid: number | undefined | null, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when `child` has exited (at once when it already has). */
export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (hasExited(child)) return resolve();
    child.once('exit', () => resolve());
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops `child`: `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 3000). `group`: signal
 * its whole process group (spawned `detached`), so what it started goes too. Resolves true once it exited,
 * false when even SIGKILL did not end it within another `graceMs`.
 */
export async function stopProcess(child: ChildProcess, o: { signal?: NodeJS.Signals; graceMs?: number; group?: boolean } = {}): Promise<boolean> {
  if (hasExited(child)) return true;
  const graceMs = o.graceMs ?? 3000;
  const send = (sig: NodeJS.Signals) => (o.group ? killGroup(child.pid, sig) : child.kill(sig));
  const exited = exitOf(child).then(() => true);
  send(o.signal ?? 'SIGTERM');
  if (await Promise.race([exited, sleep(graceMs).then(() => false)])) return true;
  send('SIGKILL');
  return Promise.race([exited, sleep(graceMs).then(() => false)]);
}

/** The last lines a child printed (stdout and stderr), bounded: for error messages. */
export class OutputTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 400) {}
  push(line: string): void {
    this.lines.push(line.slice(0, 2000));
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  text(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }
}

/** Calls `onLine` for each line of the child's piped stdout and stderr, for as long as it runs. */
export function followLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const s of [child.stdout, child.stderr]) {
    if (!s) continue;
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      // A line with no end in sight is cut rather than kept growing.
      if (buf.length > 64 * 1024) buf = buf.slice(-2000);
    });
  }
}

export interface StartedProcess {
  child: ChildProcess;
  /** The readiness line's match. */
  match: RegExpExecArray;
  /** Its recent output (it keeps being read, so the child never blocks on a full pipe). */
  tail: OutputTail;
}

/**
 * Spawns `cmd args` with stdout and stderr piped and resolves once a line matches `ready`; rejects when
 * it exits first or after `timeoutMs` (default 30 s; it is killed then), with its output in the message.
 */
export function startUntilLine(
  cmd: string,
  args: string[],
  ready: RegExp,
  o: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean; timeoutMs?: number; what?: string } = {},
): Promise<StartedProcess> {
  const what = o.what ?? `${cmd} ${args.join(' ')}`.slice(0, 120);
  const timeoutMs = o.timeoutMs ?? 30_000;
  const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: o.detached ?? false });
  const tail = new OutputTail();
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      // Nobody gets a handle on a child that never got ready: it must not outlive the failure.
      if (o.detached) killGroup(child.pid, 'SIGKILL');
      else child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${tail.text()}`));
    }, timeoutMs);
    child.once('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${what} could not start: ${err.message}`));
    });
    child.once('exit', (code, sig) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code ?? sig} while starting:\n${tail.text()}`));
    });
    followLines(child, (line) => {
      tail.push(line);
      const m = done ? null : ready.exec(line);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match: m, tail });
      }
    });
  });
}

/** The first executable `cmd` on PATH, or null. */
export function findOnPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}
