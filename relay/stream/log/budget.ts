/**
 * A client's byte budget for live log (token bucket): `ratePerSec` bytes a second on average, at most
 * `burst` at once. Bytes, not lines: a swarm printing megabytes costs its subscribers' budgets, never
 * another client's share of the relay. Pure (time is passed in).
 */
export class ByteBudget {
  private tokens: number;
  private at: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Bytes that may be sent now. */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.ratePerSec) / 1000);
      this.at = now;
    }
    return Math.floor(Math.max(0, this.tokens));
  }

  /** Charges what was sent (may go below zero: a message's JSON escaping costs more than its bytes). */
  take(bytes: number, now: number): void {
    this.available(now);
    this.tokens -= bytes;
  }
}
