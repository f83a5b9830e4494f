// The typed-array codec: the word loops (in place or over a scratch copy) and the DataView path give the
// same result on the same input, including hostile frames, at every byte offset a frame can sit at.
import { describe, expect, it } from 'vitest';
import {
  FrameError,
  MAX_NODE_ID,
  V2_HEADER_BYTES,
  V2_RECORD_BYTES,
  encodeNodeFrame,
  frameIsFinite,
  type CodecPath,
  type NodeState,
} from './binaryV2.js';
import { allocAlignedFrame, allocNodeFrameBuffers, decodeNodeFrameInto, encodeNodeFrameFrom, type NodeFrameBuffers } from './binaryV2Arrays.js';
import { mulberry32 } from '../random.js';

const PATHS: CodecPath[] = ['auto', 'dataview'];

/** `frame` copied to byte offset `off` of a fresh buffer: offset 3 puts the body on a word boundary. */
function at(frame: Uint8Array, off: number): Uint8Array {
  const host = new Uint8Array(off + frame.byteLength + 5).fill(0xee);
  host.set(frame, off);
  return host.subarray(off, off + frame.byteLength);
}

/** Every field a decoder can meet: each kind, ids at the edges, NaN, infinities, -0, subnormals. */
function awkwardNodes(): NodeState[] {
  const rnd = mulberry32(7);
  const specials = [0, -0, NaN, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38, -1.5];
  return Array.from({ length: 41 }, (_, i) => ({
    id: i === 0 ? 0 : i === 1 ? MAX_NODE_ID : Math.floor(rnd() * MAX_NODE_ID),
    type: (['agent', 'knowledge', 'other'] as const)[i % 3]!,
    x: specials[i % specials.length]!,
    y: Math.fround(rnd() * 2000 - 1000),
    z: specials[(i + 3) % specials.length]!,
    vx: Math.fround(rnd() - 0.5),
    vy: specials[(i + 5) % specials.length]!,
    vz: 0,
    ssspDistance: i % 4 === 0 ? Infinity : Math.fround(rnd() * 10),
    ssspParent: i % 5 === 0 ? -1 : Math.floor(rnd() * 2 ** 31),
  }));
}

function snapshot(b: NodeFrameBuffers, n: number): unknown[] {
  return [b.ids, b.kinds, b.positions, b.velocities, b.ssspDistance!, b.ssspParent!].map((a) =>
    Array.from(a.subarray(0, a === b.positions || a === b.velocities ? n * 3 : n)),
  );
}

function expectFrameError(fn: () => unknown, reason: FrameError['reason'], message?: RegExp): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FrameError);
  expect((err as FrameError).reason).toBe(reason);
  if (message) expect((err as FrameError).message).toMatch(message);
}

