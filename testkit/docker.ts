/**
 * The machine's Docker for tests and benches, through the docker CLI with argv arrays (never a shell):
 * whether it answers, docker and docker exec with their exit code and output, and names unique to this
 * test process for containers and volumes.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
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
