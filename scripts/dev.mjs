#!/usr/bin/env node
// `npm run dev`: Vite with hot reload for the client, proxying /api, /health and /wss to a relay.
// If no relay answers at HIVESCOPE_RELAY (default http://127.0.0.1:3000), one is started here with
// the embedded hive; both children stop on Ctrl-C.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNode } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const relayUrl = process.env.HIVESCOPE_RELAY ?? 'http://127.0.0.1:3000';
const children = [];

async function relayAnswers() {
  try {
    const r = await fetch(`${relayUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200 || r.status === 401;
  } catch {
    return false;
  }
}

buildNode();
if (!(await relayAnswers())) {
  const port = new URL(relayUrl).port || '3000';
  console.log(`dev: starting a relay on ${relayUrl}`);
  children.push(spawn(process.execPath, ['dist/relay/main.js'], { cwd: root, stdio: 'inherit', env: { ...process.env, PORT: port } }));
}
children.push(spawn(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js')], { cwd: root, stdio: 'inherit', env: { ...process.env, HIVESCOPE_RELAY: relayUrl } }));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) c.on('exit', () => {
  stop();
  if (children.every((x) => x.exitCode !== null || x.signalCode !== null)) process.exit(0);
});
