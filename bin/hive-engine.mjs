#!/usr/bin/env node
// Package bin `hive-engine`: the simulated swarm engine + MCP TCP server, from dist/ (env: see container/README.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'dist', 'container', 'engine', 'main.js');
if (!fs.existsSync(target)) {
  process.stderr.write('error: dist/ is not built; run `node scripts/build.mjs node` (or `npm install`) first\n');
  process.exit(3);
}
await import(pathToFileURL(target).href);
