/**
 * Binary position frames, protocol V2 (upstream-contracts.md section 1), byte-exact.
 *
 * One WebSocket binary message = version byte 0x02, then N records of 36 bytes, little-endian:
 *   u32 id (bit 31 agent, bit 30 knowledge) | 3 x f32 position | 3 x f32 velocity | f32 ssspDistance | i32 ssspParent
 * No count and no checksum: the length alone says how many records there are, so it is checked exactly.
 * Pure functions, no Node or DOM dependencies: imported by the relay and the browser alike.
 */

export const PROTOCOL_V2 = 2;
export const V2_HEADER_BYTES = 1;
export const V2_RECORD_BYTES = 36;
export const AGENT_NODE_FLAG = 0x80000000;
export const KNOWLEDGE_NODE_FLAG = 0x40000000;
export const NODE_ID_MASK = 0x3fffffff;
/** Largest id a frame can carry once the two flag bits are taken. */
export const MAX_NODE_ID = NODE_ID_MASK;

export type NodeKind = 'agent' | 'knowledge' | 'other';

export interface NodeState {
  /** Node id with the flag bits already stripped (0 .. 2^30-1). */
  id: number;
  type: NodeKind;
  x: number;
  y: number;
  z: number;
  vx: number;
  vy: number;
  vz: number;
  ssspDistance: number;
  ssspParent: number;
}

export type FrameErrorReason =
  | 'empty'
  | 'version-1'
  | 'unknown-version'
  | 'bad-length'
  | 'both-flags'
  | 'id-out-of-range'
  | 'capacity';

/** Thrown for any frame that is not exactly a V2 frame; `reason` is machine-readable. */
export class FrameError extends Error {
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string) {
    super(message);
    this.name = 'FrameError';
    this.reason = reason;
  }
}

function badLengthMessage(byteLength: number): string {
  return `frame length ${byteLength} is not 1 + 36*N (${(byteLength - V2_HEADER_BYTES) % V2_RECORD_BYTES} trailing bytes)`;
}

function bothFlagsMessage(raw: number): string {
  return `node id 0x${(raw >>> 0).toString(16)} has both flags set`;
}

/** Number of records a frame of this byte length holds, or a FrameError. */
export function frameRecordCount(byteLength: number): number {
  if (byteLength < V2_HEADER_BYTES) throw new FrameError('empty', 'frame is empty: missing version byte');
  const body = byteLength - V2_HEADER_BYTES;
  if (body % V2_RECORD_BYTES !== 0) throw new FrameError('bad-length', badLengthMessage(byteLength));
  return body / V2_RECORD_BYTES;
}

function kindFlag(type: NodeKind): number {
  return type === 'agent' ? AGENT_NODE_FLAG : type === 'knowledge' ? KNOWLEDGE_NODE_FLAG : 0;
}

function checkVersion(view: DataView): void {
  if (view.byteLength < 1) throw new FrameError('empty', 'frame is empty: missing version byte');
  const version = view.getUint8(0);
  if (version === 1) {
    throw new FrameError('version-1', 'protocol version 1 (u16 ids) is retired: ids above 16383 collided');
  }
  if (version !== PROTOCOL_V2) {
    throw new FrameError('unknown-version', `unknown protocol version byte 0x${version.toString(16).padStart(2, '0')}`);
  }
}

/** Reads a wire id: returns [id, kind]. Throws on both flags set. `raw` must be a u32 (use >>> 0). */
export function splitWireId(raw: number): [number, NodeKind] {
  // `raw & 0x80000000` is negative as an int32: compare with !== 0, never > 0.
  const agent = (raw & AGENT_NODE_FLAG) !== 0;
  const knowledge = (raw & KNOWLEDGE_NODE_FLAG) !== 0;
  if (agent && knowledge) throw new FrameError('both-flags', bothFlagsMessage(raw));
  return [raw & NODE_ID_MASK, agent ? 'agent' : knowledge ? 'knowledge' : 'other'];
}

