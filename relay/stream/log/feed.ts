/**
 * Live session logs over /wss (`log-subscribe` / `log-unsubscribe` -> `log`, `log-status`).
 *
 * One tail per session, shared by all its subscribers: it reads the log through the narrow view app.ts
 * passes in (the stream never runs an exec; each read is one short exec with a timeout) and keeps the
 * recent bytes in a bounded ring. It reads only while some subscriber waits at the head, so a log growing
 * faster than its readers consume costs no more than they take.
 *
 * When to read: where the view can watch the file (a watcher in the container, ended with the tail), a
 * change wakes the tail at once and a slow poll (LOG_WATCHED_POLL_MS) is only the safety net; without a
 * watch (none there, it failed or ended) the tail polls every LOG_POLL_MS. The watch is a wake-up signal
 * only: every byte still comes through read(), with the same offsets and rotation/truncation checks.
 *
 * Each subscriber has its own byte offset. A client gets log bytes within its byte budget (ByteBudget,
 * shared by its subscriptions) and only while its socket's bufferedAmount is under LOG_HIGH_WATER (below
 * the stream's own mark, so positions and deltas keep flowing). A client that falls behind lags
 * (`behind` > 0) and is served later from its offset: from the ring while the ring still holds it, else
 * by its own read of the file. Chunks follow each other exactly (`from` = previous `next`): nothing is
 * dropped or sent twice, and a client resumes after a reconnect or a relay restart from its offset.
 */
import type { Logger } from 'pino';
import { LOG_READ_MAX_BYTES, type LogChunk, type LOG_UNAVAILABLE_REASONS } from '../../../shared/model/console.js';
import { TERMINAL_SESSION_STATUSES, type SessionStatus } from '../../../shared/model/session.js';
import { LOG_TAIL_BYTES, MAX_LOG_SUBSCRIPTIONS, type LogSubscribeMessage, type ServerMessage } from '../../../shared/protocol/messages.js';
import type { StreamClient } from '../streamClient.js';
import { ByteBudget } from './budget.js';
import { LogRing } from './ring.js';

type Reason = (typeof LOG_UNAVAILABLE_REASONS)[number];

/** What a read gave: the chunk with its raw bytes, or why none can come. */
export type LogViewRead =
  | { ok: true; chunk: LogChunk; bytes: Buffer }
  | {
      ok: false;
      reason: Reason | null;
      message: string;
      /** It will not change by retrying (no log kept, no such session): the subscription ends. */
      permanent: boolean;
    };

/** A started watch; close() ends it (harmless twice). */
export interface LogWatchHandle {
  close(): void;
}

/** The narrow view of the control plane the live log needs (relay/app.ts builds it). */
export interface StreamLogView {
  read(uuid: string, q: { from: number | null; max: number; logId: string | null; tailBytes?: number }): Promise<LogViewRead>;
  /** The session's status as the relay last listed it; null: not a session the relay knows. */
  sessionStatus(uuid: string): SessionStatus | null;
  /**
   * Optional: watches the log file at `path` (as the session's reads found it). `onChange` when it may
   * have changed, and once when the watch is ready (a write just before it began is then read too);
   * `onEnd` once if it stops by itself. Null: it cannot be watched here (the tail polls).
   */
  watch?(uuid: string, path: string, onChange: () => void, onEnd: (err: Error | null) => void): LogWatchHandle | null;
}

/** The live log's figures for /metrics (relay/stream/metrics.ts): gauges of now, running totals. */
export interface LogFeedMetrics {
  /** Followed sessions (one tail each). */
  sessions: number;
  subscribers: number;
  /** Bytes held in every tail's ring. */
  ringBytes: number;
  /** Log bytes subscribers have not been sent yet (their `behind`, summed; known sizes only). */
  bytesBehind: number;
  /** Reads of a tail's head, and reads of a subscriber's own (its offset out of the ring). */
  reads: number;
  directReads: number;
  /** Bytes and `log` messages sent to clients. */
  bytesSent: number;
  messages: number;
  /** Logs found truncated or rewritten in place between two polls (then followed again from 0). */
  truncationsInPlace: number;
  /** Followed sessions whose log is watched now (the others poll every LOG_POLL_MS). */
  watched: number;
  /** Watches started, and changes they reported (each wakes the tail). */
  watchStarts: number;
  wakeups: number;
}

