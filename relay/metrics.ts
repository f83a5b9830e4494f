/**
 * The relay's one prom-client `Registry` for GET /metrics, and the few family shapes every plane uses.
 * Each plane registers its families into the registry (relay/app.ts calls the planes' registration
 * functions), and /metrics answers `await registry.metrics()` with `registry.contentType`. Values are read
 * from the planes at scrape time (`collect`), so nothing here runs between scrapes. It imports nothing of
 * the relay, so every plane may use it (docs/architecture.md).
 */
import { Counter, Gauge, Registry, Summary } from 'prom-client';

/** A gauge read from its plane at each scrape; null (nobody reported it) is written as NaN, never 0. */
export function scrapedGauge(registry: Registry, name: string, help: string, read: () => number | null): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read() ?? NaN);
    },
  });
}

/** A counter whose running total the plane keeps; at each scrape the counter mirrors it. */
export function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge with one series per possible state of `label`: 1 for the current one, 0 for the others. */
export function oneHotGauge(registry: Registry, name: string, help: string, label: string, states: readonly string[], current: () => string): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      const now = current();
      for (const state of states) this.set({ [label]: state }, now === state ? 1 : 0);
    },
  });
}

/**
 * prom-client answers 0 for every quantile of a summary that saw nothing; nobody measured a 0 ms request,
 * so those quantiles are NaN (unknown), as the Prometheus clients of other languages write them.
 */
export class UnknownWhenEmptySummary extends Summary {
  override async get(): ReturnType<Summary['get']> {
    const v = await super.get();
    const count = v.values.find((x) => x.metricName?.endsWith('_count'))?.value ?? 0;
    if (count === 0) for (const x of v.values) if (x.labels.quantile !== undefined) x.value = NaN;
    return v;
  }
}

/** A registry holding the relay process's gauges (resident memory, V8 heap in use, uptime). */
export function createRelayRegistry(startedAt: number): Registry {
  const registry = new Registry();
  scrapedGauge(registry, 'hivescope_relay_resident_memory_bytes', 'Relay resident set size.', () => process.memoryUsage.rss());
  scrapedGauge(registry, 'hivescope_relay_heap_used_bytes', 'Relay V8 heap in use.', () => process.memoryUsage().heapUsed);
  scrapedGauge(registry, 'hivescope_relay_uptime_seconds', 'Seconds since the relay started.', () => (Date.now() - startedAt) / 1000);
  return registry;
}
