/**
 * Shared steps for the app's end-to-end specs (app, journeys, xr): open the page and wait for the
 * readiness signal it publishes on <body> (never a sleep), read the page's data attributes, save
 * screenshots under test-results/.
 */
import { expect, type Page } from '@playwright/test';
import fs from 'node:fs';
import path from 'node:path';

export const SCREENSHOT_DIR = 'test-results';

export async function openApp(page: Page, query = ''): Promise<void> {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 60_000 });
}

export async function bodyAttr(page: Page, name: string): Promise<string> {
  return (await page.locator('body').getAttribute(name)) ?? '';
}

export async function agentCount(page: Page): Promise<number> {
  return Number(await bodyAttr(page, 'data-agent-count'));
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Spawns a swarm through the prompt; returns its session uuid once the notice shows it. */
export async function spawnThroughPrompt(page: Page, task: string, opts: { maxAgents?: number; topology?: string } = {}): Promise<string> {
  await page.getByRole('button', { name: 'Spawn swarm' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Spawn Hive Mind' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Task description').fill(task);
  if (opts.topology) await dialog.getByLabel('Topology').selectOption(opts.topology);
  if (opts.maxAgents !== undefined) await dialog.getByRole('slider', { name: 'Max agents' }).fill(String(opts.maxAgents));
  await dialog.getByRole('button', { name: 'Spawn swarm' }).click();
  const notice = page.getByTestId('spawn-notice');
  await expect(notice).toBeVisible();
  const uuid = (await notice.getAttribute('data-session')) ?? '';
  expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  return uuid;
}

/** A real child process (relay or engine) for journeys that need their own; stopped by `stop()`. */
export interface Proc {
  child: import('node:child_process').ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Children startNode started and that still run. A test that runs out of time is abandoned where it
 * waits, so the finally that would stop them never runs; Playwright then ends the worker, and this ends
 * them with it (a timed-out run left a relay running under PID 1).
 */
const started = new Set<import('node:child_process').ChildProcess>();
process.once('exit', () => {
  for (const c of started) c.kill('SIGKILL');
});

/** Starts `node <script>` with env; resolves once a stdout/stderr line matches `ready`. */
export async function startNode(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Proc> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms; output: ${seen.slice(-500)}`)), timeoutMs);
    const on = (d: Buffer) => {
      seen += d.toString();
      if (ready.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${script} exited ${code} before ready; output: ${seen.slice(-500)}`));
    });
  });
  return {
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** What has keyboard focus, as the keyboard journey checks it. */
export interface FocusInfo {
  tag: string;
  /** `type` of an input. */
  type: string | null;
  role: string | null;
  /** aria-label, else the text of the element's first <label>: enough to pick a control out. */
  label: string;
  text: string;
  testId: string | null;
  agentId: string | null;
  /** Inside the spawn dialog. */
  inDialog: boolean;
  /** uuid of the session row the element sits in, if any. */
  session: string | null;
  /** :focus-visible matches and an outline or a box-shadow is drawn. */
  visible: boolean;
}

export async function focusInfo(page: Page): Promise<FocusInfo | null> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow !== 'none' && cs.boxShadow !== '';
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      role: el.getAttribute('role'),
      label: (el.getAttribute('aria-label') ?? (el as HTMLInputElement).labels?.[0]?.textContent ?? '').trim(),
      text: (el.textContent ?? '').trim().slice(0, 80),
      testId: el.getAttribute('data-testid'),
      agentId: el.getAttribute('data-agent-id'),
      inDialog: el.closest('[role="dialog"]') !== null,
      session: el.closest('[data-session]')?.getAttribute('data-session') ?? null,
      visible: el.matches(':focus-visible') && (outline || shadow),
    };
  });
}

/**
 * Asserts that the focused element is a usable keyboard stop: it has an accessible name (as the
 * browser computes it: label, aria-label, aria-labelledby or content) and a visible focus indicator.
 */
export async function expectFocusUsable(page: Page): Promise<FocusInfo> {
  const info = await focusInfo(page);
  expect(info, 'something has keyboard focus').not.toBeNull();
  await expect(page.locator(':focus'), `accessible name of <${info!.tag}> "${info!.text}"`).toHaveAccessibleName(/\S/);
  expect(info!.visible, `focus indicator on <${info!.tag}> "${info!.text}"`).toBe(true);
  return info!;
}

/**
 * Presses Tab (or Shift+Tab) until the focused element satisfies `want`, checking every stop on the
 * way with expectFocusUsable; fails after `max` presses (a trap or an unreachable control).
 */
export async function tabUntil(page: Page, want: (f: FocusInfo) => boolean, opts: { max?: number; backwards?: boolean; what?: string } = {}): Promise<FocusInfo> {
  const max = opts.max ?? 60;
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(opts.backwards ? 'Shift+Tab' : 'Tab');
    const info = await focusInfo(page);
    // Between the last element of the page and the first, focus passes through the document itself.
    if (info === null) continue;
    await expectFocusUsable(page);
    if (want(info)) return info;
  }
  throw new Error(`${opts.what ?? 'the wanted control'} not reached after ${max} ${opts.backwards ? 'Shift+Tab' : 'Tab'} presses`);
}
