import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { utf8End } from '../../../shared/utf8.js';
import { MAX_LOG_SUBSCRIPTIONS, type LogMessage, type LogStatusMessage, type ServerMessage } from '../../../shared/protocol/messages.js';
import type { SessionStatus } from '../../../shared/model/session.js';
import type { StreamClient } from '../streamClient.js';
import { LogFeed, type LogViewRead, type StreamLogView } from './feed.js';
import { LogRing } from './ring.js';
import { ByteBudget } from './budget.js';

const UUID = '11111111-2222-4333-8444-555555555555';
const OTHER = '11111111-2222-4333-8444-666666666666';

/** A log file in memory behind the view's read contract (the control plane's reader, minus the exec). */
function memoryLog() {
  const st = { bytes: Buffer.alloc(0), ino: 1, status: 'running' as SessionStatus | null, reads: 0 };
  const view: StreamLogView = {
    async read(uuid, q): Promise<LogViewRead> {
      st.reads++;
      if (uuid !== UUID) return { ok: false, reason: 'no-log', message: 'keeps none', permanent: true };
      const id = `1:${st.ino}`;
      let from = q.from ?? Math.max(0, st.bytes.length - (q.tailBytes ?? 0));
      let rotated = false;
      if (q.from !== null && ((q.logId !== null && q.logId !== id) || from > st.bytes.length)) {
        from = 0;
        rotated = true;
      }
      const body = st.bytes.subarray(from, from + q.max + 3);
      const end = utf8End(body, q.max);
      const bytes = Buffer.from(body.subarray(0, end));
      return { ok: true, bytes, chunk: { text: bytes.toString(), from, next: from + end, size: st.bytes.length, truncated: body.length > q.max, rotated, logId: id, path: '/log' } };
    },
    sessionStatus: (uuid) => (uuid === UUID || uuid === OTHER ? st.status : null),
  };
  return { st, view, write: (s: string | Buffer) => (st.bytes = Buffer.concat([st.bytes, Buffer.from(s)])) };
}

function client(name: string) {
  const got: ServerMessage[] = [];
  const c = { id: name, ws: { bufferedAmount: 0, readyState: 1, OPEN: 1 } } as unknown as StreamClient & { ws: { bufferedAmount: number } };
  const logs = () => got.filter((m): m is LogMessage => m.type === 'log');
  const statuses = () => got.filter((m): m is LogStatusMessage => m.type === 'log-status');
  /** Every text received, checked for exact continuity (from = previous next unless rotated). */
  const text = () => {
    let out = '';
    let at: number | null = null;
    for (const m of logs()) {
      if (m.chunk.rotated) out = '';
      else if (at !== null) expect(m.chunk.from).toBe(at);
      out += m.chunk.text;
      at = m.chunk.next;
    }
    return out;
  };
  return { c, got, logs, statuses, text };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function feed(view: StreamLogView, opts: Partial<ConstructorParameters<typeof LogFeed>[0]> = {}) {
  const clock = { t: 1_000_000 };
  const f = new LogFeed({
    view,
    log: pino({ level: 'silent' }),
    send: (c, msg) => {
      (c as unknown as { sink: ServerMessage[] }).sink.push(msg);
      return JSON.stringify(msg).length;
    },
    now: () => clock.t,
    pollMs: 100,
    retryMs: 500,
    ...opts,
  });
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      clock.t += step;
      f.tick();
      await settle();
    }
  };
  return { f, clock, run };
}

function attach(x: ReturnType<typeof client>) {
  (x.c as unknown as { sink: ServerMessage[] }).sink = x.got;
  return x;
}

