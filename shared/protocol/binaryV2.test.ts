// Golden bytes written by hand from upstream-contracts.md section 1 (not produced by the encoder under test).
import { describe, expect, it } from 'vitest';
import {
  AGENT_NODE_FLAG,
  FrameError,
  KNOWLEDGE_NODE_FLAG,
  NODE_ID_MASK,
  V2_HEADER_BYTES,
  V2_POSITION_OFFSET,
  V2_RECORD_BYTES,
  V2_SSSP_DISTANCE_OFFSET,
  V2_VECTOR_BYTES,
  V2_VELOCITY_OFFSET,
  decodeNodeFrame,
  encodeNodeFrame,
  frameIsFinite,
  type NodeState,
} from './binaryV2.js';
import {
  V2_POSITION_WORD,
  V2_RECORD_WORDS,
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

/** One record: agent id 5 at (1, 2, 3), velocity (0.5, -0.5, 0), sssp +Inf, parent -1. */
const GOLDEN_AGENT_5 = [
  0x02, // version
  0x05, 0x00, 0x00, 0x80, // u32 LE 0x80000005: agent flag | 5
  0x00, 0x00, 0x80, 0x3f, // f32 1.0
  0x00, 0x00, 0x00, 0x40, // f32 2.0
  0x00, 0x00, 0x40, 0x40, // f32 3.0
  0x00, 0x00, 0x00, 0x3f, // f32 0.5
  0x00, 0x00, 0x00, 0xbf, // f32 -0.5
  0x00, 0x00, 0x00, 0x00, // f32 0
  0x00, 0x00, 0x80, 0x7f, // f32 +Infinity
  0xff, 0xff, 0xff, 0xff, // i32 -1
];

const agent5: NodeState = { id: 5, type: 'agent', x: 1, y: 2, z: 3, vx: 0.5, vy: -0.5, vz: 0, ssspDistance: Infinity, ssspParent: -1 };

/** Field `word` .. `word + len - 1` of records 0..n-1, concatenated. */
function fields(b: NodeFrameRecords, n: number, word: number, len: number): number[] {
  return Array.from({ length: n }, (_, r) => Array.from(b.floats.subarray(r * V2_RECORD_WORDS + word, r * V2_RECORD_WORDS + word + len))).flat();
}

/** One agent record with this id, position and velocity (SSSP "none"), as the client's slots hold it. */
function agentRecords(id: number, pos: number[], vel: number[]): NodeFrameRecords {
  const r = allocNodeFrameRecords(1);
  initRecord(r, 0, id, 'agent');
  r.floats.set(pos, V2_POSITION_WORD);
  r.floats.set(vel, V2_VELOCITY_WORD);
  return r;
}

function expectFrameError(fn: () => unknown, reason: FrameError['reason']): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FrameError);
    expect((e as FrameError).reason).toBe(reason);
    expect((e as FrameError).message.length).toBeGreaterThan(10);
    return;
  }
  throw new Error(`expected FrameError(${reason})`);
}

