/**
 * Binary V2 frames to and from typed arrays, without an object per record: the per-frame paths of the
 * relay and the browser (the physics engine keeps ids, kinds, positions and velocities in typed arrays).
 * The format, its constants and checks, and the object codec are in binaryV2.ts.
 *
 * On a little-endian host both directions run a word loop over Int32Array views (frameWords.ts): one
 * load and one store per field, floats copied as bit patterns, every check hoisted out of the loop.
 * Each loop sits in a small function of its own, called with one set of argument types, so V8 keeps
 * it monomorphic (inside a larger function with several paths it optimised about ten times worse).
 * The DataView loops are the portable path a big-endian host takes; `path: 'dataview'` forces them so
 * tests can check that both give the same result. Pure, no Node or DOM dependencies.
 */
import {
  AGENT_NODE_FLAG,
  FrameError,
  KNOWLEDGE_NODE_FLAG,
  MAX_NODE_ID,
  NODE_ID_MASK,
  PROTOCOL_V2,
  V2_HEADER_BYTES,
  V2_RECORD_BYTES,
  bothFlagsMessage,
  checkedRecordCount,
  type CodecPath,
} from './binaryV2.js';
import { HOST_LITTLE_ENDIAN, bodyWords, floatBits, scratchWords } from './frameWords.js';

/** Words (u32) per record. */
const W = V2_RECORD_BYTES / 4;
/** +Infinity as f32 bits: the ssspDistance an encoder without SSSP data writes. */
const F32_INFINITY_BITS = 0x7f800000;

/**
 * Caller-owned buffers for the zero-allocation decoder: one slot per record, in frame order.
 * `positions` and `velocities` are xyz-interleaved (length >= 3 * capacity).
 */
export interface NodeFrameBuffers {
  ids: Uint32Array;
  /** 0 other, 1 agent, 2 knowledge */
  kinds: Uint8Array;
  positions: Float32Array;
  velocities: Float32Array;
  ssspDistance?: Float32Array;
  ssspParent?: Int32Array;
}

export function allocNodeFrameBuffers(capacity: number): NodeFrameBuffers {
  return {
    ids: new Uint32Array(capacity),
    kinds: new Uint8Array(capacity),
    positions: new Float32Array(capacity * 3),
    velocities: new Float32Array(capacity * 3),
    ssspDistance: new Float32Array(capacity),
    ssspParent: new Int32Array(capacity),
  };
}

/** A frame buffer whose body is 4-byte aligned (the Uint8Array starts at byte 3 of its ArrayBuffer). */
export function allocAlignedFrame(count: number): Uint8Array {
  const size = V2_HEADER_BYTES + count * V2_RECORD_BYTES;
  return new Uint8Array(new ArrayBuffer(size + 3), 3, size);
}

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- decode ----

/** Index of the first record whose id word has both flags (bits 31 and 30), or -1. */
function firstBothFlags(w: Int32Array, count: number): number {
  for (let i = 0, o = 0; i < count; i++, o += W) {
    const raw = w[o]!;
    if ((raw & (raw << 1)) < 0) return i;
  }
  return -1;
}

function firstBothFlagsDataView(view: DataView, count: number): number {
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) if (view.getUint32(o, true) >>> 30 === 3) return i;
  return -1;
}

/**
 * Every field, one pass, two records per turn (fewer loop checks; about 5% faster). The id word is read
 * as int32 so V8 stays in small-integer arithmetic; the kind is computed without a branch (1 agent from
 * bit 31, 2 knowledge from bit 30; both set was refused before).
 */
