/**
 * Browser tests of client/physics in headless Chromium (SwiftShader for WebGL2 and WebGPU): every backend
 * matches the CPU reference, computed in the same page, to 1e-4 relative over 100 steps; the start-up
 * choice measures the backends and honours ?physics=.
 */
import { expect, test, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, startPhysicsPage, type PhysicsPage } from './fixtures/physics-page.js';
import { chromiumPath } from './chromium.js';
import type { EquivalenceResult } from '../client/physics/testing/harness.js';
import type { BackendChoice } from '../client/physics/index.js';

test.use({ launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS } });
test.describe.configure({ mode: 'serial' });
test.setTimeout(180_000);

let served: PhysicsPage;
test.beforeAll(async () => {
  served = await startPhysicsPage();
});
test.afterAll(async () => {
  await served?.close();
});

async function openHarness(page: Page, query = ''): Promise<void> {
  await page.goto(served.url + query);
  await page.waitForFunction(() => document.body.dataset.ready === '1', undefined, { timeout: 120_000 });
}

for (const backend of ['cpu', 'webgl', 'webgpu'] as const) {
  test(`${backend} backend matches the CPU reference to 1e-4 relative over 100 steps`, async ({ page }) => {
    await openHarness(page);
    const r: EquivalenceResult = await page.evaluate((b) => window.__physicsHarness!.equivalence({ backend: b, nodes: 1000, steps: 100 }), backend);
    test.info().annotations.push({ type: 'result', description: JSON.stringify(r) });
    expect(r.error, r.error).toBeUndefined();
    expect(r.maxRel).not.toBeNull();
    expect(r.maxRel!).toBeLessThanOrEqual(1e-4);
    expect(r.refScale).toBeGreaterThan(0);
  });
}

test('the worker-backed engine keeps positions by id, places new agents near their queen, pins, validates and settles', async ({ page }) => {
  await openHarness(page);
  const r = await page.evaluate(() => window.__physicsHarness!.workerBehaviour());
  expect(r.backend).toBe('cpu');
  expect(r.changed).toBe(true);
  expect(r.kept).toBe(true);
  expect(r.newDist as number).toBeLessThanOrEqual(50.001);
  expect(r.pinnedAt).toEqual([123, 45, 6]);
  expect(r.rangeError).toBe(true);
  expect(r.restLength).toBe(70);
  expect(r.settled).toBe(true);
  expect(r.settledFlag).toBe(true);
  expect(r.weightOnly).toBe(false);
  expect(r.settledAfterWeightOnly).toBe(true);
});

test('the start-up choice measures every available backend and honours ?physics=', async ({ page }) => {
  await openHarness(page);
  const choice: BackendChoice = await page.evaluate(() => window.__physicsHarness!.choose({ nodes: 512, steps: 2 }));
  expect(choice.forced).toBe(false);
  expect(['cpu', 'webgl', 'webgpu']).toContain(choice.backend);
  expect(choice.scores.cpu).not.toBeNull();
  const best = Math.min(...Object.values(choice.scores).filter((s): s is number => s !== null));
  expect(choice.scores[choice.backend]).toBe(best);
  const forced: BackendChoice = await page.evaluate(() => window.__physicsHarness!.choose({ search: '?physics=webgl', nodes: 256, steps: 1 }));
  expect(forced.backend).toBe('webgl');
  expect(forced.forced).toBe(true);
  const bogus: BackendChoice = await page.evaluate(() => window.__physicsHarness!.choose({ search: '?physics=<script>', nodes: 256, steps: 1 }));
  expect(bogus.forced).toBe(false);
});
