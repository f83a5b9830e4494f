#!/usr/bin/env node
// Package bin `hive-session-manager`: runs the compiled session manager from dist/ (see container/README.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'dist', 'container', 'session-manager', 'cli.js');
if (!fs.existsSync(target)) {
  process.stderr.write('error: dist/ is not built; run `node scripts/build.mjs node` (or `npm install`) first\n');
  process.exit(3);
}
const { main } = await import(pathToFileURL(target).href);
process.exit(await main(process.argv.slice(2)));
