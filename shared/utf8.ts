/**
 * UTF-8 boundaries of raw bytes (the session log: relay/control/console reads, relay/stream/log serves). A log read is cut by a byte count, and a character may straddle
 * the cut: the text of a read ends before such a character, whose bytes wait for the next read (from
 * `next`), so no character is ever split or shown as two replacement marks. Pure functions.
 */

/** Bytes a sequence starting with `lead` has, or 1 for a byte that cannot start one (decoded as U+FFFD). */
function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 1;
}

/**
 * Where to end a read of `buf` that may return at most `limit` bytes: the longest prefix ending on a
 * character boundary. An incomplete last sequence is held back. Exception: when the very first
 * character is longer than `limit` (limit < 4) and `buf` holds all of it, it is returned whole, so a
 * tiny `max` still makes progress. Invalid bytes count as one character each (never held back forever).
 */
export function utf8End(buf: Uint8Array, limit: number): number {
  const end = Math.max(0, Math.min(limit, buf.length));
  if (end === 0) return buf.length > 0 && limit <= 0 ? 0 : firstCharEnd(buf, end);
  let i = end - 1;
  let cont = 0;
  while (i >= 0 && cont < 3 && (buf[i]! & 0xc0) === 0x80) {
    i--;
    cont++;
  }
  // Only continuation bytes (or more than three in a row): invalid, passed on as they are.
  if (i < 0 || (buf[i]! & 0xc0) === 0x80) return end;
  const need = sequenceLength(buf[i]!);
  if (cont + 1 >= need) return end;
  // The sequence at i is cut: end before it, unless nothing would be left.
  return i > 0 ? i : firstCharEnd(buf, 0);
}

/** End of the first character when it is complete in `buf` (the tiny-limit case), else `fallback`. */
function firstCharEnd(buf: Uint8Array, fallback: number): number {
  if (buf.length === 0) return fallback;
  const need = sequenceLength(buf[0]!);
  for (let k = 1; k < need; k++) if (k >= buf.length || (buf[k]! & 0xc0) !== 0x80) return k >= buf.length ? fallback : k;
  return need;
}

/** Leading continuation bytes (at most 3) of a read that started inside a character: skipped by a tail read. */
export function utf8StartSkip(buf: Uint8Array): number {
  let k = 0;
  while (k < 3 && k < buf.length && (buf[k]! & 0xc0) === 0x80) k++;
  return k;
}
