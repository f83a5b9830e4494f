/** Test helpers: a relay config for a given MCP port and a bounded wait for a condition. */
import { loadConfig, type RelayConfig } from '../../config.js';
import { makeTempDir } from '../../../testkit/tempDirs.js';

export function tempDir(prefix = 'hivescope-dp-'): string {
  return makeTempDir(prefix);
}

export function testConfig(env: Record<string, string> = {}): RelayConfig {
  return loadConfig({ HIVE_STATE_DIR: tempDir(), MCP_POLL_MS: '100', MCP_REQUEST_TIMEOUT_MS: '2000', ...env });
}

/** Resolves once `pred` holds; rejects after `ms` (a hang guard, not a speed assertion). */
export async function waitFor(pred: () => boolean, what = 'condition', ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
