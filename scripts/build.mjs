#!/usr/bin/env node
// Builds what is missing or stale: `node` compiles shared/, relay/ and container/ to dist/ (tsc);
// `client` builds the browser app to build/client (vite); `all` does both. Up-to-date parts are skipped
// by comparing the newest source mtime with a stamp written after the last good build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = (await import('node:module')).createRequire(import.meta.url);

function newestMtime(entries) {
  let newest = 0;
  const walk = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      const base = path.basename(p);
      if (base === 'node_modules' || base === 'dist' || base === 'build' || base.startsWith('.')) return;
      for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const e of entries) walk(path.join(root, e));
  return newest;
}

function stale(stamp, sources) {
  try {
    return fs.statSync(path.join(root, stamp)).mtimeMs < newestMtime(sources);
  } catch {
    return true;
  }
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function touch(stamp) {
  fs.mkdirSync(path.dirname(path.join(root, stamp)), { recursive: true });
  fs.writeFileSync(path.join(root, stamp), new Date().toISOString());
}

export function buildNode({ force = false } = {}) {
  const stamp = 'dist/.stamp';
  // testkit/ is compiled too (the benches import it; vitest runs it from source): its changes count.
  if (!force && !stale(stamp, ['shared', 'relay', 'container', 'bench', 'e2e', 'testkit', 'tsconfig.json', 'tsconfig.node.json', 'package.json'])) return false;
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.node.json']);
  touch(stamp);
  return true;
}

export function buildClient({ force = false } = {}) {
  const stamp = 'build/client/.stamp';
  if (!force && !stale(stamp, ['client', 'shared', 'public', 'index.html', 'vite.config.ts', 'package.json'])) return false;
  run(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn']);
  touch(stamp);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const what = process.argv[2] ?? 'all';
  const force = process.argv.includes('--force');
  if (!['node', 'client', 'all'].includes(what)) {
    console.error(`usage: node scripts/build.mjs node|client|all [--force]`);
    process.exit(2);
  }
  if (what === 'node' || what === 'all') buildNode({ force });
  if (what === 'client' || what === 'all') buildClient({ force });
}
