/**
 * 32-bit word views over a V2 frame's body, for frameIsFinite's word loop (binaryV2.ts). Typed arrays
 * read and write in the host's byte order and only at 4-byte-aligned offsets; the wire is little-endian
 * and the body starts one byte into the frame, so it is aligned in place only when the frame starts at
 * 3 mod 4 (allocAlignedFrame). A frame the browser receives starts at 0, and Node hands frames over at
 * any offset: those bodies are copied once into a reused scratch buffer, because a memcpy plus a word
 * loop costs far less than per-field DataView calls. (The typed-array codec, binaryV2Arrays.ts, needs
 * neither: it copies whole records with TypedArray.set, which takes any alignment.)
 * Pure, no Node or DOM dependencies.
 */

/** The word paths need a little-endian host (every platform we run on); elsewhere callers use DataView. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

let scratch = new ArrayBuffer(0);

/**
 * A reused Int32Array of `words` words, valid until the next call (callers use it synchronously and
 * never hold it). It grows to the largest frame body seen, which the WebSocket payload limit bounds.
 */
function scratchWords(words: number): Int32Array {
  if (scratch.byteLength < words * 4) scratch = new ArrayBuffer(Math.max(words * 4, Math.min(scratch.byteLength * 2, 64 << 20)));
  return new Int32Array(scratch, 0, words);
}

/**
 * The first `words` words after the version byte of `frame`, as host-order int32: a view over the frame
 * itself when aligned, else over a copy in the scratch buffer. null on a big-endian host.
 * Floats are read as their bit patterns (Float32Array would convert each through a double).
 */
export function bodyWords(frame: Uint8Array, words: number): Int32Array | null {
  if (!HOST_LITTLE_ENDIAN) return null;
  const start = frame.byteOffset + 1;
  if (start % 4 === 0) return new Int32Array(frame.buffer, start, words);
  const w = scratchWords(words);
  new Uint8Array(w.buffer, 0, words * 4).set(frame.subarray(1, 1 + words * 4));
  return w;
}
