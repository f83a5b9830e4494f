// The typed-array codec: the copy path and the DataView path give the same result on the same input,
// including hostile frames, at every byte offset a frame can sit at.
import { describe, expect, it } from 'vitest';
import {
  FrameError,
  KNOWLEDGE_NODE_FLAG,
  MAX_NODE_ID,
  V2_HEADER_BYTES,
  V2_RECORD_BYTES,
  decodeNodeFrame,
  encodeNodeFrame,
  frameIsFinite,
  type CodecPath,
  type NodeState,
} from './binaryV2.js';
import {
  V2_POSITION_WORD,
  V2_RECORD_WORDS,
  V2_SSSP_DISTANCE_WORD,
  V2_SSSP_PARENT_WORD,
  V2_VELOCITY_WORD,
  allocAlignedFrame,
  allocNodeFrameRecords,
  decodeNodeFrameInto,
  encodeNodeFrameFrom,
  initRecord,
  recordKind,
  recordNodeId,
  type NodeFrameRecords,
} from './binaryV2Arrays.js';
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

const KIND_CODE = { agent: 1, knowledge: 2, other: 0 } as const;

/** The first n records as columns: ids (flags stripped), kind codes, xyz positions and velocities, SSSP. */
function columns(b: NodeFrameRecords, n: number) {
  const field = (word: number, len: number) =>
    Array.from({ length: n }, (_, r) => Array.from(b.floats.subarray(r * V2_RECORD_WORDS + word, r * V2_RECORD_WORDS + word + len))).flat();
  return {
    ids: Array.from({ length: n }, (_, r) => recordNodeId(b, r)),
    kinds: Array.from({ length: n }, (_, r) => KIND_CODE[recordKind(b, r)]),
    positions: field(V2_POSITION_WORD, 3),
    velocities: field(V2_VELOCITY_WORD, 3),
    ssspDistance: field(V2_SSSP_DISTANCE_WORD, 1),
    ssspParent: Array.from({ length: n }, (_, r) => b.words[r * V2_RECORD_WORDS + V2_SSSP_PARENT_WORD]!),
  };
}

function snapshot(b: NodeFrameRecords, n: number): unknown[] {
  const c = columns(b, n);
  return [c.ids, c.kinds, c.positions, c.velocities, c.ssspDistance, c.ssspParent];
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

describe('decodeNodeFrameInto: copy and DataView agree', () => {
  const nodes = awkwardNodes();
  const frame = encodeNodeFrame(nodes);

  it('decodes the same fields at every offset and on both paths, NaN and -0 included', () => {
    const reference = allocNodeFrameRecords(nodes.length);
    expect(decodeNodeFrameInto(frame, reference, 'dataview')).toBe(nodes.length);
    const ref = columns(reference, nodes.length);
    expect(ref.ids).toEqual(nodes.map((n) => n.id));
    expect(ref.kinds).toEqual(nodes.map((n) => ({ agent: 1, knowledge: 2, other: 0 })[n.type]));
    expect(ref.positions.slice(0, 3)).toEqual([0, Math.fround(nodes[0]!.y), Infinity]);
    expect(Object.is(ref.positions[3], -0)).toBe(true);
    for (const path of PATHS) {
      for (let off = 0; off < 4; off++) {
        const got = allocNodeFrameRecords(nodes.length + 3);
        expect(decodeNodeFrameInto(at(frame, off), got, path)).toBe(nodes.length);
        expect(snapshot(got, nodes.length)).toEqual(snapshot(reference, nodes.length));
        expect(Object.is(columns(got, nodes.length).positions[3], -0)).toBe(true);
        // Every word as on the wire, NaN payloads included.
        expect(Array.from(got.words.subarray(0, nodes.length * V2_RECORD_WORDS))).toEqual(Array.from(reference.words.subarray(0, nodes.length * V2_RECORD_WORDS)));
      }
    }
    // From an ArrayBuffer (the browser's binaryType), body at offset 1.
    const got = allocNodeFrameRecords(nodes.length);
    decodeNodeFrameInto(frame.slice().buffer, got);
    expect(snapshot(got, nodes.length)).toEqual(snapshot(reference, nodes.length));
  });

  it('holds every field, the SSSP ones included, as the object decoder reads them', () => {
    const objects = decodeNodeFrame(frame);
    for (const path of PATHS) {
      const got = allocNodeFrameRecords(nodes.length);
      decodeNodeFrameInto(at(frame, 2), got, path);
      const c = columns(got, nodes.length);
      expect(c.velocities).toEqual(objects.flatMap((o) => [o.vx, o.vy, o.vz]));
      expect(c.ssspDistance).toEqual(objects.map((o) => o.ssspDistance));
      expect(c.ssspParent).toEqual(objects.map((o) => o.ssspParent));
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
          const buf = allocNodeFrameRecords(8);
          decodeNodeFrameInto(good, buf);
          const before = snapshot(buf, 8);
          expectFrameError(() => decodeNodeFrameInto(at(f, off), buf, path), reason, message);
          expect(snapshot(buf, 8)).toEqual(before);
        }
        expectFrameError(() => decodeNodeFrameInto(at(good, off), allocNodeFrameRecords(2), path), 'capacity');
        const short = new Int32Array(3 * V2_RECORD_WORDS - 1);
        expectFrameError(() => decodeNodeFrameInto(at(good, off), { words: short, floats: new Float32Array(short.buffer) }, path), 'capacity');
      }
    }
  });

  it('an empty update decodes to zero records on both paths', () => {
    for (const path of PATHS) expect(decodeNodeFrameInto(new Uint8Array([2]), allocNodeFrameRecords(0), path)).toBe(0);
  });
});