describe('binary V2 frame', () => {
  it('constants match the spec', () => {
    expect(V2_RECORD_BYTES).toBe(36);
    expect(AGENT_NODE_FLAG).toBe(0x80000000);
    expect(KNOWLEDGE_NODE_FLAG).toBe(0x40000000);
    expect(NODE_ID_MASK).toBe(0x3fffffff);
    // Offsets of the golden record's fields: position 1.0 at byte 1 + 4, velocity 0.5 at 1 + 16, +Inf at 1 + 28.
    const golden = new DataView(new Uint8Array(GOLDEN_AGENT_5).buffer);
    expect(golden.getFloat32(V2_HEADER_BYTES + V2_POSITION_OFFSET, true)).toBe(1);
    expect(golden.getFloat32(V2_HEADER_BYTES + V2_VELOCITY_OFFSET, true)).toBe(0.5);
    expect(golden.getFloat32(V2_HEADER_BYTES + V2_SSSP_DISTANCE_OFFSET, true)).toBe(Infinity);
    expect(V2_VECTOR_BYTES).toBe(12);
  });

  it('encodes an agent record to the golden bytes', () => {
    expect(Array.from(encodeNodeFrame([agent5]))).toEqual(GOLDEN_AGENT_5);
  });

  it('decodes the golden bytes, stripping the flag', () => {
    expect(decodeNodeFrame(new Uint8Array(GOLDEN_AGENT_5))).toEqual([agent5]);
  });

  it('an empty update is the single version byte', () => {
    expect(Array.from(encodeNodeFrame([]))).toEqual([0x02]);
    expect(decodeNodeFrame(new Uint8Array([0x02]))).toEqual([]);
  });

  it('knowledge and plain nodes carry their own flags', () => {
    const bytes = encodeNodeFrame([
      { ...agent5, id: 7, type: 'knowledge' },
      { ...agent5, id: 9, type: 'other' },
    ]);
    expect(Array.from(bytes.subarray(1, 5))).toEqual([0x07, 0x00, 0x00, 0x40]);
    expect(Array.from(bytes.subarray(37, 41))).toEqual([0x09, 0x00, 0x00, 0x00]);
    expect(decodeNodeFrame(bytes).map((n) => [n.id, n.type])).toEqual([
      [7, 'knowledge'],
      [9, 'other'],
    ]);
  });

  it('handles ids near 2^30 without int32 sign errors', () => {
    const top = NODE_ID_MASK; // 2^30 - 1
    const bytes = encodeNodeFrame([{ ...agent5, id: top }]);
    expect(Array.from(bytes.subarray(1, 5))).toEqual([0xff, 0xff, 0xff, 0xbf]);
    const [n] = decodeNodeFrame(bytes);
    expect(n!.id).toBe(top);
    expect(n!.type).toBe('agent');
    expect(() => encodeNodeFrame([{ ...agent5, id: top + 1 }])).toThrow(FrameError);
    expect(() => encodeNodeFrame([{ ...agent5, id: -1 }])).toThrow(FrameError);
  });

  it('keeps NaN and Infinity bit-for-bit', () => {
    const n: NodeState = { ...agent5, x: NaN, y: -Infinity, ssspDistance: 12.5, ssspParent: 2147483647 };
    const [d] = decodeNodeFrame(encodeNodeFrame([n]));
    expect(d!.x).toBeNaN();
    expect(d!.y).toBe(-Infinity);
    expect(d!.ssspDistance).toBe(12.5);
    expect(d!.ssspParent).toBe(2147483647);
    expect(frameIsFinite(encodeNodeFrame([n]))).toBe(false);
    expect(frameIsFinite(new Uint8Array(GOLDEN_AGENT_5))).toBe(true);
  });

  it('rejects a missing version byte', () => {
    expectFrameError(() => decodeNodeFrame(new Uint8Array(0)), 'empty');
  });

  it('rejects version 1 by name and unknown versions', () => {
    expectFrameError(() => decodeNodeFrame(new Uint8Array([0x01, ...new Array(34).fill(0)])), 'version-1');
    expectFrameError(() => decodeNodeFrame(new Uint8Array([0x03])), 'unknown-version');
    // Upstream client frames without a version byte start with an id byte.
    expectFrameError(() => decodeNodeFrame(new Uint8Array(GOLDEN_AGENT_5.slice(1))), 'unknown-version');
  });

  it('rejects a length that is not 1 + 36*N instead of dropping the tail', () => {
    expectFrameError(() => decodeNodeFrame(new Uint8Array(GOLDEN_AGENT_5.slice(0, 36))), 'bad-length'); // truncated
    expectFrameError(() => decodeNodeFrame(new Uint8Array([...GOLDEN_AGENT_5, 0x00])), 'bad-length'); // trailing byte
  });

  it('rejects both flags set', () => {
    const bad = GOLDEN_AGENT_5.slice();
    bad[4] = 0xc0;
    expectFrameError(() => decodeNodeFrame(new Uint8Array(bad)), 'both-flags');
  });

  it('decodes a frame that sits at an odd offset inside a larger buffer (split/sliced input)', () => {
    const big = new Uint8Array(3 + GOLDEN_AGENT_5.length);
    big.set(GOLDEN_AGENT_5, 3);
    expect(decodeNodeFrame(big.subarray(3))).toEqual([agent5]);
    expect(decodeNodeFrame(big.slice(3).buffer)).toEqual([agent5]);
  });

  it('decodes into caller-owned typed arrays and leaves them untouched on a bad frame', () => {
    const buf = allocNodeFrameRecords(4);
    const two = encodeNodeFrame([agent5, { ...agent5, id: 1 << 20, type: 'knowledge', x: -7 }]);
    expect(decodeNodeFrameInto(two, buf)).toBe(2);
    expect([0, 1].map((r) => recordNodeId(buf, r))).toEqual([5, 1 << 20]);
    expect([0, 1].map((r) => recordKind(buf, r))).toEqual(['agent', 'knowledge']);
    expect(fields(buf, 2, V2_POSITION_WORD, 3)).toEqual([1, 2, 3, -7, 2, 3]);
    expect(fields(buf, 1, V2_VELOCITY_WORD, 3)).toEqual([0.5, -0.5, 0]);

    const bad = GOLDEN_AGENT_5.slice();
    bad[4] = 0xc0;
    bad[1] = 0x09;
    const before = buf.words.slice();
    expectFrameError(() => decodeNodeFrameInto(new Uint8Array(bad), buf), 'both-flags');
    expect(buf.words).toEqual(before);
    expectFrameError(() => decodeNodeFrameInto(encodeNodeFrame(new Array(5).fill(agent5)), buf), 'capacity');
    // The aligned fast path (no copy) checks every record too: the second one here.
    const aligned = allocAlignedFrame(3);
    aligned.set(encodeNodeFrame([agent5, agent5, agent5]));
    expect(aligned.byteOffset % 4).toBe(3);
    aligned[1 + 36 + 3] = 0xc0;
    expect(() => decodeNodeFrameInto(aligned, buf)).toThrow(/record 1: node id 0xc0000005 has both flags set/);
    expect(buf.words).toEqual(before);
  });

  it('encodes from typed arrays to the same bytes as from objects', () => {
    const records = agentRecords(5, [1, 2, 3], [0.5, -0.5, 0]);
    expect(Array.from(encodeNodeFrameFrom(1, records))).toEqual(GOLDEN_AGENT_5);
    const target = new Uint8Array(37);
    expect(encodeNodeFrameFrom(1, records, target)).toBe(target);
  });

  it('round-trips many records', () => {
    const nodes: NodeState[] = Array.from({ length: 1000 }, (_, i) => ({
      id: i * 1000 + 3,
      type: i % 3 === 0 ? 'agent' : i % 3 === 1 ? 'knowledge' : 'other',
      x: Math.fround(i * 0.25),
      y: Math.fround(-i),
      z: Math.fround(i / 7),
      vx: 0,
      vy: 1,
      vz: Math.fround(-0.125),
      ssspDistance: Infinity,
      ssspParent: -1,
    }));
    const bytes = encodeNodeFrame(nodes);
    expect(bytes.byteLength).toBe(1 + 36 * 1000);
    expect(decodeNodeFrame(bytes)).toEqual(nodes);
  });
});

