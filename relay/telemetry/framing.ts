/**
 * Newline-delimited JSON framing for the MCP TCP link (upstream-contracts.md section 3).
 *
 * The SDK's ReadBuffer concatenates every chunk into one growing Buffer and, when it overflows, throws
 * and drops everything buffered, including the good lines after the bad one. Here a line over the cap
 * is skipped up to its newline and reported, and the connection keeps going. Lines are never copied
 * until their newline is seen, so a 10 MiB line split into 64 KiB chunks costs one concat, not 160.
 */

/** Lines longer than this are rejected (the upstream server's own limit). */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

export type LineEvent =
  | { kind: 'line'; line: string }
  | { kind: 'oversize'; bytes: number };

export class LineFramer {
  private parts: Buffer[] = [];
  private size = 0;
  /** True while skipping the rest of an oversized line. */
  private discarding = false;
  private discarded = 0;

  constructor(
    private readonly onEvent: (e: LineEvent) => void,
    private readonly maxLineBytes: number = MAX_LINE_BYTES,
  ) {}

  /** Bytes held for the current partial line (bounded by maxLineBytes). */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer | Uint8Array | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start <= buf.length) {
      const nl = buf.indexOf(10, start);
      if (nl === -1) {
        this.appendPartial(buf.subarray(start));
        return;
      }
      this.finishLine(buf.subarray(start, nl));
      start = nl + 1;
    }
  }

  /** Drops any partial line (on disconnect). */
  reset(): void {
    this.parts = [];
    this.size = 0;
    this.discarding = false;
    this.discarded = 0;
  }

  private appendPartial(tail: Buffer): void {
    if (tail.length === 0) return;
    if (this.discarding) {
      this.discarded += tail.length;
      return;
    }
    if (this.size + tail.length > this.maxLineBytes) {
      this.discarding = true;
      this.discarded = this.size + tail.length;
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(tail);
    this.size += tail.length;
  }

  private finishLine(seg: Buffer): void {
    if (this.discarding) {
      const bytes = this.discarded + seg.length;
      this.discarding = false;
      this.discarded = 0;
      this.onEvent({ kind: 'oversize', bytes });
      return;
    }
    const total = this.size + seg.length;
    if (total > this.maxLineBytes) {
      this.parts = [];
      this.size = 0;
      this.onEvent({ kind: 'oversize', bytes: total });
      return;
    }
    let line: string;
    if (this.parts.length === 0) line = seg.toString('utf8');
    else {
      this.parts.push(seg);
      line = Buffer.concat(this.parts, total).toString('utf8');
      this.parts = [];
      this.size = 0;
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length === 0) return;
    this.onEvent({ kind: 'line', line });
  }
}

/** One JSON value per line; `JSON.stringify` never emits raw newlines, so this is always one line. */
export function serializeLine(message: unknown): string {
  return JSON.stringify(message) + '\n';
}
