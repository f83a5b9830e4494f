/**
 * The MCP client's reconnect timing: exponential backoff with jitter after a connection that never
 * became ready, a short fixed delay after one that had been ready (a routine server-side close).
 */

/** Reconnect timing. Delays grow BASE_MS * FACTOR^attempt up to MAX_MS, +-JITTER of themselves. */
export const RECONNECT = {
  /** First retry after a connection that never became ready. */
  BASE_MS: 250,
  /**
   * Cap of the exponential backoff: a down server is retried at least this often. Kept low because the
   * relay must be back within 5 s of the server returning (issue 7): jitter only shortens it, so the wait is
   * at most 2 s, and a connect attempt to a closed local port costs next to nothing.
   */
  MAX_MS: 2_000,
  FACTOR: 2,
  /** Fraction of the delay randomised, so many relays do not reconnect in lockstep. */
  JITTER: 0.2,
  /**
   * Retry delay after a connection that had been ready drops: the upstream server closes every
   * connection 5 minutes after it opened, which is routine, not a failure.
   */
  AFTER_READY_MS: 50,
} as const;

/** Delay before the next connect attempt; `attempt` counts failures since the last ready connection. */
export function reconnectDelay(afterReady: boolean, attempt: number, random: () => number): number {
  if (afterReady) return RECONNECT.AFTER_READY_MS;
  const base = Math.min(RECONNECT.MAX_MS, RECONNECT.BASE_MS * RECONNECT.FACTOR ** attempt);
  return Math.round(Math.min(RECONNECT.MAX_MS, base * (1 + RECONNECT.JITTER * (random() * 2 - 1))));
}
