// The control plane's Prometheus families through prom-client: the same names, types, labels and
// buckets as before, in the caller's registry, and one plane's families never clash with another's.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { routes, InitializeSwarmResponseSchema } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until } from './testing/harness.js';
import { FakeDriver } from './testing/fakeDriver.js';
import type { SessionChange } from './planeEvents.js';
import { registerControlMetrics } from './metrics.js';

let hs: (Harness & { fake: FakeDriver })[] = [];
afterEach(async () => {
  for (const h of hs) {
    expect(h.fake.violations).toEqual([]);
    await h.close();
  }
  hs = [];
});

async function dockerHarness() {
  const h = await startHarness({ driver: new FakeDriver('docker', 'hive-test'), env: { HIVE_CONTAINER: 'hive-test' } });
  hs.push(h);
  return h;
}

describe('registerControlMetrics', () => {
  it('exposes the histogram, failures by kind, breaker, health and sessions by status', async () => {
    const h = await dockerHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const { uuid } = InitializeSwarmResponseSchema.parse((await h.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(() => changes.some((c) => c.uuid === uuid && c.status === 'running'), 5000, 'running');
    h.fake.failures.push('parse-error');
    await h.cp.listSessions().catch(() => undefined);

    const registry = new Registry();
    registerControlMetrics(registry, h.cp);
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE hivescope_exec_duration_seconds histogram$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="0.005"\} \d+$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="30"\} \d+$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^# TYPE hivescope_exec_failures_total counter$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{kind="parse-error"\} 1$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{kind="timeout"\} 0$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{state="closed"\} 1$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{state="open"\} 0$/m);
    expect(text).toMatch(/^hivescope_control_health\{state="healthy"\} 1$/m);
    expect(text).toMatch(/^hivescope_sessions\{status="running"\} 1$/m);
    // Every exec since the plane was built is counted, not only those after registration.
    const count = Number(/^hivescope_exec_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
    expect(count).toBe(h.cp.metrics.count);
    // prom-client separates families with a blank line; every other line is a comment or a sample.
    for (const line of text.trim().split('\n').filter(Boolean)) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{[a-z]+="[^"]*"\})? -?[\d.e+-]+)$/);
  });

  it('two planes, each in its own registry, and nothing in prom-client\'s global one', async () => {
    const a = await dockerHarness();
    const b = await dockerHarness();
    const ra = new Registry();
    const rb = new Registry();
    registerControlMetrics(ra, a.cp);
    registerControlMetrics(rb, b.cp);
    a.fake.failures.push('parse-error');
    await a.cp.listSessions().catch(() => undefined);
    expect(await ra.metrics()).toMatch(/^hivescope_exec_failures_total\{kind="parse-error"\} 1$/m);
    expect(await rb.metrics()).toMatch(/^hivescope_exec_failures_total\{kind="parse-error"\} 0$/m);
    expect(globalRegistry.getSingleMetric('hivescope_exec_duration_seconds')).toBeUndefined();
  });
});
