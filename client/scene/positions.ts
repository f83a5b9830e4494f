/**
 * Node positions in typed arrays, one slot per drawn agent (slot i = instance i of the instanced mesh).
 * Shared by the layout (leader: physics writes here), the network (follower: relay frames land in
 * `target`, leader: frames are encoded from here) and the scene (reads positions every frame).
 * Each slot is a binary V2 record (`records`, the wire's layout: id word with the agent flag, position,
 * velocity, SSSP "none"), so the leader's upload is one copy and a relay frame is decoded with one copy;
 * readers index with SLOT_STRIDE, which costs them what the stride of 3 did (docs/client.md).
 * Never React state. `sync` keeps existing agents where they are and puts new ones next to their queen,
 * so nothing jumps when the graph changes.
 */
import {
  NODE_ID_MASK,
  V2_POSITION_WORD,
  V2_RECORD_WORDS,
  V2_VELOCITY_WORD,
  allocNodeFrameRecords,
  encodeNodeFrameFrom,
  initRecord,
  type NodeFrameRecords,
} from '../../shared/index.js';
// One seeded PRNG for the whole project: placement must be reproducible, never Math.random.
import { mulberry32 } from '../../shared/random.js';
export { mulberry32 };

export interface SlotNode {
  nodeId: number;
  /** nodeId of the agent's queen/parent when known (new agents are placed near it). */
  parentNodeId: number | null;
  /** A fleet target's anchor (client/scene/clusters.ts): a new parentless agent starts around it, not the origin. */
  anchor?: readonly [number, number, number] | null;
}

/** Radius of the shell new parentless agents are placed on (upstream used 100-400; ours is tighter). */
export const SPAWN_RADIUS_MIN = 60;
export const SPAWN_RADIUS_MAX = 160;
/** Distance from its queen a new worker is placed at. */
export const SPAWN_NEAR_PARENT = 30;

/** Floats per slot in `records.floats`: slot i's position x y z starts at i * SLOT_STRIDE + SLOT_POSITION. */
export const SLOT_STRIDE = V2_RECORD_WORDS;
export const SLOT_POSITION = V2_POSITION_WORD;
/** Velocity x y z of slot i starts at i * SLOT_STRIDE + SLOT_VELOCITY. */
export const SLOT_VELOCITY = V2_VELOCITY_WORD;


export class NodePositions {
  count = 0;
  capacity: number;
  /** Node id of each slot. */
  ids: Uint32Array;
  /** Position and velocity of each slot, as V2 records (see SLOT_STRIDE). */
  records: NodeFrameRecords;
  /** Positions received from the relay (follower), xyz per slot, eased towards by `follow`. */
  target: Float32Array;
  hasTarget: Uint8Array;
  readonly slotOf = new Map<number, number>();
  /** Bumped whenever slot assignment changes. */
  structure = 0;
  /** Bumped whenever any position changes. */
  version = 0;
  private rand: () => number;

  constructor(capacity = 256, seed = 1) {
    this.capacity = capacity;
    this.ids = new Uint32Array(capacity);
    this.records = allocNodeFrameRecords(capacity);
    this.target = new Float32Array(capacity * 3);
    this.hasTarget = new Uint8Array(capacity);
    this.rand = mulberry32(seed);
  }

  /** Position of a node, or null when it has no slot. */
  positionOf(nodeId: number, out: [number, number, number]): [number, number, number] | null {
    const slot = this.slotOf.get(nodeId);
    if (slot === undefined) return null;
    const f = this.records.floats;
    const o = slot * SLOT_STRIDE + SLOT_POSITION;
    out[0] = f[o]!;
    out[1] = f[o + 1]!;
    out[2] = f[o + 2]!;
    return out;
  }

