import { describe, expect, it } from 'vitest';
import { DockerFrameTooLargeError, DockerStreamDecoder, DockerStreamError, demuxDockerStream, encodeDockerFrame } from './dockerStream.js';

// Golden bytes: stdout "hi\n" then stderr "oops", exactly as the Engine frames them.
const GOLDEN = Buffer.from([
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x68, 0x69, 0x0a,
  0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x6f, 0x6f, 0x70, 0x73,
]);

describe('docker stream demultiplexing', () => {
  it('decodes whole frames from golden bytes', () => {
    const { stdout, stderr } = demuxDockerStream(GOLDEN);
    expect(stdout.toString()).toBe('hi\n');
    expect(stderr.toString()).toBe('oops');
  });

  it('encodes the same golden bytes', () => {
    expect(Buffer.concat([encodeDockerFrame('stdout', Buffer.from('hi\n')), encodeDockerFrame('stderr', Buffer.from('oops'))])).toEqual(GOLDEN);
  });

  it('handles a chunk split at every byte, including inside the 8-byte header', () => {
    for (let cut = 1; cut < GOLDEN.length; cut++) {
      const d = new DockerStreamDecoder();
      const frames = [...d.push(GOLDEN.subarray(0, cut)), ...d.push(GOLDEN.subarray(cut))];
      expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
        ['stdout', 'hi\n'],
        ['stderr', 'oops'],
      ]);
      expect(d.buffered).toBe(0);
    }
  });

  it('feeds one byte at a time', () => {
    const d = new DockerStreamDecoder();
    const frames = [];
    for (const b of GOLDEN) frames.push(...d.push(Buffer.from([b])));
    expect(frames).toHaveLength(2);
  });

  it('decodes several frames in one chunk and zero-length frames', () => {
    const buf = Buffer.concat([encodeDockerFrame('stdout', Buffer.alloc(0)), GOLDEN, encodeDockerFrame('stdout', Buffer.from('x'))]);
    const { stdout } = demuxDockerStream(buf);
    expect(stdout.toString()).toBe('hi\nx');
  });

  it('keeps multi-byte UTF-8 split across frames intact after concatenation', () => {
    const bee = Buffer.from('🐝');
    const buf = Buffer.concat([encodeDockerFrame('stdout', bee.subarray(0, 2)), encodeDockerFrame('stdout', bee.subarray(2))]);
    expect(demuxDockerStream(buf).stdout.toString('utf8')).toBe('🐝');
  });

  it('rejects garbage headers (unknown type, non-zero padding)', () => {
    expect(() => new DockerStreamDecoder().push(Buffer.from([0x07, 0, 0, 0, 0, 0, 0, 1, 0x41]))).toThrow(DockerStreamError);
    expect(() => new DockerStreamDecoder().push(Buffer.from([0x01, 0, 9, 0, 0, 0, 0, 1, 0x41]))).toThrow(DockerStreamError);
    expect(() => new DockerStreamDecoder().push(Buffer.from('plain text, not framed'))).toThrow(DockerStreamError);
  });

  it('rejects a frame longer than the cap before buffering it', () => {
    const h = Buffer.from([0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    expect(() => new DockerStreamDecoder().push(h, 1024)).toThrow(DockerFrameTooLargeError);
  });

  it('reports a stream that ends inside a frame', () => {
    expect(() => demuxDockerStream(GOLDEN.subarray(0, GOLDEN.length - 1))).toThrow(/inside a frame/);
    expect(() => demuxDockerStream(GOLDEN.subarray(0, 5))).toThrow(/inside a frame/);
  });
});