export function wireId(id: number, type: NodeKind): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_NODE_ID) {
    throw new FrameError('id-out-of-range', `node id ${id} does not fit in 30 bits`);
  }
  return (id | kindFlag(type)) >>> 0;
}

export function encodeNodeFrame(nodes: readonly NodeState[]): Uint8Array {
  const bytes = new Uint8Array(V2_HEADER_BYTES + nodes.length * V2_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = PROTOCOL_V2;
  let o = V2_HEADER_BYTES;
  for (const n of nodes) {
    view.setUint32(o, wireId(n.id, n.type), true);
    view.setFloat32(o + 4, n.x, true);
    view.setFloat32(o + 8, n.y, true);
    view.setFloat32(o + 12, n.z, true);
    view.setFloat32(o + 16, n.vx, true);
    view.setFloat32(o + 20, n.vy, true);
    view.setFloat32(o + 24, n.vz, true);
    view.setFloat32(o + 28, n.ssspDistance, true);
    view.setInt32(o + 32, n.ssspParent, true);
    o += V2_RECORD_BYTES;
  }
  return bytes;
}

function asView(bytes: ArrayBuffer | Uint8Array): DataView {
  return bytes instanceof Uint8Array
    ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new DataView(bytes);
}

export function decodeNodeFrame(bytes: ArrayBuffer | Uint8Array): NodeState[] {
  const view = asView(bytes);
  checkVersion(view);
  const count = frameRecordCount(view.byteLength);
  const out: NodeState[] = new Array(count);
  let o = V2_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const [id, type] = splitWireId(view.getUint32(o, true));
    out[i] = {
      id,
      type,
      x: view.getFloat32(o + 4, true),
      y: view.getFloat32(o + 8, true),
      z: view.getFloat32(o + 12, true),
      vx: view.getFloat32(o + 16, true),
      vy: view.getFloat32(o + 20, true),
      vz: view.getFloat32(o + 24, true),
      ssspDistance: view.getFloat32(o + 28, true),
      ssspParent: view.getInt32(o + 32, true),
    };
    o += V2_RECORD_BYTES;
  }
  return out;
}

/** Typed arrays are host-endian; the wire is little-endian. Every platform we run on is little-endian. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
let scratch = new ArrayBuffer(0);

/**
 * Word views over a frame's body (after the version byte). The body is 4-byte aligned when the frame
 * starts at an offset of 3 mod 4 (our encoder allocates frames that way); otherwise it is copied once
 * into an aligned scratch buffer, which costs one memcpy and beats per-field DataView reads by far.
 */
function alignedBodyWords(view: DataView, count: number): { u32: Uint32Array; f32: Float32Array; i32: Int32Array } | null {
  if (!HOST_LITTLE_ENDIAN || count === 0) return null;
  const words = count * 9;
  let buf: ArrayBufferLike = view.buffer;
  let off = view.byteOffset + 1;
  if (off % 4 !== 0) {
    if (scratch.byteLength < words * 4) scratch = new ArrayBuffer(Math.max(words * 4, scratch.byteLength * 2));
    new Uint8Array(scratch, 0, words * 4).set(new Uint8Array(view.buffer, view.byteOffset + 1, words * 4));
    buf = scratch;
    off = 0;
  }
  return { u32: new Uint32Array(buf, off, words), f32: new Float32Array(buf, off, words), i32: new Int32Array(buf, off, words) };
}

/** A frame buffer whose body is 4-byte aligned (the Uint8Array starts at byte 3 of its ArrayBuffer). */
export function allocAlignedFrame(count: number): Uint8Array {
  const size = V2_HEADER_BYTES + count * V2_RECORD_BYTES;
  return new Uint8Array(new ArrayBuffer(size + 3), 3, size);
}

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

export const KIND_CODE = { other: 0, agent: 1, knowledge: 2 } as const;

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

