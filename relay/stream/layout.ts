/**
 * Shared layout: one leader per graph runs the physics and uploads V2 frames; the relay keeps the
 * latest positions and fans them out to everyone else. The leader is the visible, non-follow client
 * with the best physics score; a better newcomer must beat it by LEADER_HYSTERESIS to take over (a
 * change of leader restarts nothing, but churn would). When the leader leaves, hides or goes silent,
 * the next best takes over at once and continues from the last positions the relay holds.
 */
import { V2_HEADER_BYTES, V2_RECORD_BYTES, V2_VECTOR_BYTES, V2_VELOCITY_OFFSET } from '../../shared/protocol/binaryV2.js';

/** A newcomer replaces the current leader only when its score is this many times higher. */
export const LEADER_HYSTERESIS = 1.25;
/** A leader that uploads nothing for this long (while others could lead) is replaced. */
export const LEADER_SILENCE_MS = 3000;
/** Largest velocity component below which a frame counts as settled. */
export const SETTLED_VELOCITY = 0.05;

export interface LayoutCandidate {
  id: string;
  helloed: boolean;
  visible: boolean;
  followOnly: boolean;
  score: number | null;
  joinedAt: number;
  /** Time of the last frame this client uploaded while leading (or when it became leader). */
  lastUploadAt: number;
  /** Set when replaced for silence; cleared by the client's next hello or visibility message. */
  silenced: boolean;
}

export function eligible(c: LayoutCandidate): boolean {
  return c.helloed && c.visible && !c.followOnly;
}

function better(a: LayoutCandidate, b: LayoutCandidate): boolean {
  // Clients replaced for silence rank below every other eligible client.
  if (a.silenced !== b.silenced) return !a.silenced;
  const sa = a.score ?? 0;
  const sb = b.score ?? 0;
  return sa !== sb ? sa > sb : a.joinedAt < b.joinedAt;
}

/**
 * Returns the id that should lead, given the current one (kept unless ineligible, silent while another
 * could lead, or clearly beaten). `expectUploads` is false while there is nothing to lay out, so an
 * idle leader is not mistaken for a silent one.
 */
export function electLeader(candidates: Iterable<LayoutCandidate>, current: string | null, now: number, expectUploads = true): string | null {
  const all = [...candidates].filter(eligible);
  let best: LayoutCandidate | null = null;
  for (const c of all) if (!best || better(c, best)) best = c;
  const cur = all.find((c) => c.id === current) ?? null;
  if (!cur) return best ? best.id : null;
  if (expectUploads && now - cur.lastUploadAt > LEADER_SILENCE_MS) {
    const others = all.filter((c) => c !== cur && !c.silenced);
    if (others.length > 0) {
      cur.silenced = true;
      let next = others[0]!;
      for (const c of others) if (better(c, next)) next = c;
      return next.id;
    }
    return cur.id;
  }
  if (!best || best.id === cur.id || best.silenced) return cur.id;
  const sb = best.score ?? 0;
  const sc = cur.score ?? 0;
  return sb > sc * LEADER_HYSTERESIS && sb > sc ? best.id : cur.id;
}

/** Largest |velocity| component in a V2 frame. */
export function maxVelocity(frame: Uint8Array): number {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let max = 0;
  for (let o = V2_HEADER_BYTES; o + V2_RECORD_BYTES <= frame.byteLength; o += V2_RECORD_BYTES) {
    for (let f = V2_VELOCITY_OFFSET; f < V2_VELOCITY_OFFSET + V2_VECTOR_BYTES; f += 4) {
      const v = Math.abs(view.getFloat32(o + f, true));
      if (v > max) max = v;
    }
  }
  return max;
}
