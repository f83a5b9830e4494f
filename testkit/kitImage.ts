/**
 * The kit's image (hivescope/multi-agent:latest) for Docker tests and benches. scripts/container.mjs is
 * the one place that builds, runs and removes it; this module loads it from the repository root at run
 * time rather than by a relative import, because the benches run this file compiled under dist/testkit/
 * and tsc copies no .mjs into dist/ (a relative import would name dist/scripts/container.mjs, which does
 * not exist). The type import below is erased when compiled. Also puts the image into a private dockerd.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../relay/control/paths.js';
import type { PrivateDockerd } from './privateDockerd.js';
import { runCommand } from './processes.js';

export type KitModule = typeof import('../scripts/container.mjs');

let kit: Promise<KitModule> | null = null;

/** scripts/container.mjs (buildImage, up, down, imageStatus, ...), loaded once per process. */
export function kitModule(): Promise<KitModule> {
  kit ??= import(pathToFileURL(path.join(repoRoot(), 'scripts/container.mjs')).href) as Promise<KitModule>;
  return kit;
}

let built: ReturnType<KitModule['buildImage']> | null = null;

/** Builds the kit's image if missing or stale (by its kit-hash label); once per process, shared by its tests. */
export function ensureImage(): ReturnType<KitModule['buildImage']> {
  built ??= kitModule().then((m) => m.buildImage({ log: () => undefined }));
  return built;
}

/** Where the kit's image in a private dockerd came from. */
export type PrivateImageSource = 'loaded-from-main-daemon' | 'built-in-private-daemon';

/**
 * Puts the kit's image into a private dockerd (privateDockerd.ts): built in the machine's daemon when
 * missing or stale and loaded from there, or, when that daemon does not answer, built straight into the
 * private one. The build runs as `node scripts/container.mjs build` so DOCKER_HOST can name either daemon.
 */
export async function loadKitImageInto(
  d: PrivateDockerd,
  log: (msg: string) => void = () => undefined,
): Promise<{ image: string; source: PrivateImageSource; buildMs: number; loadMs: number }> {
  const { IMAGE } = await kitModule();
  let buildMs = 0;
  const build = async (env: NodeJS.ProcessEnv) => {
    const t0 = performance.now();
    const r = await runCommand(process.execPath, ['scripts/container.mjs', 'build'], { cwd: repoRoot(), env, timeoutMs: 300_000, maxBuffer: 16 * 1024 * 1024 });
    if (r.code !== 0) throw new Error(`node scripts/container.mjs build failed: ${`${r.stdout}${r.stderr}`.trim().slice(-2000)}`);
    buildMs += performance.now() - t0;
  };
  const mainDaemon = await runCommand('docker', ['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
  if (mainDaemon.code !== 0) {
    await build({ ...process.env, DOCKER_HOST: d.host });
    return { image: IMAGE, source: 'built-in-private-daemon', buildMs, loadMs: 0 };
  }
  await build(process.env);
  // Another run may retag the image between build and save: one more try covers it.
  const loaded = await d.loadImageFrom(IMAGE).catch(async (err: unknown) => {
    log(`image load failed once (${(err as Error).message.split('\n')[0]}); rebuilding and retrying`);
    await build(process.env);
    return d.loadImageFrom(IMAGE);
  });
  return { image: IMAGE, source: 'loaded-from-main-daemon', buildMs, loadMs: loaded.ms };
}