/** Bytes before the end held that each poll reads again and compares (the in-place truncation check). */
export const TRUNCATION_CHECK_BYTES = 32;
/** Poll period of a followed log that is not watched. Default 150 ms. */
export const LOG_POLL_MS = 150;
/** Poll period of a watched log: a safety net for a change the watch missed. Default 1000 ms. */
export const LOG_WATCHED_POLL_MS = 1000;
/** Least time between two starts of a tail's watch (one that fails or ends is retried this often at most). Default 5000 ms. */
export const LOG_WATCH_RETRY_MS = 5000;
/** Retry period while a log is unavailable (missing, container unreachable). Default 1000 ms. */
export const LOG_RETRY_MS = 1000;
/** Recent bytes kept per followed session. Default 1 MiB. */
export const LOG_RING_BYTES = 1024 * 1024;
/** Log bytes per second per client (all its subscriptions), and the most at once. */
export const LOG_CLIENT_BYTES_PER_SEC = 1024 * 1024;
export const LOG_CLIENT_BURST_BYTES = 256 * 1024;
/** Over this many bytes queued on its socket a client gets no log bytes until it drains. */
export const LOG_HIGH_WATER = 256 * 1024;
/** Largest text of one `log` message. */
export const LOG_MESSAGE_BYTES = 64 * 1024;

export interface LogFeedOptions {
  view: StreamLogView;
  /** Sends one message; returns the bytes sent (0 when the socket is not open). */
  send(c: StreamClient, msg: ServerMessage): number;
  log: Logger;
  pollMs?: number;
  watchedPollMs?: number;
  watchRetryMs?: number;
  retryMs?: number;
  ringBytes?: number;
  clientBytesPerSec?: number;
  clientBurstBytes?: number;
  highWater?: number;
  messageBytes?: number;
  now?: () => number;
}

interface Tail {
  uuid: string;
  subs: Set<Sub>;
  ring: LogRing;
  started: boolean;
  logId: string;
  path: string;
  size: number;
  reading: boolean;
  nextPollAt: number;
  /** The last read found nothing new. */
  idle: boolean;
  unavailable: { reason: Reason | null; message: string } | null;
  closed: boolean;
  /** The file's watch (at most one per tail), null while none runs. */
  watch: TailWatch | null;
  /** No watch starts before then. */
  watchRetryAt: number;
  /** A change came while a read was in flight: read again when it lands. */
  wake: boolean;
}

interface TailWatch {
  path: string;
  handle: LogWatchHandle | null;
  /** It reported (at least its start): from then on the tail polls at the watched period. */
  live: boolean;
  ended: boolean;
}

interface Sub {
  c: StreamClient;
  tail: Tail;
  /** Next byte to send; null: start at the tail's last LOG_TAIL_BYTES. */
  offset: number | null;
  /** The file the client has seen (null: none yet). */
  logId: string | null;
  /** The next chunk starts the file again. */
  rotated: boolean;
  /** A read of its own (its offset is out of the ring) is in flight. */
  reading: boolean;
  retryAt: number;
  /** Key of the last log-status sent, so each state is said once. */
  status: string | null;
  removed: boolean;
}

export class LogFeed {
  private readonly tails = new Map<string, Tail>();
  private readonly byClient = new Map<StreamClient, Map<string, Sub>>();
  private readonly budgets = new WeakMap<StreamClient, ByteBudget>();
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly watchedPollMs: number;
  private readonly watchRetryMs: number;
  private readonly retryMs: number;
  private readonly highWater: number;
  private readonly messageBytes: number;
  /** Counters for tests and metrics. */
  readonly stats = { reads: 0, directReads: 0, bytesSent: 0, messages: 0, truncationsInPlace: 0, watchStarts: 0, wakeups: 0 };

  constructor(private readonly o: LogFeedOptions) {
    this.now = o.now ?? Date.now;
    this.pollMs = o.pollMs ?? LOG_POLL_MS;
    this.watchedPollMs = o.watchedPollMs ?? LOG_WATCHED_POLL_MS;
    this.watchRetryMs = o.watchRetryMs ?? LOG_WATCH_RETRY_MS;
    this.retryMs = o.retryMs ?? LOG_RETRY_MS;
    this.highWater = o.highWater ?? LOG_HIGH_WATER;
    this.messageBytes = o.messageBytes ?? LOG_MESSAGE_BYTES;
  }

  /** Followed sessions (tails), for tests and metrics. */
  get tailCount(): number {
    return this.tails.size;
  }

  /** Bytes held in every ring. */
  get ringBytes(): number {
    let n = 0;
    for (const t of this.tails.values()) n += t.ring.bytes;
    return n;
  }