/**
 * The fast path's loop, kept in a small monomorphic function of its own: inside the larger decoder
 * (several paths, optional fields) V8 optimised it about ten times worse.
 */
function decodeWords(
  count: number,
  f32: Float32Array,
  i32: Int32Array,
  ids: Uint32Array,
  kinds: Uint8Array,
  positions: Float32Array,
  velocities: Float32Array,
  ssspDistance: Float32Array | null,
  ssspParent: Int32Array | null,
): void {
  for (let i = 0, w = 0, p = 0; i < count; i++, w += 9, p += 3) {
    // Read as int32 so V8 stays in small-integer arithmetic: the agent flag is the sign bit.
    const raw = i32[w]!;
    ids[i] = raw & NODE_ID_MASK;
    kinds[i] = raw < 0 ? 1 : (raw & KNOWLEDGE_NODE_FLAG) !== 0 ? 2 : 0;
    positions[p] = f32[w + 1]!;
    positions[p + 1] = f32[w + 2]!;
    positions[p + 2] = f32[w + 3]!;
    velocities[p] = f32[w + 4]!;
    velocities[p + 1] = f32[w + 5]!;
    velocities[p + 2] = f32[w + 6]!;
  }
  if (ssspDistance) for (let i = 0, w = 7; i < count; i++, w += 9) ssspDistance[i] = f32[w]!;
  if (ssspParent) for (let i = 0, w = 8; i < count; i++, w += 9) ssspParent[i] = i32[w]!;
}

/**
 * Index of the first record whose id word has both the agent and the knowledge flag, or -1. Reads the
 * aligned word view when there is one (a DataView pass cost as much as the whole decode).
 */
function firstBothFlags(view: DataView, u32: Uint32Array | null, count: number): number {
  if (u32) {
    for (let i = 0, w = 0; i < count; i++, w += 9) if (u32[w]! >>> 30 === 3) return i;
  } else {
    for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) if (view.getUint32(o, true) >>> 30 === 3) return i;
  }
  return -1;
}

/**
 * Decodes into caller-owned typed arrays without allocating per record. Returns the record count.
 * The whole frame is validated (version, length, flags) before any slot is written, so a bad frame
 * leaves the buffers as they were.
 */
export function decodeNodeFrameInto(bytes: ArrayBuffer | Uint8Array, out: NodeFrameBuffers): number {
  const view = asView(bytes);
  checkVersion(view);
  const count = frameRecordCount(view.byteLength);
  if (count > out.ids.length || count * 3 > out.positions.length || count * 3 > out.velocities.length) {
    throw new FrameError('capacity', `frame holds ${count} records but the buffers hold ${out.ids.length}`);
  }
  const { ids, kinds, positions, velocities, ssspDistance, ssspParent } = out;
  const words = alignedBodyWords(view, count);
  const bad = firstBothFlags(view, words?.u32 ?? null, count);
  if (bad >= 0) {
    const raw = view.getUint32(V2_HEADER_BYTES + bad * V2_RECORD_BYTES, true);
    throw new FrameError('both-flags', `record ${bad}: node id 0x${raw.toString(16)} has both flags set`);
  }
  if (words) {
    decodeWords(count, words.f32, words.i32, ids, kinds, positions, velocities, ssspDistance ?? null, ssspParent ?? null);
    return count;
  }
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
  return count;
}

/**
 * Encodes from typed arrays (the physics engine's layout) without building NodeState objects.
 * `target` may be passed to reuse a buffer of exactly the right size.
 */
