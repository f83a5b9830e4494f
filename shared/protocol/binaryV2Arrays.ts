/**
 * Binary V2 frames to and from typed arrays, without an object per record: the per-frame paths of the
 * browser (the relay only checks and forwards frames). The format, its constants and checks, and the
 * object codec are in binaryV2.ts.
 *
 * The arrays keep the wire's record layout (NodeFrameRecords: 9 words per record, in host byte order)
 * rather than a column per field, so on a little-endian host each direction is one check pass over the
 * id words plus one memcpy (`TypedArray.set`), about 1.5x a bare copy of the same bytes. Scattering
 * records into columns in JS cost 2.8x to 3.4x at best: V8 compiles a per-field loop to scalar loads and
 * stores, about 3.5x a memcpy even for a plain word copy. The consumers walk their slots in a loop of
 * their own anyway (client/scene/positions.ts), and reading with a stride of 9 there costs what a
 * stride of 3 did. The DataView loops are the portable path a big-endian host takes; `path: 'dataview'`
 * forces them so tests can check that both give the same result. Pure, no Node or DOM dependencies.
 */
import {
  AGENT_NODE_FLAG,
  FrameError,
  KNOWLEDGE_NODE_FLAG,
  NODE_ID_MASK,
  PROTOCOL_V2,
  V2_HEADER_BYTES,
  V2_POSITION_OFFSET,
  V2_RECORD_BYTES,
  V2_SSSP_DISTANCE_OFFSET,
  V2_VELOCITY_OFFSET,
  bothFlagsMessage,
  checkedRecordCount,
  wireId,
  type CodecPath,
  type NodeKind,
} from './binaryV2.js';
import { HOST_LITTLE_ENDIAN } from './frameWords.js';

/** Words (u32) per record. */
export const V2_RECORD_WORDS = V2_RECORD_BYTES / 4;
/** Word offsets of fields inside a record (the id word, flags included, is word 0): position x y z, velocity x y z, SSSP. */
export const V2_POSITION_WORD = V2_POSITION_OFFSET / 4;
export const V2_VELOCITY_WORD = V2_VELOCITY_OFFSET / 4;
export const V2_SSSP_DISTANCE_WORD = V2_SSSP_DISTANCE_OFFSET / 4;
export const V2_SSSP_PARENT_WORD = V2_SSSP_DISTANCE_WORD + 1;
/** Byte of a record holding the id's two flag bits (the top byte of a little-endian u32). */
const FLAG_BYTE = 3;

/**
 * Records in wire layout, one per node, in host byte order: two views of one buffer. Record r starts at
 * word r * V2_RECORD_WORDS; its id word (flags included) is `words[o]`, its position `floats[o + 1..3]`,
 * velocity `floats[o + 4..6]`, ssspDistance `floats[o + 7]` and ssspParent `words[o + 8]`.
 * The codec reads and writes `words` only; `floats` is there for the callers.
 */
export interface NodeFrameRecords {
  words: Int32Array;
  floats: Float32Array;
}

export function allocNodeFrameRecords(capacity: number): NodeFrameRecords {
  const buffer = new ArrayBuffer(capacity * V2_RECORD_BYTES);
  return { words: new Int32Array(buffer), floats: new Float32Array(buffer) };
}

/** How many records the arrays hold. */
export function recordCapacity(records: NodeFrameRecords): number {
  return Math.floor(records.words.length / V2_RECORD_WORDS);
}

/** Node id of record r, flags stripped. */
export function recordNodeId(records: NodeFrameRecords, r: number): number {
  return records.words[r * V2_RECORD_WORDS]! & NODE_ID_MASK;
}

/** Kind of record r from its flags (a decoded record never has both; see decodeNodeFrameInto). */
export function recordKind(records: NodeFrameRecords, r: number): NodeKind {
  const raw = records.words[r * V2_RECORD_WORDS]!;
  return (raw & AGENT_NODE_FLAG) !== 0 ? 'agent' : (raw & KNOWLEDGE_NODE_FLAG) !== 0 ? 'knowledge' : 'other';
}

/**
 * Starts record r for node `id`: its wire id (FrameError 'id-out-of-range' when the id does not fit in
 * 30 bits, and then nothing is written), position and velocity zero, and the SSSP fields as a node
 * without SSSP data has them (distance +Infinity, parent -1).
 */
