/**
 * Local exec driver: child processes without a shell, for the embedded hive `npm start` runs.
 * Detached commands get their own process group (so a stop can end the group) and are remembered so
 * close() ends them: the relay never leaves processes behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlError, clip } from '../errors.js';
import { assertArgv, type ExecDriver, type ExecOptions, type ExecResult } from '../exec.js';

export interface LocalDriverOptions {
  /** Environment added to every command (HIVE_ROOT for the embedded hive). */
  env?: Record<string, string>;
  cwd?: string;
  /** End detached process groups on close(). Default true. */
  killDetachedOnClose?: boolean;
}

function signalExit(signal: NodeJS.Signals | null): number {
  if (signal === null) return -1;
  const n = os.constants.signals[signal];
  return typeof n === 'number' ? 128 + n : -1;
}

/** Sends a signal to a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export class LocalDriver implements ExecDriver {
  readonly kind = 'local' as const;
  readonly container = null;
  private readonly detachedChildren = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly opts: LocalDriverOptions = {}) {}

  exec(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
    try {
      assertArgv(argv);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(new ControlError('command-failed', 'local driver is closed'));
    const started = performance.now();
    const env = { ...process.env, ...this.opts.env, ...o.env };
    const [cmd, ...args] = argv as [string, ...string[]];
    if (o.detached) return this.execDetached(cmd, args, env, started, o.outputFile);
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(cmd, args, { cwd: o.cwd ?? this.opts.cwd, env, shell: false, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      } catch (err) {
        reject(new ControlError('command-failed', `cannot run ${cmd}: ${(err as Error).message}`));
        return;
      }
      const out: Buffer[] = [];
      const errb: Buffer[] = [];
      let total = 0;
      let failure: ControlError | null = null;
      const fail = (e: ControlError) => {
        if (failure) return;
        failure = e;
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      };
      const onData = (into: Buffer[]) => (b: Buffer) => {
        total += b.length;
        if (total > o.maxOutputBytes) {
          fail(new ControlError('output-too-large', `${cmd} wrote more than ${o.maxOutputBytes} bytes of output`));
          return;
        }
        into.push(b);
      };
      child.stdout!.on('data', onData(out));
      child.stderr!.on('data', onData(errb));
      const timer = setTimeout(() => fail(new ControlError('timeout', `${cmd} ${args[0] ?? ''} did not finish within ${o.timeoutMs} ms`)), o.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(failure ?? new ControlError('command-failed', `cannot run ${cmd}: ${err.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (failure) return reject(failure);
        resolve({
          exitCode: code ?? signalExit(signal),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(errb).toString('utf8'),
          durationMs: performance.now() - started,
          pid: null,
        });
      });
    });
  }

  private execDetached(cmd: string, args: string[], env: NodeJS.ProcessEnv, started: number, outputFile?: string): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      // The child gets its own descriptor of the file: nothing of the relay has to live to drain a pipe.
      let fd: number | null = null;
      if (outputFile) {
        try {
          fs.mkdirSync(path.dirname(outputFile), { recursive: true });
          fd = fs.openSync(outputFile, 'a', 0o644);
        } catch (err) {
          reject(new ControlError('command-failed', `cannot open ${outputFile} for ${cmd}'s output: ${clip((err as Error).message)}`));
          return;
        }
      }
      let child: ChildProcess;
      try {
        child = spawn(cmd, args, { cwd: this.opts.cwd, env, shell: false, stdio: fd === null ? 'ignore' : ['ignore', fd, fd], detached: true });
      } finally {
        if (fd !== null) fs.closeSync(fd);
      }
      child.once('error', (err) => reject(new ControlError('command-failed', `cannot start ${cmd}: ${clip(err.message)}`)));
      child.once('spawn', () => {
        this.detachedChildren.add(child);
        child.once('exit', () => this.detachedChildren.delete(child));
        child.unref();
        resolve({ exitCode: 0, stdout: '', stderr: '', durationMs: performance.now() - started, pid: child.pid ?? null });
      });
    });
  }

  /** Process group ids of detached commands still running. */
  detachedPids(): number[] {
    return [...this.detachedChildren].map((c) => c.pid).filter((p): p is number => p !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.opts.killDetachedOnClose === false) return;
    const kids = [...this.detachedChildren];
    await Promise.all(
      kids.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return resolve();
            const t = setTimeout(() => {
              killGroup(c.pid!, 'SIGKILL');
              resolve();
            }, 2000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            killGroup(c.pid, 'SIGTERM');
          }),
      ),
    );
  }
}
