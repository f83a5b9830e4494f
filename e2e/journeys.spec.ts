/**
 * User journeys against the real relay with the embedded hive: spawn a swarm through the prompt and see
 * its agents arrive; select an agent and read its detail panel; stop the session and see its agents
 * leave; see the degraded banner when the relay loses MCP. Screenshots under test-results/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { RawLineClient } from '../testkit/lineClient.js';
import { openApp, agentCount, bodyAttr, screenshot, spawnThroughPrompt, startNode } from './helpers.js';
import { freePort } from '../testkit/ports.js';


test('spawning through the prompt raises data-agent-count and the notice reaches "agents arriving"', async ({ page }) => {
  await openApp(page, '?hooks=1');
  const uuid = await spawnThroughPrompt(page, 'Write a tiny parser and its tests', { maxAgents: 5 });
  // This session's own agents arrive (the page-wide count can fall meanwhile as other specs' swarms end),
  // and data-agent-count shows agents.
  const mine = () =>
    page.evaluate(
      (u) => [...(window as unknown as { __hivescope: { store: { getState(): { agents: Map<string, { sessionUuid: string | null }> } } } }).__hivescope.store.getState().agents.values()].filter((a) => a.sessionUuid === u).length,
      uuid,
    );
  await expect.poll(mine, { timeout: 60_000 }).toBeGreaterThan(0);
  await expect.poll(() => agentCount(page), { timeout: 10_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('spawn-notice')).toHaveAttribute('data-phase', 'agents-arriving', { timeout: 60_000 });
  await screenshot(page, 'journey-spawn');
});

test('the prompt says what is missing and hints at the queen for hierarchical swarms', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('n');
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Topology').selectOption('hierarchical');
  await expect(dialog.getByTestId('queen-hint')).toBeVisible();
  await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
  await expect(dialog.getByTestId('spawn-errors')).toContainText('Describe the task');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('selecting an agent shows its detail panel with every field and its source', async ({ page }) => {
  await openApp(page);
  if ((await agentCount(page)) === 0) await spawnThroughPrompt(page, 'Give me some agents to look at', { maxAgents: 3 });
  await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(0);
  const first = page.getByTestId('agent-list').locator('button[data-agent-id]').first();
  const id = (await first.getAttribute('data-agent-id')) ?? '';
  await first.click();
  await expect(page.locator('body')).toHaveAttribute('data-selected-agent', id);
  const panel = page.getByTestId('agent-detail');
  await expect(panel).toHaveAttribute('data-agent-id', id);
  for (const field of ['id', 'type', 'status', 'cpuUsage', 'memoryUsage', 'tokenRate', 'health']) {
    await expect(panel.locator(`tr[data-field="${field}"]`)).toBeVisible();
  }
  await expect(panel.locator('tr[data-field="id"] td').first()).toHaveText(id);
  await expect(panel.getByTestId('current-task')).toBeVisible();
  await screenshot(page, 'journey-select');
  await page.keyboard.press('Escape');
  await expect(page.locator('body')).toHaveAttribute('data-selected-agent', '');
});

test('stopping a session removes its agents', async ({ page }) => {
  await openApp(page, '?hooks=1');
  const uuid = await spawnThroughPrompt(page, 'A swarm to stop', { maxAgents: 8 });
  // Wait for this session's own agents (other swarms may come and go meanwhile).
  await expect(page.getByTestId('spawn-notice')).toHaveAttribute('data-phase', 'agents-arriving', { timeout: 60_000 });
  const mine = () =>
    page.evaluate(
      (u) => [...(window as unknown as { __hivescope: { store: { getState(): { agents: Map<string, { sessionUuid: string | null }> } } } }).__hivescope.store.getState().agents.values()].filter((a) => a.sessionUuid === u).length,
      uuid,
    );
  expect(await mine()).toBeGreaterThan(0);
  await page.getByTestId('tab-sessions').click();
  const row = page.locator(`li[data-session="${uuid}"]`);
  await expect(row).toBeVisible();
  await row.getByTestId('stop-session').click({ timeout: 15_000 });
  await expect(row).toHaveAttribute('data-status', 'stopped', { timeout: 60_000 });
  await expect.poll(mine, { timeout: 60_000 }).toBe(0);
  await screenshot(page, 'journey-stop');
});

/**
 * A real outage, no test hooks: this journey runs its own engine and a relay pointed at it (embedded
 * engine off), kills the engine with SIGKILL, then starts it again on the same port.
 */
