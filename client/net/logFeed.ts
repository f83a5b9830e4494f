/**
 * Live session logs over the page's one WebSocket (`log-subscribe` / `log` / `log-status`,
 * shared/protocol/messages.ts). A `LogCursor` assembles a session's chunks by byte offset: it appends
 * what follows its cursor, trims the part of a chunk it already has, drops a repeat, restarts on a
 * rotated file, and reports a chunk past its cursor as a gap. `LogFeeds` keeps one wire subscription
 * per session however many views watch it, replays a bounded tail to a view that joins late, and after
 * a reconnect (or a relay restart) resubscribes from the last `next` and `logId`, so nothing is missed
 * and nothing shown twice. Log text never enters the store: views get it through listeners and keep it
 * in their own bounded structure (the console's xterm buffer, the XR card's tail). DOM-free.
 */
import { MAX_LOG_SUBSCRIPTIONS, LOG_UNAVAILABLE_REASONS, type ClientMessage, type LogChunk, type LogMessage, type LogStatusMessage } from '../../shared/index.js';

export type LogUnavailableReason = (typeof LOG_UNAVAILABLE_REASONS)[number];

/** Characters of recent text a subscription keeps to replay to a view that joins it late. */
export const LOG_REPLAY_CHARS = 256 * 1024;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** What one chunk means for what is already shown. */
export type ChunkVerdict =
  /** Text that follows what is shown (a partial repeat already trimmed off). */
  | { kind: 'append'; text: string }
  /** The file was rotated or truncated: drop what is shown, then show `text`. */
  | { kind: 'restart'; text: string }
  /** Nothing new: every byte of it is already shown. */
  | { kind: 'duplicate' }
  /** It starts past the cursor: bytes between are missing. Ask again from `expected`. */
  | { kind: 'gap'; expected: number; got: number };

/** A session's position in its log file: the byte offset to read next and the file's identity. */
export class LogCursor {
  next: number | null = null;
  logId: string | null = null;
  /** The log's path in the container, as the relay last named it. */
  path: string | null = null;

  accept(chunk: LogChunk): ChunkVerdict {
    if (chunk.rotated) {
      this.take(chunk);
      return { kind: 'restart', text: chunk.text };
    }
    const at = this.next;
    // The first chunk of a subscription from `null` is the log's tail: it may start anywhere.
    if (at === null) {
      this.take(chunk);
      return { kind: 'append', text: chunk.text };
    }
    if (chunk.from > at) return { kind: 'gap', expected: at, got: chunk.from };
    if (chunk.next <= at) return { kind: 'duplicate' };
    this.take(chunk);
    return { kind: 'append', text: chunk.from === at ? chunk.text : dropBytes(chunk.text, at - chunk.from) };
  }

  reset(): void {
    this.next = null;
    this.logId = null;
    this.path = null;
  }

  private take(chunk: LogChunk): void {
    this.next = chunk.next;
    // The relay names the file in every chunk; keep the latest (a change without `rotated` is its call).
    this.logId = chunk.logId;
    this.path = chunk.path;
  }
}

/** `text` without its first `bytes` UTF-8 bytes (offsets from the relay fall between characters). */
export function dropBytes(text: string, bytes: number): string {
  if (bytes <= 0) return text;
  const b = utf8.encode(text);
  return bytes >= b.length ? '' : utf8Decoder.decode(b.subarray(bytes));
}

export type LogFeedState = 'waiting' | 'following' | 'unavailable' | 'ended';

export interface LogFeedStatus {
  state: LogFeedState;
  reason: LogUnavailableReason | null;
  message: string;
}

export type LogFeedEvent =
  | { kind: 'text'; text: string }
  /** Drop what is shown: the file was rotated or truncated (`why` says which words to show). */
  | { kind: 'reset'; why: string }
  | { kind: 'status'; status: LogFeedStatus }
  /** Bytes the relay holds back for this page's byte budget (0: up to date). */
  | { kind: 'behind'; bytes: number };

export type LogListener = (e: LogFeedEvent) => void;

interface Feed {
  uuid: string;
  cursor: LogCursor;
  listeners: Set<LogListener>;
  status: LogFeedStatus;
  behind: number;
  /** Recent text, oldest first, at most `replayChars` characters in all. */
  replay: string[];
  replayChars: number;
  /** A rotation happened since the replay began: a late view is told why the log starts over. */
  restartedWhy: string | null;
  /** A gap was reported and a resubscribe sent: further gaps wait for it instead of asking again. */
  resyncing: boolean;
  /** Refused locally (too many logs open): never sent to the relay. */
  refused: boolean;
}

export interface LogFeedStats {
  gaps: number;
  duplicates: number;
  restarts: number;
}

const WAITING: LogFeedStatus = { state: 'waiting', reason: null, message: 'waiting for the relay' };

export class LogFeeds {
  private readonly feeds = new Map<string, Feed>();
  readonly stats: LogFeedStats = { gaps: 0, duplicates: 0, restarts: 0 };
  private readonly replayLimit: number;

  constructor(
    /** Sends on the open socket; false when none is open (the subscription goes out on the next open). */
    private readonly send: (m: ClientMessage) => boolean,
    opts: { replayChars?: number } = {},
  ) {
    this.replayLimit = opts.replayChars ?? LOG_REPLAY_CHARS;
  }