describe('encodeNodeFrameFrom: copy and DataView agree', () => {
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
  // The same nodes as records, as the client's slots hold them.
  const records = allocNodeFrameRecords(n);
  for (let i = 0; i < n; i++) {
    initRecord(records, i, ids[i]!, kinds[i] === 1 ? 'agent' : kinds[i] === 2 ? 'knowledge' : 'other');
    records.floats.set(pos.subarray(i * 3, i * 3 + 3), i * V2_RECORD_WORDS + V2_POSITION_WORD);
    records.floats.set(vel.subarray(i * 3, i * 3 + 3), i * V2_RECORD_WORDS + V2_VELOCITY_WORD);
  }

  it('writes the same bytes as the object encoder, into aligned, unaligned and fresh targets, on both paths', () => {
    for (const path of PATHS) {
      expect(Array.from(encodeNodeFrameFrom(n, records, undefined, path))).toEqual(Array.from(expected));
      for (let off = 0; off < 4; off++) {
        const target = at(new Uint8Array(expected.byteLength), off);
        expect(encodeNodeFrameFrom(n, records, target, path)).toBe(target);
        expect(Array.from(target)).toEqual(Array.from(expected));
        expect(target.buffer.byteLength - target.byteOffset - target.byteLength).toBe(5); // nothing written past the end
        expect(new Uint8Array(target.buffer)[off + target.byteLength]).toBe(0xee);
      }
    }
    const reused = allocAlignedFrame(n);
    expect(encodeNodeFrameFrom(n, records, reused)).toBe(reused);
    expect(Array.from(reused)).toEqual(Array.from(expected));
  });

  it('a target of the wrong size is replaced by a fresh aligned frame', () => {
    const wrong = new Uint8Array(expected.byteLength - 1);
    const out = encodeNodeFrameFrom(n, records, wrong);
    expect(out).not.toBe(wrong);
    expect(out.byteOffset % 4).toBe(3);
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  it('refuses ids that do not fit in 30 bits before writing anything (initRecord)', () => {
    const hostileIds: Array<ArrayLike<number>> = [
      new Uint32Array([1, 2 ** 30, 3]),
      new Uint32Array([0xffffffff, 1, 2]),
      [1, 2, -1],
      [NaN, 1, 2],
      [1e10, 1, 2],
    ];
    for (const bad of hostileIds) {
      const r = allocNodeFrameRecords(3);
      r.words.fill(0x5a5a5a5a);
      const badAt = Array.from(bad).findIndex((id) => !(id >= 0 && id <= MAX_NODE_ID));
      for (let i = 0; i < badAt; i++) initRecord(r, i, bad[i]!, 'agent');
      const before = Array.from(r.words);
      expectFrameError(() => initRecord(r, badAt, bad[badAt]!, 'agent'), 'id-out-of-range', /does not fit in 30 bits/);
      expect(Array.from(r.words)).toEqual(before);
    }
  });

  it('refuses records it cannot send (both flags, more than the records hold) before writing anything, on both paths', () => {
    for (const path of PATHS) {
      for (const record of [0, 1, 2]) {
        const r = allocNodeFrameRecords(3);
        for (let i = 0; i < 3; i++) initRecord(r, i, i + 5, 'agent');
        r.words[record * V2_RECORD_WORDS] = r.words[record * V2_RECORD_WORDS]! | KNOWLEDGE_NODE_FLAG;
        const target = allocAlignedFrame(3).fill(0xaa);
        expectFrameError(() => encodeNodeFrameFrom(3, r, target, path), 'both-flags', new RegExp(`^record ${record}: node id 0xc000000${record + 5} has both flags set$`));
        expect(Array.from(target).every((b) => b === 0xaa)).toBe(true);
      }
      const target = allocAlignedFrame(4).fill(0xaa);
      for (const count of [4, -1, 1.5, NaN]) expectFrameError(() => encodeNodeFrameFrom(count, allocNodeFrameRecords(3), target, path), 'capacity');
      expect(Array.from(target).every((b) => b === 0xaa)).toBe(true);
    }
  });

  it('an empty update is the version byte alone on both paths', () => {
    for (const path of PATHS) expect(Array.from(encodeNodeFrameFrom(0, allocNodeFrameRecords(0), undefined, path))).toEqual([2]);
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