  metrics(): LogFeedMetrics {
    let subscribers = 0;
    let bytesBehind = 0;
    let watched = 0;
    for (const t of this.tails.values()) {
      subscribers += t.subs.size;
      if (t.watch?.live) watched++;
      for (const s of t.subs) if (s.offset !== null && s.logId === t.logId) bytesBehind += Math.max(0, t.size - s.offset);
    }
    return { sessions: this.tails.size, subscribers, ringBytes: this.ringBytes, bytesBehind, watched, ...this.stats };
  }

  subscribe(c: StreamClient, msg: LogSubscribeMessage): void {
    let mine = this.byClient.get(c);
    const old = mine?.get(msg.uuid);
    if (!old && (mine?.size ?? 0) >= MAX_LOG_SUBSCRIPTIONS) {
      this.o.send(c, { type: 'error', code: 'log-subscriptions', message: `at most ${MAX_LOG_SUBSCRIPTIONS} log subscriptions per connection: unsubscribe one first` });
      return;
    }
    if (old) this.remove(old);
    // Unknown sessions are answered from the relay's list, without an exec.
    if (this.o.view.sessionStatus(msg.uuid) === null) {
      this.o.send(c, { type: 'log-status', uuid: msg.uuid, state: 'unavailable', reason: null, message: `no session ${msg.uuid}` });
      return;
    }
    if (!mine) this.byClient.set(c, (mine = new Map()));
    let tail = this.tails.get(msg.uuid);
    if (!tail) {
      tail = { uuid: msg.uuid, subs: new Set(), ring: new LogRing(this.o.ringBytes ?? LOG_RING_BYTES), started: false, logId: '', path: '', size: 0, reading: false, nextPollAt: 0, idle: false, unavailable: null, closed: false, watch: null, watchRetryAt: 0, wake: false };
      this.tails.set(msg.uuid, tail);
    }
    const sub: Sub = { c, tail, offset: msg.from, logId: msg.logId, rotated: false, reading: false, retryAt: 0, status: null, removed: false };
    mine.set(msg.uuid, sub);
    tail.subs.add(sub);
    tail.nextPollAt = Math.min(tail.nextPollAt, this.now());
    this.tick();
  }

  unsubscribe(c: StreamClient, uuid: string): void {
    const sub = this.byClient.get(c)?.get(uuid);
    if (sub) this.remove(sub);
  }

  /** The client went away. */
  forget(c: StreamClient): void {
    for (const sub of [...(this.byClient.get(c)?.values() ?? [])]) this.remove(sub);
    this.byClient.delete(c);
  }

  close(): void {
    for (const t of this.tails.values()) {
      t.closed = true;
      this.unwatch(t);
    }
    this.tails.clear();
    this.byClient.clear();
  }

  /** Polls the tails that are due and serves every subscriber what its budget allows (the stream calls it often). */
  tick(): void {
    for (const t of this.tails.values()) {
      this.poll(t);
      for (const s of t.subs) this.pump(s);
    }
  }

  private remove(sub: Sub): void {
    sub.removed = true;
    const mine = this.byClient.get(sub.c);
    if (mine?.get(sub.tail.uuid) === sub) mine.delete(sub.tail.uuid);
    const t = sub.tail;
    t.subs.delete(sub);
    if (t.subs.size === 0) {
      // Nobody follows it: the tail and its watch stop (a read in flight is discarded when it lands).
      t.closed = true;
      this.unwatch(t);
      if (this.tails.get(t.uuid) === t) this.tails.delete(t.uuid);
    }
  }

  private budget(c: StreamClient): ByteBudget {
    let b = this.budgets.get(c);
    if (!b) this.budgets.set(c, (b = new ByteBudget(this.o.clientBytesPerSec ?? LOG_CLIENT_BYTES_PER_SEC, this.o.clientBurstBytes ?? LOG_CLIENT_BURST_BYTES, this.now())));
    return b;
  }

  private status(sub: Sub, state: 'following' | 'unavailable' | 'ended', reason: Reason | null, message: string): void {
    const key = `${state}:${reason}:${message}`;
    if (sub.status === key) return;
    sub.status = key;
    this.o.send(sub.c, { type: 'log-status', uuid: sub.tail.uuid, state, reason, message: message.slice(0, 1024) });
  }