describe('aligned and unaligned paths agree', () => {
  it('decodes the same frame at every byte offset identically', () => {
    const nodes: NodeState[] = Array.from({ length: 50 }, (_, i) => ({ ...agent5, id: i * 7919, type: i % 2 ? 'agent' : 'knowledge', x: i, y: -i, z: i / 3, ssspDistance: Infinity, ssspParent: -1 }));
    const frame = encodeNodeFrame(nodes);
    const expected = decodeNodeFrame(frame).map((n) => [n.id, n.type === 'agent' ? 1 : 2, n.x, n.y, n.z, n.vx]);
    for (let off = 0; off < 4; off++) {
      const host = new Uint8Array(off + frame.length);
      host.set(frame, off);
      const buf = allocNodeFrameRecords(64);
      expect(decodeNodeFrameInto(host.subarray(off), buf)).toBe(50);
      const got = Array.from({ length: 50 }, (_, i) => [
        recordNodeId(buf, i),
        recordKind(buf, i) === 'agent' ? 1 : 2,
        ...fields(buf, 64, V2_POSITION_WORD, 3).slice(i * 3, i * 3 + 3),
        fields(buf, 64, V2_VELOCITY_WORD, 1)[i],
      ]);
      expect(got).toEqual(expected.map((e) => e.map((v) => (typeof v === 'number' ? Math.fround(v) : v))));
    }
  });

  it('encodes into an unaligned caller buffer to the same golden bytes', () => {
    const target = new Uint8Array(37); // byteOffset 0: body unaligned
    encodeNodeFrameFrom(1, agentRecords(5, [1, 2, 3], [0.5, -0.5, 0]), target);
    expect(Array.from(target)).toEqual(GOLDEN_AGENT_5);
    expect(() => agentRecords(2 ** 30, [0, 0, 0], [0, 0, 0])).toThrow(FrameError);
  });
});
