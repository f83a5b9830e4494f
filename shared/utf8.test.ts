import { describe, expect, it } from 'vitest';
import { utf8End, utf8StartSkip } from './utf8.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('UTF-8 boundaries of a byte-bounded read', () => {
  it('a cut inside a character ends before it; the next read from there completes it', () => {
    const buf = b('ab€c'); // € = e2 82 ac
    for (const limit of [3, 4]) {
      const end = utf8End(buf, limit);
      expect(end).toBe(2);
      expect(buf.subarray(0, end).toString()).toBe('ab');
    }
    expect(utf8End(buf, 5)).toBe(5);
    expect(utf8End(buf.subarray(2), 3)).toBe(3);
  });

  it('an incomplete sequence at the end of the data is held back (the writer has not finished it)', () => {
    const buf = b('x😀').subarray(0, 3); // x + the first two of four bytes
    expect(utf8End(buf, 100)).toBe(1);
  });

  it('every cut of mixed text joins back to the original with no replacement character', () => {
    const text = 'héllo wörld — 日本語 😀 end\n';
    const all = b(text);
    for (let max = 1; max <= 8; max++) {
      let off = 0;
      let out = '';
      while (off < all.length) {
        const rest = all.subarray(off, off + max + 3);
        const end = utf8End(rest, max);
        expect(end).toBeGreaterThan(0);
        out += rest.subarray(0, end).toString();
        off += end;
      }
      expect(out).toBe(text);
    }
  });

  it('a limit smaller than the first character still returns that character whole when it is there', () => {
    expect(utf8End(b('😀x'), 1)).toBe(4);
    expect(utf8End(b('😀').subarray(0, 2), 1)).toBe(0);
  });

  it('invalid bytes are passed on (one each), never held back forever', () => {
    expect(utf8End(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x41]), 4)).toBe(4);
    expect(utf8End(Buffer.from([0x41, 0xff]), 2)).toBe(2);
    expect(utf8End(Buffer.from([0xc0, 0x41]), 1)).toBe(1);
    expect(utf8End(Buffer.alloc(0), 10)).toBe(0);
  });

  it('a read that starts inside a character skips its continuation bytes (at most 3)', () => {
    expect(utf8StartSkip(b('€x').subarray(1))).toBe(2);
    expect(utf8StartSkip(b('abc'))).toBe(0);
    expect(utf8StartSkip(Buffer.from([0x80, 0x80, 0x80, 0x80]))).toBe(3);
  });
});
