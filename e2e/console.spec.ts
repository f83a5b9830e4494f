/**
 * The session console against the real relay with the embedded hive (issue 13's journey): spawn a swarm,
 * open its console, watch new log lines arrive (live over /wss; the lines are appended to the session's
 * real log file, which the embedded hive keeps on this machine, since the kit's session manager writes
 * only its start-up lines there), search and copy, pause and see the new-output marker, survive a
 * reconnect with no gap and no repeat (the page's received text equals the file's bytes), open a file the
 * swarm wrote, and see its tasks' progress. A second journey does it by keyboard: open from the Sessions tab, switch tabs with arrows,
 * reach the output region, close with Escape and get focus back. Screenshots kept under test-results/
 * (console-log, console-files, console-tasks, console-keyboard).
 */
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openApp, screenshot, spawnThroughPrompt, expectFocusUsable, focusInfo, tabUntil } from './helpers.js';

type Hooks = {
  __hivescope: {
    store: { getState(): { agents: Map<string, { id: string; sessionUuid: string | null; mock: boolean }>; consoleSession: string | null } };
    services: {
      connection: {
        manager: { reconnect(reason: string): void };
        logs: {
          subscribe(uuid: string, l: (e: { kind: string; text?: string }) => void): () => void;
          cursor(uuid: string): { next: number | null; logId: string | null } | null;
          stats: { gaps: number; duplicates: number; restarts: number };
        };
      };
    };
  };
  __consoleText?: string;
};

/** The byte offset the console's terminal has shown up to (written by the console on each chunk). */
async function shownUpTo(page: Page): Promise<number> {
  const v = await page.getByTestId('log-terminal').getAttribute('data-next');
  return v ? Number(v) : -1;
}

/** An agent of the session, or null while none has arrived. */
async function agentOf(page: Page, uuid: string): Promise<string | null> {
  return page.evaluate((u) => {
    for (const a of (window as unknown as Hooks).__hivescope.store.getState().agents.values()) if (a.sessionUuid === u && !a.mock) return a.id;
    return null;
  }, uuid);
}

