/**
 * The relay's one prom-client `Registry` for GET /metrics. This file registers the relay process's own
 * families; each plane registers its families into the same registry (relay/app.ts calls the planes'
 * registration functions), and /metrics answers `await registry.metrics()` with `registry.contentType`.
 * Values are read at scrape time (`collect`), so nothing here runs between scrapes.
 */
import { Gauge, Registry } from 'prom-client';

/** A registry holding the relay process's gauges (resident memory, V8 heap in use, uptime). */
export function createRelayRegistry(startedAt: number): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'hivescope_relay_resident_memory_bytes',
    help: 'Relay resident set size.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'hivescope_relay_heap_used_bytes',
    help: 'Relay V8 heap in use.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: 'hivescope_relay_uptime_seconds',
    help: 'Seconds since the relay started.',
    registers: [registry],
    collect() {
      this.set((Date.now() - startedAt) / 1000);
    },
  });
  return registry;
}