describe('decodeNodeFrameInto: word loops and DataView agree', () => {
  const nodes = awkwardNodes();
  const frame = encodeNodeFrame(nodes);

  it('decodes the same fields at every offset and on both paths, NaN and -0 included', () => {
    const reference = allocNodeFrameBuffers(nodes.length);
    expect(decodeNodeFrameInto(frame, reference, 'dataview')).toBe(nodes.length);
    expect(Array.from(reference.ids)).toEqual(nodes.map((n) => n.id));
    expect(Array.from(reference.kinds)).toEqual(nodes.map((n) => ({ agent: 1, knowledge: 2, other: 0 })[n.type]));
    expect(Array.from(reference.positions.subarray(0, 3))).toEqual([0, Math.fround(nodes[0]!.y), Infinity]);
    expect(Object.is(reference.positions[3], -0)).toBe(true);
    for (const path of PATHS) {
      for (let off = 0; off < 4; off++) {
        const got = allocNodeFrameBuffers(nodes.length + 3);
        expect(decodeNodeFrameInto(at(frame, off), got, path)).toBe(nodes.length);
        expect(snapshot(got, nodes.length)).toEqual(snapshot(reference, nodes.length));
        expect(Object.is(got.positions[3], -0)).toBe(true);
      }
    }
    // From an ArrayBuffer (the browser's binaryType), body at offset 1: the scratch-copy path.
    const got = allocNodeFrameBuffers(nodes.length);
    decodeNodeFrameInto(frame.slice().buffer, got);
    expect(snapshot(got, nodes.length)).toEqual(snapshot(reference, nodes.length));
  });

  it('fills buffers without SSSP arrays, or with one of them, the same way', () => {
    const full = allocNodeFrameBuffers(nodes.length);
    decodeNodeFrameInto(frame, full);
    for (const path of PATHS) {
      const { ssspDistance, ssspParent, ...core } = allocNodeFrameBuffers(nodes.length);
      decodeNodeFrameInto(at(frame, 3), core, path);
      expect(Array.from(core.velocities)).toEqual(Array.from(full.velocities));
      decodeNodeFrameInto(at(frame, 3), { ...core, ssspParent }, path);
      expect(Array.from(ssspParent!)).toEqual(Array.from(full.ssspParent!));
      decodeNodeFrameInto(at(frame, 2), { ...core, ssspDistance }, path);
      expect(Array.from(ssspDistance!)).toEqual(Array.from(full.ssspDistance!));
    }
  });

  it('refuses hostile frames on every path and offset, leaving the buffers as they were', () => {
    const good = encodeNodeFrame(nodes.slice(0, 3));
    const hostile: Array<[Uint8Array, FrameError['reason'], RegExp?]> = [
      [new Uint8Array(0), 'empty'],
      [new Uint8Array([1, ...good.subarray(1)]), 'version-1'],
      [new Uint8Array([3]), 'unknown-version'],
      [good.subarray(1), 'unknown-version'],
      [good.subarray(0, good.byteLength - 1), 'bad-length', /trailing bytes/],
      [good.subarray(0, 1 + V2_RECORD_BYTES - 4), 'bad-length'],
      [new Uint8Array([...good, 0]), 'bad-length'],
    ];
    for (const record of [0, 1, 2]) {
      const bad = good.slice();
      const top = V2_HEADER_BYTES + record * V2_RECORD_BYTES + 3;
      bad[top] = bad[top]! | 0xc0;
      hostile.push([bad, 'both-flags', new RegExp(`^record ${record}: node id 0x[0-9a-f]+ has both flags set$`)]);
    }
    for (const path of PATHS) {
      for (let off = 0; off < 4; off++) {
        for (const [f, reason, message] of hostile) {
          const buf = allocNodeFrameBuffers(8);
          decodeNodeFrameInto(good, buf);
          const before = snapshot(buf, 8);
          expectFrameError(() => decodeNodeFrameInto(at(f, off), buf, path), reason, message);
          expect(snapshot(buf, 8)).toEqual(before);
        }
        expectFrameError(() => decodeNodeFrameInto(at(good, off), allocNodeFrameBuffers(2), path), 'capacity');
        const short = { ...allocNodeFrameBuffers(3), ssspParent: new Int32Array(2) };
        expectFrameError(() => decodeNodeFrameInto(at(good, off), short, path), 'capacity');
      }
    }
  });

  it('an empty update decodes to zero records on both paths', () => {
    for (const path of PATHS) expect(decodeNodeFrameInto(new Uint8Array([2]), allocNodeFrameBuffers(0), path)).toBe(0);
  });
});

