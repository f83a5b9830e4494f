/**
 * Seeded generators for the hostile-input suite: a small PRNG and mutators that turn valid samples
 * into the kinds of garbage real peers send (truncation, byte flips, wrong types, huge and deeply
 * nested values, injection strings, NUL and odd Unicode). Same seed, same inputs.
 */
import { mulberry32 } from '../../shared/random.js';

export type Rng = () => number;

/** The project's seeded PRNG (shared/random.ts). */
export const rng = (seed: number): Rng => mulberry32(seed);

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
export const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

export const HOSTILE_STRINGS = [
  '$(rm -rf /)',
  '`id`',
  '"; cat /etc/passwd; "',
  "'; DROP TABLE sessions; --",
  '../../../../etc/passwd',
  'a\u0000b',
  '\u202e\u0000\uffff',
  '\ud800',
  '%00%0a',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  '-rf',
  '--help',
  '__proto__',
  'constructor',
  '🐝'.repeat(3000),
  'x'.repeat(9000),
  '',
  ' ',
];

export function hostileValue(r: Rng, depth = 0): unknown {
  switch (int(r, 0, 11)) {
    case 0:
      return pick(r, HOSTILE_STRINGS);
    case 1:
      return pick(r, [NaN, Infinity, -Infinity, -1, 0, 2 ** 53, -(2 ** 31), 1e308, 0.5]);
    case 2:
      return null;
    case 3:
      return pick(r, [true, false]);
    case 4:
      return depth > 3 ? [] : Array.from({ length: int(r, 0, 4) }, () => hostileValue(r, depth + 1));
    case 5:
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: int(r, 0, 4) }, () => [pick(r, ['__proto__', 'type', 'id', 'x', 'constructor', 'status']), hostileValue(r, depth + 1)]));
    case 6: {
      // Deep nesting: parsers must not overflow the stack.
      let v: unknown = 1;
      for (let i = 0, n = int(r, 10, 3000); i < n; i++) v = [v];
      return v;
    }
    case 7:
      return String.fromCharCode(...Array.from({ length: int(r, 1, 40) }, () => int(r, 1, 0xffff)));
    case 8:
      return int(r, -1000, 1000);
    case 9:
      return 'y'.repeat(int(r, 0, 200_000));
    default:
      return pick(r, ['mesh', 'coder', 'hierarchical', 'swarm-1-abc', '123e4567-e89b-42d3-a456-426614174000']);
  }
}

/** A mutated copy of an object: fields dropped, replaced by hostile values, or added. */
export function mutateObject(r: Rng, base: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  const keys = Object.keys(o);
  for (let i = 0, n = int(r, 1, 3); i < n; i++) {
    const op = int(r, 0, 2);
    if (op === 0 && keys.length) delete o[pick(r, keys)];
    else if (op === 1 && keys.length) o[pick(r, keys)] = hostileValue(r);
    else o[pick(r, ['extra', '__proto__', 'constructor', 'customPrompt', 'type'])] = hostileValue(r);
  }
  return o;
}

/** A mutated copy of bytes: truncated, extended, or with bytes flipped. */
export function mutateBytes(r: Rng, base: Uint8Array): Uint8Array {
  let b = Uint8Array.from(base);
  switch (int(r, 0, 4)) {
    case 0:
      return b.subarray(0, int(r, 0, b.length));
    case 1: {
      const extra = new Uint8Array(int(r, 1, 40)).map(() => int(r, 0, 255));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b);
      out.set(extra, b.length);
      return out;
    }
    default:
      for (let i = 0, n = int(r, 1, 8); i < n && b.length; i++) b[int(r, 0, b.length - 1)] = int(r, 0, 255);
      if (int(r, 0, 5) === 0) b = b.subarray(int(r, 0, b.length));
      return b;
  }
}

/** A mutated copy of text: spliced with hostile strings, truncated, lines swapped. */
export function mutateText(r: Rng, base: string): string {
  let s = base;
  for (let i = 0, n = int(r, 1, 4); i < n; i++) {
    const at = int(r, 0, s.length);
    switch (int(r, 0, 4)) {
      case 0:
        s = s.slice(0, at);
        break;
      case 1:
        s = s.slice(0, at) + pick(r, HOSTILE_STRINGS) + s.slice(at);
        break;
      case 2: {
        const lines = s.split('\n');
        const a = int(r, 0, lines.length - 1);
        const b = int(r, 0, lines.length - 1);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      case 3:
        s = s.slice(0, at) + String(hostileValue(r)).slice(0, 5000) + s.slice(at);
        break;
      default:
        s = s.replace(/\d/g, () => String(int(r, 0, 9)));
    }
  }
  return s;
}
