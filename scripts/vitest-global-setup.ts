// Tests that start real child processes (session manager, engine, relay) run the compiled JS in dist/.
// Build it once per vitest run if any source is newer, so `npx vitest` works without a manual build.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', 'node'], { stdio: 'inherit' });
}
