// The engine's registry writes against a `start` that re-runs a stopped session: the previous swarm's last
// word (a stop's `stopped`) must not land on the new run, and a swarm's own final status is kept until the
// entry names that swarm (the CLI records it after session_run answers).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { paths, readRegistry, updateRegistry, type RegistryEntry } from '../session-manager/registry.js';
import { RegistrySink } from './registry-sink.js';
import type { SimSwarm } from './sim.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

function setup(entry: Partial<RegistryEntry>) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-sink-'));
  roots.push(root);
  const p = paths({ HIVE_ROOT: root });
  fs.mkdirSync(path.join(p.sessionsDir, 's1'), { recursive: true });
  const now = new Date().toISOString();
  const dir = path.join(p.outputRoot, 's1');
  updateRegistry(p, (reg) => {
    reg.sessions.s1 = {
      task: 't', status: 'running', created: now, dir, updated: now, last_activity: now, priority: 'medium', metadata: null,
      swarm_id: null, runner_pid: null, runner_pgid: null, engine: 'simulated', replaces: null, progress: null, agent_count: null, ...entry,
    };
  });
  const sink = new RegistrySink(root, { flushMs: 5 });
  const set = (change: Partial<RegistryEntry>) => updateRegistry(p, (reg) => void Object.assign(reg.sessions.s1!, change));
  const status = () => readRegistry(p).sessions.s1!.status;
  return { sink, set, status };
}

const swarm = (id: string, status: string) => ({ id, sessionId: 's1', status, agents: [], tasks: [] }) as unknown as SimSwarm;

it("a stopped swarm's final status does not land on the session's next run", () => {
  const { sink, set, status } = setup({ status: 'running', swarm_id: 'swarm-old' });
  sink.own('s1', 'swarm-old');
  sink.onSwarm(swarm('swarm-old', 'stopped'));
  // `stop` wrote stopped itself; then `start` claimed the entry again before the engine's write.
  set({ status: 'starting', swarm_id: null });
  sink.flush(true);
  expect(status()).toBe('starting');
  // start records the new swarm and marks it running.
  set({ status: 'running', swarm_id: 'swarm-new' });
  sink.flush(true);
  expect(status()).toBe('running');
  sink.close();
  expect(status()).toBe('running');
});

it("a swarm's final status waits for the entry to name its swarm, then lands", () => {
  const { sink, set, status } = setup({ status: 'starting', swarm_id: null });
  sink.own('s1', 'swarm-a');
  sink.onSwarm(swarm('swarm-a', 'completed'));
  sink.flush(true);
  expect(status()).toBe('starting');
  set({ status: 'running', swarm_id: 'swarm-a' });
  sink.flush(true);
  expect(status()).toBe('completed');
});

it('an entry already naming the swarm takes its final status at once', () => {
  const { sink, status } = setup({ status: 'running', swarm_id: 'swarm-b' });
  sink.own('s1', 'swarm-b');
  sink.onSwarm(swarm('swarm-b', 'failed'));
  sink.flush(true);
  expect(status()).toBe('failed');
});