  /**
   * Follows `uuid`'s log; `listener` first gets the state so far (status, what the relay is holding
   * back, the recent text), then live events. Returns the unsubscribe.
   */
  subscribe(uuid: string, listener: LogListener): () => void {
    let feed = this.feeds.get(uuid);
    if (!feed) {
      const live = [...this.feeds.values()].filter((f) => !f.refused).length;
      feed = {
        uuid,
        cursor: new LogCursor(),
        listeners: new Set(),
        status: WAITING,
        behind: 0,
        replay: [],
        replayChars: 0,
        restartedWhy: null,
        resyncing: false,
        refused: live >= MAX_LOG_SUBSCRIPTIONS,
      };
      if (feed.refused) feed.status = { state: 'unavailable', reason: null, message: `this page already follows ${MAX_LOG_SUBSCRIPTIONS} session logs, the most the relay allows; close one` };
      this.feeds.set(uuid, feed);
      if (!feed.refused) this.sendSubscribe(feed);
    }
    feed.listeners.add(listener);
    listener({ kind: 'status', status: feed.status });
    if (feed.behind > 0) listener({ kind: 'behind', bytes: feed.behind });
    if (feed.restartedWhy) listener({ kind: 'reset', why: feed.restartedWhy });
    for (const t of feed.replay) listener({ kind: 'text', text: t });
    const f = feed;
    return () => {
      f.listeners.delete(listener);
      if (f.listeners.size > 0 || this.feeds.get(uuid) !== f) return;
      this.feeds.delete(uuid);
      if (!f.refused) this.send({ type: 'log-unsubscribe', uuid });
    };
  }

  /** Sessions followed now (for tests and the page's hooks). */
  sessions(): string[] {
    return [...this.feeds.keys()];
  }

  /** Where a session's cursor stands, or null when it is not followed. */
  cursor(uuid: string): { next: number | null; logId: string | null; path: string | null } | null {
    const f = this.feeds.get(uuid);
    return f ? { next: f.cursor.next, logId: f.cursor.logId, path: f.cursor.path } : null;
  }

  /** The socket (re)opened: every subscription goes out again from where its cursor stands. */
  resubscribeAll(): void {
    for (const f of this.feeds.values()) {
      if (f.refused) continue;
      f.resyncing = false;
      this.sendSubscribe(f);
    }
  }

  /** The socket closed: views say so until the relay answers the resubscribe. */
  connectionLost(): void {
    for (const f of this.feeds.values()) {
      if (f.refused || f.status.state === 'waiting') continue;
      const at = f.cursor.next;
      this.setStatus(f, { state: 'waiting', reason: null, message: `connection to the relay lost; resuming${at !== null ? ` from byte ${at}` : ''} once it is back` });
    }
  }

  handle(msg: LogMessage | LogStatusMessage): void {
    const f = this.feeds.get(msg.uuid);
    if (!f || f.refused) return;
    if (msg.type === 'log-status') {
      this.setStatus(f, { state: msg.state, reason: msg.reason, message: msg.message });
      return;
    }
    // A chunk means the log is being followed again: after a reconnect's "waiting", and after "ended" or
    // "unavailable" once it brings text (an ended session that prints more, a log file that appeared).
    if (f.status.state === 'waiting' || (f.status.state !== 'following' && msg.chunk.text.length > 0)) this.setStatus(f, { state: 'following', reason: null, message: '' });
    if (msg.behind !== f.behind) {
      f.behind = msg.behind;
      this.emit(f, { kind: 'behind', bytes: msg.behind });
    }
    const v = f.cursor.accept(msg.chunk);
    switch (v.kind) {
      case 'gap':
        this.stats.gaps++;
        // Ask again from our cursor (a resubscribe moves the relay's cursor); chunks already on their way
        // from past it are dropped until the answer arrives.
        if (!f.resyncing) {
          f.resyncing = true;
          this.sendSubscribe(f);
        }
        return;
      case 'duplicate':
        this.stats.duplicates++;
        return;
      case 'restart': {
        this.stats.restarts++;
        f.resyncing = false;
        f.replay = [];
        f.replayChars = 0;
        f.restartedWhy = `the log was rotated or truncated (${msg.chunk.path}); showing it from the start`;
        this.emit(f, { kind: 'reset', why: f.restartedWhy });
        this.push(f, v.text);
        return;
      }
      case 'append':
        f.resyncing = false;
        this.push(f, v.text);
        return;
    }
  }

  private push(f: Feed, text: string): void {
    if (text.length === 0) return;
    f.replay.push(text);
    f.replayChars += text.length;
    while (f.replayChars > this.replayLimit && f.replay.length > 0) {
      const over = f.replayChars - this.replayLimit;
      const first = f.replay[0]!;
      if (first.length <= over) {
        f.replay.shift();
        f.replayChars -= first.length;
      } else {
        f.replay[0] = first.slice(over);
        f.replayChars -= over;
      }
    }
    this.emit(f, { kind: 'text', text });
  }

  private setStatus(f: Feed, status: LogFeedStatus): void {
    f.status = status;
    this.emit(f, { kind: 'status', status });
  }

  private emit(f: Feed, e: LogFeedEvent): void {
    for (const l of [...f.listeners]) l(e);
  }

  private sendSubscribe(f: Feed): void {
    this.send({ type: 'log-subscribe', uuid: f.uuid, from: f.cursor.next, logId: f.cursor.logId });
  }
}