export function encodeNodeFrameFrom(
  count: number,
  ids: ArrayLike<number>,
  kinds: ArrayLike<number>,
  positions: ArrayLike<number>,
  velocities: ArrayLike<number>,
  target?: Uint8Array,
): Uint8Array {
  const size = V2_HEADER_BYTES + count * V2_RECORD_BYTES;
  const bytes = target && target.byteLength === size ? target : allocAlignedFrame(count);
  bytes[0] = PROTOCOL_V2;
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id <= MAX_NODE_ID)) throw new FrameError('id-out-of-range', `node id ${id} does not fit in 30 bits`);
  }
  const flagOf = (k: number | undefined) => (k === 1 ? AGENT_NODE_FLAG : k === 2 ? KNOWLEDGE_NODE_FLAG : 0);
  if (HOST_LITTLE_ENDIAN && (bytes.byteOffset + 1) % 4 === 0 && count > 0) {
    const words = count * 9;
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + 1, words);
    const f32 = new Float32Array(bytes.buffer, bytes.byteOffset + 1, words);
    const i32 = new Int32Array(bytes.buffer, bytes.byteOffset + 1, words);
    for (let i = 0, w = 0, p = 0; i < count; i++, w += 9, p += 3) {
      u32[w] = (ids[i]! | flagOf(kinds[i])) >>> 0;
      f32[w + 1] = positions[p]!;
      f32[w + 2] = positions[p + 1]!;
      f32[w + 3] = positions[p + 2]!;
      f32[w + 4] = velocities[p]!;
      f32[w + 5] = velocities[p + 1]!;
      f32[w + 6] = velocities[p + 2]!;
      f32[w + 7] = Infinity;
      i32[w + 8] = -1;
    }
    return bytes;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    view.setUint32(o, (ids[i]! | flagOf(kinds[i])) >>> 0, true);
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
  return bytes;
}

/** True when every position and velocity in the frame is finite (inbound frames from browsers must be). */
export function frameIsFinite(bytes: ArrayBuffer | Uint8Array): boolean {
  const view = asView(bytes);
  const count = frameRecordCount(view.byteLength);
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    for (let f = 4; f < 28; f += 4) if (!Number.isFinite(view.getFloat32(o + f, true))) return false;
  }
  return true;
}

/** Why the relay refuses a frame a browser uploaded; each is answered with close code 1007. */
export type UploadRejection =
  | 'empty'
  | 'version-1'
  | 'unknown-version'
  | 'bad-length'
  | 'not-finite'
  | 'both-flags'
  | 'unknown-node';

export type UploadCheck = { ok: true; count: number } | { ok: false; reason: UploadRejection; message: string };

/**
 * Everything the relay checks on an uploaded frame before it shares it, in this order: a version byte
 * that is 2, a length of exactly 1 + 36*N, finite positions and velocities, then per record (first
 * failure wins) not both flags, the agent flag, and an id the graph knows. Only agents are laid out
 * by clients, so a knowledge or plain node in an upload is as unknown as an id the graph never issued.
 * `nodes.knownNodeId` is called as a method (pass the telemetry object itself) once per record.
 * `message` is the close reason the relay sends; `count` is the number of records.
 */
export function checkUpload(bytes: Uint8Array, nodes: { knownNodeId(id: number): boolean }): UploadCheck {
  const reject = (reason: UploadRejection, message: string): UploadCheck => ({ ok: false, reason, message });
  if (bytes.byteLength < V2_HEADER_BYTES) return reject('empty', 'empty frame');
  const version = bytes[0]!;
  if (version !== PROTOCOL_V2) return reject(version === 1 ? 'version-1' : 'unknown-version', `frame version ${version} is not 2`);
  const body = bytes.byteLength - V2_HEADER_BYTES;
  if (body % V2_RECORD_BYTES !== 0) return reject('bad-length', badLengthMessage(bytes.byteLength));
  const count = body / V2_RECORD_BYTES;
  if (!frameIsFinite(bytes)) return reject('not-finite', 'frame holds NaN or infinite values');
  const view = asView(bytes);
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    const raw = view.getUint32(o, true);
    if (raw >>> 30 === 3) return reject('both-flags', bothFlagsMessage(raw));
    const id = raw & NODE_ID_MASK;
    if ((raw & AGENT_NODE_FLAG) === 0 || !nodes.knownNodeId(id)) return reject('unknown-node', `frame names unknown node ${id}`);
  }
  return { ok: true, count };
}
