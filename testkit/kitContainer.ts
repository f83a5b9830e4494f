/**
 * A container for the control plane's Docker tests and bench (never used by the relay itself). It is
 * the kit's image (scripts/container.mjs buildImage/up/down) with a unique name, volume and MCP port;
 * when that module is missing, a minimal local image of the same layout (busybox + this machine's node,
 * per machine-recipes.md) with the compiled kit bind-mounted read-only at /app.
 */
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { repoRoot } from './paths.js';

export const BASE_IMAGE = 'hivescope-control-base:test';

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function imageExists(name: string): boolean {
  try {
    execFileSync('docker', ['image', 'inspect', name], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** busybox + node rootfs imported as BASE_IMAGE (about 2 s; skipped when present). */
export async function ensureBaseImage(): Promise<string> {
  if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-rootfs-'));
  try {
    for (const d of ['bin', 'usr/bin', 'usr/local/bin', 'tmp', 'workspace', 'app/scripts', 'proc', 'sys', 'dev', 'etc', 'var/log/multi-agent']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync('/bin/busybox', ['--list']).toString().split('\n').filter(Boolean);
    for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', a));
    fs.copyFileSync(process.execPath, path.join(root, 'usr/local/bin/node'));
    fs.chmodSync(path.join(root, 'usr/local/bin/node'), 0o755);
    const libs = execFileSync('ldd', [process.execPath]).toString().matchAll(/(\/\S+\.so[.\d]*)/g);
    for (const m of libs) {
      const src = m[1]!;
      fs.mkdirSync(path.join(root, path.dirname(src)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(src), path.join(root, src));
    }
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const imp = spawn('docker', ['import', '-c', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', '-', BASE_IMAGE], { stdio: ['pipe', 'ignore', 'inherit'] });
      tar.stdout.pipe(imp.stdin);
      imp.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import exited ${code}`))));
      tar.on('error', reject);
      imp.on('error', reject);
    });
    return BASE_IMAGE;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

interface KitModule {
  buildImage(o?: { force?: boolean }): Promise<{ image: string }>;
  up(o: { name: string; volume: string; port: number; env?: Record<string, string> }): Promise<{ name: string; started: boolean }>;
  down(o: { name: string; volume: string; volumes: boolean }): Promise<unknown>;
}

async function kitModule(): Promise<KitModule | null> {
  const file = path.join(repoRoot(), 'scripts/container.mjs');
  if (!fs.existsSync(file)) return null;
  const m = (await import(pathToFileURL(file).href)) as Partial<KitModule>;
  return m.buildImage && m.up && m.down ? (m as KitModule) : null;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });

/** Which image the last startKitContainer used. */
export let kitContainerSource: 'kit-image' | 'local-fallback' | null = null;

/**
 * Starts a container named `name` with the kit's engine and the session manager at the image path
 * (the kit's image on host networking with its own free MCP port, or the local fallback).
 */
export async function startKitContainer(name: string): Promise<void> {
  await removeContainer(name);
  const kit = await kitModule();
  if (kit) {
    await kit.buildImage();
    await kit.up({ name, volume: `${name}-workspace`, port: await freePort(), env: { HIVE_SIM_SPEED: '1' } });
    kitContainerSource = 'kit-image';
    return;
  }
  await startFallbackContainer(name);
  kitContainerSource = 'local-fallback';
}

async function startFallbackContainer(name: string): Promise<Docker.Container> {
  const docker = new Docker();
  const image = await ensureBaseImage();
  const repo = repoRoot();
  const wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-hsm-'));
  const wrapper = path.join(wrapperDir, 'hive-session-manager.sh');
  fs.writeFileSync(wrapper, '#!/bin/sh\nexec node /app/dist/container/session-manager/cli.js "$@"\n');
  fs.chmodSync(wrapper, 0o755);
  const c = await docker.createContainer({
    name,
    Image: image,
    Cmd: ['node', '/app/dist/container/engine/main.js'],
    Env: ['HIVE_ROOT=/workspace', 'MCP_HOST=127.0.0.1', 'MCP_PORT=9500', 'HIVE_SIM_SPEED=1', 'HIVE_LOG_DIR=/var/log/multi-agent'],
    WorkingDir: '/workspace',
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${repo}/dist:/app/dist:ro`, `${repo}/node_modules:/app/node_modules:ro`, `${repo}/package.json:/app/package.json:ro`, `${wrapper}:/app/scripts/hive-session-manager.sh:ro`],
    },
  });
  await c.start();
  return c;
}

/** Removes the container and the kit-image volume it used. */
export async function removeContainer(name: string): Promise<void> {
  try {
    await new Docker().getContainer(name).remove({ force: true });
  } catch {
    /* not there */
  }
  try {
    await new Docker().getVolume(`${name}-workspace`).remove();
  } catch {
    /* not there */
  }
}
