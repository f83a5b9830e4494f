import { describe, expect, it } from 'vitest';
import { LogCursor, LogFeeds, dropBytes, type LogFeedEvent } from './logFeed.js';
import { MAX_LOG_SUBSCRIPTIONS, type ClientMessage, type LogChunk, type LogMessage } from '../../shared/index.js';

const U = '0f0e0d0c-0b0a-4000-8000-000000000001';
const U2 = '0f0e0d0c-0b0a-4000-8000-000000000002';
const bytes = (s: string) => new TextEncoder().encode(s).length;

/** A chunk as the relay sends it: `next` is `from` plus the UTF-8 bytes of `text`. */
function chunk(from: number, text: string, patch: Partial<LogChunk> = {}): LogChunk {
  const next = from + bytes(text);
  return { text, from, next, size: next, truncated: false, rotated: false, logId: 'ino:1', path: '/var/log/multi-agent/hive-x.log', ...patch };
}
const msg = (c: LogChunk, behind = 0, uuid = U): LogMessage => ({ type: 'log', uuid, chunk: c, behind });

describe('log cursor: chunks assembled by byte offset', () => {
  it('appends chunks that follow each other, starting from wherever the first (tail) chunk starts', () => {
    const c = new LogCursor();
    expect(c.accept(chunk(500, 'one\n'))).toEqual({ kind: 'append', text: 'one\n' });
    expect(c.accept(chunk(504, 'two\n'))).toEqual({ kind: 'append', text: 'two\n' });
    expect(c.next).toBe(508);
    expect(c.logId).toBe('ino:1');
  });

  it('drops a chunk it already has and trims the part of one it already has, by bytes, not characters', () => {
    const c = new LogCursor();
    c.accept(chunk(0, 'héllo ')); // 7 bytes
    expect(c.accept(chunk(0, 'héllo '))).toEqual({ kind: 'duplicate' });
    // Overlaps by 'llo ' (4 bytes): only the new part is shown, the two-byte é counted right.
    expect(c.accept(chunk(3, 'llo wörld'))).toEqual({ kind: 'append', text: 'wörld' });
    expect(c.next).toBe(7 + bytes('wörld'));
  });

  it('reports a chunk that starts past its cursor as a gap and does not move', () => {
    const c = new LogCursor();
    c.accept(chunk(0, 'abc'));
    expect(c.accept(chunk(10, 'xyz'))).toEqual({ kind: 'gap', expected: 3, got: 10 });
    expect(c.next).toBe(3);
  });

  it('restarts on a rotated chunk even when its offsets look like a repeat', () => {
    const c = new LogCursor();
    c.accept(chunk(0, 'a long first file\n'));
    expect(c.accept(chunk(0, 'new\n', { rotated: true, logId: 'ino:2' }))).toEqual({ kind: 'restart', text: 'new\n' });
    expect(c.next).toBe(4);
    expect(c.logId).toBe('ino:2');
  });

  it('dropBytes never cuts a character in two when the offset is a character boundary', () => {
    expect(dropBytes('€uro', 3)).toBe('uro');
    expect(dropBytes('abc', 0)).toBe('abc');
    expect(dropBytes('abc', 99)).toBe('');
  });
});

function feeds() {
  const sent: ClientMessage[] = [];
  let open = true;
  const f = new LogFeeds((m) => (open ? (sent.push(m), true) : false), { replayChars: 16 });
  return { f, sent, setOpen: (o: boolean) => (open = o) };
}

function collect() {
  const events: LogFeedEvent[] = [];
  const text = () => events.filter((e) => e.kind === 'text').map((e) => (e as { text: string }).text).join('');
  return { events, text, listener: (e: LogFeedEvent) => events.push(e) };
}

