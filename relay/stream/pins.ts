/**
 * Pins: a viewer drags a node and the layout leader's physics holds it there. The relay keeps the latest
 * pin per node (bounded by MAX_PINS, and by the graph: a removed agent's pin goes with it), rate-limits
 * each client with a token bucket (over the rate, changes wait coalesced per node: a 60 fps drag loses
 * nothing but the intermediate positions), and forwards every change to the leader through an outbox
 * that waits while the leader's socket is backed up. A newly elected leader receives every pin.
 */
import type { StreamMetrics } from './metrics.js';
import type { Outbound } from './outbound.js';
import type { StreamClient } from './streamClient.js';

/** Pin/unpin messages a client may have applied per second (a drag at 60 fps is coalesced, not lost). */
export const PIN_RATE_PER_SEC = 30;
/** Pins held by the relay at once (bounded by the graph too: a removed agent's pin is dropped). */
export const MAX_PINS = 10_000;
/** Distinct nodes a client may have pin changes waiting for its rate limit. */
export const MAX_PENDING_PINS_PER_CLIENT = 1024;

/** A pin (coordinates) or an unpin (null) of one node. */
export type PinOp = { x: number; y: number; z: number } | null;

/** One client's rate limit: a token bucket and the changes waiting for tokens (latest per node). */
export class PinBucket {
  tokens = PIN_RATE_PER_SEC;
  readonly backlog = new Map<number, PinOp>();
  refusedNotifiedAt = 0;
  constructor(public refillAt: number) {}
}

export class PinRelay {
  /** Latest pins by node id; a new leader receives all of them. */
  private readonly pins = new Map<number, { x: number; y: number; z: number }>();
  /** Pin changes not yet written to the current leader (latest per node; refilled on election). */
  private outbox = new Map<number, PinOp>();

  constructor(
    private readonly out: Outbound,
    private readonly m: StreamMetrics,
    private readonly leader: () => StreamClient | undefined,
  ) {}

  /** A pin or unpin from `c` (its node id already checked against the graph). */
  request(c: StreamClient, nodeId: number, op: PinOp): void {
    const backlog = c.pins.backlog;
    // Latest wins per node: re-inserting keeps the backlog in arrival order.
    backlog.delete(nodeId);
    if (backlog.size >= MAX_PENDING_PINS_PER_CLIENT) return this.refuse(c, 'too many pin changes waiting for the rate limit');
    backlog.set(nodeId, op);
    const before = this.m.pinsApplied;
    this.drain(c, Date.now());
    if (backlog.size > 0 && this.m.pinsApplied === before) this.m.pinsThrottled++;
  }

  /** Applies what the rate limit allows now for every client, then writes the leader's outbox. */
  tick(clients: Iterable<StreamClient>): void {
    const now = Date.now();
    for (const c of clients) if (c.pins.backlog.size > 0) this.drain(c, now);
    this.flush();
  }

  /** A new leader: it gets every pin the relay holds (after its role, which the caller sent first). */
  leaderChanged(): void {
    this.outbox = new Map(this.pins);
    this.flush();
  }

  /** Drops pins of nodes no longer in the graph (after agents were removed). */
  dropMissing(inUse: ReadonlySet<number>): void {
    for (const nodeId of this.pins.keys()) {
      if (inUse.has(nodeId)) continue;
      this.pins.delete(nodeId);
      this.outbox.delete(nodeId);
    }
  }

  forget(c: StreamClient): void {
    c.pins.backlog.clear();
  }

  /** Applies a client's waiting pin changes as far as its token bucket allows. */
  private drain(c: StreamClient, now: number): void {
    const b = c.pins;
    if (b.backlog.size === 0) return;
    b.tokens = Math.min(PIN_RATE_PER_SEC, b.tokens + ((now - b.refillAt) / 1000) * PIN_RATE_PER_SEC);
    b.refillAt = now;
    const leaderId = this.leader()?.id ?? null;
    for (const [nodeId, op] of b.backlog) {
      if (b.tokens < 1) break;
      b.backlog.delete(nodeId);
      if (op && !this.pins.has(nodeId) && this.pins.size >= MAX_PINS) {
        this.refuse(c, `at most ${MAX_PINS} pinned nodes`);
        continue;
      }
      b.tokens -= 1;
      if (op) this.pins.set(nodeId, op);
      else this.pins.delete(nodeId);
      this.m.pinsApplied++;
      // The leader's own pins are already in its physics (and supersede any older one still queued for
      // it); everyone else's go to it.
      this.outbox.delete(nodeId);
      if (c.id !== leaderId) this.outbox.set(nodeId, op);
    }
    this.flush();
  }

  /** Writes pending pin changes to the leader unless its socket is backed up (then on a later tick). */
  private flush(): void {
    if (this.outbox.size === 0) return;
    const leader = this.leader();
    if (!leader) {
      this.outbox.clear(); // the next leader gets the whole pin set on election
      return;
    }
    if (this.out.backedUp(leader)) return;
    for (const [nodeId, op] of this.outbox) {
      this.out.json(leader, op ? { type: 'pin', nodeId, x: op.x, y: op.y, z: op.z } : { type: 'unpin', nodeId });
    }
    this.outbox.clear();
  }

  private refuse(c: StreamClient, message: string): void {
    this.m.pinsRefused++;
    const now = Date.now();
    if (now - c.pins.refusedNotifiedAt < 1000) return;
    c.pins.refusedNotifiedAt = now;
    this.out.json(c, { type: 'error', code: 'pin-refused', message });
  }
}
