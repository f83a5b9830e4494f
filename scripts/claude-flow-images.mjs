#!/usr/bin/env node
// Builds the Docker images that hold the REAL claude-flow packages (issue 12's proof), offline but for the
// npm registry, and with no hivescope code inside: hivescope/claude-flow:3.43.0 and hivescope/claude-flow:2.7.47.
// Each is busybox + this machine's node (scripts/container.mjs's base rootfs) + the npm tree of that version
// at /opt/claude-flow (`claude-flow` linked into /usr/local/bin, as a global install would), plus
// container/image/claude-flow/: an upstream-style MCP TCP front on 9500 (the entrypoint, node as PID 1, so
// orphans are not reaped) and a stand-in `claude` on PATH.
//
// Caching (so `npm test` stays inside its budget): the npm tree is built once per version into
// ${XDG_CACHE_HOME:-~/.cache}/hivescope/claude-flow/<version>-<tree hash>/ (hash of the version, the install
// recipe, the prune list and node's version/arch: native addons are compiled for that node), outside the
// repo; the tree plus the base rootfs are imported as hivescope/claude-flow-base:<version> (skipped when its
// label matches), and the final image is a small `docker build` on it, skipped when an image with the same
// input hash (tree + base + container/image/claude-flow/*) exists.
//
//   node scripts/claude-flow-images.mjs build [--force] [3.43.0] [2.7.47]   (default: both)
//   node scripts/claude-flow-images.mjs status
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyLddLibraries, docker, imageStatus, importRootfs, makeBaseRootfs } from './container.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const IMAGE_DIR = path.join(root, 'container/image/claude-flow');
const IMAGE_FILES = ['Dockerfile', 'mcp-tcp-server.mjs', 'claude.mjs'];

export const CF_HASH_LABEL = 'org.hivescope.claude-flow-hash';
export const CF_VERSIONS = ['3.43.0', '2.7.47'];
export const cfImage = (version) => `hivescope/claude-flow:${version}`;
export const cfBaseImage = (version) => `hivescope/claude-flow-base:${version}`;
/** Where the image keeps the npm tree; `claude-flow` is linked from /usr/local/bin. */
export const CF_PREFIX = '/opt/claude-flow';

/**
 * How each version's tree is installed (argv after `npm`), from machine-recipes.md: 3.x installs as is
 * (optional onnxruntime/sharp drop out offline); 2.7's sharp would download libvips, so scripts are skipped
 * and only better-sqlite3 is rebuilt. `prune`: paths (relative to node_modules) that nothing probed needs;
 * the real Claude Code binary 2.7 depends on (235 MB) goes, the stand-in `claude` takes its place.
 */
const RECIPES = {
  '3.43.0': {
    steps: [['install', '--no-audit', '--no-fund', '--loglevel=error', 'claude-flow@3.43.0']],
    prune: [],
  },
  '2.7.47': {
    steps: [
      ['install', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts', 'claude-flow@2.7.47'],
      ['rebuild', '--loglevel=error', 'better-sqlite3'],
    ],
    prune: ['@anthropic-ai/claude-code-linux-x64', '.bin/claude', 'claude-flow/docs'],
  },
};
/** Bumped when prune() changes what it removes in every tree. */
const PRUNE_REVISION = 1;

export function cacheRoot() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'hivescope', 'claude-flow');
}

function recipe(version) {
  const r = RECIPES[version];
  if (!r) throw new Error(`unknown claude-flow version ${version} (known: ${CF_VERSIONS.join(', ')})`);
  return r;
}

const sha = (...parts) => {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : JSON.stringify(p));
  return h.digest('hex').slice(0, 24);
};

/** Hash of what decides a version's npm tree. */
export function treeHash(version) {
  return sha(version, recipe(version), PRUNE_REVISION, process.version, process.arch, process.platform);
}

/** Hash of the base rootfs (busybox + node), as scripts/container.mjs makes it. */
function baseRecipeHash() {
  const busybox = fs.existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox';
  const size = (f) => (fs.existsSync(f) ? String(fs.statSync(f).size) : 'none');
  return sha(process.version, size(process.execPath), size(busybox), fs.readFileSync(path.join(root, 'scripts/container.mjs')));
}

/** Hash of everything that goes into hivescope/claude-flow:<version> (its label). */
export function imageHash(version) {
  return sha(treeHash(version), baseRecipeHash(), ...IMAGE_FILES.map((f) => f + fs.readFileSync(path.join(IMAGE_DIR, f), 'utf8')));
}

function run(cmd, args, { cwd, env, timeoutMs = 900_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || err.message).trim().slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

function findFiles(dir, test, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, test, out);
    else if (e.isFile() && test(p)) out.push(p);
  }
  return out;
}

function findDirs(dir, test, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (test(p, e.name)) out.push(p);
    else findDirs(p, test, out);
  }
  return out;
}

