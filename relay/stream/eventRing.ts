/**
 * The activity log's replay ring: the last EVENT_RING_SIZE events with monotonic seqs, so a
 * reconnecting client resumes from its cursor without a gap or a duplicate, and learns when it missed
 * some (`gap`).
 *
 * With a file (under the relay's state dir) every event is appended as one JSON line before anyone can
 * see it, so a relay killed with SIGKILL and restarted continues the same seq sequence and a client's
 * cursor from before the crash still resumes exactly. A process kill leaves the page cache intact, so a
 * plain write() is durable enough; no fsync. The file is bounded: past COMPACT_FACTOR x capacity lines it
 * is rewritten (temp file + rename) with the last `capacity` events. On load, a torn last line (a kill
 * mid-write), invalid lines and out-of-order seqs are skipped, and the file is rewritten clean so the
 * next append never lands after half a line.
 *
 * Without a file (or when it is empty) seqs start at the relay's start time in ms, so a cursor from
 * another relay run is older than the new ring and reads as a gap rather than silently matching.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ActivityEventSchema, EVENT_RING_SIZE, type ActivityEvent } from '../../shared/protocol/messages.js';
import type { GraphEvent } from '../graph/graph.js';

/** Events sent to a client that connects without a cursor (a fresh page): the recent past. */
export const FRESH_CLIENT_EVENTS = 100;
/** File name of the persisted ring under the state dir. */
export const EVENTS_FILE = 'events.jsonl';
/** The file is compacted when it holds more than this many times the ring's capacity in lines. */
export const COMPACT_FACTOR = 2;
/** At most this many bytes are read from the end of the file at load (a corrupt, huge file is not read whole). */
export const MAX_LOAD_BYTES = 64 * 1024 * 1024;

export interface EventRingOptions {
  /** Append-only JSON-lines file; null keeps the ring in memory. */
  file?: string | null;
  /** Told about I/O failures (the ring keeps working in memory). */
  onError?: (e: unknown) => void;
}

export class EventRing {
  private readonly buf: (ActivityEvent | undefined)[];
  private count = 0;
  /** seq the next event gets. */
  private nextSeq: number;
  private readonly file: string | null;
  private fd: number | null = null;
  /** Lines in the file now (valid ones after a load, plus appends). */
  private fileLines = 0;
  private readonly onError: (e: unknown) => void;

  constructor(
    readonly capacity: number = EVENT_RING_SIZE,
    firstSeq: number = Date.now(),
    opts: EventRingOptions = {},
  ) {
    this.buf = new Array(capacity);
    this.nextSeq = firstSeq;
    this.file = opts.file ?? null;
    this.onError = opts.onError ?? (() => undefined);
    if (this.file) this.load(this.file);
  }

  /** seq of the newest event; one below the first seq while empty. */
  get latest(): number {
    return this.nextSeq - 1;
  }

  private get oldest(): number {
    return this.nextSeq - this.count;
  }

  /** Events persisted in the file right now (tests). */
  get persistedLines(): number {
    return this.fileLines;
  }

  push(e: GraphEvent): ActivityEvent {
    const ev: ActivityEvent = { ...e, seq: this.nextSeq++ };
    this.buf[ev.seq % this.capacity] = ev;
    if (this.count < this.capacity) this.count++;
    if (this.file) this.append(ev);
    return ev;
  }

  /**
   * Events after `cursor`. `gap` is true when the cursor is older than the ring (or from another relay
   * run): then every event the ring holds is returned. A null cursor gets the most recent few, no gap.
   */
  since(cursor: number | null, max = this.capacity): { events: ActivityEvent[]; gap: boolean } {
    if (cursor === null) return { events: this.range(Math.max(this.oldest, this.nextSeq - Math.min(max, FRESH_CLIENT_EVENTS))), gap: false };
    if (cursor > this.latest) return { events: this.range(this.oldest, max), gap: true };
    if (cursor < this.oldest - 1) return { events: this.range(this.oldest, max), gap: true };
    return { events: this.range(cursor + 1, max), gap: false };
  }

  private range(from: number, max = this.capacity): ActivityEvent[] {
    const out: ActivityEvent[] = [];
    for (let s = from; s < this.nextSeq && out.length < max; s++) {
      const e = this.buf[s % this.capacity];
      if (e && e.seq === s) out.push(e);
    }
    return out;
  }

  /** Events in seq order, oldest first (what a compaction writes). */
  private all(): ActivityEvent[] {
    return this.range(this.oldest);
  }

  // ---- persistence ----

  private load(file: string): void {
    let text: string;
    let clean = true;
    try {
      const st = fs.statSync(file);
      if (st.size > MAX_LOAD_BYTES) {
        // Only the tail can matter (the ring keeps the newest); the first, partial line is dropped below.
        const fd = fs.openSync(file, 'r');
        try {
          const b = Buffer.alloc(MAX_LOAD_BYTES);
          const n = fs.readSync(fd, b, 0, MAX_LOAD_BYTES, st.size - MAX_LOAD_BYTES);
          text = b.subarray(0, n).toString('utf8');
        } finally {
          fs.closeSync(fd);
        }
        text = text.slice(text.indexOf('\n') + 1);
        clean = false;
      } else text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(e);
      return;
    }
    if (text.length > 0 && !text.endsWith('\n')) clean = false; // torn last line
    const lines = text.split('\n');
    const loaded: ActivityEvent[] = [];
    let last = -1;
    let total = 0;
    for (const line of lines) {
      if (!line) continue;
      total++;
      let ev: ActivityEvent;
      try {
        const p = ActivityEventSchema.safeParse(JSON.parse(line));
        if (!p.success) throw new Error('not an event');
        ev = p.data;
      } catch {
        clean = false;
        continue;
      }
      if (ev.seq <= last) {
        clean = false;
        continue;
      }
      last = ev.seq;
      loaded.push(ev);
    }
    if (loaded.length > 0) {
      const keep = loaded.slice(-this.capacity);
      for (const ev of keep) this.buf[ev.seq % this.capacity] = ev;
      this.nextSeq = keep.at(-1)!.seq + 1;
      // The ring spans from the first kept seq (a seq skipped as invalid is simply absent).
      this.count = Math.min(this.capacity, this.nextSeq - keep[0]!.seq);
    }
    this.fileLines = total;
    if (!clean || total > COMPACT_FACTOR * this.capacity) this.compact();
  }

  private append(ev: ActivityEvent): void {
    try {
      if (this.fd === null) {
        fs.mkdirSync(path.dirname(this.file!), { recursive: true });
        this.fd = fs.openSync(this.file!, 'a');
      }
      // One write per event, before it is sent to anyone: what a client saw survives a SIGKILL.
      fs.writeSync(this.fd, JSON.stringify(ev) + '\n');
      this.fileLines++;
      if (this.fileLines > COMPACT_FACTOR * this.capacity) this.compact();
    } catch (e) {
      this.onError(e);
    }
  }

  /** Rewrites the file with the ring's events only (atomic: temp file, then rename). */
  private compact(): void {
    const file = this.file!;
    try {
      this.closeFd();
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const events = this.all();
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, events.map((e) => JSON.stringify(e) + '\n').join(''));
      fs.renameSync(tmp, file);
      this.fileLines = events.length;
    } catch (e) {
      this.onError(e);
    }
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = null;
  }

  /** Closes the file (events pushed later reopen it). */
  close(): void {
    this.closeFd();
  }
}
