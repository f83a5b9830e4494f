// checkUpload: the relay's checks on a frame a browser uploads, including hostile frames.
import { describe, expect, it } from 'vitest';
import {
  FrameError,
  V2_HEADER_BYTES,
  V2_RECORD_BYTES,
  checkUpload,
  encodeNodeFrame,
  frameIsFinite,
  frameRecordCount,
  splitWireId,
  type NodeState,
  type UploadCheck,
} from './binaryV2.js';
import { mulberry32 } from '../random.js';

const agent = (id: number, over: Partial<NodeState> = {}): NodeState => ({
  id,
  type: 'agent',
  x: 1,
  y: 2,
  z: 3,
  vx: 0.5,
  vy: -0.5,
  vz: 0,
  ssspDistance: Infinity,
  ssspParent: -1,
  ...over,
});

const known = new Set([1, 2, 3, 5, 1 << 29]);
const graph = { knownNodeId: (id: number) => known.has(id) };

/**
 * The checks exactly as relay/stream/server.ts wrote them by hand before checkUpload existed: the oracle
 * that the new function must agree with on every input.
 */
function handWrittenChecks(buf: Buffer, tel: { knownNodeId(id: number): boolean }): UploadCheck {
  try {
    if (buf.length < 1) throw new FrameError('empty', 'empty frame');
    if (buf[0] !== 2) throw new FrameError(buf[0] === 1 ? 'version-1' : 'unknown-version', `frame version ${buf[0]} is not 2`);
    const count = frameRecordCount(buf.length);
    if (!frameIsFinite(buf)) return { ok: false, reason: 'not-finite', message: 'frame holds NaN or infinite values' };
    for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
      const [id, kind] = splitWireId(buf.readUInt32LE(o));
      if (kind !== 'agent' || !tel.knownNodeId(id)) return { ok: false, reason: 'unknown-node', message: `frame names unknown node ${id}` };
    }
    return { ok: true, count };
  } catch (e) {
    return { ok: false, reason: (e as FrameError).reason as 'empty', message: (e as Error).message };
  }
}

/** The same bytes at byte offsets 0..3 of a larger buffer (Node hands frames over at any offset). */
function atEveryOffset(frame: Uint8Array): Buffer[] {
  return [0, 1, 2, 3].map((off) => {
    const host = Buffer.alloc(off + frame.byteLength + 3, 0xee);
    host.set(frame, off);
    return host.subarray(off, off + frame.byteLength);
  });
}

function expectRejected(frame: Uint8Array, reason: string, message?: RegExp): void {
  for (const buf of atEveryOffset(frame)) {
    const r = checkUpload(buf, graph);
    expect(r).toEqual(handWrittenChecks(buf, graph));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      if (message) expect(r.message).toMatch(message);
    }
  }
}

describe('checkUpload', () => {
  it('accepts a frame of known agents and counts its records', () => {
    for (const buf of atEveryOffset(encodeNodeFrame([agent(1), agent(5), agent(1 << 29)]))) {
      expect(checkUpload(buf, graph)).toEqual({ ok: true, count: 3 });
    }
    expect(checkUpload(new Uint8Array([2]), graph)).toEqual({ ok: true, count: 0 });
  });

  it('calls knownNodeId as a method of the object passed', () => {
    const tel = {
      ids: new Set([5]),
      knownNodeId(id: number) {
        return this.ids.has(id);
      },
    };
    expect(checkUpload(encodeNodeFrame([agent(5)]), tel)).toEqual({ ok: true, count: 1 });
  });

  it('rejects an empty frame and wrong versions', () => {
    expectRejected(new Uint8Array(0), 'empty', /^empty frame$/);
    expectRejected(new Uint8Array([1, ...new Array(36).fill(0)]), 'version-1', /frame version 1 is not 2/);
    expectRejected(new Uint8Array([0]), 'unknown-version', /frame version 0 is not 2/);
    expectRejected(new Uint8Array([0xff]), 'unknown-version', /frame version 255 is not 2/);
    // A V1-style frame without a version byte starts with an id byte.
    expectRejected(encodeNodeFrame([agent(5)]).subarray(1), 'unknown-version');
  });

  it('rejects truncated and overlong frames', () => {
    const good = encodeNodeFrame([agent(1), agent(2)]);
    expectRejected(good.subarray(0, good.byteLength - 1), 'bad-length', /trailing bytes/);
    expectRejected(good.subarray(0, 2), 'bad-length', /frame length 2 is not 1 \+ 36\*N \(1 trailing bytes\)/);
    const long = new Uint8Array(good.byteLength + 1);
    long.set(good);
    expectRejected(long, 'bad-length', /\(1 trailing bytes\)/);
  });

  it('rejects NaN and infinities in any position or velocity field, before looking at ids', () => {
    for (const field of ['x', 'y', 'z', 'vx', 'vy', 'vz'] as const) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        // The unknown id in the first record shows that finiteness is checked first.
        expectRejected(encodeNodeFrame([agent(999), agent(2, { [field]: bad })]), 'not-finite', /NaN or infinite/);
      }
    }
    // ssspDistance is +Infinity in every frame a client encodes: it is not checked.
    expect(checkUpload(encodeNodeFrame([agent(1, { ssspDistance: NaN })]), graph).ok).toBe(true);
  });

  it('rejects flag bits other than the agent flag, and ids the graph does not know', () => {
    expectRejected(encodeNodeFrame([agent(1), agent(2, { type: 'knowledge' })]), 'unknown-node', /frame names unknown node 2$/);
    expectRejected(encodeNodeFrame([agent(3, { type: 'other' })]), 'unknown-node', /unknown node 3$/);
    expectRejected(encodeNodeFrame([agent(1), agent(123456)]), 'unknown-node', /unknown node 123456$/);
    const both = encodeNodeFrame([agent(1), agent(5)]);
    both[V2_HEADER_BYTES + V2_RECORD_BYTES + 3] = 0xc0;
    expectRejected(both, 'both-flags', /node id 0xc0000005 has both flags set/);
    // First failing record wins: an unknown id before a both-flags record.
    const order = encodeNodeFrame([agent(77), agent(5)]);
    order[V2_HEADER_BYTES + V2_RECORD_BYTES + 3] = 0xc0;
    expectRejected(order, 'unknown-node', /unknown node 77$/);
  });

  it('agrees with the hand-written checks on random and mutated frames', () => {
    const rnd = mulberry32(11);
    const base = encodeNodeFrame([agent(1), agent(2), agent(3), agent(5)]);
    for (let n = 0; n < 2000; n++) {
      const f = base.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < flips; k++) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.2 ? f.subarray(0, Math.floor(rnd() * f.length)) : f;
      for (const buf of atEveryOffset(cut)) expect(checkUpload(buf, graph)).toEqual(handWrittenChecks(buf, graph));
    }
  });
});
