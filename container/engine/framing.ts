/**
 * Newline framing for JSON-RPC over TCP with a bounded buffer: a line longer than `maxLine` bytes is
 * reported once and its bytes are discarded up to the next newline, so a hostile peer can never make us
 * hold more than `maxLine` bytes per connection. (The MCP SDK's ReadBuffer throws and drops everything
 * buffered instead, which would also lose the valid lines around the oversized one.)
 */
export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;

export class LineFramer {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private skipping = false;

  constructor(private readonly maxLine: number = DEFAULT_MAX_LINE_BYTES) {}

  /** Bytes currently buffered (never above maxLine). */
  get buffered(): number {
    return this.pendingLen;
  }

  push(chunk: Buffer, onLine: (line: string) => void, onOverflow: () => void): void {
    let start = 0;
    for (;;) {
      const idx = chunk.indexOf(10, start);
      if (idx < 0) break;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const piece = chunk.subarray(start, idx);
        if (this.pendingLen + piece.length > this.maxLine) onOverflow();
        else {
          const buf = this.pendingLen === 0 ? piece : Buffer.concat([...this.pending, piece], this.pendingLen + piece.length);
          let line = buf.toString('utf8');
          if (line.endsWith('\r')) line = line.slice(0, -1);
          onLine(line);
        }
      }
      this.pending = [];
      this.pendingLen = 0;
      start = idx + 1;
    }
    const rest = chunk.subarray(start);
    if (this.skipping || rest.length === 0) return;
    if (this.pendingLen + rest.length > this.maxLine) {
      onOverflow();
      this.skipping = true;
      this.pending = [];
      this.pendingLen = 0;
      return;
    }
    this.pending.push(rest);
    this.pendingLen += rest.length;
  }
}
