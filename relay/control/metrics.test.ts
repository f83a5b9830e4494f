// The control plane's Prometheus families through prom-client: the same names, types and buckets as
// before, each with a `target` label (issue 14), in the caller's registry; several planes share one set
// of families, each under its own target, and nothing lands in prom-client's global registry.
import { afterEach, describe, expect, it } from 'vitest';
import { Registry, register as globalRegistry } from 'prom-client';
import { routes, InitializeSwarmResponseSchema } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until } from './testing/harness.js';
import { FakeDriver } from './testing/fakeDriver.js';
import type { SessionChange } from './planeEvents.js';
import { ExecFamilies, registerControlMetrics } from './metrics.js';

let hs: (Harness & { fake: FakeDriver })[] = [];
afterEach(async () => {
  for (const h of hs) {
    expect(h.fake.violations).toEqual([]);
    await h.close();
  }
  hs = [];
});

async function dockerHarness(env: Record<string, string> = {}) {
  const h = await startHarness({ driver: new FakeDriver('docker', 'hive-test'), env: { HIVE_CONTAINER: 'hive-test', ...env } });
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
    registerControlMetrics(registry, h.cp.execFamilies, () => [['local', h.cp]]);
    const text = await registry.metrics();
    expect(text).toMatch(/^# TYPE hivescope_exec_duration_seconds histogram$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="0.005",target="local"\} \d+$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="30",target="local"\} \d+$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="\+Inf",target="local"\} \d+$/m);
    expect(text).toMatch(/^# TYPE hivescope_exec_failures_total counter$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{target="local",kind="parse-error"\} 1$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{target="local",kind="timeout"\} 0$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{target="local",state="closed"\} 1$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{target="local",state="open"\} 0$/m);
    expect(text).toMatch(/^hivescope_control_health\{target="local",state="healthy"\} 1$/m);
    expect(text).toMatch(/^hivescope_sessions\{target="local",status="running"\} 1$/m);
    // Every exec since the plane was built is counted, not only those after registration.
    const count = Number(/^hivescope_exec_duration_seconds_count\{target="local"\} (\d+)$/m.exec(text)?.[1]);
    expect(count).toBe(h.cp.metrics.count);
    // prom-client separates families with a blank line; every other line is a comment or a sample.
    for (const line of text.trim().split('\n').filter(Boolean)) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\} -?[\d.e+-]+)$/);
  });

  it('two planes share one set of families, each under its target, and nothing lands in prom-client\'s global one', async () => {
    const families = new ExecFamilies();
    const a = await dockerHarness({ HIVE_TARGET_NAME: 'alpha' });
    const b = await dockerHarness({ HIVE_TARGET_NAME: 'beta' });
    // Planes made without the relay's families make their own; these two feed one set, bound to each name.
    const alpha = families.bind('alpha');
    const beta = families.bind('beta');
    const registry = new Registry();
    registerControlMetrics(registry, families, () => [['alpha', a.cp], ['beta', b.cp]]);
    alpha.fail('parse-error');
    alpha.observe(7);
    beta.observe(40);
    beta.observe(60);
    const text = await registry.metrics();
    expect(text).toMatch(/^hivescope_exec_failures_total\{target="alpha",kind="parse-error"\} 1$/m);
    expect(text).toMatch(/^hivescope_exec_failures_total\{target="beta",kind="parse-error"\} 0$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_count\{target="alpha"\} 1$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_count\{target="beta"\} 2$/m);
    expect(text).toMatch(/^hivescope_exec_duration_seconds_bucket\{le="0.05",target="beta"\} 1$/m);
    for (const t of ['alpha', 'beta']) expect(text).toMatch(new RegExp(`^hivescope_control_health\\{target="${t}",state="healthy"\\} 1$`, 'm'));
    expect(text.match(/^# TYPE hivescope_sessions /gm)).toHaveLength(1);
    // A plane made with its target's name binds itself to it.
    expect(a.cp.execFamilies).not.toBe(b.cp.execFamilies);
    a.fake.failures.push('parse-error');
    await a.cp.listSessions().catch(() => undefined);
    const own = new Registry();
    registerControlMetrics(own, a.cp.execFamilies, () => [['alpha', a.cp]]);
    expect(await own.metrics()).toMatch(/^hivescope_exec_failures_total\{target="alpha",kind="parse-error"\} 1$/m);
    expect(globalRegistry.getSingleMetric('hivescope_exec_duration_seconds')).toBeUndefined();
  });
});
