// A kit swarm leaves files in its session's output directory: a note per completed subtask and the
// queen's result.md when it ends; nothing for a session whose directory does not exist.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Simulation, isFinished } from './sim.js';
import { OutputSink, slug, taskFileName } from './output-sink.js';
import { makeTempDir } from '../../testkit/tempDirs.js';

function runSwarm(seed: number, sessionId: string, root: string) {
  let now = 1_790_000_000_000;
  const sim = new Simulation({ seed, speed: 20, now: () => now });
  const sink = new OutputSink(root);
  sim.on((e) => sink.onEvent(e));
  const swarm = sim.createSwarm({ sessionId, objective: 'Write release notes for v2, then check the links', maxAgents: 4 });
  for (let i = 0; i < 5000 && !isFinished(swarm.status); i++) {
    now += 100;
    sim.tick(100);
  }
  return { swarm, sink };
}

describe('swarm output files', () => {
  it('writes one note per completed subtask and result.md when the swarm ends, the same for the same seed', async () => {
    const uuid = 'aaaaaaaa-0000-4000-8000-00000000000a';
    const trees: Record<string, string>[] = [];
    for (const _ of [0, 1]) {
      const root = makeTempDir('hive-out-');
      fs.mkdirSync(path.join(root, uuid));
      const { swarm, sink } = runSwarm(11, uuid, root);
      await sink.idle();
      expect(isFinished(swarm.status)).toBe(true);
      const dir = path.join(root, uuid);
      const result = fs.readFileSync(path.join(dir, 'result.md'), 'utf8');
      expect(result).toContain('# Result: Write release notes for v2, then check the links');
      const done = swarm.tasks.filter((t) => t.type !== 'queen' && t.status === 'completed');
      expect(result).toContain(`${done.length} of ${swarm.tasks.filter((t) => t.type !== 'queen').length} subtasks completed`);
      const notes = fs.readdirSync(path.join(dir, 'tasks')).sort();
      expect(notes).toEqual(done.map(taskFileName).sort());
      expect(sink.stats.errors).toBe(0);
      // Swarm ids carry the wall clock; compare the tree with them taken out.
      trees.push(Object.fromEntries([['result.md', result], ...notes.map((n) => [n, fs.readFileSync(path.join(dir, 'tasks', n), 'utf8')])].map(([k, v]) => [k!, v!.replaceAll(swarm.id, 'SWARM')])));
    }
    expect(trees[1]).toEqual(trees[0]);
  });

  it('writes nothing for a session without a directory, or a swarm without a session', async () => {
    const root = makeTempDir('hive-out-');
    const { sink } = runSwarm(5, 'aaaaaaaa-0000-4000-8000-00000000000b', root);
    await sink.idle();
    expect(fs.readdirSync(root)).toEqual([]);
    expect(sink.stats.writes).toBe(0);
  });

  it('file names are safe slugs whatever the description holds', () => {
    expect(slug('Research: the "API" docs')).toBe('research-the-api-docs');
    expect(slug('../../etc/passwd')).toBe('etc-passwd');
    expect(slug('🐝🐝')).toBe('task');
    expect(slug('x'.repeat(500)).length).toBeLessThanOrEqual(48);
  });
});
