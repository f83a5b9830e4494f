// Golden framing tests for the bounded newline framer (whole lines, split lines, many per chunk, overflow).
import { describe, expect, it } from 'vitest';
import { LineFramer } from './framing.js';

function feed(f: LineFramer, chunks: string[]): Array<string | 'OVERFLOW'> {
  const out: Array<string | 'OVERFLOW'> = [];
  for (const c of chunks) f.push(Buffer.from(c), (l) => out.push(l), () => out.push('OVERFLOW'));
  return out;
}

describe('LineFramer', () => {
  it('splits whole lines, several per chunk, and strips CR', () => {
    expect(feed(new LineFramer(100), ['{"a":1}\n{"b":2}\r\n{"c"', ':3}\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('reassembles a line split inside a multi-byte UTF-8 character', () => {
    const bytes = Buffer.from('{"t":"héllo 🐝"}\n');
    const f = new LineFramer(100);
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i++) f.push(bytes.subarray(i, i + 1), (l) => out.push(l), () => out.push('X'));
    expect(out).toEqual(['{"t":"héllo 🐝"}']);
  });

  it('reports an oversized line once, discards it up to the newline, and keeps the next lines', () => {
    const f = new LineFramer(10);
    expect(feed(f, ['0123456789AB', 'CDEF', 'GH\nok\n'])).toEqual(['OVERFLOW', 'ok']);
    expect(f.buffered).toBe(0);
    expect(feed(f, ['0123456789ABCDEF\nfine\n'])).toEqual(['OVERFLOW', 'fine']);
  });

  it('never buffers more than the limit', () => {
    const f = new LineFramer(1024);
    for (let i = 0; i < 100; i++) f.push(Buffer.alloc(500, 97), () => undefined, () => undefined);
    expect(f.buffered).toBeLessThanOrEqual(1024);
  });
});
