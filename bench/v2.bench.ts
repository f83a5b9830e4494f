/**
 * Binary V2 codec at 100k nodes against the physical floor: copying the same 3.6 MB into a Float32Array.
 * The zero-allocation paths (decodeNodeFrameInto, encodeNodeFrameFrom: records in wire layout) are what
 * the client uses per frame; the object decoder is reported too, since tools use it.
 * A frame's body is word-aligned only when the frame starts at 3 mod 4. The first two rows keep their
 * original inputs (an aligned frame; a caller's unaligned target); the `.received` and `.reused` rows
 * are what the browser does: decode an ArrayBuffer from its WebSocket (body at byte 1), and encode into
 * the frame it encoded last time (aligned).
 */
import { performance } from 'node:perf_hooks';
import { decodeNodeFrame } from '../shared/protocol/binaryV2.js';
import {
  V2_POSITION_WORD,
  V2_RECORD_WORDS,
  V2_VELOCITY_WORD,
  allocNodeFrameRecords,
  decodeNodeFrameInto,
  encodeNodeFrameFrom,
  initRecord,
} from '../shared/protocol/binaryV2Arrays.js';
import { median, ratioRow, type BenchContext, type BenchRow } from './types.js';

function timeIt(reps: number, fn: () => void): number {
  for (let i = 0; i < Math.min(5, reps); i++) fn(); // warm the JIT
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    xs.push(performance.now() - t);
  }
  return median(xs);
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const n = 100_000;
  const reps = ctx.quick ? 15 : 60;
  // n agents, positions and velocities as the client's slots hold them (client/scene/positions.ts).
  const records = allocNodeFrameRecords(n);
  for (let i = 0; i < n; i++) {
    initRecord(records, i, i, 'agent');
    for (let k = 0; k < 3; k++) {
      records.floats[i * V2_RECORD_WORDS + V2_POSITION_WORD + k] = Math.sin(i * 3 + k) * 100;
      records.floats[i * V2_RECORD_WORDS + V2_VELOCITY_WORD + k] = Math.cos(i * 3 + k);
    }
  }
  const frame = encodeNodeFrameFrom(n, records);
  const out = allocNodeFrameRecords(n);
  const target = new Uint8Array(frame.byteLength);

  // Floor: the same number of bytes copied into a Float32Array (aligned source, no parsing).
  const alignedSrc = new Float32Array((frame.byteLength - 1) / 4);
  new Uint8Array(alignedSrc.buffer).set(frame.subarray(1));
  const dst = new Float32Array(alignedSrc.length);
  const floorMs = timeIt(reps, () => dst.set(alignedSrc));

  const received = frame.slice().buffer;
  const reused = encodeNodeFrameFrom(n, records);

  const decodeIntoMs = timeIt(reps, () => decodeNodeFrameInto(frame, out));
  const encodeFromMs = timeIt(reps, () => encodeNodeFrameFrom(n, records, target));
  const decodeReceivedMs = timeIt(reps, () => decodeNodeFrameInto(received, out));
  const encodeReusedMs = timeIt(reps, () => encodeNodeFrameFrom(n, records, reused));
  const decodeObjMs = timeIt(Math.max(5, reps / 3), () => decodeNodeFrame(frame));
  const floor = { name: 'Float32Array.set of the same 3.6 MB', value: floorMs, unit: 'ms' };
  const mbps = (ms: number) => `${((frame.byteLength / 1e6) / (ms / 1000)).toFixed(0)} MB/s`;
  // Issue 11 asks for at most 2x the raw copy on the first two rows. The `.received` row is held to 3x,
  // set when an unaligned body cost one more copy (to scratch); it no longer does.
  return [
    ratioRow({ id: 'v2.decodeInto.100k', what: 'V2 decode of a 100k-node frame into typed arrays in wire layout (Node)', ours: { value: decodeIntoMs, unit: 'ms' }, floor, goal: 'ratio <= 2 (x the raw copy)', notes: mbps(decodeIntoMs) }, 'lower-is-better', 2),
    ratioRow({ id: 'v2.encodeFrom.100k', what: 'V2 encode of a 100k-node frame from typed arrays in wire layout into an unaligned target (Node)', ours: { value: encodeFromMs, unit: 'ms' }, floor, goal: 'ratio <= 2 (x the raw copy)', notes: mbps(encodeFromMs) }, 'lower-is-better', 2),
    ratioRow({ id: 'v2.decodeInto.100k.received', what: 'V2 decode of a 100k-node frame received as an ArrayBuffer (unaligned body, as in the browser)', ours: { value: decodeReceivedMs, unit: 'ms' }, floor, goal: 'ratio <= 3 (x the raw copy; one copy to scratch included)', notes: mbps(decodeReceivedMs) }, 'lower-is-better', 3),
    ratioRow({ id: 'v2.encodeFrom.100k.reused', what: 'V2 encode of a 100k-node frame into the frame encoded last time (aligned, as the client does)', ours: { value: encodeReusedMs, unit: 'ms' }, floor, goal: 'ratio <= 2 (x the raw copy)', notes: mbps(encodeReusedMs) }, 'lower-is-better', 2),
    ratioRow({ id: 'v2.decodeObjects.100k', what: 'V2 decode of a 100k-node frame into NodeState objects (Node)', ours: { value: decodeObjMs, unit: 'ms' }, floor, goal: 'ratio <= 25 (allocates 100k objects)', notes: mbps(decodeObjMs) }, 'lower-is-better', 25),
  ];
}
