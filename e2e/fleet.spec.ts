/**
 * The page's fleet parts (issue 14, docs/client.md "Fleet targets"). The relay here is the e2e relay with
 * the embedded hive: one target. So the tests that show several targets STUB them: the page's WebSocket is
 * proxied to the real relay (Playwright routeWebSocket) and only its `health` messages are rewritten to
 * carry targets; the spawn answer is stubbed where a target is picked. They prove the page's chips, picker,
 * notice and filter against the health shape the relay sends; they are not the fleet journey (a relay
 * driving two kit containers), which is not run here. The single-target test is unstubbed.
 */
import { expect, test, type Page } from '@playwright/test';
import { openApp, screenshot } from './helpers.js';
import type { TargetHealth } from '../shared/index.js';

function target(name: string, over: Partial<TargetHealth> = {}): TargetHealth {
  return {
    name,
    source: 'config',
    lifecycle: 'running',
    docker: `tcp://${name}.lan:2376 (TLS)`,
    container: `hive-${name}`,
    status: 'healthy',
    control: { state: 'healthy', backend: 'session-manager', backendInfo: null, execLatencyMs: 20, breaker: 'closed', lastError: null },
    telemetry: { state: 'connected', host: `${name}.lan`, port: 9500, latencyMs: 4, ageMs: 200 },
    activeSessions: 0,
    degraded: [],
    ...over,
  };
}

/** Proxies the page's /wss to the real relay, replacing `health.targets` in every health message. */
async function stubTargets(page: Page, targets: TargetHealth[]): Promise<void> {
  await page.routeWebSocket(/\/wss/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      if (typeof m === 'string') {
        const msg = JSON.parse(m) as { type?: string; health?: { targets?: TargetHealth[] } };
        if (msg.type === 'health' && msg.health) {
          msg.health.targets = targets;
          ws.send(JSON.stringify(msg));
          return;
        }
      }
      ws.send(m);
    });
  });
}

test('one target (the real relay, unstubbed): no target chip, picker, filter or cluster label; the page is as before', async ({ page }) => {
  await openApp(page, '?hooks=1');
  // Once the relay's health has arrived: it names one target (`local`), or none from a relay before issue 14.
  const state = () =>
    page.evaluate(() => {
      const s = (window as unknown as { __hivescope: { store: { getState(): { health: unknown; targets: { name: string }[] } } } }).__hivescope.store.getState();
      return { health: s.health !== null, targets: s.targets.map((t) => t.name) };
    });
  await expect.poll(async () => (await state()).health, { timeout: 20_000 }).toBe(true);
  expect((await state()).targets.length).toBeLessThanOrEqual(1);
  await expect(page.getByTestId('target-chip')).toHaveCount(0);
  await expect(page.getByTestId('target-summary')).toHaveCount(0);
  await expect(page.getByTestId('target-filter')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __hivescope: { clusterLabels(): unknown[] } }).__hivescope.clusterLabels())).toEqual([]);
  await page.keyboard.press('n');
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('target-picker')).toHaveCount(0);
  await page.keyboard.press('Escape');
});

