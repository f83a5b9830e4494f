/**
 * WebXR with the IWER emulated headset (@react-three/xr's `emulate`, enabled by ?xr=emulate): the VR
 * session starts, the swarm is placed in front of the viewer at a readable scale, and pointing the
 * emulated right controller at an agent and pulling the trigger selects it and shows its in-scene card.
 */
import { expect, test, type Page } from '@playwright/test';
import { openApp, agentCount, bodyAttr, screenshot, spawnThroughPrompt } from './helpers.js';

type Vec3 = [number, number, number];
interface Hooks {
  frames(): number;
  agentWorldPosition(id: string): Vec3 | null;
  aimController(hand: 'left' | 'right', from: Vec3, to: Vec3): boolean;
  pressTrigger(hand: 'left' | 'right', value: number): boolean;
  store: { getState(): { agents: Map<string, { id: string; mock: boolean }> } };
}
declare global {
  interface Window {
    __hivescope: Hooks;
  }
}

/** Waits until the page has rendered `n` more frames (XR frames run continuously while presenting). */
async function waitFrames(page: Page, n: number): Promise<void> {
  const start = await page.evaluate(() => window.__hivescope.frames());
  await page.waitForFunction((target) => window.__hivescope.frames() >= target, start + n, { timeout: 30_000 });
}

test('an emulated headset enters VR, sees the swarm, and selects an agent with the controller', async ({ page }) => {
  // Entering XR, and rendering stereo frames on a software rasteriser, is slow.
  test.setTimeout(240_000);
  await openApp(page, '?xr=emulate');
  if ((await agentCount(page)) === 0) await spawnThroughPrompt(page, 'Agents to look at in VR', { maxAgents: 4 });
  await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(0);

  const enter = page.getByTestId('enter-vr');
  await expect(enter).toBeVisible({ timeout: 30_000 });
  await enter.click();
  await expect(page.locator('body')).toHaveAttribute('data-xr', 'true', { timeout: 30_000 });
  await waitFrames(page, 3);

  // Swarms come and go (the embedded hive completes them), so each attempt picks an agent present now.
  const pickAgent = () =>
    page.evaluate(() => {
      const h = window.__hivescope;
      const out: { id: string; p: [number, number, number] }[] = [];
      for (const a of h.store.getState().agents.values()) {
        if (a.mock) continue;
        const p = h.agentWorldPosition(a.id);
        if (p) out.push({ id: a.id, p });
      }
      return out;
    });

  // The swarm is in front of the viewer, scaled to about two metres.
  await expect(async () => {
    const agents = await pickAgent();
    expect(agents.length).toBeGreaterThan(0);
    for (const { p } of agents) {
      const [x, y, z] = p;
      expect(Math.abs(x)).toBeLessThan(3);
      expect(y).toBeGreaterThan(-1);
      expect(y).toBeLessThan(4);
      expect(z).toBeLessThan(0.5); // in front of the viewer (who looks down -z)
    }
  }).toPass({ timeout: 60_000 });
  await screenshot(page, 'xr-vr');

  // Aim from 30 cm in front of an agent straight at it (nothing else in the way) and pull the trigger.
  await expect(async () => {
    const [target] = await pickAgent();
    expect(target).toBeDefined();
    const to = target!.p;
    const from: Vec3 = [to[0], to[1], to[2] + 0.3];
    expect(await page.evaluate(([f, t]) => window.__hivescope.aimController('right', f, t), [from, to] as [Vec3, Vec3])).toBe(true);
    await waitFrames(page, 2);
    await page.evaluate(() => window.__hivescope.pressTrigger('right', 1));
    await waitFrames(page, 2);
    await page.evaluate(() => window.__hivescope.pressTrigger('right', 0));
    await page.waitForFunction(
      () => document.body.dataset.xrCard !== '' && document.body.dataset.xrCard === document.body.dataset.selectedAgent,
      undefined,
      { timeout: 4_000 },
    );
  }).toPass({ timeout: 150_000, intervals: [250, 500, 1000] });
  expect(await bodyAttr(page, 'data-xr')).toBe('true');
  await screenshot(page, 'xr-card');
});

test('in AR the swarm is scaled to about a metre and placed at table height in front of the viewer', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page, '?xr=emulate');
  if ((await agentCount(page)) === 0) await spawnThroughPrompt(page, 'Agents on the table', { maxAgents: 4 });
  await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(1);
  const enter = page.getByTestId('enter-ar');
  await expect(enter).toBeVisible({ timeout: 30_000 });
  await enter.click();
  await expect(page.locator('body')).toHaveAttribute('data-xr', 'true', { timeout: 30_000 });
  await waitFrames(page, 3);
  await expect(async () => {
    const ps = await page.evaluate(() => {
      const h = window.__hivescope;
      const out: [number, number, number][] = [];
      for (const a of h.store.getState().agents.values()) {
        const p = a.mock ? null : h.agentWorldPosition(a.id);
        if (p) out.push(p);
      }
      return out;
    });
    expect(ps.length).toBeGreaterThan(1);
    const extent = [0, 1, 2].map((k) => Math.max(...ps.map((p) => p[k]!)) - Math.min(...ps.map((p) => p[k]!)));
    // About a metre across at most, centred near 0.8 m high and 0.9 m in front (the viewer looks down -z).
    expect(Math.max(...extent)).toBeLessThanOrEqual(1.1);
    for (const [x, y, z] of ps) {
      expect(Math.abs(x)).toBeLessThan(0.8);
      expect(y).toBeGreaterThan(0.2);
      expect(y).toBeLessThan(1.4);
      expect(z).toBeGreaterThan(-1.6);
      expect(z).toBeLessThan(-0.2);
    }
  }).toPass({ timeout: 60_000 });
  await screenshot(page, 'xr-ar');
});
