/**
 * What every fault scenario (issue 7) shares: a stack of things to stop whatever happens, and the
 * pieces the scenarios start under it (an in-process relay, a WebSocket client, a relay state dir whose
 * session runners are killed with it). A scenario starts what it needs, injects its fault, measures,
 * stops everything it started and returns its figures: relay/faults.integration.test.ts asserts on them,
 * bench/faults.bench.ts reports them as rows.
 *
 * Every wait in a scenario is bounded (a hang guard, not a goal): a figure outside its goal is returned,
 * so the bench can report it as missed and the test can fail on it with the figure in hand.
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../relay/config.js';
import { startRelay, type RelayHandle } from '../../relay/app.js';
import { connectClient, type TestClient } from '../../relay/stream/testing/harness.js';
import { localEngineMain, localSessionManagerCli, repoRoot } from '../../relay/control/paths.js';
import { killGroup, pidAlive } from '../processes.js';
import { relayMain } from '../relayProcess.js';
import { makeTempDir } from '../tempDirs.js';
import { waitUntil } from '../wait.js';

export { relayMain } from '../relayProcess.js';

/** What the scenarios need built; empty when everything is there. */
export function missingKit(): string[] {
  return [localEngineMain(), localSessionManagerCli(), relayMain()].filter((p) => !fs.existsSync(p)).map((p) => path.relative(repoRoot(), p));
}

/**
 * Stops what a scenario started, newest first. A scenario disposes its own in `finally`; a test passes
 * one shared instance too, so an afterAll can still stop everything when a test times out mid-scenario.
 */
export class FaultResources {
  private readonly stack: (() => Promise<void> | void)[] = [];
  add(stop: () => Promise<void> | void): void {
    this.stack.push(stop);
  }
  async dispose(): Promise<void> {
    for (let stop = this.stack.pop(); stop; stop = this.stack.pop()) {
      try {
        await stop();
      } catch {
        // keep stopping the rest
      }
    }
  }
}

const silent = pino({ level: 'silent' });
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; throws naming `what` after `ms`. */
export const until = (cond: () => boolean | Promise<boolean>, ms: number, what: string) => waitUntil(cond, ms, 10, what);

/** Session runners the kit's session manager started (their own process groups). */
function runnerPids(stateDir: string): number[] {
  try {
    const reg = JSON.parse(fs.readFileSync(path.join(stateDir, 'hive/.swarm/sessions/index.json'), 'utf8')) as { sessions?: Record<string, { runner_pid?: number | null }> };
    return Object.values(reg.sessions ?? {})
      .map((s) => s.runner_pid)
      .filter((p): p is number => typeof p === 'number' && p > 0);
  } catch {
    return [];
  }
}

/** A relay state dir, removed with `res` after the session runners the kit started under it are killed. */
export function stateDir(res: FaultResources): string {
  const dir = makeTempDir('hivescope-faults-');
  res.add(() => {
    for (const pid of runnerPids(dir)) if (pidAlive(pid)) killGroup(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export async function inProcessRelay(res: FaultResources, env: Record<string, string>): Promise<RelayHandle> {
  const relay = await startRelay(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }), silent);
  res.add(() => relay.close());
  return relay;
}

export async function wsClient(res: FaultResources, url: string): Promise<TestClient> {
  const c = await connectClient(url);
  // terminate(), not close(): a stalled peer never answers a close handshake.
  res.add(() => c.ws.terminate());
  return c;
}

/** A scenario body with its own resources (and the caller's, when given, for a last-resort afterAll). */
export async function scenario<T>(shared: FaultResources | undefined, body: (res: FaultResources) => Promise<T>): Promise<T> {
  const res = new FaultResources();
  shared?.add(() => res.dispose());
  try {
    return await body(res);
  } finally {
    await res.dispose();
  }
}
