/**
 * Node positions in typed arrays, one slot per drawn agent (slot i = instance i of the instanced mesh).
 * Shared by the layout (leader: physics writes here), the network (follower: relay frames land in
 * `target`, leader: frames are encoded from here) and the scene (reads `pos` every frame).
 * Never React state. `sync` keeps existing agents where they are and puts new ones next to their queen,
 * so nothing jumps when the graph changes.
 */
import { encodeNodeFrameFrom, type NodeFrameBuffers } from '../../shared/index.js';
// One seeded PRNG for the whole project: placement must be reproducible, never Math.random.
import { mulberry32 } from '../../shared/random.js';
export { mulberry32 };

export interface SlotNode {
  nodeId: number;
  /** nodeId of the agent's queen/parent when known (new agents are placed near it). */
  parentNodeId: number | null;
}

/** Radius of the shell new parentless agents are placed on (upstream used 100-400; ours is tighter). */
export const SPAWN_RADIUS_MIN = 60;
export const SPAWN_RADIUS_MAX = 160;
/** Distance from its queen a new worker is placed at. */
export const SPAWN_NEAR_PARENT = 30;


export class NodePositions {
  count = 0;
  capacity: number;
  ids: Uint32Array;
  /** 1 = agent (frame flag); kept per slot for encodeNodeFrameFrom. */
  kinds: Uint8Array;
  pos: Float32Array;
  vel: Float32Array;
  /** Positions received from the relay (follower), eased towards by `follow`. */
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
    this.kinds = new Uint8Array(capacity);
    this.pos = new Float32Array(capacity * 3);
    this.vel = new Float32Array(capacity * 3);
    this.target = new Float32Array(capacity * 3);
    this.hasTarget = new Uint8Array(capacity);
    this.rand = mulberry32(seed);
  }

  /** Position of a node, or null when it has no slot. */
  positionOf(nodeId: number, out: [number, number, number]): [number, number, number] | null {
    const slot = this.slotOf.get(nodeId);
    if (slot === undefined) return null;
    out[0] = this.pos[slot * 3]!;
    out[1] = this.pos[slot * 3 + 1]!;
    out[2] = this.pos[slot * 3 + 2]!;
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
    const kinds = new Uint8Array(cap);
    const pos = new Float32Array(cap * 3);
    const vel = new Float32Array(cap * 3);
    const target = new Float32Array(cap * 3);
    const hasTarget = new Uint8Array(cap);
    const newSlots = new Map<number, number>();
    const fresh: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      ids[i] = n.nodeId;
      kinds[i] = 1;
      newSlots.set(n.nodeId, i);
      const old = this.slotOf.get(n.nodeId);
      if (old === undefined) {
        fresh.push(i);
        continue;
      }
      for (let k = 0; k < 3; k++) {
        pos[i * 3 + k] = this.pos[old * 3 + k]!;
        vel[i * 3 + k] = this.vel[old * 3 + k]!;
        target[i * 3 + k] = this.target[old * 3 + k]!;
      }
      hasTarget[i] = this.hasTarget[old]!;
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
        if (parentSlot !== undefined && placed[parentSlot]) {
          pos[i * 3] = pos[parentSlot * 3]! + dx * SPAWN_NEAR_PARENT;
          pos[i * 3 + 1] = pos[parentSlot * 3 + 1]! + dy * SPAWN_NEAR_PARENT;
          pos[i * 3 + 2] = pos[parentSlot * 3 + 2]! + dz * SPAWN_NEAR_PARENT;
        } else if (pass === 0 && parentSlot !== undefined) {
          continue; // wait for the parent to be placed in this pass
        } else {
          const r = SPAWN_RADIUS_MIN + (SPAWN_RADIUS_MAX - SPAWN_RADIUS_MIN) * this.rand();
          pos[i * 3] = dx * r;
          pos[i * 3 + 1] = dy * r;
          pos[i * 3 + 2] = dz * r;
        }
        placed[i] = 1;
      }
    }
    this.capacity = cap;
    this.ids = ids;
    this.kinds = kinds;
    this.pos = pos;
    this.vel = vel;
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
  applyRemote(frame: NodeFrameBuffers, records: number): number {
    let matched = 0;
    for (let r = 0; r < records; r++) {
      const slot = this.slotOf.get(frame.ids[r]!);
      if (slot === undefined) continue;
      const x = frame.positions[r * 3]!;
      const y = frame.positions[r * 3 + 1]!;
      const z = frame.positions[r * 3 + 2]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
      this.target[slot * 3] = x;
      this.target[slot * 3 + 1] = y;
      this.target[slot * 3 + 2] = z;
      if (!this.hasTarget[slot]) {
        this.pos[slot * 3] = x;
        this.pos[slot * 3 + 1] = y;
        this.pos[slot * 3 + 2] = z;
        this.hasTarget[slot] = 1;
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
    for (let i = 0; i < this.count; i++) {
      if (!this.hasTarget[i]) continue;
      for (let k = 0; k < 3; k++) {
        const j = i * 3 + k;
        const d = this.target[j]! - this.pos[j]!;
        const ad = Math.abs(d);
        if (ad > maxD) maxD = ad;
        this.pos[j] = ad < 1e-3 ? this.target[j]! : this.pos[j]! + d * a;
      }
    }
    if (maxD > 0) this.version++;
    return maxD;
  }

  /** The leader's upload: a V2 frame of every slot. */
  encode(target?: Uint8Array): Uint8Array {
    return encodeNodeFrameFrom(this.count, this.ids, this.kinds, this.pos, this.vel, target);
  }

  /** Centre and radius of the bounding sphere of all slots (for "fit"). */
  bounds(): { cx: number; cy: number; cz: number; radius: number } {
    if (this.count === 0) return { cx: 0, cy: 0, cz: 0, radius: 50 };
    let cx = 0;
    let cy = 0;
    let cz = 0;
    for (let i = 0; i < this.count; i++) {
      cx += this.pos[i * 3]!;
      cy += this.pos[i * 3 + 1]!;
      cz += this.pos[i * 3 + 2]!;
    }
    cx /= this.count;
    cy /= this.count;
    cz /= this.count;
    let r2 = 0;
    for (let i = 0; i < this.count; i++) {
      const dx = this.pos[i * 3]! - cx;
      const dy = this.pos[i * 3 + 1]! - cy;
      const dz = this.pos[i * 3 + 2]! - cz;
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
