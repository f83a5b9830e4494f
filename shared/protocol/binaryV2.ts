/**
 * Binary position frames, protocol V2 (upstream-contracts.md section 1), byte-exact.
 *
 * One WebSocket binary message = version byte 0x02, then N records of 36 bytes, little-endian:
 *   u32 id (bit 31 agent, bit 30 knowledge) | 3 x f32 position | 3 x f32 velocity | f32 ssspDistance | i32 ssspParent
 * No count and no checksum: the length alone says how many records there are, so it is checked exactly.
 * This file is the format: its constants, its checks (including the relay's checks on uploads) and the
 * object codec. The per-frame typed-array codec is binaryV2Arrays.ts.
 * Pure functions, no Node or DOM dependencies: imported by the relay and the browser alike.
 */
import { bodyWords } from './frameWords.js';

export const PROTOCOL_V2 = 2;
export const V2_HEADER_BYTES = 1;
export const V2_RECORD_BYTES = 36;
/** Byte offsets of fields inside a record (the id is at 0, ssspParent at 32). */
export const V2_POSITION_OFFSET = 4;
export const V2_VELOCITY_OFFSET = 16;
export const V2_SSSP_DISTANCE_OFFSET = 28;
/** Bytes of a position or a velocity: three f32. */
export const V2_VECTOR_BYTES = 12;
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

/** The wording of a both-flags refusal, shared by every decoder and by checkUpload. */
export function bothFlagsMessage(raw: number): string {
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

/** Checks the version byte and the length; returns the number of records. */
export function checkedRecordCount(bytes: Uint8Array): number {
  if (bytes.byteLength < 1) throw new FrameError('empty', 'frame is empty: missing version byte');
  const version = bytes[0]!;
  if (version === 1) {
    throw new FrameError('version-1', 'protocol version 1 (u16 ids) is retired: ids above 16383 collided');
  }
  if (version !== PROTOCOL_V2) {
    throw new FrameError('unknown-version', `unknown protocol version byte 0x${version.toString(16).padStart(2, '0')}`);
  }
  return frameRecordCount(bytes.byteLength);
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

function asBytes(bytes: ArrayBuffer | Uint8Array): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

function asView(bytes: ArrayBuffer | Uint8Array): DataView {
  const u8 = asBytes(bytes);
  return new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
}

export function decodeNodeFrame(bytes: ArrayBuffer | Uint8Array): NodeState[] {
  const view = asView(bytes);
  const count = checkedRecordCount(asBytes(bytes));
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

/**
 * Which loops the fast codec paths take: 'auto' the word loops on a little-endian host, 'dataview' the
 * portable per-field path a big-endian host takes (tests force it to check that both agree).
 */
export type CodecPath = 'auto' | 'dataview';

/** f32 exponent bits: all ones is NaN or an infinity. */
const F32_EXPONENT = 0x7f800000;

/** Word loop of frameIsFinite: words 1..6 of each record are the position and the velocity. */
function finiteWords(w: Int32Array, count: number): boolean {
  for (let o = 0, end = count * 9; o < end; o += 9) {
    for (let f = 1; f < 7; f++) if ((w[o + f]! & F32_EXPONENT) === F32_EXPONENT) return false;
  }
  return true;
}

/** True when every position and velocity in the frame is finite (inbound frames from browsers must be). */
export function frameIsFinite(bytes: ArrayBuffer | Uint8Array, path: CodecPath = 'auto'): boolean {
  const u8 = asBytes(bytes);
  const count = frameRecordCount(u8.byteLength);
  const w = path === 'auto' && count > 0 ? bodyWords(u8, count * (V2_RECORD_BYTES / 4)) : null;
  if (w) return finiteWords(w, count);
  const view = asView(u8);
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    for (let f = V2_POSITION_OFFSET; f < V2_SSSP_DISTANCE_OFFSET; f += 4) if (!Number.isFinite(view.getFloat32(o + f, true))) return false;
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
  // Ids through DataView, not the word view: that may be the shared scratch copy, and the callback
  // below is foreign code. Its cost dominates this loop anyway.
  const view = asView(bytes);
  for (let i = 0, o = V2_HEADER_BYTES; i < count; i++, o += V2_RECORD_BYTES) {
    const raw = view.getUint32(o, true);
    if (raw >>> 30 === 3) return reject('both-flags', bothFlagsMessage(raw));
    const id = raw & NODE_ID_MASK;
    if ((raw & AGENT_NODE_FLAG) === 0 || !nodes.knownNodeId(id)) return reject('unknown-node', `frame names unknown node ${id}`);
  }
  return { ok: true, count };
}