describe('live session log: one tail per session, each client from its own offset', () => {
  it('two subscribers share one tail and each gets every byte once, in order', async () => {
    const m = memoryLog();
    m.write('before\n');
    const { f, run } = feed(m.view);
    const a = attach(client('a'));
    const b = attach(client('b'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    f.subscribe(b.c, { type: 'log-subscribe', uuid: UUID, from: null, logId: null });
    await run(200);
    for (let i = 0; i < 20; i++) {
      m.write(`line ${i} ✓\n`);
      await run(150);
    }
    expect(f.tailCount).toBe(1);
    expect(a.text()).toBe(m.st.bytes.toString());
    expect(b.text()).toBe(m.st.bytes.toString()); // from: null started at the tail, which held it all
    expect(a.statuses()[0]).toMatchObject({ state: 'following', reason: null });
    // One shared poll per period, not one per subscriber.
    expect(m.st.reads).toBeLessThan(40);
  });

  it('a stalled client lags (behind > 0) without slowing the other; after it drains it resumes from its own offset with no gap or duplicate', async () => {
    const m = memoryLog();
    const { f, run } = feed(m.view, { ringBytes: 4096, clientBytesPerSec: 1e9, clientBurstBytes: 1e9, highWater: 1000 });
    const fast = attach(client('fast'));
    const slow = attach(client('slow'));
    f.subscribe(fast.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    f.subscribe(slow.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await run(100);
    slow.c.ws.bufferedAmount = 10_000; // the browser stopped reading
    for (let i = 0; i < 50; i++) {
      m.write(`${'x'.repeat(200)} ${i}\n`);
      await run(100);
    }
    expect(fast.text()).toBe(m.st.bytes.toString());
    const lagging = slow.text().length;
    expect(lagging).toBeLessThan(m.st.bytes.length);
    slow.c.ws.bufferedAmount = 0;
    await run(2000);
    // Its offset fell out of the 4 KiB ring: it was served by reads of its own, then from the ring again.
    expect(slow.text()).toBe(m.st.bytes.toString());
    expect(slow.logs().at(-1)!.behind).toBe(0);
    expect(f.ringBytes).toBeLessThanOrEqual(4096);
  });

  it('a client gets log bytes within its byte budget; what is held back is counted in behind, never dropped', async () => {
    const m = memoryLog();
    m.write('y'.repeat(3 * 1024 * 1024));
    const { f, run } = feed(m.view, { clientBytesPerSec: 100_000, clientBurstBytes: 20_000, messageBytes: 10_000 });
    const a = attach(client('a'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await run(1000);
    const got = a.logs().reduce((n, x) => n + x.chunk.next - x.chunk.from, 0);
    // burst + rate x 1 s, allowing one message of JSON overhead.
    expect(got).toBeLessThanOrEqual(20_000 + 100_000 + 10_000);
    expect(got).toBeGreaterThan(50_000);
    const last = a.logs().at(-1)!;
    expect(last.behind).toBe(m.st.bytes.length - last.chunk.next);
    expect(last.chunk.truncated).toBe(true);
  });

  it('a rotated file is announced with a chunk from 0 marked rotated', async () => {
    const m = memoryLog();
    m.write('old file\n');
    const { f, run } = feed(m.view);
    const a = attach(client('a'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await run(200);
    m.st.ino = 2;
    m.st.bytes = Buffer.from('new file, longer than the old one\n');
    await run(300);
    const rotated = a.logs().filter((x) => x.chunk.rotated);
    expect(rotated).toHaveLength(1);
    expect(rotated[0]!.chunk.from).toBe(0);
    expect(a.text()).toBe('new file, longer than the old one\n');
  });

  it('a file truncated in place and written past the old offset between two polls (same inode, copytruncate) is followed again from 0', async () => {
    const m = memoryLog();
    m.write('first run of the swarm\n');
    const { f, run } = feed(m.view);
    const a = attach(client('a'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await run(200);
    expect(a.text()).toBe('first run of the swarm\n');
    // Same file (inode 1), emptied and written again to more bytes than before: its size is no hint.
    m.st.bytes = Buffer.from('second run, written after a truncation in place\n');
    await run(300);
    const rotated = a.logs().filter((x) => x.chunk.rotated);
    expect(rotated).toHaveLength(1);
    expect(rotated[0]!.chunk.from).toBe(0);
    expect(a.text()).toBe('second run, written after a truncation in place\n');
    expect(f.metrics().truncationsInPlace).toBe(1);
    // Appends after that continue normally, without another restart.
    m.write('more\n');
    await run(300);
    expect(a.logs().filter((x) => x.chunk.rotated)).toHaveLength(1);
    expect(a.text()).toBe('second run, written after a truncation in place\nmore\n');
  });

  it('resumes after a relay restart from the client offset (a new feed): no gap, no duplicate', async () => {
    const m = memoryLog();
    m.write('one\ntwo\n');
    const first = feed(m.view);
    const a = attach(client('a'));
    first.f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await first.run(200);
    const last = a.logs().at(-1)!.chunk;
    first.f.close();
    m.write('three\n' + 'z'.repeat(200_000) + '\nfour\n');
    const second = feed(m.view);
    const b = attach(client('b'));
    second.f.subscribe(b.c, { type: 'log-subscribe', uuid: UUID, from: last.next, logId: last.logId });
    await second.run(3000);
    expect(a.text() + b.text()).toBe(m.st.bytes.toString());
    expect(b.logs()[0]!.chunk.from).toBe(last.next);
  });

  it('hostile subscriptions: unknown session, too many, past the end, no log kept; unsubscribing stops the tail', async () => {
    const m = memoryLog();
    m.write('abc\n');
    const { f, run } = feed(m.view);
    const a = attach(client('a'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: '99999999-2222-4333-8444-555555555555', from: 0, logId: null });
    expect(a.statuses()[0]).toMatchObject({ state: 'unavailable', reason: null });
    expect(m.st.reads).toBe(0); // answered from the relay's list, no read
    // Past the end: reported rotated, from 0.
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: Number.MAX_SAFE_INTEGER, logId: null });
    await run(300);
    expect(a.logs()[0]!.chunk).toMatchObject({ from: 0, rotated: true, text: 'abc\n' });
    // A session whose backend keeps no log: unavailable with the reason, and the subscription ends.
    f.subscribe(a.c, { type: 'log-subscribe', uuid: OTHER, from: 0, logId: null });
    await run(100);
    expect(a.statuses().find((s) => s.uuid === OTHER)).toMatchObject({ state: 'unavailable', reason: 'no-log' });
    expect(f.tailCount).toBe(1);
    f.unsubscribe(a.c, UUID);
    expect(f.tailCount).toBe(0);
    const reads = m.st.reads;
    await run(1000);
    expect(m.st.reads).toBe(reads); // nobody subscribed: nothing polls
  });

  it('refuses a subscription over MAX_LOG_SUBSCRIPTIONS with an error message', async () => {
    const m = memoryLog();
    const known = new Set(Array.from({ length: MAX_LOG_SUBSCRIPTIONS + 1 }, (_, i) => `${String(i).padStart(8, '0')}-2222-4333-8444-555555555555`));
    const view: StreamLogView = { read: m.view.read, sessionStatus: (u) => (known.has(u) ? 'running' : null) };
    const { f } = feed(view);
    const a = attach(client('a'));
    for (const u of known) f.subscribe(a.c, { type: 'log-subscribe', uuid: u, from: 0, logId: null });
    expect(a.got.filter((x) => x.type === 'error')).toEqual([expect.objectContaining({ code: 'log-subscriptions' })]);
    expect(f.tailCount).toBe(MAX_LOG_SUBSCRIPTIONS);
    f.forget(a.c);
    expect(f.tailCount).toBe(0);
  });

  it('says ended once a finished session has nothing more to read', async () => {
    const m = memoryLog();
    m.write('done\n');
    m.st.status = 'completed';
    const { f, run } = feed(m.view);
    const a = attach(client('a'));
    f.subscribe(a.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });
    await run(500);
    expect(a.statuses().map((s) => s.state)).toEqual(['following', 'ended']);
  });
});

/** memoryLog's view with a watch the test drives: each started watch can report a change or end. */
function watchable(m: ReturnType<typeof memoryLog>, o: { refuse?: boolean } = {}) {
  type W = { uuid: string; path: string; change: () => void; end: (err: Error | null) => void; closed: boolean };
  const started: W[] = [];
  const open = () => started.filter((w) => !w.closed);
  const view: StreamLogView = {
    ...m.view,
    watch(uuid, path, onChange, onEnd) {
      if (o.refuse) return null;
      const w: W = { uuid, path, change: onChange, end: (err) => ((w.closed = true), onEnd(err)), closed: false };
      started.push(w);
      return { close: () => void (w.closed = true) };
    },
  };
  return { view, started, open, live: () => open().at(-1)! };
}

describe('live session log: a change watch wakes the tail, polling is the fallback', () => {
  const sub = (f: LogFeed, x: ReturnType<typeof client>) => f.subscribe(x.c, { type: 'log-subscribe', uuid: UUID, from: 0, logId: null });

  it('a change wakes the tail at once, long before its poll period; the watched period is only a safety net', async () => {
    const m = memoryLog();
    m.write('start\n');
    const w = watchable(m);
    const { f, run } = feed(w.view, { watchedPollMs: 1000 });
    const a = attach(client('a'));
    sub(f, a);
    await run(50);
    // The watch starts once the first read named the file; its ready signal reads once more.
    expect(w.started).toHaveLength(1);
    expect(w.started[0]).toMatchObject({ uuid: UUID, path: '/log' });
    w.live().change();
    await settle();
    expect(f.metrics().watched).toBe(1);
    m.write('woken\n');
    w.live().change();
    await settle(); // no clock step at all: the change alone made it read
    expect(a.text()).toBe('start\nwoken\n');
    // A write the watch did not report arrives with the safety poll, not with the 100 ms period.
    m.write('unreported\n');
    await run(500);
    expect(a.text()).not.toContain('unreported');
    await run(600);
    expect(a.text()).toContain('unreported\n');
    // Several changes while a read is in flight give one more read after it, not one each.
    const reads = m.st.reads;
    let release: () => void = () => undefined;
    const slow: StreamLogView = { ...w.view, read: (u, q) => new Promise((r) => (release = () => r(m.view.read(u, q)))) };
    Object.assign(w.view, { read: slow.read });
    m.write('burst 1\n');
    w.live().change();
    await settle();
    m.write('burst 2\n');
    for (let i = 0; i < 5; i++) w.live().change();
    Object.assign(w.view, { read: m.view.read });
    release();
    await settle();
    expect(m.st.reads - reads).toBe(2); // the slow one (counted when it ran) and one more
    expect(a.text()).toBe(m.st.bytes.toString());
    expect(f.metrics()).toMatchObject({ watchStarts: 1 });
  });

  it('without a watch the tail polls every period, as before', async () => {
    const m = memoryLog();
    for (const view of [m.view, watchable(m, { refuse: true }).view]) {
      const { f, run } = feed(view);
      const a = attach(client('a'));
      sub(f, a);
      await run(100);
      const reads = m.st.reads;
      m.write(`line for ${view === m.view ? 'no watch' : 'a refused watch'}\n`);
      await run(50);
      await run(100);
      expect(a.text()).toBe(m.st.bytes.toString());
      await run(1000);
      expect(m.st.reads - reads).toBeGreaterThanOrEqual(10); // every 100 ms
      expect(f.metrics().watched).toBe(0);
      f.close();
    }
  });

  it('a watch that ends falls back to polling at once and is started again, at most once per retry period', async () => {
    const m = memoryLog();
    const w = watchable(m);
    const { f, run } = feed(w.view, { watchedPollMs: 1000, watchRetryMs: 2000 });
    const a = attach(client('a'));
    sub(f, a);
    await run(50);
    w.live().change();
    await run(50);
    w.live().end(new Error('the watcher exited'));
    expect(f.metrics().watched).toBe(0);
    m.write('after the watch ended\n');
    await run(150);
    expect(a.text()).toContain('after the watch ended\n'); // polled at 100 ms, not 1000
    // Each new watch ends as soon as it starts (no node in the container): started again at most every 2 s.
    for (let i = 0; i < 60; i++) {
      for (const x of w.open()) x.end(new Error('no node'));
      await run(100);
      expect(w.open().length).toBeLessThanOrEqual(1);
    }
    expect(w.started.length).toBeGreaterThanOrEqual(3);
    expect(w.started.length).toBeLessThanOrEqual(1 + Math.ceil(6000 / 2000));
    f.close();
  });

  it('a new log path restarts the watch; the last subscriber leaving, and close(), end it', async () => {
    const m = memoryLog();
    const w = watchable(m);
    const { f, run } = feed(w.view, { watchRetryMs: 0 });
    const a = attach(client('a'));
    const b = attach(client('b'));
    sub(f, a);
    sub(f, b);
    await run(100);
    expect(w.open()).toHaveLength(1);
    f.unsubscribe(a.c, UUID);
    expect(w.open()).toHaveLength(1); // b still follows
    f.unsubscribe(b.c, UUID);
    expect(w.open()).toHaveLength(0);
    expect(f.tailCount).toBe(0);

    const moved = memoryLog();
    moved.write('x\n');
    let path = '/log';
    const w2 = watchable(moved);
    const pathed: StreamLogView = { ...w2.view, read: async (u, q) => { const r = await moved.view.read(u, q); return r.ok ? { ...r, chunk: { ...r.chunk, path } } : r; } };
    const g = feed(pathed, { watchRetryMs: 0 });
    sub(g.f, attach(client('c')));
    await g.run(100);
    expect(w2.started.map((x) => x.path)).toEqual(['/log']);
    path = '/log.2';
    await g.run(200);
    expect(w2.started.map((x) => x.path)).toEqual(['/log', '/log.2']);
    expect(w2.open().map((x) => x.path)).toEqual(['/log.2']);
    g.f.close();
    expect(w2.open()).toHaveLength(0);
  });
});

describe('log ring and byte budget', () => {
  it('the ring keeps the newest bytes within its capacity and slices on character boundaries', () => {
    const r = new LogRing(10);
    r.append(0, Buffer.from('abcdef'));
    r.append(6, Buffer.from('€€')); // 6 bytes
    expect(r.start).toBe(6);
    expect(r.end).toBe(12);
    expect(r.slice(6, 4).toString()).toBe('€');
    expect(r.holds(5)).toBe(false);
    expect(() => r.append(11, Buffer.from('x'))).toThrow(RangeError);
    r.append(12, Buffer.from('0123456789ABC'));
    expect(r.bytes).toBe(10);
    expect(r.slice(r.start, 100).toString()).toBe('3456789ABC');
  });
  it('the budget refills at its rate up to its burst', () => {
    const b = new ByteBudget(1000, 500, 0);
    expect(b.available(0)).toBe(500);
    b.take(800, 0);
    expect(b.available(0)).toBe(0);
    expect(b.available(500)).toBe(200);
    expect(b.available(10_000)).toBe(500);
  });
});
