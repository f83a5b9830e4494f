/**
 * The control plane's periods and bounds. ControlPlaneDeps.timing overrides any of them (tests and
 * benches shorten or stretch them); each field's comment ends with its default.
 */
export interface ControlTiming {
  /** Health probe period. Default 5000 ms. */
  probeMs: number;
  /** Reaper period. Default 30000 ms. */
  reapMs: number;
  /** Exec-read agents refresh (claude-flow backend only). Default 5000 ms. */
  agentsMs: number;
  /** Cleanup period (removes finished sessions older than cleanupMaxAgeHours). Default 1 h. */
  cleanupMs: number;
  cleanupMaxAgeHours: number;
  /** A cached list younger than this is served without an exec. Default 2000 ms. */
  listTtlMs: number;
  /** Give up waiting for a swarm id after this long. Default 60000 ms. */
  discoverMaxMs: number;
  /** Breaker stays open this long before a half-open probe. Default 5000 ms. */
  breakerOpenMs: number;
  /** Resubscribe to Docker events after this delay when the stream ends. Default 1000 ms. */
  eventsRetryMs: number;
  /** Execs running at once (each is a process in the container). Default 8. */
  execConcurrency: number;
  /** Execs allowed to wait for a slot before callers get 429. Default 5000. */
  execQueue: number;
}

export const DEFAULT_TIMING: ControlTiming = {
  probeMs: 5000,
  reapMs: 30_000,
  agentsMs: 5_000,
  cleanupMs: 3_600_000,
  cleanupMaxAgeHours: 24,
  listTtlMs: 2000,
  discoverMaxMs: 60_000,
  breakerOpenMs: 5000,
  eventsRetryMs: 1000,
  execConcurrency: 8,
  execQueue: 5000,
};
