// Docker test helpers: build the kit's image once (only when missing or stale, by its kit-hash label),
// unique container/volume names per test file, free ports, docker exec with argv arrays.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { buildImage } from '../../scripts/container.mjs';

let built: ReturnType<typeof buildImage> | null = null;

/** Builds hivescope/multi-agent:latest if missing or stale; shared by every docker test in this process. */
export function ensureImage(): ReturnType<typeof buildImage> {
  built ??= buildImage({ log: () => undefined });
  return built;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}

export { freePort } from './tcp.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function dockerExec(container: string, args: string[], opts: { detach?: boolean } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile('docker', ['exec', ...(opts.detach ? ['-d'] : []), container, ...args], { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function dockerCli(args: string[]): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile('docker', args, { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
