/**
 * Who leads the shared layout (the election rules are in layout.ts): re-checked when a client says
 * hello, hides or leaves and every LEADER_CHECK_MS (silence, visibility). Each client is told its role;
 * a new leader gets every pin after its role.
 */
import type { Logger } from 'pino';
import type { LayoutRole } from '../../shared/protocol/messages.js';
import { electLeader } from './layout.js';
import type { StreamMetrics } from './metrics.js';
import type { Outbound } from './outbound.js';
import type { StreamClient } from './streamClient.js';

/** How often layout leadership is re-checked (silence, visibility): well under the 1 s failover goal. */
export const LEADER_CHECK_MS = 250;

export interface LeadershipDeps {
  clients: ReadonlyMap<string, StreamClient>;
  out: Outbound;
  m: StreamMetrics;
  log: Logger;
  /** False while there is nothing to lay out, so an idle leader is not mistaken for a silent one. */
  expectUploads(): boolean;
  /** Whether the latest positions are settled (sent with every role). */
  settled(): boolean;
  /** Called after the role messages of a change (the pins follow them). */
  onLeaderChanged(): void;
}

export class Leadership {
  private id: string | null = null;

  constructor(private readonly d: LeadershipDeps) {}

  get leaderId(): string | null {
    return this.id;
  }

  leader(): StreamClient | undefined {
    return this.id ? this.d.clients.get(this.id) : undefined;
  }

  reelect(): void {
    const now = Date.now();
    const next = electLeader(this.d.clients.values(), this.id, now, this.d.expectUploads());
    if (next === this.id) return;
    const prev = this.id;
    this.id = next;
    this.d.m.leaderChanges++;
    this.d.m.leaders = next ? 1 : 0;
    if (next) {
      const c = this.d.clients.get(next);
      if (c) c.lastUploadAt = now;
    }
    this.d.log.info({ from: prev, to: next }, 'layout leader changed');
    for (const c of this.d.clients.values()) this.sendRole(c, false);
    // The new leader continues from the last positions and gets every pin the relay holds, after its role.
    this.d.onLeaderChanged();
  }

  /** Tells `c` its role (and whether positions are settled); unless `force`, only when it changed. */
  sendRole(c: StreamClient, force: boolean): void {
    const role: LayoutRole = c.id === this.id ? 'leader' : 'follower';
    if (!force && role === c.role) return;
    c.role = role;
    this.d.out.json(c, { type: 'layout', role, settled: this.d.settled() });
  }
}
