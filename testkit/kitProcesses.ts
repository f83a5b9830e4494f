// Test helpers: run the compiled session manager / engine as real child processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/container/session-manager/cli.js');
export const ENGINE = path.join(ROOT, 'dist/container/engine/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function tempRoot(prefix = 'hive-sm-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface EngineProc {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `hive-engine` on a free port and waits for its readiness line. */
export function startEngineProcess(env: NodeJS.ProcessEnv = {}): Promise<EngineProc> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [ENGINE], { env: { ...process.env, MCP_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`engine did not start: ${buf}`)), 15_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          proc,
          stop: () =>
            new Promise<void>((r) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (buf += d.toString()));
    proc.once('exit', (c) => reject(new Error(`engine exited ${c}: ${buf}`)));
  });
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const SCRIPT = path.join(ROOT, 'container/image/hive-session-manager.sh');
export const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => fs.existsSync(p)) ?? null;

/**
 * A PATH for running hive-session-manager.sh on this machine as it runs in the image: busybox's nc, cat
 * and printf (Debian's own nc does not half-close on stdin EOF), and `node` only when asked, so a test
 * can prove a command never started Node.
 */
export function scriptPath(withNode: boolean): string {
  if (!BUSYBOX) throw new Error('busybox is not installed (scripts/ensure-system installs busybox-static)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), withNode ? 'hive-sm-bin-node-' : 'hive-sm-bin-'));
  for (const applet of ['nc', 'cat', 'printf', 'sh']) fs.symlinkSync(BUSYBOX, path.join(dir, applet));
  if (withNode) fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

/** Runs the image's hive-session-manager.sh under busybox sh with `bin` (scriptPath) as the whole PATH. */
export function runScript(args: string[], env: NodeJS.ProcessEnv, bin: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(BUSYBOX!, ['sh', SCRIPT, ...args], { env: { HIVE_SM_CLI: CLI, ...env, PATH: bin }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
