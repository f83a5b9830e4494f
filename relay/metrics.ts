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

/** Label values of one series (e.g. `{ target: 'gpu' }`). */
export type Labels = Record<string, string>;

/**
 * A labelled gauge read at each scrape: one series per entry `read` yields now. Sources that left
 * (a target removed) have no series (the family is reset first); null is written as NaN, never 0.
 */
export function scrapedGaugeFamily(registry: Registry, name: string, help: string, labelNames: readonly string[], read: () => Iterable<readonly [Labels, number | null]>): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: [...labelNames],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v ?? NaN);
    },
  });
}

/** A labelled counter whose running totals the sources keep; at each scrape it mirrors them (one series per entry). */
export function mirroredCounterFamily(registry: Registry, name: string, help: string, labelNames: readonly string[], read: () => Iterable<readonly [Labels, number]>): Counter {
  return new Counter({
    name,
    help,
    labelNames: [...labelNames],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}

/** Nearest-rank quantile of ascending `sorted` (non-empty). */
function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * A labelled summary computed at each scrape from each source's window of samples (the sources keep
 * bounded windows), one series per entry `read` yields now. A window with no samples has count 0 and
 * NaN quantiles (unknown), as the Prometheus clients of other languages write them (prom-client would
 * answer 0 ms, and its own labelled summary writes no series for a source that has observed nothing).
 */
export class ScrapedSummaryFamily extends Summary {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly percentileList: readonly number[],
    private readonly read: () => Iterable<readonly [Labels, readonly number[]]>,
  ) {
    super({ name, help, labelNames: [...labelNames], percentiles: [...percentileList], registers: [registry] });
  }

  override async get(): ReturnType<Summary['get']> {
    // Nothing is ever observed into prom-client's own state: its answer gives name, help and type.
    const base = await super.get();
    const values: typeof base.values = [];
    for (const [labels, samples] of this.read()) {
      const sorted = [...samples].sort((a, b) => a - b);
      for (const p of this.percentileList) values.push({ labels: { quantile: p, ...labels }, value: sorted.length ? quantile(sorted, p) : NaN });
      values.push({ metricName: `${base.name}_sum`, labels, value: sorted.reduce((a, b) => a + b, 0) });
      values.push({ metricName: `${base.name}_count`, labels, value: sorted.length });
    }
    return { ...base, values };
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
