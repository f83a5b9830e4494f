/**
 * Every byte the stream sends goes through here: counted, and held back from a client whose socket is
 * backed up. A client over BUFFERED_HIGH_WATER gets nothing new until it drains (each caller decides
 * what that means: position frames are latest-wins, deltas are merged, events resume from a cursor);
 * one stuck over it for STALL_TERMINATE_MS is terminated, so its buffers are freed.
 */
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import type { StreamMetrics } from './metrics.js';
import type { StreamClient } from './streamClient.js';

/** Over this many bytes queued on a socket, a client gets nothing new until it drains. */
export const BUFFERED_HIGH_WATER = 512 * 1024;
/** A client stuck over the high-water mark this long is terminated (its buffers are freed). */
export const STALL_TERMINATE_MS = 60_000;
/** JSON bytes per second per client; over it, deltas are merged and held until the next second. */
export const JSON_BUDGET_BYTES_PER_SEC = 2 * 1024 * 1024;

export class Outbound {
  constructor(
    private readonly m: StreamMetrics,
    private readonly log: Logger,
  ) {}

  /** Over the high-water mark (and terminated when it has been for too long). */
  backedUp(c: StreamClient, now = Date.now()): boolean {
    const b = c.ws.bufferedAmount;
    if (b > this.m.maxBufferedAmount) this.m.maxBufferedAmount = b;
    const over = b > BUFFERED_HIGH_WATER;
    if (!over) c.overSince = null;
    else if (c.overSince === null) c.overSince = now;
    else if (now - c.overSince > STALL_TERMINATE_MS) {
      this.log.warn({ client: c.id }, 'terminating a client stalled over the buffer limit');
      c.ws.terminate();
    }
    return over;
  }

  /** Over its JSON budget for the current second (the window restarts every second). */
  overBudget(c: StreamClient, now: number): boolean {
    if (now - c.budgetWindowStart >= 1000) {
      c.budgetWindowStart = now;
      c.budgetBytes = 0;
    }
    return c.budgetBytes > JSON_BUDGET_BYTES_PER_SEC;
  }

  send(c: StreamClient, data: string | Buffer, binary: boolean): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    c.ws.send(data, { binary });
    this.m.bytesSent += bytes;
    this.m.messagesSent++;
    if (!binary) c.budgetBytes += bytes;
  }

  json(c: StreamClient, msg: ServerMessage): void {
    this.send(c, JSON.stringify(msg), false);
  }

  /** One encoding for every client that is not backed up. */
  broadcast(clients: Iterable<StreamClient>, msg: ServerMessage): void {
    const text = JSON.stringify(msg);
    for (const c of clients) if (!this.backedUp(c)) this.send(c, text, false);
  }
}
