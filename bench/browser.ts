/**
 * The real browser for benches that measure up to the page (console.bench.ts, claude-flow.bench.ts):
 * Debian's Chromium driven by Playwright on the built app (build/client) that a relay serves, one way
 * for all of them so their figures mean the same thing.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../e2e/chromium.js';
import type { BenchContext } from './types.js';

/**
 * Builds the client (so the relay's STATIC_DIR serves this checkout's app) and starts headless Chromium.
 * Null with the reason in words when there is no Chromium, the build fails or Chromium does not start;
 * the caller reports its browser rows as not run with that reason.
 */
export async function launchBrowser(ctx: BenchContext): Promise<{ browser: Browser | null; why: string }> {
  if (!ctx.chromium) return { browser: null, why: 'no chromium' };
  const build = spawnSync(process.execPath, [path.join(ctx.root, 'scripts/build.mjs'), 'client'], { cwd: ctx.root, stdio: 'inherit' });
  if (build.status !== 0) return { browser: null, why: 'client build failed' };
  try {
    return { browser: await chromium.launch({ executablePath: ctx.chromium, args: CHROMIUM_ARGS }), why: '' };
  } catch (e) {
    return { browser: null, why: `chromium did not start: ${String(e).slice(0, 200)}` };
  }
}

/**
 * The built app as served by the relay at `relayUrl`, open and ready (body[data-ready]). follow=1: this
 * page does not lead the layout; physics=cpu skips the start-up trial. `extraQuery` is appended to the
 * query (e.g. '&hooks=1' for window.__hivescope).
 */
export async function openApp(browser: Browser, relayUrl: string, extraQuery = ''): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${relayUrl}/?follow=1&physics=cpu${extraQuery}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  return page;
}

/**
 * The page's Date.now() minus ours (ms), from the round trip with the shortest duration; ± half of it.
 * Page and bench read one machine's clock, so benches report it (a check) rather than subtract it.
 */
export async function clockOffset(page: Page): Promise<{ offset: number; error: number }> {
  let best = { offset: 0, error: Infinity };
  for (let i = 0; i < 15; i++) {
    const a = Date.now();
    const p = await page.evaluate(() => Date.now());
    const b = Date.now();
    if ((b - a) / 2 < best.error) best = { offset: p - (a + b) / 2, error: (b - a) / 2 };
  }
  return best;
}
