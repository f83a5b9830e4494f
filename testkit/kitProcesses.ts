/**
 * The container kit run as real child processes on this machine: the compiled session manager CLI and
 * hive-engine from dist/ (vitest's global setup builds it), and the image's hive-session-manager.sh under
 * busybox sh with a PATH as small as the image's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../relay/control/paths.js';
import type { ChildProcess } from 'node:child_process';
import { runCommand, startUntilLine, stopProcess, type CommandResult } from './processes.js';
import { makeTempDir } from './tempDirs.js';

export const ROOT = repoRoot();
export const CLI = path.join(ROOT, 'dist/container/session-manager/cli.js');
export const ENGINE = path.join(ROOT, 'dist/container/engine/main.js');

/** `node dist/container/session-manager/cli.js args` with `env` over this process's environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return runCommand(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
}

/** A kit root (HIVE_ROOT) removed after the test file. */
export function tempRoot(prefix = 'hive-sm-'): string {
  return makeTempDir(prefix);
}

export interface EngineProc {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `hive-engine` on a port it picks itself (MCP_PORT=0) and reads that port from its readiness line. */
export async function startEngineProcess(env: NodeJS.ProcessEnv = {}): Promise<EngineProc> {
  const { child, match } = await startUntilLine(process.execPath, [ENGINE], /listening on [^\s]+:(\d+)/, {
    env: { ...process.env, MCP_PORT: '0', ...env },
    timeoutMs: 15_000,
    what: 'hive-engine',
  });
  return {
    port: Number(match[1]),
    proc: child,
    stop: async () => {
      await stopProcess(child, { graceMs: 30_000 });
    },
  };
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
  const dir = makeTempDir(withNode ? 'hive-sm-bin-node-' : 'hive-sm-bin-');
  for (const applet of ['nc', 'cat', 'printf', 'sh']) fs.symlinkSync(BUSYBOX, path.join(dir, applet));
  if (withNode) fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  return dir;
}

/** Runs the image's hive-session-manager.sh under busybox sh with `bin` (scriptPath) as the whole PATH. */
export function runScript(args: string[], env: NodeJS.ProcessEnv, bin: string): Promise<CommandResult> {
  return runCommand(BUSYBOX!, ['sh', SCRIPT, ...args], { env: { HIVE_SM_CLI: CLI, ...env, PATH: bin } });
}