export function initRecord(records: NodeFrameRecords, r: number, id: number, type: NodeKind): void {
  const word = wireId(id, type) | 0;
  const o = r * V2_RECORD_WORDS;
  records.words.fill(0, o, o + V2_SSSP_DISTANCE_WORD);
  records.words[o] = word;
  records.floats[o + V2_SSSP_DISTANCE_WORD] = Infinity;
  records.words[o + V2_SSSP_PARENT_WORD] = -1;
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

/** The first `count` records of `words` as bytes (host order: the wire's on a little-endian host). */
function recordBytes(words: Int32Array, count: number): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, count * V2_RECORD_BYTES);
}

function capacityError(count: number, records: NodeFrameRecords): FrameError {
  return new FrameError('capacity', `frame holds ${count} records but the buffers hold ${recordCapacity(records)}`);
}

// ---- decode ----

/**
 * Index of the first record whose id has both flags (bits 31 and 30), or -1. It reads the flag byte of
 * each record straight from the frame: one load per record at any alignment and on any host, no copy.
 */
function firstBothFlagsInFrame(bytes: Uint8Array, count: number): number {
  for (let i = 0, o = V2_HEADER_BYTES + FLAG_BYTE; i < count; i++, o += V2_RECORD_BYTES) if (bytes[o]! >= 0xc0) return i;
  return -1;
}

function decodeDataView(view: DataView, words: Int32Array, count: number): void {
  for (let k = 0, o = V2_HEADER_BYTES, end = count * V2_RECORD_WORDS; k < end; k++, o += 4) words[k] = view.getInt32(o, true);
}

/**
 * Decodes into caller-owned records without allocating. Returns the record count; records 0..count-1
 * hold the frame's words exactly (ids with their flags: see recordNodeId, recordKind).
 * The whole frame is validated (version, length, capacity, flags) before any record is written, so a
 * bad frame leaves the records as they were.
 */
export function decodeNodeFrameInto(frame: ArrayBuffer | Uint8Array, out: NodeFrameRecords, path: CodecPath = 'auto'): number {
  const bytes = asBytes(frame);
  const count = checkedRecordCount(bytes);
  if (count * V2_RECORD_WORDS > out.words.length) throw capacityError(count, out);
  if (count === 0) return 0;
  const bad = firstBothFlagsInFrame(bytes, count);
  if (bad >= 0) {
    const raw = viewOf(bytes).getUint32(V2_HEADER_BYTES + bad * V2_RECORD_BYTES, true);
    throw new FrameError('both-flags', `record ${bad}: ${bothFlagsMessage(raw)}`);
  }
  if (path === 'auto' && HOST_LITTLE_ENDIAN) {
    recordBytes(out.words, count).set(bytes.subarray(V2_HEADER_BYTES, V2_HEADER_BYTES + count * V2_RECORD_BYTES));
  } else {
    decodeDataView(viewOf(bytes), out.words, count);
  }
  return count;
}

// ---- encode ----

/** Index of the first record whose id word has both flags, or -1. */
function firstBothFlagsInWords(words: Int32Array, count: number): number {
  for (let i = 0, o = 0; i < count; i++, o += V2_RECORD_WORDS) {
    const raw = words[o]!;
    if ((raw & (raw << 1)) < 0) return i;
  }
  return -1;
}

function encodeDataView(view: DataView, words: Int32Array, count: number): void {
  for (let k = 0, o = V2_HEADER_BYTES, end = count * V2_RECORD_WORDS; k < end; k++, o += 4) view.setInt32(o, words[k]!, true);
}

/**
 * Encodes the first `count` records (initRecord writes valid ids) into a frame, as they are: every
 * field, SSSP included, goes out bit for bit. `target` may be passed to reuse a buffer of exactly the
 * right size (any alignment); otherwise a fresh aligned frame is made. A count beyond the records
 * ('capacity') or an id word with both flags ('both-flags') is refused before anything is written.
 */
export function encodeNodeFrameFrom(count: number, records: NodeFrameRecords, target?: Uint8Array, path: CodecPath = 'auto'): Uint8Array {
  const { words } = records;
  if (!Number.isInteger(count) || count < 0 || count * V2_RECORD_WORDS > words.length) throw capacityError(count, records);
  const bad = firstBothFlagsInWords(words, count);
  if (bad >= 0) throw new FrameError('both-flags', `record ${bad}: ${bothFlagsMessage(words[bad * V2_RECORD_WORDS]!)}`);
  const size = V2_HEADER_BYTES + count * V2_RECORD_BYTES;
  const bytes = target && target.byteLength === size ? target : allocAlignedFrame(count);
  bytes[0] = PROTOCOL_V2;
  if (count === 0) return bytes;
  if (path === 'auto' && HOST_LITTLE_ENDIAN) bytes.set(recordBytes(words, count), V2_HEADER_BYTES);
  else encodeDataView(viewOf(bytes), words, count);
  return bytes;
}