/**
 * Removes what no command in the image can use: node-gyp's intermediates, prebuilt addons for other
 * platforms, and the version's own list. Returns the bytes freed (approximate: apparent sizes).
 */
function prune(modules, list) {
  const du = (p) => {
    const st = fs.lstatSync(p);
    return st.isDirectory() ? fs.readdirSync(p).reduce((n, e) => n + du(path.join(p, e)), 0) : st.size;
  };
  const victims = [
    ...list.map((p) => path.join(modules, p)),
    ...findDirs(modules, (p, name) => ['obj.target', '.deps'].includes(name) && p.includes(`${path.sep}build${path.sep}Release${path.sep}`)),
    ...findDirs(modules, (p) => path.basename(path.dirname(p)) === 'prebuilds' && !path.basename(p).startsWith('linux-x64')),
  ];
  let freed = 0;
  for (const v of victims) {
    if (!fs.lstatSync(v, { throwIfNoEntry: false })) continue;
    freed += du(v);
    fs.rmSync(v, { recursive: true, force: true });
  }
  return freed;
}

/**
 * The version's npm tree in the cache, built when missing (into a temporary folder renamed at the end, so an
 * interrupted build leaves nothing that looks complete). Returns { dir, built, seconds }.
 */
export async function ensureTree(version, { log = () => undefined } = {}) {
  const t0 = Date.now();
  const dir = path.join(cacheRoot(), `${version}-${treeHash(version)}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return { dir, built: false, seconds: 0 };
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  fs.mkdirSync(tmp);
  try {
    fs.writeFileSync(path.join(tmp, 'package.json'), `${JSON.stringify({ name: 'claude-flow-image', private: true, description: `claude-flow@${version} for hivescope's test image` }, null, 2)}\n`);
    const { steps, prune: list } = recipe(version);
    for (const argv of steps) {
      log(`${version}: npm ${argv.join(' ')}`);
      // 3.x's install scripts run claude-flow code: never let it look for updates.
      await run('npm', argv, { cwd: tmp, env: { CLAUDE_FLOW_AUTO_UPDATE: 'false', CI: 'true', npm_config_update_notifier: 'false' } });
    }
    const freed = prune(path.join(tmp, 'node_modules'), list);
    log(`${version}: pruned ${(freed / 1e6).toFixed(0)} MB`);
    fs.writeFileSync(path.join(tmp, '.complete'), `${JSON.stringify({ version, treeHash: treeHash(version), node: process.version, builtAt: new Date().toISOString() })}\n`);
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same tree first: use theirs.
      if (!fs.existsSync(path.join(dir, '.complete'))) throw e;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // Trees of this version built from other inputs are stale: drop them (about 0.3-1 GB each).
  for (const e of fs.readdirSync(cacheRoot())) {
    const p = path.join(cacheRoot(), e);
    if (e.startsWith(`${version}-`) && p !== dir && !e.includes('.tmp-')) fs.rmSync(p, { recursive: true, force: true });
  }
  const seconds = (Date.now() - t0) / 1000;
  log(`${version}: npm tree ready in ${seconds.toFixed(1)} s (${dir})`);
  return { dir, built: true, seconds };
}

/** Copies a tree with hard links where the filesystem allows (instant), else byte for byte. */
async function linkTree(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  try {
    await run('cp', ['-al', src, dst]);
  } catch {
    fs.rmSync(dst, { recursive: true, force: true });
    await run('cp', ['-a', src, dst]);
  }
}

async function imageId(image) {
  return docker(['image', 'inspect', '--format', '{{.Id}}', image]).then((o) => o.trim()).catch(() => null);
}

/** hivescope/claude-flow-base:<version>: base rootfs + the tree + the libraries its native addons link. */
async function ensureBase(version, treeDir, log) {
  const base = cfBaseImage(version);
  const hash = sha(treeHash(version), baseRecipeHash());
  const st = await imageStatus(base, CF_HASH_LABEL);
  if (st.exists && st.hash === hash) return { built: false, seconds: 0 };
  const t0 = Date.now();
  const previous = await imageId(base);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-image-'));
  try {
    const rootfs = path.join(staging, 'rootfs');
    await makeBaseRootfs(rootfs, ['workspace', 'opt']);
    await linkTree(treeDir, path.join(rootfs, CF_PREFIX.slice(1)));
    fs.rmSync(path.join(rootfs, CF_PREFIX.slice(1), '.complete'));
    fs.symlinkSync(`${CF_PREFIX}/node_modules/.bin/claude-flow`, path.join(rootfs, 'usr/local/bin/claude-flow'));
    // Native addons for this platform need what ldd lists (libc, libm, libstdc++, libgcc_s: mostly node's own).
    for (const addon of findFiles(path.join(treeDir, 'node_modules'), (p) => p.endsWith('.node'))) {
      await copyLddLibraries(rootfs, addon).catch(() => undefined); // other platforms' prebuilds: not ELF for us
    }
    await importRootfs(rootfs, base, ['ENV PATH=/usr/local/bin:/usr/bin:/bin', `LABEL ${CF_HASH_LABEL}=${hash}`]);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (previous && previous !== (await imageId(base))) await docker(['rmi', previous]).catch(() => undefined);
  const seconds = (Date.now() - t0) / 1000;
  log(`${version}: imported ${base} in ${seconds.toFixed(1)} s`);
  return { built: true, seconds };
}

/**
 * Builds hivescope/claude-flow:<version> unless an image with the same input hash exists.
 * Returns { version, image, built, hash, seconds, treeSeconds, sizeBytes }.
 */
export async function buildClaudeFlowImage(version, { force = false, log = (m) => console.error(`[claude-flow-images] ${m}`), treeSeconds = 0 } = {}) {
  const t0 = Date.now();
  const image = cfImage(version);
  const hash = imageHash(version);
  const current = await imageStatus(image, CF_HASH_LABEL);
  if (!force && current.exists && current.hash === hash) {
    return { version, image, built: false, hash, seconds: 0, treeSeconds: 0, sizeBytes: current.sizeBytes };
  }
  const tree = await ensureTree(version, { log });
  // A tree built just before by buildClaudeFlowImages counts toward this image's time.
  const treeTime = tree.built ? tree.seconds : treeSeconds;
  await ensureBase(version, tree.dir, log);
  const previous = await imageId(image);
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'cf-ctx-'));
  try {
    for (const f of IMAGE_FILES) {
      fs.copyFileSync(path.join(IMAGE_DIR, f), path.join(ctx, f));
      fs.chmodSync(path.join(ctx, f), 0o755);
    }
    await docker(['build', '-q', '--build-arg', `BASE=${cfBaseImage(version)}`, '--build-arg', `CLAUDE_FLOW_VERSION=${version}`, '--label', `${CF_HASH_LABEL}=${hash}`, '-t', image, ctx], { env: { DOCKER_BUILDKIT: '0' } });
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  if (previous && previous !== (await imageId(image))) await docker(['rmi', previous]).catch(() => undefined);
  const status = await imageStatus(image, CF_HASH_LABEL);
  const seconds = (Date.now() - t0) / 1000 + (tree.built ? 0 : treeSeconds);
  log(`built ${image} in ${seconds.toFixed(1)} s (npm tree ${treeTime > 0 ? `${treeTime.toFixed(1)} s` : 'cached'}), ${(status.sizeBytes / 1e6).toFixed(0)} MB`);
  return { version, image, built: true, hash, seconds, treeSeconds: treeTime, sizeBytes: status.sizeBytes };
}

/**
 * Builds (or reuses) the images of `versions`. The npm trees are built in parallel (one is mostly download,
 * the other mostly compiling: together they fit 2 cores); the Docker steps then run one after another.
 */
export async function buildClaudeFlowImages({ versions = CF_VERSIONS, force = false, log } = {}) {
  const l = log ?? ((m) => console.error(`[claude-flow-images] ${m}`));
  const stale = [];
  for (const v of versions) {
    const st = await imageStatus(cfImage(v), CF_HASH_LABEL);
    if (force || !st.exists || st.hash !== imageHash(v)) stale.push(v);
  }
  const trees = new Map(await Promise.all(stale.map(async (v) => [v, await ensureTree(v, { log: l })])));
  const results = [];
  for (const v of versions) results.push(await buildClaudeFlowImage(v, { force, log: l, treeSeconds: trees.get(v)?.seconds ?? 0 }));
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [cmd, ...rest] = process.argv.slice(2);
  const versions = rest.filter((a) => !a.startsWith('-'));
  try {
    if (cmd === 'build') {
      const t0 = Date.now();
      const results = await buildClaudeFlowImages({ versions: versions.length ? versions : CF_VERSIONS, force: rest.includes('--force') });
      for (const r of results) console.log(r.built ? `built ${r.image} (${(r.sizeBytes / 1e6).toFixed(0)} MB, ${r.seconds.toFixed(1)} s)` : `${r.image} is up to date`);
      console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } else if (cmd === 'status') {
      for (const v of CF_VERSIONS) {
        const st = await imageStatus(cfImage(v), CF_HASH_LABEL);
        const tree = path.join(cacheRoot(), `${v}-${treeHash(v)}`);
        console.log(`${cfImage(v)}: ${st.exists ? (st.hash === imageHash(v) ? 'up to date' : 'stale') : 'missing'}; npm tree ${fs.existsSync(path.join(tree, '.complete')) ? 'cached' : 'not cached'} (${tree})`);
      }
    } else {
      console.error('usage: node scripts/claude-flow-images.mjs build [--force] [version ...] | status');
      process.exit(2);
    }
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
