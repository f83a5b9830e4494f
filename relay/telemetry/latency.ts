/**
 * A bounded window of request latencies (ms): p50/p95 for health and the performance route, and the raw
 * samples for the Prometheus summary.
 */

export interface LatencyStats {
  last: number | null;
  p50: number | null;
  p95: number | null;
  count: number;
}

export class LatencyWindow {
  private readonly xs: number[] = [];

  constructor(private readonly capacity: number) {}

  add(ms: number): void {
    this.xs.push(ms);
    if (this.xs.length > this.capacity) this.xs.shift();
  }

  samples(): readonly number[] {
    return this.xs;
  }

  stats(): LatencyStats {
    const xs = this.xs;
    if (xs.length === 0) return { last: null, p50: null, p95: null, count: 0 };
    const s = [...xs].sort((a, b) => a - b);
    const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
    return { last: xs[xs.length - 1]!, p50: at(0.5), p95: at(0.95), count: xs.length };
  }
}