describe('encodeNodeFrameFrom: word loops and DataView agree', () => {
  const n = 37;
  const rnd = mulberry32(3);
  const ids = new Uint32Array(n).map((_, i) => (i === 0 ? MAX_NODE_ID : Math.floor(rnd() * MAX_NODE_ID)));
  // Codes other than 1 (agent) and 2 (knowledge) are plain nodes on every path.
  const kinds = new Uint8Array(n).map((_, i) => [0, 1, 2, 3, 255][i % 5]!);
  const pos = new Float32Array(n * 3).map((_, i) => [NaN, -0, Infinity, Math.fround(rnd() * 100)][i % 4]!);
  const vel = new Float32Array(n * 3).map(() => Math.fround(rnd() - 0.5));
  const expected = encodeNodeFrame(
    Array.from({ length: n }, (_, i) => ({
      id: ids[i]!,
      type: kinds[i] === 1 ? 'agent' : kinds[i] === 2 ? 'knowledge' : 'other',
      x: pos[i * 3]!,
      y: pos[i * 3 + 1]!,
      z: pos[i * 3 + 2]!,
      vx: vel[i * 3]!,
      vy: vel[i * 3 + 1]!,
      vz: vel[i * 3 + 2]!,
      ssspDistance: Infinity,
      ssspParent: -1,
    })),
  );

  it('writes the same bytes as the object encoder, into aligned, unaligned and fresh targets, on both paths', () => {
    for (const path of PATHS) {
      expect(Array.from(encodeNodeFrameFrom(n, ids, kinds, pos, vel, undefined, path))).toEqual(Array.from(expected));
      for (let off = 0; off < 4; off++) {
        const target = at(new Uint8Array(expected.byteLength), off);
        expect(encodeNodeFrameFrom(n, ids, kinds, pos, vel, target, path)).toBe(target);
        expect(Array.from(target)).toEqual(Array.from(expected));
        expect(target.buffer.byteLength - target.byteOffset - target.byteLength).toBe(5); // nothing written past the end
        expect(new Uint8Array(target.buffer)[off + target.byteLength]).toBe(0xee);
      }
      // Plain arrays take the DataView path whatever `path` says.
      expect(Array.from(encodeNodeFrameFrom(n, Array.from(ids), Array.from(kinds), Array.from(pos), Array.from(vel), undefined, path))).toEqual(Array.from(expected));
    }
    const reused = allocAlignedFrame(n);
    expect(encodeNodeFrameFrom(n, ids, kinds, pos, vel, reused)).toBe(reused);
    expect(Array.from(reused)).toEqual(Array.from(expected));
  });

  it('a target of the wrong size is replaced by a fresh aligned frame', () => {
    const wrong = new Uint8Array(expected.byteLength - 1);
    const out = encodeNodeFrameFrom(n, ids, kinds, pos, vel, wrong);
    expect(out).not.toBe(wrong);
    expect(out.byteOffset % 4).toBe(3);
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it('refuses ids that do not fit in 30 bits before writing anything, on both paths', () => {
    const hostileIds: Array<ArrayLike<number>> = [
      new Uint32Array([1, 2 ** 30, 3]),
      new Uint32Array([0xffffffff, 1, 2]),
      [1, 2, -1],
      [NaN, 1, 2],
      [1e10, 1, 2],
    ];
    for (const path of PATHS) {
      for (const bad of hostileIds) {
        const target = allocAlignedFrame(3).fill(0xaa);
        expectFrameError(() => encodeNodeFrameFrom(3, bad, [1, 1, 1], new Float32Array(9), new Float32Array(9), target, path), 'id-out-of-range', /does not fit in 30 bits/);
        expect(Array.from(target).every((b) => b === 0xaa)).toBe(true);
      }
    }
  });

  it('an empty update is the version byte alone on both paths', () => {
    for (const path of PATHS) expect(Array.from(encodeNodeFrameFrom(0, [], [], [], [], undefined, path))).toEqual([2]);
  });
});

describe('frameIsFinite: word loop and DataView agree', () => {
  it('on every field, offset and special value', () => {
    const base = encodeNodeFrame(awkwardNodes().map((x) => ({ ...x, x: 1, y: 2, z: 3, vx: 0, vy: -0, vz: 1e-40 })));
    for (const path of PATHS) {
      for (let off = 0; off < 4; off++) expect(frameIsFinite(at(base, off), path)).toBe(true);
    }
    for (let field = 0; field < 9; field++) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const f = base.slice();
        new DataView(f.buffer).setFloat32(V2_HEADER_BYTES + 5 * V2_RECORD_BYTES + field * 4, bad, true);
        // Fields 1..6 are position and velocity; 0 is the id, 7 and 8 the SSSP fields (not checked).
        const expected = !(field >= 1 && field <= 6);
        for (const path of PATHS) for (let off = 0; off < 4; off++) expect(frameIsFinite(at(f, off), path)).toBe(expected);
      }
    }
    for (const path of PATHS) expect(() => frameIsFinite(base.subarray(0, 10), path)).toThrow(FrameError);
  });
});
