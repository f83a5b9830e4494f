/**
 * Docker's multiplexed exec/attach stream (no TTY): frames of an 8-byte header (stream type byte:
 * 0 stdin, 1 stdout, 2 stderr; three zero bytes; big-endian u32 payload length) then the payload.
 * A pure, incremental decoder: chunks may split anywhere, including inside a header.
 */

export type DockerStreamType = 'stdin' | 'stdout' | 'stderr';
export interface DockerFrame {
  stream: DockerStreamType;
  payload: Buffer;
}

export class DockerStreamError extends Error {
  override name = 'DockerStreamError';
}

/** A well-formed header announcing more bytes than the caller allows. */
export class DockerFrameTooLargeError extends DockerStreamError {
  override name = 'DockerFrameTooLargeError';
}

const TYPES: Record<number, DockerStreamType> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };

export class DockerStreamDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /**
   * Feeds one chunk; returns the frames it completes. Throws DockerStreamError on a header that cannot
   * be Docker's (unknown type, non-zero padding) or a frame longer than `maxFrameBytes`.
   */
  push(chunk: Uint8Array, maxFrameBytes = 64 * 1024 * 1024): DockerFrame[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: DockerFrame[] = [];
    let off = 0;
    while (this.pending.length - off >= 8) {
      const type = TYPES[this.pending[off]!];
      if (type === undefined || this.pending[off + 1] !== 0 || this.pending[off + 2] !== 0 || this.pending[off + 3] !== 0) {
        throw new DockerStreamError(`not a docker stream header at byte ${off}`);
      }
      const len = this.pending.readUInt32BE(off + 4);
      if (len > maxFrameBytes) throw new DockerFrameTooLargeError(`docker stream frame of ${len} bytes is over the cap`);
      if (this.pending.length - off - 8 < len) break;
      frames.push({ stream: type, payload: this.pending.subarray(off + 8, off + 8 + len) });
      off += 8 + len;
    }
    this.pending = this.pending.subarray(off);
    return frames;
  }

  /** Bytes held back waiting for the rest of a frame. Non-zero at end of stream means a truncated frame. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Whole-buffer convenience: every frame, or an error when the buffer ends inside one. */
export function demuxDockerStream(buf: Uint8Array): { stdout: Buffer; stderr: Buffer } {
  const d = new DockerStreamDecoder();
  const frames = d.push(buf);
  if (d.buffered !== 0) throw new DockerStreamError(`stream ended inside a frame (${d.buffered} bytes left)`);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (const f of frames) (f.stream === 'stderr' ? err : out).push(f.payload);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** Encodes one frame (tests and fakes). */
export function encodeDockerFrame(stream: DockerStreamType, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream === 'stdin' ? 0 : stream === 'stdout' ? 1 : 2;
  h.writeUInt32BE(payload.byteLength, 4);
  return Buffer.concat([h, payload]);
}
