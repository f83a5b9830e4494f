/**
 * Keyboard-only journeys against the real relay (embedded hive): everything below is done with
 * page.keyboard alone (Tab, Shift+Tab, Enter, Space, arrows, Home/End, Escape; no clicks, no fill).
 * Every control focus reaches is checked for an accessible name and a visible focus indicator
 * (helpers' tabUntil / expectFocusUsable). Screenshots under test-results/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { agentCount, expectFocusUsable, focusInfo, openApp, screenshot, startNode, tabUntil, type FocusInfo, type Proc } from './helpers.js';
import { freePort } from '../testkit/ports.js';

const isStatusBarSpawn = (f: FocusInfo) => f.tag === 'button' && f.text === 'Spawn swarm' && !f.inDialog;

/**
 * Opens the prompt from the status bar's Spawn button (Tab, Enter), types the task, sets max agents
 * with the slider's keys, checks that Tab cannot leave the dialog, and submits with Enter. Returns the
 * new session's uuid from the spawn notice.
 */
async function spawnWithKeyboard(page: Page, task: string): Promise<string> {
  await tabUntil(page, isStatusBarSpawn, { what: 'the status bar Spawn button' });
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  await expect(dialog).toBeVisible();
  // The dialog puts focus in its first field, so typing goes straight into the task.
  await expect(dialog.getByLabel('Task description')).toBeFocused();
  await expectFocusUsable(page);
  await page.keyboard.type(task);
  await expect(dialog.getByLabel('Task description')).toHaveValue(task);

  const slider = dialog.getByRole('slider', { name: 'Max agents' });
  await tabUntil(page, (f) => f.inDialog && f.type === 'range', { what: 'the Max agents slider' });
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('5');

  const submit = dialog.getByRole('button', { name: 'Spawn swarm' });
  const last = await tabUntil(page, (f) => !f.inDialog || (f.tag === 'button' && f.text === 'Spawn swarm'), { what: 'the dialog submit button' });
  expect(last.inDialog, 'Tab stayed inside the modal dialog on its way to submit').toBe(true);
  // A modal keeps Tab inside: past the last control focus wraps to the first, and back again.
  await page.keyboard.press('Tab');
  await expect(dialog.getByLabel('Task description')).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(submit).toBeFocused();

  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  const notice = page.getByTestId('spawn-notice');
  await expect(notice).toBeVisible();
  const uuid = (await notice.getAttribute('data-session')) ?? '';
  expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  // Closing the dialog hands focus back to the button that opened it.
  const back = await focusInfo(page);
  expect(back && isStatusBarSpawn(back), `focus after the dialog closed: ${JSON.stringify(back)}`).toBe(true);
  return uuid;
}

/** Asserts the WAI-ARIA tabs state of `list` with `name` selected and focused. */
async function expectTabSelected(page: Page, list: Locator, name: string): Promise<void> {
  const tab = list.getByRole('tab', { name, exact: true });
  await expect(tab).toBeFocused();
  await expectFocusUsable(page);
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  // Roving tabindex: the selected tab is the list's only Tab stop.
  await expect(list.locator('[role="tab"][aria-selected="true"]')).toHaveCount(1);
  await expect(list.locator('[role="tab"][tabindex="0"]')).toHaveCount(1);
  await expect(tab).toHaveAttribute('tabindex', '0');
  for (const other of await list.getByRole('tab').all()) {
    const panel = page.locator(`[id="${await other.getAttribute('aria-controls')}"]`);
    await expect(panel).toHaveAttribute('role', 'tabpanel');
    await expect(panel).toHaveAttribute('aria-labelledby', (await other.getAttribute('id'))!);
    if ((await other.getAttribute('aria-selected')) === 'true') await expect(panel).toBeVisible();
    else await expect(panel).toBeHidden();
  }
}

/** The panel a tab controls. */
async function panelOf(page: Page, list: Locator, name: string): Promise<Locator> {
  const id = await list.getByRole('tab', { name, exact: true }).getAttribute('aria-controls');
  return page.locator(`[id="${id}"]`);
}