function decodeAllWords(
  count: number,
  w: Int32Array,
  ids: Uint32Array,
  kinds: Uint8Array,
  pos: Int32Array,
  vel: Int32Array,
  dist: Int32Array,
  parent: Int32Array,
): void {
  let i = 0;
  let o = 0;
  let p = 0;
  for (; i + 1 < count; i += 2, o += 2 * W, p += 6) {
    const a = w[o]!;
    const b = w[o + W]!;
    ids[i] = a & NODE_ID_MASK;
    ids[i + 1] = b & NODE_ID_MASK;
    kinds[i] = (a >>> 31) | ((a >>> 29) & 2);
    kinds[i + 1] = (b >>> 31) | ((b >>> 29) & 2);
    pos[p] = w[o + 1]!;
    pos[p + 1] = w[o + 2]!;
    pos[p + 2] = w[o + 3]!;
    pos[p + 3] = w[o + 10]!;
    pos[p + 4] = w[o + 11]!;
    pos[p + 5] = w[o + 12]!;
    vel[p] = w[o + 4]!;
    vel[p + 1] = w[o + 5]!;
    vel[p + 2] = w[o + 6]!;
    vel[p + 3] = w[o + 13]!;
    vel[p + 4] = w[o + 14]!;
    vel[p + 5] = w[o + 15]!;
    dist[i] = w[o + 7]!;
    dist[i + 1] = w[o + 16]!;
    parent[i] = w[o + 8]!;
    parent[i + 1] = w[o + 17]!;
  }
  if (i < count) {
    const a = w[o]!;
    ids[i] = a & NODE_ID_MASK;
    kinds[i] = (a >>> 31) | ((a >>> 29) & 2);
    pos[p] = w[o + 1]!;
    pos[p + 1] = w[o + 2]!;
    pos[p + 2] = w[o + 3]!;
    vel[p] = w[o + 4]!;
    vel[p + 1] = w[o + 5]!;
    vel[p + 2] = w[o + 6]!;
    dist[i] = w[o + 7]!;
    parent[i] = w[o + 8]!;
  }
}

/** The same without the optional SSSP fields (buffers that leave them out). */
function decodeCoreWords(count: number, w: Int32Array, ids: Uint32Array, kinds: Uint8Array, pos: Int32Array, vel: Int32Array): void {
  for (let i = 0, o = 0, p = 0; i < count; i++, o += W, p += 3) {
    const raw = w[o]!;
    ids[i] = raw & NODE_ID_MASK;
    kinds[i] = (raw >>> 31) | ((raw >>> 29) & 2);
    pos[p] = w[o + 1]!;
    pos[p + 1] = w[o + 2]!;
    pos[p + 2] = w[o + 3]!;
    vel[p] = w[o + 4]!;
    vel[p + 1] = w[o + 5]!;
    vel[p + 2] = w[o + 6]!;
  }
}

/** One word column (field `field` of every record) into `out`. */
function decodeColumn(count: number, w: Int32Array, field: number, out: Int32Array): void {
  for (let i = 0, o = field; i < count; i++, o += W) out[i] = w[o]!;
}

function decodeDataView(view: DataView, count: number, out: NodeFrameBuffers): void {
  const { ids, kinds, positions, velocities, ssspDistance, ssspParent } = out;
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    const raw = view.getUint32(o, true);
    ids[i] = raw & NODE_ID_MASK;
    kinds[i] = (raw & AGENT_NODE_FLAG) !== 0 ? 1 : (raw & KNOWLEDGE_NODE_FLAG) !== 0 ? 2 : 0;
    const p = i * 3;
    positions[p] = view.getFloat32(o + 4, true);
    positions[p + 1] = view.getFloat32(o + 8, true);
    positions[p + 2] = view.getFloat32(o + 12, true);
    velocities[p] = view.getFloat32(o + 16, true);
    velocities[p + 1] = view.getFloat32(o + 20, true);
    velocities[p + 2] = view.getFloat32(o + 24, true);
    if (ssspDistance) ssspDistance[i] = view.getFloat32(o + 28, true);
    if (ssspParent) ssspParent[i] = view.getInt32(o + 32, true);
  }
}

/**
 * Decodes into caller-owned typed arrays without allocating per record. Returns the record count.
 * The whole frame is validated (version, length, capacity, flags) before any slot is written, so a bad
 * frame leaves the buffers as they were.
 */
