// Newline JSON framing: golden cases (whole, split at every byte, many per chunk, CRLF) and the 10 MiB cap.
import { describe, expect, it } from 'vitest';
import { LineFramer, MAX_LINE_BYTES, type LineEvent } from './framing.js';

function collect(max?: number) {
  const events: LineEvent[] = [];
  const f = new LineFramer((e) => events.push(e), max);
  return { f, events, lines: () => events.filter((e) => e.kind === 'line').map((e) => (e as { line: string }).line) };
}

const a = '{"jsonrpc":"2.0","id":1,"result":{"ok":"ä✓"}}';
const b = '{"jsonrpc":"2.0","method":"notifications/message","params":{}}';

describe('LineFramer', () => {
  it('yields several lines delivered in one chunk', () => {
    const { f, lines } = collect();
    f.push(`${a}\n${b}\n`);
    expect(lines()).toEqual([a, b]);
  });

  it('yields the same lines when the bytes are split at every possible point', () => {
    const bytes = Buffer.from(`${a}\n${b}\n`);
    for (let cut = 1; cut < bytes.length; cut++) {
      const { f, lines } = collect();
      f.push(bytes.subarray(0, cut));
      f.push(bytes.subarray(cut));
      expect(lines()).toEqual([a, b]);
    }
  });

  it('reassembles multi-byte UTF-8 split one byte at a time', () => {
    const { f, lines } = collect();
    for (const byte of Buffer.from(`${a}\n`)) f.push(Buffer.from([byte]));
    expect(lines()).toEqual([a]);
  });

  it('strips CRLF and skips blank lines', () => {
    const { f, lines } = collect();
    f.push(`${a}\r\n\r\n\n${b}\n`);
    expect(lines()).toEqual([a, b]);
  });

  it('holds a partial line until its newline arrives', () => {
    const { f, lines } = collect();
    f.push(a);
    expect(lines()).toEqual([]);
    expect(f.buffered).toBe(Buffer.byteLength(a));
    f.push('\n');
    expect(lines()).toEqual([a]);
  });

  it('rejects a line over the cap, bounded while it streams in, and keeps the following lines', () => {
    const { f, events, lines } = collect(1024);
    f.push(`${a}\n`);
    for (let i = 0; i < 50; i++) {
      f.push('x'.repeat(100));
      expect(f.buffered).toBeLessThanOrEqual(1024);
    }
    f.push(`\n${b}\n`);
    expect(lines()).toEqual([a, b]);
    expect(events.find((e) => e.kind === 'oversize')).toEqual({ kind: 'oversize', bytes: 5000 });
  });

  it('rejects an oversized line that arrives in one chunk with its newline', () => {
    const { f, events, lines } = collect(16);
    f.push(`${'y'.repeat(17)}\n{"a":1}\n`);
    expect(events[0]).toEqual({ kind: 'oversize', bytes: 17 });
    expect(lines()).toEqual(['{"a":1}']);
  });

  it('accepts a line of exactly the cap', () => {
    const { f, lines } = collect(16);
    f.push(`${'z'.repeat(16)}\n`);
    expect(lines()).toEqual(['z'.repeat(16)]);
  });

  it('defaults to the upstream 10 MiB limit', () => {
    expect(MAX_LINE_BYTES).toBe(10 * 1024 * 1024);
  });
});
