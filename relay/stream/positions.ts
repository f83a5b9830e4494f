/**
 * Shared positions: the layout leader uploads binary V2 frames, the relay checks them (checkUpload in
 * shared/protocol/binaryV2.ts) and keeps only the latest, and fans the same Buffer out to every
 * follower that is due one: at most positionHz while moving, settledHz once settled. A backed-up
 * follower is skipped (latest wins): once it drains it gets the newest frame, never a queue of stale ones.
 */
import { CloseCode } from '../../shared/protocol/messages.js';
import { checkUpload } from '../../shared/protocol/binaryV2.js';
import type { RelayConfig } from '../config.js';
import type { Refusal } from './inbound.js';
import { maxVelocity, SETTLED_VELOCITY } from './layout.js';
import type { StreamMetrics } from './metrics.js';
import type { Outbound } from './outbound.js';
import type { StreamClient } from './streamClient.js';

export interface PositionDeps {
  clients: ReadonlyMap<string, StreamClient>;
  out: Outbound;
  m: StreamMetrics;
  rates: RelayConfig['stream'];
  nodes: { knownNodeId(id: number): boolean };
  leaderId(): string | null;
  refuse(c: StreamClient, r: Omit<Refusal, 'kind'>): void;
  /** The frames went from moving to settled or back (every client's layout message says which). */
  onSettledChanged(): void;
}

export class Positions {
  private frame: Buffer | null = null;
  private version = 0;
  private isSettled = false;

  constructor(private readonly d: PositionDeps) {}

  get settled(): boolean {
    return this.isSettled;
  }

  /**
   * A frame from a client: refused (the socket closed) unless well-formed and naming known agents; kept
   * only from the leader. True when it became the latest frame (the caller fans it out).
   */
  upload(c: StreamClient, buf: Buffer): boolean {
    if (!c.helloed || c.followOnly) {
      const reason = c.followOnly ? 'binary frames not allowed from a follow-only client' : 'binary frame before hello';
      this.d.refuse(c, { code: CloseCode.unsupportedData, reason, malformed: true });
      return false;
    }
    const check = checkUpload(buf, this.d.nodes);
    if (!check.ok) {
      this.d.refuse(c, { code: CloseCode.invalidPayload, reason: check.message, malformed: true });
      return false;
    }
    this.d.m.framesReceived++;
    if (c.id !== this.d.leaderId()) return false; // only the leader's layout is shared
    c.lastUploadAt = Date.now();
    this.frame = buf;
    this.version++;
    const wasSettled = this.isSettled;
    this.isSettled = check.count === 0 || maxVelocity(buf) < SETTLED_VELOCITY;
    if (wasSettled !== this.isSettled) this.d.onSettledChanged();
    return true;
  }

  /** A newcomer gets the latest frame at once (the leader never gets its own back). */
  sendLatest(c: StreamClient): void {
    if (!this.frame || c.id === this.d.leaderId()) return;
    this.d.out.send(c, this.frame, true);
    this.d.m.framesSent++;
    c.frameVersionSent = this.version;
    c.frameSentAt = Date.now();
  }

  /** Fan-out of the latest leader frame: the same Buffer to every follower that is due one. */
  fanOut(): void {
    const frame = this.frame;
    if (!frame) return;
    const now = Date.now();
    const leaderId = this.d.leaderId();
    // While moving, a follower gets at most positionHz (with slack for timer jitter); settled, settledHz.
    const minGap = this.isSettled ? 1000 / this.d.rates.settledHz - 5 : (1000 / this.d.rates.positionHz) * 0.75;
    for (const c of this.d.clients.values()) {
      if (c.id === leaderId || c.frameVersionSent === this.version) continue;
      if (now - c.frameSentAt < minGap) continue;
      if (this.d.out.backedUp(c, now)) {
        this.d.m.framesDropped++;
        continue;
      }
      this.d.out.send(c, frame, true);
      this.d.m.framesSent++;
      c.frameVersionSent = this.version;
      c.frameSentAt = now;
    }
  }
}