export function decodeNodeFrameInto(frame: ArrayBuffer | Uint8Array, out: NodeFrameBuffers, path: CodecPath = 'auto'): number {
  const bytes = asBytes(frame);
  const count = checkedRecordCount(bytes);
  const { ids, kinds, positions, velocities, ssspDistance, ssspParent } = out;
  if (count > ids.length || count > kinds.length || count * 3 > positions.length || count * 3 > velocities.length) {
    throw new FrameError('capacity', `frame holds ${count} records but the buffers hold ${ids.length}`);
  }
  if ((ssspDistance && count > ssspDistance.length) || (ssspParent && count > ssspParent.length)) {
    throw new FrameError('capacity', `frame holds ${count} records but the SSSP buffers are shorter`);
  }
  if (count === 0) return 0;
  const view = viewOf(bytes);
  const w = path === 'auto' ? bodyWords(bytes, count * W) : null;
  const bad = w ? firstBothFlags(w, count) : firstBothFlagsDataView(view, count);
  if (bad >= 0) {
    const raw = view.getUint32(V2_HEADER_BYTES + bad * V2_RECORD_BYTES, true);
    throw new FrameError('both-flags', `record ${bad}: ${bothFlagsMessage(raw)}`);
  }
  if (!w) {
    decodeDataView(view, count, out);
  } else if (ssspDistance && ssspParent) {
    decodeAllWords(count, w, ids, kinds, floatBits(positions), floatBits(velocities), floatBits(ssspDistance), ssspParent);
  } else {
    decodeCoreWords(count, w, ids, kinds, floatBits(positions), floatBits(velocities));
    if (ssspDistance) decodeColumn(count, w, 7, floatBits(ssspDistance));
    if (ssspParent) decodeColumn(count, w, 8, ssspParent);
  }
  return count;
}

// ---- encode ----

/** The flag bits of each kind code (any code but 1 and 2 is a plain node, as in the DataView path). */
const FLAG_OF_KIND = new Int32Array(256);
FLAG_OF_KIND[1] = AGENT_NODE_FLAG | 0;
FLAG_OF_KIND[2] = KNOWLEDGE_NODE_FLAG;

/** Ids were range-checked before, so `id | flag` is exact. SSSP fields are written as "none". */
function encodeWords(count: number, w: Int32Array, ids: Uint32Array, kinds: Uint8Array, pos: Int32Array, vel: Int32Array, flags: Int32Array): void {
  for (let i = 0, o = 0, p = 0; i < count; i++, o += W, p += 3) {
    w[o] = ids[i]! | flags[kinds[i]!]!;
    w[o + 1] = pos[p]!;
    w[o + 2] = pos[p + 1]!;
    w[o + 3] = pos[p + 2]!;
    w[o + 4] = vel[p]!;
    w[o + 5] = vel[p + 1]!;
    w[o + 6] = vel[p + 2]!;
    w[o + 7] = F32_INFINITY_BITS;
    w[o + 8] = -1;
  }
}

/**
 * encodeWords for a frame that starts on a word boundary (a fresh Uint8Array), whose body is therefore
 * one byte off: each aligned word of the frame is the top byte of the previous body word and the low
 * three bytes of the current one. With constant shifts this costs about what the aligned loop does,
 * and saves the scratch copy (a full memcpy). Word 0 carries the version byte. Returns the last body
 * word: its top byte is the frame's last byte, which no whole word covers.
 */
function encodeWordsAfterByte(count: number, t: Int32Array, ids: Uint32Array, kinds: Uint8Array, pos: Int32Array, vel: Int32Array, flags: Int32Array): number {
  let prev = PROTOCOL_V2 << 24;
  for (let i = 0, o = 0, p = 0; i < count; i++, o += W, p += 3) {
    let cur = ids[i]! | flags[kinds[i]!]!;
    t[o] = (prev >>> 24) | (cur << 8);
    prev = pos[p]!;
    t[o + 1] = (cur >>> 24) | (prev << 8);
    cur = pos[p + 1]!;
    t[o + 2] = (prev >>> 24) | (cur << 8);
    prev = pos[p + 2]!;
    t[o + 3] = (cur >>> 24) | (prev << 8);
    cur = vel[p]!;
    t[o + 4] = (prev >>> 24) | (cur << 8);
    prev = vel[p + 1]!;
    t[o + 5] = (cur >>> 24) | (prev << 8);
    cur = vel[p + 2]!;
    t[o + 6] = (prev >>> 24) | (cur << 8);
    t[o + 7] = (cur >>> 24) | (F32_INFINITY_BITS << 8);
    t[o + 8] = (F32_INFINITY_BITS >>> 24) | (-1 << 8);
    prev = -1;
  }
  return prev;
}

