import { describe, expect, it } from 'vitest';
import { LogReader, LogUnavailable, LOG_READ_SCRIPT, mustRestart, parseLogRead } from './logRead.js';
import { ControlError } from '../errors.js';
import type { RunFn } from '../backends/types.js';

/** The read script's contract over in-memory files: identity, size, then base64 of the asked range. */
function fakeContainer() {
  const files = new Map<string, { ino: number; bytes: Buffer }>();
  const calls: string[][] = [];
  let down = false;
  const run: RunFn = async (argv) => {
    calls.push([...argv]);
    if (down) throw new ControlError('container-not-running', 'container x is not running');
    expect(argv.slice(0, 3)).toEqual(['sh', '-c', LOG_READ_SCRIPT]);
    const [path, from1, n] = [argv[3]!, Number(argv[4]), Number(argv[5])];
    const f = files.get(path);
    if (!f) return { exitCode: 3, stdout: '', stderr: `stat: can't stat '${path}': No such file or directory`, durationMs: 1, pid: null };
    const body = f.bytes.subarray(from1 - 1, from1 - 1 + n);
    return { exitCode: 0, stdout: `2049 ${f.ino} W ${f.bytes.length}\n${body.toString('base64')}\n`, stderr: '', durationMs: 1, pid: null };
  };
  return { files, calls, run, setDown: (v: boolean) => (down = v) };
}

const PATH = '/var/log/multi-agent/hive-x.log';

function reader(c: ReturnType<typeof fakeContainer>) {
  return new LogReader({ run: c.run, locate: async (uuid) => (uuid === 'none' ? { path: null, reason: 'no-log', message: 'keeps none' } : { path: PATH }) });
}

describe('session log reads by byte offset', () => {
  it('reading from next returns only what is new; text never ends inside a character', async () => {
    const c = fakeContainer();
    c.files.set(PATH, { ino: 7, bytes: Buffer.from('line one\nzwei €\n') });
    const r = reader(c);
    const a = await r.read('u', { from: 0, max: 14, logId: null });
    expect(a.chunk).toMatchObject({ text: 'line one\nzwei ', from: 0, next: 14, size: 18, truncated: true, rotated: false, logId: '2049:7', path: PATH });
    const b = await r.read('u', { from: a.chunk.next, max: 2, logId: a.chunk.logId });
    // max 2 would cut the 3-byte euro sign: the first character is returned whole rather than nothing.
    expect(b.chunk).toMatchObject({ text: '€', from: 14, next: 17, truncated: true });
    c.files.get(PATH)!.bytes = Buffer.concat([c.files.get(PATH)!.bytes, Buffer.from('drei\n')]);
    const d = await r.read('u', { from: b.chunk.next, max: 1000, logId: b.chunk.logId });
    expect(d.chunk).toMatchObject({ text: '\ndrei\n', from: 17, next: 23, size: 23, truncated: false, rotated: false });
    const e = await r.read('u', { from: d.chunk.next, max: 1000, logId: d.chunk.logId });
    expect(e.chunk).toMatchObject({ text: '', from: 23, next: 23, truncated: false });
    expect(e.bytes.length).toBe(0);
  });

  it('a character the writer has not finished waits for the next read', async () => {
    const c = fakeContainer();
    const full = Buffer.from('ok 😀');
    c.files.set(PATH, { ino: 1, bytes: full.subarray(0, full.length - 2) });
    const a = await reader(c).read('u', { from: 0, max: 100, logId: null });
    expect(a.chunk).toMatchObject({ text: 'ok ', next: 3, truncated: false });
    c.files.get(PATH)!.bytes = full;
    const b = await reader(c).read('u', { from: 3, max: 100, logId: a.chunk.logId });
    expect(b.chunk.text).toBe('😀');
  });

  it('a file shorter than the offset (truncated) is reported rotated and read from 0', async () => {
    const c = fakeContainer();
    c.files.set(PATH, { ino: 1, bytes: Buffer.from('new\n') });
    const r = await reader(c).read('u', { from: 500, max: 100, logId: '2049:1' });
    expect(r.chunk).toMatchObject({ text: 'new\n', from: 0, next: 4, rotated: true });
  });

  it('another file under the same path (rotated: other inode) is reported and read from 0', async () => {
    const c = fakeContainer();
    c.files.set(PATH, { ino: 2, bytes: Buffer.from('fresh file, longer than before\n') });
    const r = await reader(c).read('u', { from: 3, max: 100, logId: '2049:1' });
    expect(r.chunk).toMatchObject({ from: 0, rotated: true, logId: '2049:2', text: 'fresh file, longer than before\n' });
    const same = await reader(c).read('u', { from: 3, max: 100, logId: '2049:2' });
    expect(same.chunk).toMatchObject({ from: 3, rotated: false });
  });

  it('from: null starts at the last tailBytes, on a character boundary', async () => {
    const c = fakeContainer();
    c.files.set(PATH, { ino: 1, bytes: Buffer.from('aaaa€€€') }); // 4 + 9 bytes
    const r = await reader(c).read('u', { from: null, max: 100, logId: null, tailBytes: 5 });
    // 13 - 5 = 8 is inside the second euro sign: skipped to 10.
    expect(r.chunk).toMatchObject({ text: '€', from: 10, next: 13, rotated: false });
  });

  it('says why a log cannot be read: none kept, not there, container unreachable', async () => {
    const c = fakeContainer();
    await expect(reader(c).read('none', { from: 0, max: 10, logId: null })).rejects.toMatchObject({ name: 'LogUnavailable', reason: 'no-log' });
    await expect(reader(c).read('u', { from: 0, max: 10, logId: null })).rejects.toMatchObject({ reason: 'missing' });
    c.setDown(true);
    const err = await reader(c).read('u', { from: 0, max: 10, logId: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogUnavailable);
    expect((err as LogUnavailable).reason).toBe('container-unreachable');
  });

  it('bounds every read: max is clamped to LOG_READ_MAX_BYTES and the path travels as an argument', async () => {
    const c = fakeContainer();
    c.files.set(PATH, { ino: 1, bytes: Buffer.from('x') });
    await reader(c).read('u', { from: 0, max: 10 ** 12, logId: null });
    expect(c.calls[0]).toEqual(['sh', '-c', LOG_READ_SCRIPT, PATH, '1', String(256 * 1024 + 3)]);
  });
});

describe('parsing the read script output', () => {
  it('accepts the stat line and base64, with birth time where stat knows it', () => {
    expect(parseLogRead('2049 7 W 3\nYWJj\n')).toEqual({ stat: { id: '2049:7', size: 3 }, bytes: Buffer.from('abc') });
    expect(parseLogRead('2049 7 1700000000 3\nYWJj')!.stat.id).toBe('2049:7:1700000000');
    expect(parseLogRead('2049 7 0 0\n')!.stat.id).toBe('2049:7');
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'garbage', '1 2 W\n', '1 2 W -3\n', '1 2 W 99999999999999999999\n', '1 2 W 3\n<html>', 'a b c d\n']) expect(parseLogRead(bad)).toBeNull();
  });
  it('restart rules: another file, or shorter than the offset', () => {
    const stat = { id: '1:2', size: 10 };
    expect(mustRestart(10, '1:2', stat)).toBe(false);
    expect(mustRestart(11, '1:2', stat)).toBe(true);
    expect(mustRestart(0, '1:3', stat)).toBe(true);
    expect(mustRestart(5, null, stat)).toBe(false);
  });
});