test('session console: live log, search, copy, pause, a reconnect without gap or repeat, a produced file, task progress', async ({ page, context }) => {
  test.setTimeout(180_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openApp(page, '?hooks=1');
  const uuid = await spawnThroughPrompt(page, 'Write release notes for v2', { maxAgents: 4 });

  // Opened from the Sessions tab.
  await page.getByTestId('tab-sessions').click();
  await page.locator(`li[data-session="${uuid}"]`).getByTestId('open-console').click();
  await expect(page.locator('body')).toHaveAttribute('data-console', uuid);
  const consoleEl = page.getByTestId('console');
  await expect(consoleEl).toHaveAttribute('data-session', uuid);
  const log = consoleEl.locator('.console-log');
  const rows = page.getByTestId('log-terminal').locator('.xterm-rows');

  // Everything the page receives for this log, collected beside the console (the same feed, a second view).
  await page.evaluate((u) => {
    const w = window as unknown as Hooks;
    w.__consoleText = '';
    w.__hivescope.services.connection.logs.subscribe(u, (e) => {
      if (e.kind === 'text') w.__consoleText += e.text ?? '';
      if (e.kind === 'reset') w.__consoleText = '';
    });
  }, uuid);

  // The session manager's first lines, then lines written into the session's log file as the swarm runs
  // (the embedded hive runs here, so its log is a file on this machine); a colour stays a colour.
  await expect(log).toHaveAttribute('data-log-state', 'following', { timeout: 30_000 });
  await expect.poll(() => shownUpTo(page), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('log-empty')).toHaveCount(0);
  const meta = await page.request.get(`/api/sessions/${uuid}/log?max=1`);
  expect(meta.status()).toBe(200);
  const logPath = ((await meta.json()) as { path: string }).path;
  expect(fs.existsSync(logPath), `the session's log ${logPath} is a file here`).toBe(true);
  const write = (line: string) => fs.appendFileSync(logPath, `\u001b[32m${line}\u001b[0m\n`);
  for (const n of [1, 2]) {
    const before = await shownUpTo(page);
    write(`console journey: line ${n} ✓`);
    await expect(rows).toContainText(`console journey: line ${n} ✓`, { timeout: 30_000 });
    expect(await shownUpTo(page)).toBeGreaterThan(before);
  }
  await expect(rows.locator('.xterm-fg-2').filter({ hasText: 'console journey: line 2' })).toHaveCount(1);
  await screenshot(page, 'console-log');

  // Search finds and selects; Copy puts the selection on the clipboard.
  await log.getByLabel('Search the log').fill('JOURNEY: line 2');
  await log.getByLabel('Search the log').press('Enter');
  await expect(log.getByTestId('search-result')).toHaveText('1 of 1');
  await log.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('journey: line 2');
  await log.getByLabel('Search the log').fill('');
  // Going to a match may have paused following (the view left the bottom): follow again.
  if ((await log.getAttribute('data-following')) === 'false') await log.getByRole('button', { name: 'Follow' }).click();

  // Pause holds new output back and says there is some; the marker shows it and follows again.
  await log.getByRole('button', { name: 'Pause' }).click();
  await expect(log).toHaveAttribute('data-following', 'false');
  write('console journey: line 3 while paused');
  await expect(log.getByTestId('new-output')).toBeVisible({ timeout: 30_000 });
  await expect(rows).not.toContainText('line 3 while paused');
  await log.getByTestId('new-output').click();
  await expect(log).toHaveAttribute('data-following', 'true');
  await expect(rows).toContainText('line 3 while paused');
  await expect(log.getByTestId('new-output')).toHaveCount(0);

  // A reconnect resumes from the last offset: a line written meanwhile shows once, and everything the
  // page received is the file's bytes, nothing repeated or missed.
  await page.evaluate(() => (window as unknown as Hooks).__hivescope.services.connection.manager.reconnect('console journey: resume'));
  write('console journey: line 4 across a reconnect');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 });
  await expect(rows).toContainText('line 4 across a reconnect', { timeout: 30_000 });
  expect((await rows.innerText()).split('line 4 across a reconnect').length - 1).toBe(1);
  const { received, cursor, stats } = await page.evaluate((u) => {
    const w = window as unknown as Hooks;
    const logs = w.__hivescope.services.connection.logs;
    return { received: w.__consoleText ?? '', cursor: logs.cursor(u)!, stats: logs.stats };
  }, uuid);
  expect(stats.gaps, 'no chunk skipped ahead of the cursor').toBe(0);
  expect(stats.restarts).toBe(0);
  const receivedBytes = Buffer.byteLength(received);
  const file = fs.readFileSync(logPath);
  expect(cursor.next).toBeLessThanOrEqual(file.length);
  expect(received).toBe(file.subarray(cursor.next! - receivedBytes, cursor.next!).toString('utf8'));
  expect(received).toContain('line 4 across a reconnect');

  // Files: a file the swarm wrote, previewed as text, with a download of the same bytes.
  await consoleEl.getByTestId('console-tab-files').click();
  const files = consoleEl.getByTestId('file-list');
  await expect(files.locator('li').first()).toBeVisible({ timeout: 90_000 });
  const filePath = (await files.locator('li').first().getAttribute('data-path'))!;
  await files.locator('li').first().getByRole('button').click();
  const preview = consoleEl.getByTestId('file-preview');
  await expect(preview).toHaveAttribute('data-path', filePath);
  await expect(preview.getByTestId('file-text')).not.toBeEmpty({ timeout: 20_000 });
  const href = (await preview.getByTestId('file-download').getAttribute('href'))!;
  const download = await page.request.get(href);
  expect(download.status()).toBe(200);
  const shown = await preview.getByTestId('file-text').innerText();
  expect((await download.text()).startsWith(shown.slice(0, 200))).toBe(true);
  await screenshot(page, 'console-files');

  // Tasks: listed with status and assignee, and progress as a bar once the backend reports some.
  await consoleEl.getByTestId('console-tab-tasks').click();
  const tasks = consoleEl.getByTestId('task-list');
  await expect(tasks.locator('li').first()).toBeVisible({ timeout: 60_000 });
  await expect(tasks.locator('li:not([data-progress="unknown"]) progress').first()).toBeVisible({ timeout: 60_000 });
  await screenshot(page, 'console-tasks');

  // Escape closes it.
  await page.keyboard.press('Escape');
  await expect(page.locator('body')).toHaveAttribute('data-console', '');
  await expect(consoleEl).toHaveCount(0);
});