  /**
   * Makes slot i hold nodes[i]. Existing nodes keep their position, velocity and remote target; new
   * ones are seeded next to their parent (if it already has a position) or on a shell around the origin.
   * Returns true when the assignment changed.
   */
  sync(nodes: readonly SlotNode[]): boolean {
    let same = nodes.length === this.count;
    for (let i = 0; same && i < nodes.length; i++) if (this.ids[i] !== nodes[i]!.nodeId) same = false;
    if (same) return false;

    const cap = Math.max(this.capacity, nextPow2(nodes.length));
    const ids = new Uint32Array(cap);
    const records = allocNodeFrameRecords(cap);
    const f = records.floats;
    const old = this.records.floats;
    const target = new Float32Array(cap * 3);
    const hasTarget = new Uint8Array(cap);
    const newSlots = new Map<number, number>();
    const fresh: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      ids[i] = n.nodeId;
      initRecord(records, i, n.nodeId, 'agent');
      newSlots.set(n.nodeId, i);
      const was = this.slotOf.get(n.nodeId);
      if (was === undefined) {
        fresh.push(i);
        continue;
      }
      for (let k = 0; k < 3; k++) {
        f[i * SLOT_STRIDE + SLOT_POSITION + k] = old[was * SLOT_STRIDE + SLOT_POSITION + k]!;
        f[i * SLOT_STRIDE + SLOT_VELOCITY + k] = old[was * SLOT_STRIDE + SLOT_VELOCITY + k]!;
        target[i * 3 + k] = this.target[was * 3 + k]!;
      }
      hasTarget[i] = this.hasTarget[was]!;
    }
    // Seed new nodes after the old ones are copied, so a worker can sit next to a queen that already existed.
    const placed = new Uint8Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) if (!fresh.includes(i)) placed[i] = 1;
    for (const pass of [0, 1]) {
      for (const i of fresh) {
        if (placed[i]) continue;
        const n = nodes[i]!;
        const parentSlot = n.parentNodeId === null ? undefined : newSlots.get(n.parentNodeId);
        const [dx, dy, dz] = this.unitVector();
        const o = i * SLOT_STRIDE + SLOT_POSITION;
        if (parentSlot !== undefined && placed[parentSlot]) {
          const po = parentSlot * SLOT_STRIDE + SLOT_POSITION;
          f[o] = f[po]! + dx * SPAWN_NEAR_PARENT;
          f[o + 1] = f[po + 1]! + dy * SPAWN_NEAR_PARENT;
          f[o + 2] = f[po + 2]! + dz * SPAWN_NEAR_PARENT;
        } else if (pass === 0 && parentSlot !== undefined) {
          continue; // wait for the parent to be placed in this pass
        } else {
          const r = SPAWN_RADIUS_MIN + (SPAWN_RADIUS_MAX - SPAWN_RADIUS_MIN) * this.rand();
          f[o] = dx * r;
          f[o + 1] = dy * r;
          f[o + 2] = dz * r;
          if (n.anchor) {
            f[o] = f[o]! + n.anchor[0];
            f[o + 1] = f[o + 1]! + n.anchor[1];
            f[o + 2] = f[o + 2]! + n.anchor[2];
          }
        }
        placed[i] = 1;
      }
    }
    this.capacity = cap;
    this.ids = ids;
    this.records = records;
    this.target = target;
    this.hasTarget = hasTarget;
    this.slotOf.clear();
    for (const [k, v] of newSlots) this.slotOf.set(k, v);
    this.count = nodes.length;
    this.structure++;
    this.version++;
    return true;
  }

  /**
   * Applies a decoded relay frame (follower): targets move, displayed positions ease towards them in
   * `follow`. A node seen for the first time snaps to its target. Unknown ids (a frame racing the delta
   * that adds the agent) are skipped. Returns how many records matched a slot.
   */
  applyRemote(frame: NodeFrameRecords, count: number): number {
    let matched = 0;
    const { words, floats } = frame;
    const f = this.records.floats;
    const { slotOf, target, hasTarget } = this;
    for (let r = 0, o = 0; r < count; r++, o += V2_RECORD_WORDS) {
      const slot = slotOf.get(words[o]! & NODE_ID_MASK);
      if (slot === undefined) continue;
      const x = floats[o + V2_POSITION_WORD]!;
      const y = floats[o + V2_POSITION_WORD + 1]!;
      const z = floats[o + V2_POSITION_WORD + 2]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
      target[slot * 3] = x;
      target[slot * 3 + 1] = y;
      target[slot * 3 + 2] = z;
      if (!hasTarget[slot]) {
        const p = slot * SLOT_STRIDE + SLOT_POSITION;
        f[p] = x;
        f[p + 1] = y;
        f[p + 2] = z;
        hasTarget[slot] = 1;
      }
      matched++;
    }
    if (matched > 0) this.version++;
    return matched;
  }

  /**
   * Eases displayed positions towards the relay's (follower). `alpha` in (0, 1]: the fraction of the
   * remaining distance covered this frame. Returns the largest remaining distance, so the caller can stop
   * rendering once everything has arrived.
   */
  follow(alpha: number): number {
    let maxD = 0;
    const a = Math.min(1, Math.max(0, alpha));
    const f = this.records.floats;
    const { target, hasTarget, count } = this;
    for (let i = 0, j = 0, p = SLOT_POSITION; i < count; i++, j += 3, p += SLOT_STRIDE) {
      if (!hasTarget[i]) continue;
      for (let k = 0; k < 3; k++) {
        const to = target[j + k]!;
        const at = f[p + k]!;
        const d = to - at;
        const ad = Math.abs(d);
        if (ad > maxD) maxD = ad;
        f[p + k] = ad < 1e-3 ? to : at + d * a;
      }
    }
    if (maxD > 0) this.version++;
    return maxD;
  }

  /**
   * Leader: takes the physics engine's positions (xyz per slot) as the displayed ones, each slot's
   * velocity being its move since the last step; a settled layout says so with zero velocity (the relay
   * tells followers from the velocities).
   */
  applyStep(positions: Float32Array, settled: boolean): void {
    const f = this.records.floats;
    const end = Math.min(this.count, Math.floor(positions.length / 3)) * 3;
    const dv = SLOT_VELOCITY - SLOT_POSITION;
    // Unrolled by hand: V8 runs this about 1.4x faster than a loop over the three axes.
    for (let j = 0, p = SLOT_POSITION; j < end; j += 3, p += SLOT_STRIDE) {
      const x = positions[j]!;
      const y = positions[j + 1]!;
      const z = positions[j + 2]!;
      const x0 = f[p]!;
      const y0 = f[p + 1]!;
      const z0 = f[p + 2]!;
      f[p] = x;
      f[p + 1] = y;
      f[p + 2] = z;
      f[p + dv] = x - x0;
      f[p + dv + 1] = y - y0;
      f[p + dv + 2] = z - z0;
    }
    if (settled) for (let i = 0, v = SLOT_VELOCITY; i < this.count; i++, v += SLOT_STRIDE) f[v] = f[v + 1] = f[v + 2] = 0;
    this.version++;
  }

  /** Puts slot `slot` at (x, y, z) and makes that its remote target too (a drop stays where it was made). */
  place(slot: number, x: number, y: number, z: number): void {
    const f = this.records.floats;
    const p = slot * SLOT_STRIDE + SLOT_POSITION;
    f[p] = x;
    f[p + 1] = y;
    f[p + 2] = z;
    this.target[slot * 3] = x;
    this.target[slot * 3 + 1] = y;
    this.target[slot * 3 + 2] = z;
    this.version++;
  }

  /** Positions of the first `n` slots, xyz per slot (what the physics engine takes). */
  positionsCopy(n = this.count): Float32Array {
    const out = new Float32Array(n * 3);
    const f = this.records.floats;
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = f[i * SLOT_STRIDE + SLOT_POSITION + k]!;
    return out;
  }

  /** The leader's upload: a V2 frame of every slot (a copy of `records`). */
  encode(target?: Uint8Array): Uint8Array {
    return encodeNodeFrameFrom(this.count, this.records, target);
  }

  /** Centre and radius of the bounding sphere of all slots (for "fit"). */
  bounds(): { cx: number; cy: number; cz: number; radius: number } {
    if (this.count === 0) return { cx: 0, cy: 0, cz: 0, radius: 50 };
    let cx = 0;
    let cy = 0;
    let cz = 0;
    const f = this.records.floats;
    for (let i = 0, p = SLOT_POSITION; i < this.count; i++, p += SLOT_STRIDE) {
      cx += f[p]!;
      cy += f[p + 1]!;
      cz += f[p + 2]!;
    }
    cx /= this.count;
    cy /= this.count;
    cz /= this.count;
    let r2 = 0;
    for (let i = 0, p = SLOT_POSITION; i < this.count; i++, p += SLOT_STRIDE) {
      const dx = f[p]! - cx;
      const dy = f[p + 1]! - cy;
      const dz = f[p + 2]! - cz;
      r2 = Math.max(r2, dx * dx + dy * dy + dz * dz);
    }
    return { cx, cy, cz, radius: Math.max(10, Math.sqrt(r2)) };
  }

  private unitVector(): [number, number, number] {
    // Uniform on the sphere.
    const u = this.rand() * 2 - 1;
    const t = this.rand() * Math.PI * 2;
    const s = Math.sqrt(1 - u * u);
    return [s * Math.cos(t), s * Math.sin(t), u];
  }
}

function nextPow2(n: number): number {
  let c = 16;
  while (c < n) c *= 2;
  return c;
}