/**
 * Its own relay with no demo swarm and a fresh state dir: on the shared relay other specs' simulated
 * swarms finish and leave while this one arrives, so the page-wide count could fall as ours rises.
 * Here the count starts at 0 and only this journey's swarm can raise it.
 */
test('spawning from the keyboard: the prompt opens with Enter, keeps Tab inside, submits, and data-agent-count rises', async ({ page }) => {
  const relayPort = String(await freePort());
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-e2e-keyboard-'));
  const relay = await startNode(
    'dist/relay/main.js',
    { PORT: relayPort, HOST: '127.0.0.1', HIVE_DRIVER: 'local', HIVE_DEMO: '0', HIVE_STATE_DIR: stateDir, MCP_PORT: String(await freePort()), HIVE_SIM_SEED: '42', LOG_LEVEL: 'warn' },
    /listening on/,
  );
  try {
    await page.goto(`http://127.0.0.1:${relayPort}/`);
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
    expect(await agentCount(page)).toBe(0);
    await spawnWithKeyboard(page, 'Keyboard journey: write a tiny parser');
    await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId('spawn-notice')).toHaveAttribute('data-phase', 'agents-arriving', { timeout: 60_000 });
    await screenshot(page, 'keyboard-spawn');

    // N opens the prompt from anywhere outside a text field; Escape closes it without spawning.
    await page.keyboard.press('n');
    const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
    await expect(dialog.getByLabel('Task description')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    const back = await focusInfo(page);
    expect(back && isStatusBarSpawn(back), `focus after Escape: ${JSON.stringify(back)}`).toBe(true);
  } finally {
    await relay.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

/**
 * The prompt's task field keeps every character typed on a busy page. It was a controlled field: after
 * each input event React put back the value it had last committed, and on a busy page (a fresh load
 * drawing the demo swarm) the previous keystroke's commit could come after that, so characters were lost
 * ("Keyboard journey: tpboeteaser"; once only the last "p"). Chromium's CPU throttling makes the page
 * as busy as a loaded CI machine: before the fix about one fresh page in five lost characters here.
 */
test('typing the task on a busy, freshly loaded page keeps every character', async ({ page }) => {
  test.setTimeout(120_000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });
  try {
    for (let i = 0; i < 4; i++) {
      await openApp(page);
      await page.locator('header').getByRole('button', { name: 'Spawn swarm' }).focus();
      await page.keyboard.press('Enter');
      const field = page.getByRole('dialog', { name: 'Spawn Hive Mind' }).getByLabel('Task description');
      await expect(field).toBeFocused();
      const task = `Keyboard journey: stop before the answer (${i})`;
      await page.keyboard.type(task);
      await expect(field).toHaveValue(task);
    }
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  }
});

/**
 * The other journeys run on a quiet relay of their own: its demo swarm at a fifth of the simulation's
 * speed, so no swarm finishes under them. On the shared relay the swarms of earlier specs (and the demo)
 * finish while a journey walks the page; the page must keep focus through that (client/panels/focus.ts
 * KeepFocus, covered by these journeys under load), but a journey should not depend on which other
 * spec ran before it. Live updates (metrics, statuses, activity) still arrive throughout.
 */
test.describe('on a quiet relay', () => {
  let quiet: { url: string; relay: Proc; stateDir: string } | null = null;

  test.beforeAll(async () => {
    const port = await freePort();
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-e2e-keyboard-quiet-'));
    const relay = await startNode(
      'dist/relay/main.js',
      { PORT: String(port), HOST: '127.0.0.1', HIVE_DRIVER: 'local', HIVE_DEMO: '1', HIVE_STATE_DIR: stateDir, MCP_PORT: String(await freePort()), HIVE_SIM_SEED: '42', HIVE_SIM_SPEED: '0.2', LOG_LEVEL: 'warn' },
      /listening on/,
    );
    quiet = { url: `http://127.0.0.1:${port}/`, relay, stateDir };
  });

  test.afterAll(async () => {
    if (!quiet) return;
    await quiet.relay.stop();
    fs.rmSync(quiet.stateDir, { recursive: true, force: true });
    quiet = null;
  });

  /** Opens the page on the quiet relay and waits for its readiness signal. */
  async function openQuiet(page: Page): Promise<void> {
    await page.goto(quiet!.url);
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
  }

  test('the agent list is reachable by Tab; Enter selects an agent, its detail shows, and closing it returns focus', async ({ page }) => {
    await openQuiet(page);
    await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(0);
    const picked = await tabUntil(page, (f) => f.agentId !== null, { max: 80, what: 'an agent in the control panel list' });
    const id = picked.agentId!;
    await page.keyboard.press('Enter');
    await expect(page.locator('body')).toHaveAttribute('data-selected-agent', id);
    const panel = page.getByTestId('agent-detail');
    await expect(panel).toHaveAttribute('data-agent-id', id);
    await expect(panel.locator('tr[data-field="id"] td').first()).toHaveText(id);
    await expect(page.locator(`button[data-agent-id="${id}"]`)).toHaveAttribute('aria-pressed', 'true');
    await screenshot(page, 'keyboard-select');

    // On to the detail panel's close button, past the rest of the list.
    await tabUntil(page, (f) => f.label === 'Close agent detail', { max: 600, what: 'the agent detail close button' });
    await page.keyboard.press('Enter');
    await expect(panel).toBeHidden();
    await expect(page.locator('body')).toHaveAttribute('data-selected-agent', '');
    // The close button went with the panel: focus is back on the agent that opened it, not on <body>.
    await expect(page.locator(`button[data-agent-id="${id}"]`)).toBeFocused();

    // Space selects too; Escape clears the selection and leaves focus where it was.
    await page.keyboard.press('Space');
    await expect(page.locator('body')).toHaveAttribute('data-selected-agent', id);
    await page.keyboard.press('Escape');
    await expect(page.locator('body')).toHaveAttribute('data-selected-agent', '');
    await expect(page.locator(`button[data-agent-id="${id}"]`)).toBeFocused();
  });

  test('control panel and visual tabs follow the tabs pattern: arrows wrap, Home/End, one Tab stop, panels follow', async ({ page }) => {
    await openQuiet(page);
    const sections = page.getByRole('tablist', { name: 'Control panel sections' });
    await tabUntil(page, (f) => f.role === 'tab', { what: 'the control panel tabs' });
    await expectTabSelected(page, sections, 'Agents');

    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, sections, 'Sessions');
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, sections, 'Visual');
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, sections, 'Agents');
    await page.keyboard.press('ArrowLeft');
    await expectTabSelected(page, sections, 'Visual');
    await page.keyboard.press('Home');
    await expectTabSelected(page, sections, 'Agents');
    await page.keyboard.press('End');
    await expectTabSelected(page, sections, 'Visual');

    // Tab leaves the list at once (the other tabs are not Tab stops) and goes on into the Visual panel,
    // where every control is reachable, the settings import included.
    await page.keyboard.press('Tab');
    expect((await expectFocusUsable(page)).role).not.toBe('tab');
    await tabUntil(page, (f) => f.tag === 'button' && f.text === 'Import JSON', { max: 10, what: 'the Import JSON button' });

    const groups = page.getByRole('tablist', { name: 'Visual settings groups' });
    const first = await tabUntil(page, (f) => f.role === 'tab' || f.tag === 'input', { max: 5, what: 'the visual settings tabs' });
    expect(first.role).toBe('tab');
    await expectTabSelected(page, groups, 'colors');
    await expect((await panelOf(page, groups, 'colors')).locator('input[type="color"]').first()).toBeVisible();

    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, groups, 'animation');
    await expect((await panelOf(page, groups, 'animation')).getByRole('slider', { name: /Animation speed/ })).toBeVisible();
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, groups, 'physics');
    await expect((await panelOf(page, groups, 'physics')).getByRole('slider', { name: /Spring stiffness/ })).toBeVisible();
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, groups, 'rendering');
    await expect((await panelOf(page, groups, 'rendering')).getByRole('checkbox', { name: 'Show stats overlay' })).toBeVisible();
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, groups, 'colors');
    await page.keyboard.press('ArrowLeft');
    await expectTabSelected(page, groups, 'rendering');
    await page.keyboard.press('Home');
    await expectTabSelected(page, groups, 'colors');
    await page.keyboard.press('End');
    await expectTabSelected(page, groups, 'rendering');
    await screenshot(page, 'keyboard-visual-tabs');

    // Out of the list into the rendering panel and its controls; Space toggles a checkbox there.
    await page.keyboard.press('Tab');
    const into = await expectFocusUsable(page);
    expect(into.role).toBe('tabpanel');
    const overlay = (await panelOf(page, groups, 'rendering')).getByRole('checkbox', { name: 'Show stats overlay' });
    const wasChecked = await overlay.isChecked();
    await tabUntil(page, (f) => f.type === 'checkbox' && f.label === 'Show stats overlay', { max: 10, what: 'the stats overlay checkbox' });
    await page.keyboard.press('Space');
    await expect(overlay).toBeChecked({ checked: !wasChecked });
    // Shift+Tab back out of the panel lands on the selected tab, not on the list's last tab.
    await tabUntil(page, (f) => f.role === 'tab', { backwards: true, max: 15, what: 'the selected visual tab' });
    await expectTabSelected(page, groups, 'rendering');
  });

  test('a physics slider moves by its keys on a busy page and follows Reset', async ({ page }) => {
    await openQuiet(page);
    const sections = page.getByRole('tablist', { name: 'Control panel sections' });
    await tabUntil(page, (f) => f.role === 'tab', { what: 'the control panel tabs' });
    await page.keyboard.press('End');
    await expectTabSelected(page, sections, 'Visual');
    await tabUntil(page, (f) => f.tag === 'button' && f.text === 'Import JSON', { max: 10, what: 'the Import JSON button' });
    const groups = page.getByRole('tablist', { name: 'Visual settings groups' });
    await tabUntil(page, (f) => f.role === 'tab', { max: 5, what: 'the visual settings tabs' });
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, groups, 'physics');
    const slider = (await panelOf(page, groups, 'physics')).getByRole('slider', { name: 'Spring stiffness' });
    await expect(slider).toHaveValue('10');
    await tabUntil(page, (f) => f.type === 'range' && /Spring stiffness/.test(f.label ?? ''), { max: 10, what: 'the Spring stiffness slider' });
    // Each key press is one change; none may be undone by a re-render of the live page, slowed down
    // here (8x CPU) as a loaded machine slows it.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });
    try {
      await page.keyboard.press('Home');
      for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
      await expect(slider).toHaveValue('2.5');
    } finally {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    }
    await expect(page.locator(`output[for="${await slider.getAttribute('id')}"]`)).toHaveText('2.5');
    // Reset is a change from outside the slider: the uncontrolled slider must still show it.
    await tabUntil(page, (f) => f.tag === 'button' && f.text === 'Reset', { backwards: true, max: 20, what: 'the Reset button' });
    await page.keyboard.press('Enter');
    await expect(slider).toHaveValue('10');
    await expect(page.locator(`output[for="${await slider.getAttribute('id')}"]`)).toHaveText('10');
  });

  test('pausing, resuming and stopping a session from the keyboard', async ({ page }) => {
    await openQuiet(page);
    const uuid = await spawnWithKeyboard(page, 'Keyboard journey: a swarm to pause and stop');
    const row = page.locator(`li[data-session="${uuid}"]`);

    const sections = page.getByRole('tablist', { name: 'Control panel sections' });
    await tabUntil(page, (f) => f.role === 'tab', { what: 'the control panel tabs' });
    await page.keyboard.press('ArrowRight');
    await expectTabSelected(page, sections, 'Sessions');
    // Pause is offered (and is a Tab stop) once the session runs.
    await expect(row.getByRole('button', { name: 'Pause' })).toBeEnabled({ timeout: 60_000 });
    await tabUntil(page, (f) => f.session === uuid && f.text === 'Pause', { max: 100, what: 'Pause on the new session' });
    await page.keyboard.press('Enter');
    await expect(row).toHaveAttribute('data-status', 'paused', { timeout: 30_000 });
    // The same control now offers Resume and still has focus.
    const resume = row.getByRole('button', { name: 'Resume' });
    await expect(resume).toBeFocused();
    await expect(resume).toBeEnabled();
    await screenshot(page, 'keyboard-paused');
    await page.keyboard.press('Space');
    await expect(row).toHaveAttribute('data-status', 'running', { timeout: 30_000 });

    await tabUntil(page, (f) => f.session === uuid && f.text === 'Stop', { max: 3, what: 'Stop on the new session' });
    await page.keyboard.press('Enter');
    await expect(row).toHaveAttribute('data-status', 'stopped', { timeout: 60_000 });
    // The row's actions are gone with the session; focus moves to its row, not back to <body>.
    await expect(row).toBeFocused();
    await expectFocusUsable(page);
    await screenshot(page, 'keyboard-stopped');
  });

  /**
   * The relay pushes a session's new status over the WebSocket, often before the REST answer to the
   * request arrives (under load, always). Here the resume answer is held back until the end: the row
   * shows it runs again, so a Stop pressed then must count. It used to be dropped while the resume
   * request was still marked busy (the journey above then timed out waiting for "stopped").
   */
  test('a Stop pressed while the resume answer is still on its way stops the session', async ({ page }) => {
    await openQuiet(page);
    const uuid = await spawnWithKeyboard(page, 'Keyboard journey: stop before the answer');
    const row = page.locator(`li[data-session="${uuid}"]`);
    await tabUntil(page, (f) => f.role === 'tab', { what: 'the control panel tabs' });
    await page.keyboard.press('ArrowRight');
    await expect(row.getByRole('button', { name: 'Pause' })).toBeEnabled({ timeout: 60_000 });
    await tabUntil(page, (f) => f.session === uuid && f.text === 'Pause', { max: 100, what: 'Pause on the new session' });
    await page.keyboard.press('Enter');
    await expect(row).toHaveAttribute('data-status', 'paused', { timeout: 30_000 });
    await expect(row.getByRole('button', { name: 'Resume' })).toBeEnabled();

    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/bots/resume-task/**', async (route) => {
      const answer = await route.fetch();
      await held;
      await route.fulfill({ response: answer });
    });
    try {
      await page.keyboard.press('Space');
      await expect(row).toHaveAttribute('data-status', 'running', { timeout: 30_000 });
      await tabUntil(page, (f) => f.session === uuid && f.text === 'Stop', { max: 3, what: 'Stop on the new session' });
      await page.keyboard.press('Enter');
      await expect(row).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
      await expect(row).toBeFocused();
    } finally {
      release();
    }
  });

  test('one Tab cycle through the whole page comes back to the start, every stop named and visibly focused', async ({ page }) => {
    test.setTimeout(180_000);
    await openQuiet(page);
    await expect.poll(() => agentCount(page), { timeout: 60_000 }).toBeGreaterThan(0);
    await tabUntil(page, isStatusBarSpawn, { what: 'the first control' });
    const seen: FocusInfo[] = [];
    // Around the page and back to the start: tabUntil fails on a trap (focus never coming back) and
    // checks every stop on the way; the cap allows for the activity log's agent links (at most 200).
    await tabUntil(page, (f) => (seen.push(f), isStatusBarSpawn(f)), { max: 400, what: 'the first control again' });
    // On the way: the control panel's selected tab only, its panel, the agent list and the activity log.
    expect(seen.filter((f) => f.role === 'tab').map((f) => f.text)).toEqual(['Agents']);
    expect(seen.filter((f) => f.role === 'tabpanel')).toHaveLength(1);
    expect(seen.some((f) => f.label === 'Search agents')).toBe(true);
    expect(seen.some((f) => f.agentId !== null)).toBe(true);
    expect(seen.some((f) => f.text.startsWith('Activity ('))).toBe(true);
  });
});
