// Which backend drives the container, as GET /api/hybrid/status says it (issue 12): the detected backend's
// describe() (kind, version, operations, limits) in the control plane's health, null before one answers.
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { HybridStatusResponseSchema, routes } from '../../shared/api.js';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { freePort } from '../../testkit/ports.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { FakeDriver, FAKE_SM } from './testing/fakeDriver.js';
import type { ControlPlaneDeps } from './controlPlane.js';
import { SessionManagerBackend } from './backends/sessionManager.js';
import { ClaudeFlow3Backend } from './backends/claudeFlow3.js';
import { ClaudeFlowBackend } from './backends/claudeFlow.js';

let relay: RelayHandle | null = null;
afterEach(async () => {
  await relay?.close();
  relay = null;
});

async function hybridStatus(env: Record<string, string>, control: Partial<Omit<ControlPlaneDeps, 'config' | 'logger'>>) {
  const config = loadConfig({ PORT: '0', HIVE_STATE_DIR: makeTempDir('hivescope-backend-info-'), HIVE_EMBEDDED: '0', HIVE_DEMO: '0', MCP_PORT: String(await freePort()), LOG_LEVEL: 'silent', ...env });
  relay = await startRelay(config, pino({ level: 'silent' }), { control: { embedded: false, timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000, agentsMs: 3_600_000 }, ...control } });
  const res = await fetch(relay.url + routes.hybridStatus.path);
  expect(res.status).toBe(200);
  return HybridStatusResponseSchema.parse(await res.json());
}

describe('GET /api/hybrid/status names the backend', () => {
  it('claude-flow 3.x: kind, version, no pause or resume, and its limits', async () => {
    const h = await hybridStatus({}, { driver: new FakeDriver(), backend: (run, store) => new ClaudeFlow3Backend({ run, store, driverKind: 'docker', version: '3.43.0' }) });
    expect(h.control.backend).toBe('claude-flow');
    expect(h.control.backendInfo).toEqual({
      kind: 'claude-flow-3',
      version: '3.43.0',
      operations: { spawn: true, list: true, stop: true, pause: false, resume: false, cleanup: true, reap: true, metrics: false },
      limits: expect.arrayContaining(['no pause or resume (3.x has neither)', 'no per-agent CPU or memory (shown as unknown)']),
    });
  });

  it('claude-flow 2.7: pause, resume and metrics are real', async () => {
    const h = await hybridStatus({}, { driver: new FakeDriver(), backend: (run, store) => new ClaudeFlowBackend({ run, store, driverKind: 'docker', version: '2.7.47' }) });
    expect(h.control.backendInfo).toMatchObject({ kind: 'claude-flow-2', version: '2.7.47', operations: { pause: true, resume: true, metrics: true } });
  });

  it("the kit's session manager: kind kit, the version its capabilities line states", async () => {
    const fake = new FakeDriver();
    fake.createStart = true;
    const h = await hybridStatus({}, { driver: fake, backend: (run) => new SessionManagerBackend(run, [FAKE_SM]) });
    expect(h.control).toMatchObject({ backend: 'session-manager', backendInfo: { kind: 'kit', version: '0.1.0', operations: { pause: true, metrics: false }, limits: [] } });
  });

  it('none detected (HIVE_DRIVER=none): null, not a guess', async () => {
    const h = await hybridStatus({ HIVE_DRIVER: 'none' }, { driver: null });
    expect(h.control).toMatchObject({ backend: 'none', backendInfo: null });
  });
});
