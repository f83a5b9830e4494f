/**
 * The recent bytes of one session's log, shared by every subscriber of that session: a window
 * [start, end) of file offsets, bounded by `capacity` bytes (the oldest segments go first). A subscriber
 * whose offset fell out of the window reads from the file itself (LogFeed). Pure.
 */
import { utf8End } from '../../../shared/utf8.js';

interface Segment {
  from: number;
  bytes: Buffer;
}

export class LogRing {
  private segments: Segment[] = [];
  private total = 0;
  /** First offset held. */
  start = 0;
  /** Offset after the last byte held (the next read's `from`). */
  end = 0;

  constructor(readonly capacity: number) {}

  get bytes(): number {
    return this.total;
  }

  /** Empties the ring; it continues at `offset` (a new tail, or a rotated file from 0). */
  reset(offset: number): void {
    this.segments = [];
    this.total = 0;
    this.start = this.end = offset;
  }

  /** Adds bytes read at `from`; anything but `from === end` is a caller's bug (it would make a gap). */
  append(from: number, bytes: Buffer): void {
    if (from !== this.end) throw new RangeError(`log ring: append at ${from}, expected ${this.end}`);
    if (bytes.length === 0) return;
    this.segments.push({ from, bytes });
    this.total += bytes.length;
    this.end += bytes.length;
    while (this.total > this.capacity && this.segments.length > 1) {
      const s = this.segments.shift()!;
      this.total -= s.bytes.length;
      this.start = this.segments[0]!.from;
    }
    // One segment larger than the capacity: keep its newest bytes only.
    if (this.total > this.capacity) {
      const s = this.segments[0]!;
      const drop = this.total - this.capacity;
      this.segments[0] = { from: s.from + drop, bytes: s.bytes.subarray(drop) };
      this.total = this.capacity;
      this.start = s.from + drop;
    }
  }

  /** Whether `offset` can be served from here (end included: nothing new yet). */
  holds(offset: number): boolean {
    return offset >= this.start && offset <= this.end;
  }

  /** `offset` moved past continuation bytes (at most 3): a start `n` bytes before the end may fall inside a character. */
  align(offset: number): number {
    let o = offset;
    while (o < this.end && o - offset < 3 && (this.byteAt(o) & 0xc0) === 0x80) o++;
    return o;
  }

  /** The last `n` bytes held (fewer when fewer are held), as they are: the fingerprint a truncation check compares. */
  last(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = Math.min(n, this.total);
    for (let i = this.segments.length - 1; i >= 0 && need > 0; i--) {
      const b = this.segments[i]!.bytes;
      const part = b.subarray(Math.max(0, b.length - need));
      parts.unshift(part);
      need -= part.length;
    }
    return Buffer.concat(parts);
  }

  private byteAt(offset: number): number {
    for (const s of this.segments) if (offset >= s.from && offset < s.from + s.bytes.length) return s.bytes[offset - s.from]!;
    return 0;
  }

  /**
   * Up to `max` bytes from `offset` (which `holds`), ending on a UTF-8 character boundary. Empty when
   * nothing new, or when the only bytes left are a character not complete yet.
   */
  slice(offset: number, max: number): Buffer {
    if (!this.holds(offset) || offset === this.end) return Buffer.alloc(0);
    const want = Math.min(max + 3, this.end - offset);
    const parts: Buffer[] = [];
    let got = 0;
    for (const s of this.segments) {
      const segEnd = s.from + s.bytes.length;
      if (segEnd <= offset) continue;
      const a = Math.max(0, offset - s.from);
      const part = s.bytes.subarray(a, Math.min(s.bytes.length, a + want - got));
      parts.push(part);
      got += part.length;
      if (got >= want) break;
    }
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return buf.subarray(0, utf8End(buf, max));
  }
}

