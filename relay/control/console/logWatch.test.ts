// The live log's change watch on this machine: LOG_WATCH_SCRIPT run by node as a child with piped stdio
// (the same program the Docker driver runs in a container, over openLocalExecStream instead of an exec),
// and the local driver's in-process fs.watch. Real files in a temp directory, no fakes.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalExecStream, type ExecStream } from '../drivers/execStream.js';
import { makeTempDir, removeTempDirs } from '../../../testkit/tempDirs.js';
import { waitUntil } from '../../../testkit/wait.js';
import { watchLocalFile, watchOverExec, type LogWatch } from './logWatch.js';

afterAll(() => removeTempDirs());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder() {
  const r = { changes: 0, ends: [] as (Error | null)[] };
  return { r, cb: { onChange: () => void r.changes++, onEnd: (e: Error | null) => void r.ends.push(e) } };
}

type Start = (file: string, cb: ReturnType<typeof recorder>['cb']) => LogWatch;
const streams: ExecStream[] = [];
/** The container script as a local child with piped stdio, its stream kept in `streams`. */
const overLocalExec: Start = (file, cb) =>
  watchOverExec(async (argv, env) => {
    // The session's uuid is in the log's path; the relay finds a session's processes by the uuid in argv.
    expect(argv.join(' ')).not.toContain(file);
    const s = await openLocalExecStream(argv, { env });
    streams.push(s);
    return s;
  }, file, cb);
const starts: [string, Start][] = [
  ['the container script (node -e LOG_WATCH_SCRIPT, the path in its environment, stdin piped)', overLocalExec],
  ['the local driver (fs.watch in the relay process)', (file, cb) => watchLocalFile(file, cb)],
];

describe.each(starts)('log change watch: %s', (_name, start) => {
  it('says once when ready, then on appends, a move-away-and-recreate and a truncation of the file; not for another file in the directory', async () => {
    const dir = makeTempDir('hivescope-log-watch-');
    const file = path.join(dir, 'hive-1.log');
    fs.writeFileSync(file, 'first\n');
    const { r, cb } = recorder();
    const w = start(file, cb);
    try {
      await waitUntil(() => r.changes === 1, 10_000, 5, 'the ready signal');
      fs.writeFileSync(path.join(dir, 'hive-2.log'), 'another session\n');
      fs.appendFileSync(path.join(dir, 'hive-2.log'), 'more\n');
      await sleep(150);
      expect(r.changes).toBe(1);
      for (const [what, change] of [
        ['an append', () => fs.appendFileSync(file, 'second\n')],
        ['a rotation', () => (fs.renameSync(file, `${file}.1`), fs.writeFileSync(file, 'new file\n'))],
        ['a truncation', () => fs.truncateSync(file, 0)],
      ] as const) {
        const before = r.changes;
        change();
        await waitUntil(() => r.changes > before, 5000, 5, what);
        await sleep(60); // past the 20 ms gap: the next change is its own
      }
      expect(r.ends).toEqual([]);
    } finally {
      await w.close();
    }
    const after = r.changes;
    fs.appendFileSync(file, 'after close\n');
    await sleep(100);
    expect(r.changes).toBe(after);
    expect(r.ends).toEqual([]); // closing is not an end
  });

  it('a burst of writes gives a few signals, at most one per 20 ms', async () => {
    const dir = makeTempDir('hivescope-log-watch-');
    const file = path.join(dir, 'noisy.log');
    fs.writeFileSync(file, '');
    const { r, cb } = recorder();
    const w = start(file, cb);
    try {
      await waitUntil(() => r.changes === 1, 10_000, 5, 'the ready signal');
      const t0 = Date.now();
      while (Date.now() - t0 < 200) fs.appendFileSync(file, 'x'.repeat(100) + '\n');
      await sleep(100);
      const elapsed = Date.now() - t0;
      expect(r.changes).toBeGreaterThan(1);
      expect(r.changes - 1).toBeLessThanOrEqual(Math.ceil(elapsed / 20) + 1);
    } finally {
      await w.close();
    }
  });

  it('a directory that is not there ends the watch with the reason', async () => {
    const { r, cb } = recorder();
    const w = start(path.join(makeTempDir('hivescope-log-watch-'), 'no-such-dir', 'x.log'), cb);
    await waitUntil(() => r.ends.length === 1, 10_000, 5, 'the end');
    expect(String(r.ends[0])).toMatch(/ENOENT/);
    await w.close();
  });
});

describe('log change watch: the container script\'s process', () => {
  it('exits when its stdin closes, as it does when the relay closes the stream or its connection drops', async () => {
    const dir = makeTempDir('hivescope-log-watch-');
    const { r, cb } = recorder();
    const before = streams.length;
    const w = overLocalExec(path.join(dir, 'x.log'), cb);
    await waitUntil(() => r.changes === 1, 10_000, 5, 'the ready signal');
    const s = streams[before] as unknown as { isEnded: boolean };
    expect(s.isEnded).toBe(false);
    const t0 = Date.now();
    await w.close();
    // close() ends stdin and waits for the exit (SIGKILL only after its 3 s grace): well under it means EOF ended it.
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.isEnded).toBe(true);
  });
});
