// The stream's Prometheus families on a prom-client Registry: names and types as before, values read
// from the stream when scraped.
import { afterEach, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { registerStreamMetrics } from './metrics.js';
import { connectClient, startHarness, type Harness } from './testing/harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

it('registers the WebSocket families, read from the stream at each scrape', async () => {
  h = await startHarness();
  const registry = new Registry();
  registerStreamMetrics(registry, h.stream);
  let text = await registry.metrics();
  expect(text).toMatch(/^# TYPE hivescope_ws_clients gauge$/m);
  expect(text).toMatch(/^hivescope_ws_clients 0$/m);
  for (const name of ['bytes_sent', 'messages_sent', 'frames_sent', 'frames_dropped', 'deltas_merged', 'closed_malformed', 'leader_changes']) {
    expect(text).toMatch(new RegExp(`^# TYPE hivescope_ws_${name}_total counter$`, 'm'));
  }
  const c = await connectClient(h.url);
  text = await registry.metrics();
  expect(text).toMatch(/^hivescope_ws_clients 1$/m);
  const sent = Number(/^hivescope_ws_messages_sent_total (\d+)$/m.exec(text)?.[1]);
  expect(sent).toBe(h.stream.metrics().messagesSent);
  expect(sent).toBeGreaterThan(0);
  await c.close();
});
