/** Test-only: a control plane over a driver, behind a real Express server on an ephemeral port. */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { loadConfig, type RelayConfig } from '../../config.js';
import { ControlPlane, type ControlPlaneDeps } from '../controlPlane.js';
import { controlRoutes } from '../../http/controlRoutes.js';
import { SessionManagerBackend } from '../backends/sessionManager.js';
import { FakeDriver, FAKE_SM } from './fakeDriver.js';
import type { ExecDriver } from '../exec.js';
import { makeTempDir } from '../../../testkit/tempDirs.js';
import { waitUntil } from '../../../testkit/wait.js';

export interface Harness {
  url: string;
  cp: ControlPlane;
  config: RelayConfig;
  stateDir: string;
  call(method: string, p: string, body?: unknown, raw?: string | Uint8Array, headers?: Record<string, string>): Promise<{ status: number; body: unknown; headers: Headers }>;
  close(): Promise<void>;
}

export function tmpStateDir(): string {
  return makeTempDir('hivescope-control-');
}

export async function startHarness(
  o: { driver?: ExecDriver | null; env?: Record<string, string>; stateDir?: string; deps?: Partial<ControlPlaneDeps>; start?: boolean } = {},
): Promise<Harness & { fake: FakeDriver }> {
  const stateDir = o.stateDir ?? tmpStateDir();
  const config = loadConfig({ HIVE_STATE_DIR: stateDir, HIVE_EMBEDDED: '0', LOG_LEVEL: 'silent', ...o.env });
  const fake = o.driver === undefined ? new FakeDriver() : (o.driver as FakeDriver);
  const driver = o.driver === undefined ? fake : o.driver;
  const cp = new ControlPlane(config, pino({ level: 'silent' }), driver, {
    config,
    logger: pino({ level: 'silent' }),
    backend: (run) => new SessionManagerBackend(run, [FAKE_SM]),
    embedded: false,
    // Timers far apart so tests drive them explicitly.
    timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000, listTtlMs: -1 },
    ...o.deps,
  });
  if (o.start !== false) await cp.start();
  const app = express();
  app.use(controlRoutes(cp));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    cp,
    fake,
    config,
    stateDir,
    async call(method, p, body, raw, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (raw !== undefined) {
        init.body = typeof raw === 'string' ? raw : Buffer.from(raw);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      } else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const res = await fetch(url + p, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      await cp.close();
    },
  };
}

export const validSpawn = {
  topology: 'mesh',
  maxAgents: 5,
  strategy: 'adaptive',
  priority: 'medium',
  enableNeural: true,
  agentTypes: ['coordinator', 'coder'],
  customPrompt: 'build a REST API',
};

/** Polls `cond` (sync or async) every 10 ms until it holds; throws naming `what` after `ms` (testkit's waitUntil). */
export function until(cond: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  return waitUntil(cond, ms, 10, what);
}