test('losing MCP shows a degraded banner saying what still works, and it clears on recovery', async ({ page }) => {
  const mcpPort = String(await freePort());
  const relayPort = String(await freePort());
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-e2e-degraded-'));
  const engineEnv = { MCP_PORT: mcpPort, MCP_HOST: '127.0.0.1', HIVE_ROOT: path.join(stateDir, 'hive'), HIVE_SIM_SPEED: '1' };
  let engine = await startNode('dist/container/engine/main.js', engineEnv, /listening on/);
  const relay = await startNode(
    'dist/relay/main.js',
    { PORT: relayPort, HOST: '127.0.0.1', HIVE_DRIVER: 'local', HIVE_EMBEDDED: '0', HIVE_DEMO: '0', HIVE_STATE_DIR: stateDir, MCP_PORT: mcpPort, LOG_LEVEL: 'warn' },
    /listening on/,
  );
  try {
    await page.goto(`http://127.0.0.1:${relayPort}/`);
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
    await expect(page.getByTestId('status-mcp')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    // The status bar names the backend the relay detected (issue 12): here the kit's session manager.
    await expect(page.getByTestId('status-backend')).toHaveAttribute('data-kind', 'kit', { timeout: 30_000 });
    await expect(page.getByTestId('status-backend')).toContainText('hivescope kit');
    await engine.stop('SIGKILL');
    const banner = page.getByTestId('degraded-banner').first();
    await expect(banner).toBeVisible({ timeout: 30_000 });
    await expect(banner).toContainText('Still works');
    await expect(banner).toContainText('What to do');
    await expect(page.getByTestId('status-mcp')).not.toHaveAttribute('data-state', 'connected');
    expect(await bodyAttr(page, 'data-degraded')).toContain('mcp-down');
    await screenshot(page, 'journey-degraded');
    engine = await startNode('dist/container/engine/main.js', engineEnv, /listening on/);
    await expect(page.getByTestId('status-mcp')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    await expect(page.getByTestId('degraded-banner')).toHaveCount(0, { timeout: 30_000 });
  } finally {
    await relay.stop();
    await engine.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test('dragging an agent moves it and pins it where it is dropped; clicking it selects it', async ({ page }) => {
  await openApp(page, '?hooks=1');
  if ((await agentCount(page)) === 0) await spawnThroughPrompt(page, 'Agents to drag around', { maxAgents: 3 });
  type H = { __hivescope: { store: { getState(): { agents: Map<string, { mock: boolean }> } }; agentScreenPosition(id: string): [number, number] | null; agentWorldPosition(id: string): [number, number, number] | null; isPinned(id: string): boolean } };
  await expect(async () => {
    const pick = await page.evaluate(() => {
      const h = (window as unknown as H).__hivescope;
      for (const [id, a] of h.store.getState().agents) {
        if (a.mock) continue;
        const s = h.agentScreenPosition(id);
        if (s && s[0] > 350 && s[0] < 900 && s[1] > 80 && s[1] < 560) return { id, s, w: h.agentWorldPosition(id)! };
      }
      return null;
    });
    expect(pick).not.toBeNull();
    const { id, s, w } = pick!;
    await page.mouse.move(s[0], s[1]);
    await page.mouse.down();
    await page.mouse.move(s[0] + 40, s[1] + 10, { steps: 4 });
    await page.mouse.move(s[0] + 90, s[1] + 20, { steps: 4 });
    await page.mouse.up();
    expect(await page.evaluate((i) => (window as unknown as H).__hivescope.isPinned(i), id)).toBe(true);
    const moved = await page.evaluate((i) => (window as unknown as H).__hivescope.agentWorldPosition(i), id);
    expect(Math.hypot(moved![0] - w[0], moved![1] - w[1], moved![2] - w[2])).toBeGreaterThan(5);
    // A plain click (no travel) selects it.
    const now = await page.evaluate((i) => (window as unknown as H).__hivescope.agentScreenPosition(i), id);
    await page.mouse.click(now![0], now![1]);
    await expect(page.locator('body')).toHaveAttribute('data-selected-agent', id, { timeout: 5000 });
  }).toPass({ timeout: 60_000 });
  await screenshot(page, 'journey-drag');
});

/** One JSON-RPC `tools/call` to the embedded engine's MCP TCP port, through the project's raw line client. */
async function mcpTool<T>(name: string, args: Record<string, unknown>): Promise<T> {
  const c = await RawLineClient.connect(Number(process.env.HIVESCOPE_E2E_MCP_PORT));
  try {
    await c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
    const msg = await c.waitFor<{ result?: { content: { text: string }[] }; error?: { message: string } }>((l) => l.id === 1);
    if (msg.error) throw new Error(`${name}: ${msg.error.message}`);
    return JSON.parse(msg.result!.content[0]!.text) as T;
  } finally {
    c.socket.destroy();
  }
}

test("a simulated agent's status change in the engine reaches the browser's store", async ({ page, request }) => {
  await openApp(page, '?hooks=1');
  // A swarm of our own, through the relay's API.
  const spawn = await request.post('/api/bots/initialize-swarm', { data: { topology: 'mesh', maxAgents: 3, strategy: 'adaptive', priority: 'medium', enableNeural: false, agentTypes: ['coder', 'tester'], customPrompt: 'Watch one agent change state' } });
  expect(spawn.status()).toBe(202);
  const { uuid } = (await spawn.json()) as { uuid: string };
  let swarmId = '';
  await expect
    .poll(async () => (swarmId = ((await (await request.get(`/api/sessions/${uuid}`)).json()) as { session?: { swarmId: string | null } }).session?.swarmId ?? ''), { timeout: 60_000 })
    .toMatch(/^swarm-/);
  // An agent added in the engine itself (not through the relay): it starts `initializing`.
  const { agentId, agent } = await mcpTool<{ agentId: string; agent: { status: string } }>('agent_spawn', { swarmId, type: 'tester', name: 'e2e-status-watch' });
  expect(agent.status).toBe('initializing');
  const statusInStore = () =>
    page.evaluate(
      (id) => (window as unknown as { __hivescope: { store: { getState(): { agents: Map<string, { status: string }> } } } }).__hivescope.store.getState().agents.get(id)?.status ?? null,
      agentId,
    );
  // The store learns of the agent, then of its own status change when the engine moves it on.
  await expect.poll(statusInStore, { timeout: 30_000 }).not.toBeNull();
  await expect.poll(statusInStore, { timeout: 60_000 }).not.toMatch(/^(initializing)?$/);
  const now = await mcpTool<{ agents: { id: string; status: string }[] }>('agent_list', { swarmId });
  expect(now.agents.find((a) => a.id === agentId)?.status).not.toBe('initializing');
});