  /** Reads the tail's next bytes when it is due and someone waits at the head. */
  private poll(t: Tail): void {
    const now = this.now();
    if (t.reading || t.closed || now < t.nextPollAt) return;
    const demand = !t.started || t.unavailable !== null || [...t.subs].some((s) => s.offset === null || (s.logId === t.logId && s.offset >= t.ring.end));
    if (!demand) return;
    t.reading = true;
    this.stats.reads++;
    // Each read starts a few bytes before the end held and checks they are still the same: a file
    // truncated in place (same inode) and written past our offset between two polls is otherwise
    // invisible (its size is not below the offset), and the tail would go on mid-way through new text.
    const check = t.started ? t.ring.last(TRUNCATION_CHECK_BYTES) : Buffer.alloc(0);
    const q = t.started ? { from: t.ring.end - check.length, max: LOG_READ_MAX_BYTES, logId: t.logId } : { from: null, max: LOG_READ_MAX_BYTES, logId: null, tailBytes: LOG_TAIL_BYTES };
    const failed = (err: unknown) => this.landed(t, { ok: false, reason: null, message: `reading the log failed: ${String(err)}`, permanent: false });
    this.o.view.read(t.uuid, q).then((r) => {
      if (!r.ok || check.length === 0 || r.chunk.rotated) return this.landed(t, r);
      if (r.bytes.length >= check.length && r.bytes.subarray(0, check.length).equals(check)) {
        const bytes = r.bytes.subarray(check.length);
        return this.landed(t, { ok: true, bytes, chunk: { ...r.chunk, from: r.chunk.from + check.length, text: bytes.toString('utf8') } });
      }
      // Not the bytes we hold: the file was truncated (or rewritten) in place. Start again at 0, as a rotation.
      this.stats.truncationsInPlace++;
      this.o.view.read(t.uuid, { from: 0, max: LOG_READ_MAX_BYTES, logId: t.logId }).then((again) => {
        if (!again.ok) return this.landed(t, again);
        // Same file id, so subscribers would not notice by themselves: each starts again at 0, told so.
        for (const s of t.subs) {
          if (s.offset === null) continue;
          s.offset = 0;
          s.rotated = true;
        }
        this.landed(t, { ...again, chunk: { ...again.chunk, rotated: true } });
      }, failed);
    }, failed);
  }

  private landed(t: Tail, r: LogViewRead): void {
    t.reading = false;
    const wake = t.wake;
    t.wake = false;
    if (t.closed) return;
    const now = this.now();
    if (!r.ok) {
      t.unavailable = { reason: r.reason, message: r.message };
      t.nextPollAt = now + this.retryMs;
      for (const s of [...t.subs]) {
        this.status(s, 'unavailable', r.reason, r.message);
        if (r.permanent) this.remove(s);
      }
      return;
    }
    const ch = r.chunk;
    if (!t.started || ch.rotated || ch.from !== t.ring.end) t.ring.reset(ch.from);
    t.ring.append(ch.from, r.bytes);
    t.started = true;
    t.unavailable = null;
    t.logId = ch.logId;
    t.path = ch.path;
    t.size = Math.max(ch.size, t.ring.end);
    t.idle = r.bytes.length === 0;
    // More is waiting past this read, or a change came during it: read again at once (while someone
    // waits at the head). Else the next poll: the watched period while a watch reports changes.
    t.nextPollAt = ch.truncated || wake ? now : now + (t.watch?.live ? this.watchedPollMs : this.pollMs);
    for (const s of t.subs) this.pump(s);
    this.watchTail(t);
    if (wake) this.poll(t);
  }

  /** Starts the tail's watch once it knows its path, again for a new path; at most once per watchRetryMs. */
  private watchTail(t: Tail): void {
    const view = this.o.view;
    if (!view.watch || t.closed || t.watch?.path === t.path) return;
    this.unwatch(t);
    const now = this.now();
    if (now < t.watchRetryAt) return;
    t.watchRetryAt = now + this.watchRetryMs;
    const w: TailWatch = { path: t.path, handle: null, live: false, ended: false };
    t.watch = w;
    this.stats.watchStarts++;
    try {
      w.handle = view.watch(t.uuid, t.path, () => this.changed(t, w), (err) => this.watchEnded(t, w, err));
    } catch (err) {
      this.o.log.warn({ err, uuid: t.uuid }, 'starting the log watch failed; polling');
    }
    // Not watchable here (or it ended at once): poll, and try again after watchRetryMs.
    if (w.handle === null || w.ended) {
      w.ended = true;
      w.handle?.close();
      if (t.watch === w) t.watch = null;
    }
  }

  private unwatch(t: Tail): void {
    const w = t.watch;
    t.watch = null;
    if (!w) return;
    w.ended = true;
    w.handle?.close();
  }