function encodeDataView(view: DataView, count: number, ids: ArrayLike<number>, kinds: ArrayLike<number>, positions: ArrayLike<number>, velocities: ArrayLike<number>): void {
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    const k = kinds[i];
    view.setUint32(o, (ids[i]! | (k === 1 ? AGENT_NODE_FLAG : k === 2 ? KNOWLEDGE_NODE_FLAG : 0)) >>> 0, true);
    const p = i * 3;
    view.setFloat32(o + 4, positions[p]!, true);
    view.setFloat32(o + 8, positions[p + 1]!, true);
    view.setFloat32(o + 12, positions[p + 2]!, true);
    view.setFloat32(o + 16, velocities[p]!, true);
    view.setFloat32(o + 20, velocities[p + 1]!, true);
    view.setFloat32(o + 24, velocities[p + 2]!, true);
    view.setFloat32(o + 28, Infinity, true);
    view.setInt32(o + 32, -1, true);
  }
}

/** Index of the first id that does not fit in 30 bits, or -1. A Uint32Array needs only an OR of all ids. */
function firstBadId(count: number, ids: ArrayLike<number>): number {
  if (ids instanceof Uint32Array) {
    let all = 0;
    for (let i = 0; i < count; i++) all |= ids[i]!;
    if ((all & ~NODE_ID_MASK) === 0) return -1;
  }
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id <= MAX_NODE_ID)) return i;
  }
  return -1;
}

/**
 * Encodes from typed arrays (the physics engine's layout) without building NodeState objects.
 * `target` may be passed to reuse a buffer of exactly the right size; pass back the frame this
 * function returned (allocAlignedFrame) and the words are written in place. A target at a word
 * boundary is written with shifted words; at any other offset, to scratch and copied in once.
 * Ids are checked before anything is written.
 */
export function encodeNodeFrameFrom(
  count: number,
  ids: ArrayLike<number>,
  kinds: ArrayLike<number>,
  positions: ArrayLike<number>,
  velocities: ArrayLike<number>,
  target?: Uint8Array,
  path: CodecPath = 'auto',
): Uint8Array {
  const bad = firstBadId(count, ids);
  if (bad >= 0) throw new FrameError('id-out-of-range', `node id ${ids[bad]} does not fit in 30 bits`);
  const size = V2_HEADER_BYTES + count * V2_RECORD_BYTES;
  const bytes = target && target.byteLength === size ? target : allocAlignedFrame(count);
  bytes[0] = PROTOCOL_V2;
  if (count === 0) return bytes;
  const typed =
    ids instanceof Uint32Array && kinds instanceof Uint8Array && positions instanceof Float32Array && velocities instanceof Float32Array;
  if (path === 'auto' && HOST_LITTLE_ENDIAN && typed) {
    const pos = floatBits(positions);
    const vel = floatBits(velocities);
    if ((bytes.byteOffset + 1) % 4 === 0) {
      encodeWords(count, new Int32Array(bytes.buffer, bytes.byteOffset + 1, count * W), ids, kinds, pos, vel, FLAG_OF_KIND);
    } else if (bytes.byteOffset % 4 === 0) {
      const last = encodeWordsAfterByte(count, new Int32Array(bytes.buffer, bytes.byteOffset, count * W), ids, kinds, pos, vel, FLAG_OF_KIND);
      bytes[size - 1] = last >>> 24;
    } else {
      const w = scratchWords(count * W);
      encodeWords(count, w, ids, kinds, pos, vel, FLAG_OF_KIND);
      bytes.set(new Uint8Array(w.buffer, 0, count * V2_RECORD_BYTES), V2_HEADER_BYTES);
    }
    return bytes;
  }
  encodeDataView(viewOf(bytes), count, ids, kinds, positions, velocities);
  return bytes;
}
