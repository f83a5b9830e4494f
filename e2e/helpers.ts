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

/** Starts `node <script>` with env; resolves once a stdout/stderr line matches `ready`. */
export async function startNode(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Proc> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as import('node:net').AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
