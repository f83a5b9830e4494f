/**
 * Temporary directories made by test helpers (relay state dirs, data-plane dirs, session-manager roots),
 * removed after each test file by scripts/vitest-setup.ts, so a test run leaves nothing under the system
 * temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  made.clear();
}
