/**
 * The page's fleet parts (issue 14, docs/client.md "Fleet targets").
 *
 * The fleet journey is real end to end: its own relay (dist/relay/main.js, no test seam) with HIVE_TARGETS
 * naming two kit containers on the machine's dockerd (--network host, each its own MCP_TCP_PORT), driven
 * through the page: chips, the picker, the automatic pick, clusters, the list and its filter, and one
 * container stopped (its target down, its swarms stale, kept) and started again (back by itself). It needs
 * Docker and the kit image, as the docker phase does; without Docker it is skipped saying so.
 *
 * The other relay here is the e2e relay with the embedded hive: one target. The seven-target summary is STUBBED
 * (its name says so): the page's WebSocket is proxied to that relay (Playwright routeWebSocket) and only its
 * `health` messages are rewritten to carry seven targets (seven containers would cost several times the
 * journey's minute to show one summary line).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openApp, screenshot, startNode } from './helpers.js';
import type { Agent, Session, TargetHealth } from '../shared/index.js';
import { dockerAvailable, dockerCli, uniqueName } from '../testkit/docker.js';
import { ensureImage, kitModule } from '../testkit/kitImage.js';
import { freePort } from '../testkit/ports.js';

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

test.describe('the fleet journey: a relay over two kit containers on the machine\'s dockerd', () => {
  const docker = dockerAvailable();
  test.skip(!docker, 'Docker is not available (the docker phase needs it too): start dockerd to run the fleet journey');
  // Image build (cached after the docker phase), two containers, the relay and the page: well under this.
  test.setTimeout(180_000);
  // Undone in afterEach, not in a finally: a test that runs out of time is abandoned where it waits, its
  // finally never runs, and its relay and containers were left behind (found after a timed-out run).
  const undo: (() => Promise<unknown>)[] = [];
  test.afterEach(async () => {
    for (const f of undo.splice(0).reverse()) await f().catch(() => undefined);
  });

  test('two chips; a spawn on the picked target lands there; the automatic one where the policy says; two clusters; both targets\' agents listed without clashes and filtered; a stopped container greys its target stale, not deleted, until it is back', async ({ page }) => {
    await ensureImage();
    const kit = await kitModule();
    // Names fit TARGET_NAME_RE; the containers' names are unique to this run.
    const names = { a: 'east', b: 'west' } as const;
    const containers = { a: uniqueName('hive-e2e-fleet-east'), b: uniqueName('hive-e2e-fleet-west') };
    const mcp = { a: await freePort(), b: await freePort() };
    const relayPort = String(await freePort());
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-e2e-fleet-'));
    undo.push(async () => fs.rmSync(stateDir, { recursive: true, force: true }));
    const run = async (k: 'a' | 'b') => {
      undo.push(() => dockerCli(['rm', '-f', '-v', containers[k]]));
      // Speed 1, as the e2e relay's hive: a swarm runs for minutes, so its agents are still there when its
      // container stops (a faster one can finish first, and a finished swarm's agents leave the graph).
      const r = await dockerCli(['run', '-d', '--name', containers[k], '--network', 'host', '-e', `MCP_TCP_PORT=${mcp[k]}`, '-e', 'HIVE_SIM_SPEED=1', kit.IMAGE]);
      if (r.code !== 0) throw new Error(`docker run ${containers[k]} failed: ${r.stderr}`);
    };
    await run('a');
    await run('b');
    const relay = await startNode(
      'dist/relay/main.js',
      {
        PORT: relayPort,
        HOST: '127.0.0.1',
        HIVE_DRIVER: 'docker',
        HIVE_TARGETS: JSON.stringify([
          { name: names.a, container: containers.a, mcp: `127.0.0.1:${mcp.a}` },
          { name: names.b, container: containers.b, mcp: `127.0.0.1:${mcp.b}` },
        ]),
        HIVE_DEMO: '0',
        HIVE_STATE_DIR: stateDir,
        LOG_LEVEL: 'warn',
      },
      /listening on/,
    );
    undo.push(() => relay.stop());
    const base = `http://127.0.0.1:${relayPort}`;
    const sessionsOn = async (t: string) => ((await (await fetch(`${base}/api/sessions?target=${t}`)).json()) as { sessions: Session[] }).sessions.map((x) => x.uuid);

    await page.goto(`${base}/?hooks=1`);
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });

    // Two chips, both healthy once each container's engine answers.
    const chips = page.getByTestId('target-chip');
    await expect(chips).toHaveCount(2);
    await expect(chips.nth(0)).toHaveAttribute('data-target', names.a);
    await expect(chips.nth(1)).toHaveAttribute('data-target', names.b);
    for (const i of [0, 1]) await expect(chips.nth(i)).toHaveAttribute('data-state', 'healthy', { timeout: 45_000 });
    await expect(chips.nth(1)).toHaveAttribute('title', new RegExp(`${containers.b} on the local engine`));

    // Picked: west. The notice names it and the relay lists the session on west only.
    await page.keyboard.press('n');
    const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
    const picker = dialog.getByTestId('target-picker');
    await expect(picker).toHaveValue('');
    await expect(picker.locator('option')).toHaveText(['automatic', `${names.a} (healthy, 0 running)`, `${names.b} (healthy, 0 running)`]);
    await picker.selectOption(names.b);
    await expect(dialog.getByTestId('mcp-indicator')).toHaveAttribute('data-target', names.b);
    await expect(dialog.getByTestId('mcp-indicator')).toHaveAttribute('data-state', 'connected');
    await dialog.getByLabel('Task description').fill('A swarm for the west box');
    await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
    const notice = page.getByTestId('spawn-notice');
    await expect(page.getByTestId('spawn-notice-target')).toHaveAttribute('data-target', names.b);
    const onB = (await notice.getAttribute('data-session')) ?? '';
    expect(onB).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => sessionsOn(names.b)).toContain(onB);
    expect(await sessionsOn(names.a)).not.toContain(onB);

    // Automatic: west runs one session, east none, so the policy (fewest running sessions) picks east.
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Spawn swarm' }).first().click();
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('target-picker')).toHaveValue('');
    await expect(dialog.getByTestId('mcp-indicator')).toContainText('depends on the target the relay picks');
    await dialog.getByLabel('Task description').fill('Anywhere will do');
    await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
    const where = page.getByTestId('spawn-notice-target');
    await expect(where).toHaveAttribute('data-target', names.a);
    await expect(where).toContainText('picked: fewest running sessions (0)');
    const onA = (await notice.getAttribute('data-session')) ?? '';
    expect(onA).not.toBe(onB);
    await expect.poll(() => sessionsOn(names.a)).toContain(onA);
    expect(await sessionsOn(names.b)).not.toContain(onA);
    await page.keyboard.press('Escape');

    // Agents of both targets in the page's graph: ids qualified by target, none clashing.
    type H = { __hivescope: { store: { getState(): { agents: Map<string, Agent>; sessions: Map<string, Session> } }; clusterLabels(): { name: string }[] } };
    const graph = () =>
      page.evaluate(() => {
        const s = (window as unknown as H).__hivescope.store.getState();
        return [...s.agents.values()].filter((a) => !a.mock).map((a) => ({ id: a.id, nodeId: a.nodeId, target: a.target ?? null }));
      });
    await expect.poll(async () => new Set((await graph()).map((a) => a.target)).size, { timeout: 30_000 }).toBe(2);
    const agents = await graph();
    for (const a of agents) expect(a.id.startsWith(`${a.target}:`), a.id).toBe(true);
    expect(new Set(agents.map((a) => a.id)).size).toBe(agents.length);
    expect(new Set(agents.map((a) => a.nodeId)).size).toBe(agents.length);
    // Two labelled clusters in the scene.
    await expect.poll(async () => (await page.evaluate(() => (window as unknown as H).__hivescope.clusterLabels())).map((l) => l.name).sort()).toEqual([names.a, names.b]);

    // The list shows both targets' agents; the filter narrows it to one target's.
    const rows = page.getByTestId('agent-list').locator('button[data-agent-id]');
    const listed = async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-agent-id') ?? ''))).map((id) => id.split(':')[0]);
    await expect.poll(async () => new Set(await listed()).size).toBe(2);
    const filter = page.getByTestId('target-filter');
    await filter.selectOption(names.b);
    await expect.poll(async () => [...new Set(await listed())]).toEqual([names.b]);
    // "+ agent" adds to the filtered target's swarm: the swarm it offers is west's.
    await expect(page.getByLabel('Swarm to add agents to')).toHaveValue(new RegExp(`^${names.b}:`));
    await screenshot(page, 'fleet-journey-filtered');
    await filter.selectOption('');

    // West's container stops: its chip is down, its swarms stay (stale), east keeps serving.
    const westAgents = (await graph()).filter((a) => a.target === names.b).map((a) => a.id);
    expect(westAgents.length).toBeGreaterThan(0);
    expect((await dockerCli(['stop', '-t', '2', containers.b])).code).toBe(0);
    await expect(chips.nth(1)).toHaveAttribute('data-tone', 'down', { timeout: 45_000 });
    await expect(chips.nth(0)).toHaveAttribute('data-state', 'healthy');
    const kept = await page.evaluate(() => [...(window as unknown as H).__hivescope.store.getState().agents.keys()]);
    for (const id of westAgents) expect(kept, id).toContain(id);
    await page.getByTestId('tab-sessions').click();
    const westRow = page.getByTestId('session-list').locator(`li[data-session="${onB}"]`);
    await expect(westRow).toHaveAttribute('data-stale', 'true');
    await expect(westRow.getByTestId('session-stale')).toContainText(names.b);
    await expect(page.getByTestId('session-list').locator(`li[data-session="${onA}"]`)).not.toHaveAttribute('data-stale', 'true');
    // Its actions could only fail now: they stay (focus is kept) but are aria-disabled, described by the
    // stale badge, and a press says why instead of sending a request that cannot reach the target.
    const westStop = westRow.getByTestId('stop-session');
    await expect(westStop).toHaveAttribute('aria-disabled', 'true');
    await expect(westStop).toHaveAccessibleDescription(new RegExp(names.b));
    // (Playwright will not click what is aria-disabled; a keyboard press reaches it as a person's would.)
    await westStop.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('alert').filter({ hasText: `Session ${onB.slice(0, 8)}` })).toContainText('once its target answers again');
    await expect(westRow).not.toHaveAttribute('data-status', 'stopped');
    await expect.poll(async () => (await page.evaluate(() => (window as unknown as H).__hivescope.clusterLabels())).map((l) => l.name).sort()).toEqual([names.a, names.b]);
    await screenshot(page, 'fleet-journey-target-down');

    // Back: the relay reconnects by itself; the chip is healthy and nothing is stale.
    expect((await dockerCli(['start', containers.b])).code).toBe(0);
    await expect(chips.nth(1)).toHaveAttribute('data-state', 'healthy', { timeout: 45_000 });
    await expect(westRow).not.toHaveAttribute('data-stale', 'true');
    await screenshot(page, 'fleet-journey-recovered');
  });
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
