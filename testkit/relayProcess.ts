/**
 * The relay as users run it, for tests and benches: `node dist/relay/main.js` as a child process with the
 * given environment, ready once it prints the URL it listens on (PORT=0 lets it pick; a reserved port
 * from ports.ts keeps one across a restart).
 */
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { repoRoot } from '../relay/control/paths.js';
import { exitOf, startUntilLine, stopProcess, type OutputTail } from './processes.js';

export const relayMain = (): string => path.join(repoRoot(), 'dist/relay/main.js');

export interface RelayProcess {
  child: ChildProcess;
  /** http://host:port, as the relay printed it. */
  url: string;
  port: number;
  /** Its recent stdout and stderr lines (bounded). */
  tail: OutputTail;
  exited: Promise<void>;
  /** SIGTERM (to its process group when started `detached`), SIGKILL after `graceMs`; true once it exited. */
  stop(graceMs?: number): Promise<boolean>;
}

/**
 * Starts a relay child and waits for its "listening on" line. `detached`: its own process group, so stop()
 * ends it and what it started (the embedded engine) together.
 */
export async function startRelayProcess(env: NodeJS.ProcessEnv, o: { main?: string; detached?: boolean; timeoutMs?: number; nodeArgs?: readonly string[] } = {}): Promise<RelayProcess> {
  const { child, match, tail } = await startUntilLine(process.execPath, [...(o.nodeArgs ?? []), o.main ?? relayMain()], /hivescope relay listening on (http:\/\/\S+)/, {
    env,
    cwd: repoRoot(),
    detached: o.detached ?? false,
    timeoutMs: o.timeoutMs ?? 30_000,
    what: 'relay child',
  });
  const url = match[1]!.replace(/\/$/, '');
  return {
    child,
    url,
    port: Number(new URL(url).port),
    tail,
    exited: exitOf(child),
    stop: (graceMs = 3000) => stopProcess(child, { graceMs, group: o.detached ?? false }),
  };
}
