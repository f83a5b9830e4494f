/**
 * The activity log's replay ring: the last EVENT_RING_SIZE events with monotonic seqs, so a
 * reconnecting client resumes from its cursor without a gap or a duplicate, and learns when it missed
 * some (`gap`). Seqs start at the relay's start time in ms, so a cursor from before a relay restart is
 * always older than the new ring and reads as a gap rather than silently matching new events.
 */
import { EVENT_RING_SIZE, type ActivityEvent } from '../../shared/protocol/messages.js';
import type { GraphEvent } from '../telemetry/graph.js';

/** Events sent to a client that connects without a cursor (a fresh page): the recent past. */
export const FRESH_CLIENT_EVENTS = 100;

export class EventRing {
  private readonly buf: (ActivityEvent | undefined)[];
  private count = 0;
  /** seq the next event gets. */
  private nextSeq: number;

  constructor(
    readonly capacity: number = EVENT_RING_SIZE,
    firstSeq: number = Date.now(),
  ) {
    this.buf = new Array(capacity);
    this.nextSeq = firstSeq;
  }

  /** seq of the newest event; one below the first seq while empty. */
  get latest(): number {
    return this.nextSeq - 1;
  }

  private get oldest(): number {
    return this.nextSeq - this.count;
  }

  push(e: GraphEvent): ActivityEvent {
    const ev: ActivityEvent = { ...e, seq: this.nextSeq++ };
    this.buf[ev.seq % this.capacity] = ev;
    if (this.count < this.capacity) this.count++;
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
}
