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