describe('log feeds: one subscription per session over the socket', () => {
  it('subscribes from the tail once, however many views follow, and unsubscribes when the last leaves', () => {
    const { f, sent } = feeds();
    const a = collect();
    const b = collect();
    const offA = f.subscribe(U, a.listener);
    const offB = f.subscribe(U, b.listener);
    expect(sent).toEqual([{ type: 'log-subscribe', uuid: U, from: null, logId: null }]);
    f.handle(msg(chunk(0, 'hi\n')));
    expect(a.text()).toBe('hi\n');
    expect(b.text()).toBe('hi\n');
    offA();
    expect(sent).toHaveLength(1);
    offB();
    expect(sent[1]).toEqual({ type: 'log-unsubscribe', uuid: U });
    expect(f.sessions()).toEqual([]);
  });

  it('after a reconnect resubscribes from the last next and logId: the relay resends nothing, nothing is missed', () => {
    const { f, sent, setOpen } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle(msg(chunk(0, 'line 1\n')));
    f.handle(msg(chunk(7, 'line 2\n', { logId: 'ino:7' })));
    setOpen(false);
    f.connectionLost();
    expect(v.events.at(-1)).toMatchObject({ kind: 'status', status: { state: 'waiting' } });
    setOpen(true);
    f.resubscribeAll();
    expect(sent.at(-1)).toEqual({ type: 'log-subscribe', uuid: U, from: 14, logId: 'ino:7' });
    // A relay that resends a little before the cursor (its own read granularity) still shows no line twice.
    f.handle(msg(chunk(7, 'line 2\nline 3\n', { logId: 'ino:7' })));
    expect(v.text()).toBe('line 1\nline 2\nline 3\n');
    expect(v.events.some((e) => e.kind === 'status' && e.status.state === 'following')).toBe(true);
  });

  it('a gap is asked for again once, and chunks past it are dropped until the answer comes', () => {
    const { f, sent } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle(msg(chunk(0, 'ab')));
    f.handle(msg(chunk(5, 'xx')));
    f.handle(msg(chunk(7, 'yy')));
    expect(sent.filter((m) => m.type === 'log-subscribe')).toEqual([
      { type: 'log-subscribe', uuid: U, from: null, logId: null },
      { type: 'log-subscribe', uuid: U, from: 2, logId: 'ino:1' },
    ]);
    f.handle(msg(chunk(2, 'cdexxyy')));
    expect(v.text()).toBe('abcdexxyy');
    expect(f.stats.gaps).toBe(2);
  });

  it('a rotated log clears the views and says so; a view that joins later is told too', () => {
    const { f } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle(msg(chunk(0, 'old\n')));
    f.handle(msg(chunk(0, 'new\n', { rotated: true })));
    expect(v.events.filter((e) => e.kind === 'reset')).toHaveLength(1);
    const late = collect();
    f.subscribe(U, late.listener);
    expect(late.events.map((e) => e.kind)).toEqual(['status', 'reset', 'text']);
    expect(late.text()).toBe('new\n');
  });

  it('replays at most replayChars of recent text to a late view', () => {
    const { f } = feeds();
    f.subscribe(U, () => {});
    for (let i = 0; i < 10; i++) f.handle(msg(chunk(i * 5, `${i}abc\n`)));
    const late = collect();
    f.subscribe(U, late.listener);
    // The newest 16 characters of '0abc\n1abc\n...9abc\n'.
    expect(late.text()).toBe('\n7abc\n8abc\n9abc\n');
  });

  it('passes on the status and reason of an unavailable log, and how far behind the relay holds it', () => {
    const { f } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle({ type: 'log-status', uuid: U, state: 'unavailable', reason: 'no-log', message: 'this backend keeps no log' });
    expect(v.events.at(-1)).toEqual({ kind: 'status', status: { state: 'unavailable', reason: 'no-log', message: 'this backend keeps no log' } });
    f.handle(msg(chunk(0, 'x'), 4096));
    expect(v.events).toContainEqual({ kind: 'behind', bytes: 4096 });
    f.handle(msg(chunk(1, 'y'), 0));
    expect(v.events.at(-2)).toEqual({ kind: 'behind', bytes: 0 });
  });

  it('follows again when text arrives after "ended" or "unavailable"; an empty chunk changes nothing', () => {
    const { f } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle(msg(chunk(0, 'a')));
    f.handle({ type: 'log-status', uuid: U, state: 'ended', reason: null, message: 'session completed' });
    f.handle(msg(chunk(1, '')));
    expect(v.events.at(-1)).toMatchObject({ kind: 'status', status: { state: 'ended' } });
    f.handle(msg(chunk(1, 'more')));
    expect(v.events.filter((e) => e.kind === 'status').map((e) => (e as { status: { state: string } }).status.state)).toEqual(['waiting', 'following', 'ended', 'following']);
  });

  it('ignores messages for sessions it does not follow', () => {
    const { f } = feeds();
    const v = collect();
    f.subscribe(U, v.listener);
    f.handle(msg(chunk(0, 'not mine'), 0, U2));
    expect(v.text()).toBe('');
    expect(f.cursor(U2)).toBeNull();
  });

  it('refuses past the relay\'s subscription limit locally, saying why, without asking the relay', () => {
    const { f, sent } = feeds();
    const ids = Array.from({ length: MAX_LOG_SUBSCRIPTIONS + 1 }, (_, i) => `0f0e0d0c-0b0a-4000-8000-00000000001${i}`);
    const last = collect();
    ids.forEach((id, i) => f.subscribe(id, i === ids.length - 1 ? last.listener : () => {}));
    expect(sent).toHaveLength(MAX_LOG_SUBSCRIPTIONS);
    expect(last.events[0]).toMatchObject({ kind: 'status', status: { state: 'unavailable' } });
  });
});
