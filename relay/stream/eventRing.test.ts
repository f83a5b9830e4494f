// The event ring's file: a restart continues the seq sequence and resumes a cursor exactly; a torn last
// line, garbage, out-of-order and oversized files are survived; the file stays bounded by compaction.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPACT_FACTOR, EventRing, EVENTS_FILE } from './eventRing.js';
import { tempDir } from '../telemetry/testing/helpers.js';

const ev = (message: string) => ({ time: 0, kind: 'log' as const, level: 'info' as const, message, agentId: null, swarmId: null, sessionUuid: null, progress: null });
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);

describe('EventRing persistence', () => {
  it('continues seqs after a restart and resumes a cursor with no gap and no duplicate', () => {
    const file = path.join(tempDir(), EVENTS_FILE);
    const a = new EventRing(10, 500, { file });
    for (let i = 0; i < 4; i++) a.push(ev(`e${i}`));
    const cursor = a.latest - 1; // the client saw up to e2
    // No close(): a SIGKILL does not run it.
    const b = new EventRing(10, 99_999, { file });
    expect(b.latest).toBe(503);
    expect(b.since(cursor)).toEqual({ events: [expect.objectContaining({ seq: 503, message: 'e3' })], gap: false });
    const next = b.push(ev('after'));
    expect(next.seq).toBe(504);
    const all = b.since(499).events.map((e) => e.seq);
    expect(all).toEqual([500, 501, 502, 503, 504]);
    a.close();
    b.close();
  });

  it('skips a torn last line and rewrites the file so the next append starts on a fresh line', () => {
    const dir = tempDir();
    const file = path.join(dir, EVENTS_FILE);
    const a = new EventRing(10, 1, { file });
    for (let i = 0; i < 3; i++) a.push(ev(`e${i}`));
    a.close();
    fs.appendFileSync(file, '{"seq":4,"time":0,"kind":"log","lev');
    const b = new EventRing(10, 1, { file });
    expect(b.latest).toBe(3);
    b.push(ev('next'));
    b.close();
    const c = new EventRing(10, 1, { file });
    expect(c.since(0).events.map((e) => e.message)).toEqual(['e0', 'e1', 'e2', 'next']);
    expect(lines(file).every((l) => JSON.parse(l) !== null)).toBe(true);
    c.close();
  });

  it('ignores garbage, invalid events, injection strings and out-of-order seqs', () => {
    const file = path.join(tempDir(), EVENTS_FILE);
    const good = (seq: number, message = `m${seq}`) => JSON.stringify({ seq, ...ev(message) });
    fs.writeFileSync(
      file,
      [
        good(10),
        'not json at all',
        JSON.stringify({ seq: 11, kind: 'rm -rf /', message: 'x' }),
        JSON.stringify({ seq: -1, ...ev('negative') }),
        good(12, '"; DROP TABLE events; --'),
        good(11, 'out of order'),
        '{"__proto__":{"polluted":true},"seq":13}',
        good(14),
        '',
      ].join('\n'),
    );
    const r = new EventRing(10, 1, { file });
    expect(r.latest).toBe(14);
    expect(r.since(9).events.map((e) => [e.seq, e.message])).toEqual([
      [10, 'm10'],
      [12, '"; DROP TABLE events; --'],
      [14, 'm14'],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Rewritten clean: only the valid events remain.
    expect(lines(file)).toHaveLength(3);
    r.close();
  });

  it('compacts to the last `capacity` events once the file passes COMPACT_FACTOR x capacity lines', () => {
    const file = path.join(tempDir(), EVENTS_FILE);
    const r = new EventRing(10, 1, { file });
    for (let i = 0; i < 10 * COMPACT_FACTOR; i++) r.push(ev(`e${i}`));
    expect(lines(file)).toHaveLength(10 * COMPACT_FACTOR);
    r.push(ev('one more'));
    expect(lines(file)).toHaveLength(10);
    for (let i = 0; i < 200; i++) r.push(ev(`more ${i}`));
    expect(lines(file).length).toBeLessThanOrEqual(10 * COMPACT_FACTOR);
    r.close();
    const again = new EventRing(10, 1, { file });
    expect(again.latest).toBe(r.latest);
    expect(again.since(again.latest - 10).events.map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => r.latest - 9 + i));
    again.close();
  });

  it('loads an oversized file (far past the bound) keeping only the newest events, and shrinks it', () => {
    const file = path.join(tempDir(), EVENTS_FILE);
    const body: string[] = [];
    for (let s = 1; s <= 5000; s++) body.push(JSON.stringify({ seq: s, ...ev(`m${s}`) }));
    fs.writeFileSync(file, body.join('\n') + '\n');
    const r = new EventRing(100, 1, { file });
    expect(r.latest).toBe(5000);
    expect(r.since(4900)).toMatchObject({ gap: false });
    expect(r.since(4900).events).toHaveLength(100);
    expect(r.since(10).gap).toBe(true);
    expect(lines(file)).toHaveLength(100);
    r.close();
  });

  it('keeps working in memory when the file cannot be written', () => {
    const dir = tempDir();
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, 'x');
    const errors: unknown[] = [];
    const r = new EventRing(10, 1, { file: path.join(blocker, EVENTS_FILE), onError: (e) => errors.push(e) });
    r.push(ev('a'));
    r.push(ev('b'));
    expect(r.since(0).events.map((e) => e.message)).toEqual(['a', 'b']);
    expect(errors.length).toBeGreaterThan(0);
    r.close();
  });
});