  /** The watch says the file changed: the tail is due now (one more read after one in flight). */
  private changed(t: Tail, w: TailWatch): void {
    if (t.watch !== w || w.ended || t.closed) return;
    w.live = true;
    this.stats.wakeups++;
    if (t.reading) {
      t.wake = true;
      return;
    }
    t.nextPollAt = this.now();
    this.poll(t);
  }

  private watchEnded(t: Tail, w: TailWatch, err: Error | null): void {
    if (w.ended) return;
    w.ended = true;
    w.handle?.close();
    if (t.watch !== w) return;
    t.watch = null;
    this.o.log.debug({ err, uuid: t.uuid, path: w.path }, 'log watch ended; polling until it is started again');
    // Back to the short period at once; the next successful read starts it again (bounded by watchRetryMs).
    t.nextPollAt = Math.min(t.nextPollAt, this.now() + this.pollMs);
  }

  /** Sends one subscriber what it may have now. */
  private pump(sub: Sub): void {
    const t = sub.tail;
    if (sub.removed || sub.reading || !t.started || t.unavailable) return;
    // Said once when it starts or comes back; an `ended` subscriber that gets more output just gets the chunks.
    if (sub.status === null || sub.status.startsWith('unavailable')) this.status(sub, 'following', null, `following ${t.path}`);
    const now = this.now();
    if (sub.c.ws.bufferedAmount > this.highWater) return;
    const budget = this.budget(sub.c);
    if (sub.offset === null) {
      // A new follower starts at the last LOG_TAIL_BYTES (on a character boundary).
      sub.offset = t.ring.align(Math.max(t.ring.start, t.ring.end - LOG_TAIL_BYTES));
      sub.rotated = sub.logId !== null && sub.logId !== t.logId;
      sub.logId = t.logId;
    }
    if (sub.logId === null && t.ring.holds(sub.offset)) sub.logId = t.logId;
    // Served from the ring while it holds the client's offset in the same file.
    while (sub.logId === t.logId && t.ring.holds(sub.offset)) {
      const tokens = budget.available(now);
      if (tokens <= 0 || sub.c.ws.bufferedAmount > this.highWater) return;
      const bytes = t.ring.slice(sub.offset, Math.min(tokens, this.messageBytes));
      if (bytes.length === 0) break;
      const chunk: LogChunk = { text: bytes.toString('utf8'), from: sub.offset, next: sub.offset + bytes.length, size: t.size, truncated: sub.offset + bytes.length < t.size, rotated: sub.rotated, logId: t.logId, path: t.path };
      this.deliver(sub, chunk, budget, now);
    }
    if (sub.logId === t.logId && sub.offset === t.ring.end) {
      const status = this.o.view.sessionStatus(t.uuid);
      if (t.idle && status !== null && TERMINAL_SESSION_STATUSES.includes(status)) this.status(sub, 'ended', null, `session ${status}; the log has no more output so far`);
      return;
    }
    if (now < sub.retryAt) return;
    // Out of the ring (behind it, ahead of it, or another file): a read of its own, from its offset.
    const tokens = budget.available(now);
    if (tokens <= 0) return;
    sub.reading = true;
    this.stats.directReads++;
    const from = sub.offset;
    this.o.view.read(t.uuid, { from, max: Math.min(tokens, this.messageBytes), logId: sub.logId }).then(
      (r) => {
        sub.reading = false;
        if (sub.removed || sub.offset !== from) return;
        const at = this.now();
        if (!r.ok) {
          sub.retryAt = at + this.retryMs;
          return;
        }
        const ch = r.chunk;
        // Nothing new there (it is ahead of the tail): ask again after a poll period.
        if (ch.next === ch.from && !ch.rotated) {
          sub.retryAt = at + this.pollMs;
          return;
        }
        this.deliver(sub, { ...ch, size: Math.max(ch.size, ch.logId === t.logId ? t.size : 0) }, budget, at);
        this.pump(sub);
      },
      () => {
        sub.reading = false;
        sub.retryAt = this.now() + this.retryMs;
      },
    );
  }

  private deliver(sub: Sub, chunk: LogChunk, budget: ByteBudget, now: number): void {
    const behind = Math.max(0, chunk.size - chunk.next);
    const sent = this.o.send(sub.c, { type: 'log', uuid: sub.tail.uuid, chunk, behind });
    budget.take(Math.max(sent, chunk.next - chunk.from), now);
    this.stats.bytesSent += sent;
    this.stats.messages++;
    sub.offset = chunk.next;
    sub.logId = chunk.logId;
    sub.rotated = false;
  }
}
