/** Locates the repository root and the compiled kit entry points the local driver runs. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** The folder holding hivescope's package.json (works from relay/control/*.ts and dist/relay/control/*.js). */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'hivescope') return (cached = dir);
    } catch {
      /* keep looking */
    }
    const up = path.dirname(dir);
    if (up === dir) return (cached = process.cwd());
    dir = up;
  }
}

export const localSessionManagerCli = () => path.join(repoRoot(), 'dist/container/session-manager/cli.js');
export const localEngineMain = () => path.join(repoRoot(), 'dist/container/engine/main.js');
export const diesWithParentPreload = () => path.join(repoRoot(), 'dist/relay/control/diesWithParent.js');