test("two targets, relay health stubbed (not the fleet journey): a chip per target, the picker sends the picked target, the notice names it, the filter narrows by target", async ({ page }) => {
  await stubTargets(page, [target('gpu-box', { activeSessions: 2 }), target('laptop', { status: 'unavailable', control: { ...target('x').control, state: 'unavailable', lastError: 'connect ECONNREFUSED' } })]);
  let sent: Record<string, unknown> | null = null;
  await page.route('**/api/bots/initialize-swarm', async (route) => {
    sent = route.request().postDataJSON() as Record<string, unknown>;
    await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ uuid: '11111111-2222-4333-8444-555555555555', status: 'spawning', swarmId: null, target: 'gpu-box', pickedBecause: null }) });
  });
  await openApp(page);
  const chips = page.getByTestId('target-chip');
  await expect(chips).toHaveCount(2);
  await expect(chips.nth(0)).toHaveAttribute('data-target', 'gpu-box');
  await expect(chips.nth(0)).toHaveAttribute('data-state', 'healthy');
  await expect(chips.nth(1)).toHaveAttribute('data-state', 'unavailable');
  await expect(chips.nth(1)).toHaveAttribute('title', /last error: connect ECONNREFUSED/);
  await expect(chips.nth(0)).toHaveAttribute('title', /2 running sessions/);

  await page.keyboard.press('n');
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  const picker = dialog.getByTestId('target-picker');
  await expect(picker).toHaveValue('');
  await expect(picker).toHaveAttribute('title', /fewest running sessions/);
  await expect(picker.locator('option')).toHaveText(['automatic', 'gpu-box (healthy, 2 running)', 'laptop (unavailable, 0 running)']);
  await picker.selectOption('gpu-box');
  await dialog.getByLabel('Task description').fill('A swarm for the GPU box');
  await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
  await expect(page.getByTestId('spawn-notice-target')).toHaveAttribute('data-target', 'gpu-box');
  expect(sent).not.toBeNull();
  expect(sent!.target).toBe('gpu-box');

  // The control panel's filter offers both targets; a target with no agents lists none.
  const filter = page.getByTestId('target-filter');
  await expect.poll(async () => (await filter.locator('option').allTextContents()).slice(0, 3)).toEqual(['all', 'gpu-box', 'laptop']);
  // The real relay's agents say they are on `local`, which the stubbed list does not name: the page offers it
  // after the listed targets, as it would a target gone from the list (never an invented one).
  const rest = (await filter.locator('option').allTextContents()).slice(3);
  expect(rest.every((t) => t === 'local')).toBe(true);
  await filter.selectOption('laptop');
  await expect(page.getByTestId('agent-list').locator('button[data-agent-id]')).toHaveCount(0);
  await filter.selectOption('');
  await screenshot(page, 'fleet-two-targets-stubbed');
});

test('automatic pick, relay health stubbed (not the fleet journey): no target is sent and the notice says which target the relay picked and why', async ({ page }) => {
  await stubTargets(page, [target('a'), target('b', { status: 'degraded' })]);
  let sent: Record<string, unknown> | null = null;
  await page.route('**/api/bots/initialize-swarm', async (route) => {
    sent = route.request().postDataJSON() as Record<string, unknown>;
    await route.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ uuid: '11111111-2222-4333-8444-666666666666', status: 'spawning', swarmId: null, target: 'a', pickedBecause: 'fewest running sessions (0) among 1 healthy target' }) });
  });
  await openApp(page);
  await page.keyboard.press('n');
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  await dialog.getByLabel('Task description').fill('Anywhere will do');
  await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
  const where = page.getByTestId('spawn-notice-target');
  await expect(where).toHaveAttribute('data-target', 'a');
  await expect(where).toContainText('picked: fewest running sessions (0) among 1 healthy target');
  expect(sent).not.toBeNull();
  expect('target' in sent!).toBe(false);
});

test('seven targets, relay health stubbed (not the fleet journey): one summary "7 targets: 6 healthy, 1 down" that opens the seven chips', async ({ page }) => {
  await stubTargets(page, [...Array.from({ length: 6 }, (_, i) => target(`t${i + 1}`)), target('t7', { status: 'unavailable' })]);
  await openApp(page);
  const summary = page.getByTestId('target-summary');
  await expect(summary.locator('summary')).toHaveText('7 targets: 6 healthy, 1 down');
  await expect(summary.locator('summary')).toHaveAttribute('data-tone', 'down');
  await expect(page.getByTestId('target-chip').first()).toBeHidden();
  await summary.locator('summary').click();
  await expect(page.getByTestId('target-chip')).toHaveCount(7);
  await expect(page.getByTestId('target-chip').nth(6)).toBeVisible();
  await screenshot(page, 'fleet-seven-targets-stubbed');
});