test('session console by keyboard: from the Sessions tab and an agent\'s detail, tabs by arrows, the output region, Escape returns focus', async ({ page }) => {
  await openApp(page, '?hooks=1');
  const uuid = await spawnThroughPrompt(page, 'Console keyboard journey', { maxAgents: 3 });
  await page.getByTestId('tab-sessions').click();
  await page.getByTestId('tab-sessions').focus();
  const open = await tabUntil(page, (f) => f.session === uuid && f.text === 'Console', { max: 120, what: "the new session's Console button" });
  expect(open.label).toMatch(/^Console of session/);
  await page.keyboard.press('Enter');
  const consoleEl = page.getByTestId('console');
  await expect(consoleEl).toHaveAttribute('data-session', uuid);
  // Focus lands on the console's selected tab; arrows move between Log, Files and Tasks.
  const tabs = consoleEl.getByRole('tablist', { name: 'Session console tabs' });
  await expect(tabs.getByRole('tab', { name: 'Log' })).toBeFocused();
  await expectFocusUsable(page);
  await page.keyboard.press('ArrowRight');
  await expect(tabs.getByRole('tab', { name: 'Files' })).toBeFocused();
  await expect(tabs.getByRole('tab', { name: 'Files' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(tabs.getByRole('tab', { name: 'Tasks' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Home');
  await expect(tabs.getByRole('tab', { name: 'Log' })).toHaveAttribute('aria-selected', 'true');
  // Tab reaches the log's controls and its output region (a named, visibly focused stop; xterm's own
  // textarea is not a stop and swallows no key).
  await tabUntil(page, (f) => f.role === 'region' && f.label.startsWith('Log output'), { max: 10, what: 'the log output region' });
  await page.keyboard.press('PageUp');
  await page.keyboard.press('End');
  await expect(consoleEl.locator('.console-log')).toHaveAttribute('data-following', 'true');
  await screenshot(page, 'console-keyboard');
  // Escape from inside the terminal region closes the console; focus goes back to the Console button.
  await page.keyboard.press('Escape');
  await expect(consoleEl).toHaveCount(0);
  const back = await focusInfo(page);
  expect(back?.session === uuid && back.text === 'Console', `focus after Escape: ${JSON.stringify(back)}`).toBe(true);

  // From an agent's detail: its session's console; and C opens the selected agent's session too.
  await expect.poll(() => agentOf(page, uuid), { timeout: 60_000 }).not.toBeNull();
  const agentId = (await agentOf(page, uuid))!;
  await page.getByTestId('tab-agents').click();
  await page.locator(`button[data-agent-id="${agentId}"]`).click();
  await page.getByTestId('agent-open-console').click();
  await expect(page.locator('body')).toHaveAttribute('data-console', uuid);
  await page.keyboard.press('Escape');
  await expect(page.locator('body')).toHaveAttribute('data-console', '');
  await page.locator(`button[data-agent-id="${agentId}"]`).focus();
  await page.keyboard.press('c');
  await expect(page.locator('body')).toHaveAttribute('data-console', uuid);
});

test('a session whose log cannot be followed says why instead of showing an empty pane', async ({ page }) => {
  await openApp(page, '?hooks=1');
  const unknown = '00000000-0000-4000-8000-000000000000';
  await page.evaluate((u) => (window as unknown as { __hivescope: { store: { setState(s: { consoleSession: string }): void } } }).__hivescope.store.setState({ consoleSession: u }), unknown);
  const consoleEl = page.getByTestId('console');
  await expect(consoleEl).toHaveAttribute('data-session', unknown);
  const log = consoleEl.locator('.console-log');
  await expect(log).toHaveAttribute('data-log-state', 'unavailable', { timeout: 30_000 });
  await expect(log.getByTestId('log-unavailable')).toContainText('No log to show');
  await expect(log.getByTestId('log-empty')).toHaveCount(0);
  // Files and tasks of a session the relay does not know: the relay's refusal, in words.
  await consoleEl.getByTestId('console-tab-files').click();
  await expect(consoleEl.getByRole('alert')).toContainText('Could not list the files');
  await consoleEl.getByTestId('console-tab-tasks').click();
  await expect(consoleEl.getByRole('alert')).toContainText('Could not read the tasks');
});
