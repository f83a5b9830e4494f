/**
 * The app opens against the real relay (embedded hive), becomes ready, draws its three.js canvas and
 * publishes its state on <body>; a screenshot is kept under test-results/.
 */
import { expect, test } from '@playwright/test';
import { openApp, bodyAttr, screenshot } from './helpers.js';

test('the app connects, applies the first snapshot and draws the swarm canvas', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openApp(page);
  await expect(page.locator('canvas')).toHaveCount(1);
  const box = await page.locator('canvas').boundingBox();
  expect(box && box.width > 100 && box.height > 100).toBe(true);
  expect(await bodyAttr(page, 'data-connection')).toBe('open');
  expect(['webgpu', 'webgl', 'cpu']).toContain(await bodyAttr(page, 'data-physics-backend'));
  expect(Number(await bodyAttr(page, 'data-agent-count'))).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('status-ws')).toHaveAttribute('data-state', 'open');
  await screenshot(page, 'app');
  expect(errors).toEqual([]);
});

test('?follow=1 runs no physics and still becomes ready', async ({ page }) => {
  await openApp(page, '?follow=1');
  expect(await bodyAttr(page, 'data-physics-backend')).toBe('none');
});

interface MemoryHooks {
  glMemory(): { geometries: number; textures: number; programs: number } | null;
  setSceneMounted(mounted: boolean): void;
  frames(): number;
}

test('20 mount/unmount cycles of the scene leave no GPU geometries or textures behind', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, '?hooks=1');
  const hooks = (fn: string, arg?: unknown) => page.evaluate(([f, a]) => (window as unknown as { __hivescope: Record<string, (x?: unknown) => unknown> }).__hivescope[f as string]!(a), [fn, arg] as const);
  const rendered = async () => {
    const start = (await hooks('frames')) as number;
    await page.waitForFunction((n) => (window as unknown as { __hivescope: MemoryHooks }).__hivescope.frames() > n, start, { timeout: 30_000 });
  };
  await rendered();
  // Compare the unmounted state before and after: with the scene gone, every geometry and texture it
  // made must be gone too, however many agents the live swarm had meanwhile.
  await hooks('setSceneMounted', false);
  await rendered();
  const baseline = (await hooks('glMemory')) as { geometries: number; textures: number };
  expect(baseline).not.toBeNull();
  let mountedGeometries = 0;
  for (let i = 0; i < 20; i++) {
    await hooks('setSceneMounted', true);
    await rendered();
    mountedGeometries = Math.max(mountedGeometries, ((await hooks('glMemory')) as { geometries: number }).geometries);
    await hooks('setSceneMounted', false);
    await rendered();
  }
  const after = (await hooks('glMemory')) as { geometries: number; textures: number };
  expect(mountedGeometries).toBeGreaterThan(baseline.geometries); // the scene did allocate while mounted
  expect(after.geometries).toBeLessThanOrEqual(baseline.geometries);
  // troika's shared SDF glyph atlas is created once, the first time a label is drawn.
  expect(after.textures).toBeLessThanOrEqual(baseline.textures + 1);
});

test('a lost WebGL context is restored and the scene drawn again', async ({ page }) => {
  await openApp(page);
  const lose = (restore: boolean) =>
    page.evaluate((r) => {
      const canvas = document.querySelector('canvas')!;
      const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl'))!;
      const ext = gl.getExtension('WEBGL_lose_context')!;
      (window as unknown as { __lost: WEBGL_lose_context }).__lost = ext;
      if (r) ext.restoreContext();
      else ext.loseContext();
    }, restore);
  await lose(false);
  await expect(page.locator('.canvas-wrap')).toHaveAttribute('data-context-lost', 'true');
  await expect(page.getByRole('alert').filter({ hasText: 'graphics context was lost' })).toBeVisible();
  await page.evaluate(() => (window as unknown as { __lost: WEBGL_lose_context }).__lost.restoreContext());
  await expect(page.locator('.canvas-wrap')).toHaveAttribute('data-context-lost', 'false');
  await expect(page.locator('canvas')).toHaveCount(1);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
});

test('a context lost before the renderer exists shows the lost state, keeps the page, and retries with a new canvas', async ({ page }) => {
  // The first WebGL context the page asks for is lost at once (a GPU reset during load): three.js then
  // meets a dead context while building its renderer.
  await page.addInitScript(() => {
    const original = HTMLCanvasElement.prototype.getContext;
    let done = false;
    HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement, type: string, ...rest: unknown[]) {
      const ctx = (original as (this: HTMLCanvasElement, t: string, ...r: unknown[]) => RenderingContext | null).call(this, type, ...rest);
      if (!done && ctx && (type === 'webgl2' || type === 'webgl')) {
        done = true;
        (ctx as WebGL2RenderingContext).getExtension('WEBGL_lose_context')?.loseContext();
      }
      return ctx;
    } as typeof original;
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openApp(page);
  // The rest of the page stayed up, and a fresh canvas took over.
  await expect(page.getByRole('button', { name: 'Spawn swarm' }).first()).toBeVisible();
  await expect(page.locator('.canvas-wrap')).toHaveAttribute('data-context-lost', 'false', { timeout: 30_000 });
  await expect(page.locator('.canvas-wrap canvas')).toHaveCount(1);
  expect(errors).toEqual([]);
});
