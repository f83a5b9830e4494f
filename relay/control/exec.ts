/**
 * The one exec interface both drivers implement (docker exec through the Engine API, or local child
 * processes). Arguments are always an argv array: nothing here ever goes through a shell.
 */
import type { ContainerWatch, WatchHost } from './containerWatch.js';

export interface ExecOptions {
  /** Kill (local) or abandon (docker) the command after this long; the call fails with kind `timeout`. */
  timeoutMs: number;
  /** stdout + stderr cap; more fails the call (never silently cut). */
  maxOutputBytes: number;
  /** Extra environment, `NAME=value` semantics. */
  env?: Record<string, string>;
  /** Working directory (docker: the exec's WorkingDir; local: the child's cwd). */
  cwd?: string;
  /**
   * Start and return at once without waiting for the command to end (docker `exec -d`). The local
   * driver puts it in its own process group so a stop can end the whole group.
   */
  detached?: boolean;
  /**
   * Detached commands only: append the command's stdout and stderr to this file in the target (its folder
   * is made first). Docker wraps the argv in the constant CAPTURE_WRAPPER (the command's words stay
   * positional arguments, never shell text); local opens the file and gives it to the child as stdio.
   */
  outputFile?: string;
}

/**
 * `sh -c CAPTURE_WRAPPER <file> <argv...>`: makes the file's folder and execs the command with both
 * streams appended to the file. `exec` replaces the shell, so the process table shows the command itself
 * (stop and reap find a spawn by the words of its argv).
 */
export const CAPTURE_WRAPPER = 'mkdir -p -- "${0%/*}" && exec "$@" >>"$0" 2>&1';

/** The argv that runs `argv` with its output appended to `file` (docker exec has no redirection of its own). */
export function captureArgv(file: string, argv: readonly string[]): string[] {
  return ['sh', '-c', CAPTURE_WRAPPER, file, ...argv];
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** For detached commands when the driver knows it (local: the process group leader); else null. */
  pid: number | null;
}

export interface ExecDriver {
  readonly kind: 'docker' | 'local';
  /** Container name for docker, null for local. */
  readonly container: string | null;
  exec(argv: readonly string[], opts: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
  /** Docker drivers only: the watch over the container this driver execs into (containerWatch.ts). */
  watch?(host: WatchHost): ContainerWatch;
}

/** Thrown by drivers for argv that must never reach a process (defence in depth behind the validators). */
export function assertArgv(argv: readonly string[]): void {
  if (argv.length === 0) throw new TypeError('empty argv');
  for (const a of argv) {
    if (typeof a !== 'string') throw new TypeError('argv entries must be strings');
    if (a.includes('\u0000')) throw new TypeError('argv entry contains NUL');
  }
}
