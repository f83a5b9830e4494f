/**
 * Per-agent metric history for the detail panel's sparklines (cpu, memory, token rate over the last
 * 5 minutes), filled from the relay's `performance` messages. Fast data: kept in typed ring buffers
 * outside React; the sparkline component subscribes and redraws uPlot directly.
 */

/** History window, ms. */
export const PERFORMANCE_WINDOW_MS = 5 * 60 * 1000;
/** Ring capacity per agent: 5 minutes at the relay's 4 Hz cap, plus slack. */
export const PERFORMANCE_CAPACITY = 1500;
/** Agents tracked at once (the subscribe message allows 32 selected agents). */
export const PERFORMANCE_MAX_AGENTS = 32;

export interface PerformanceSample {
  agentId: string;
  time: number;
  cpuUsage: number | null;
  memoryUsage: number | null;
  tokenRate: number | null;
}

/** Column arrays for uPlot: [time (s), cpu, memory, tokenRate]; null is a gap. */
export type PerformanceColumns = [number[], (number | null)[], (number | null)[], (number | null)[]];

class Ring {
  readonly time = new Float64Array(PERFORMANCE_CAPACITY);
  // NaN encodes "unknown" so the sparkline shows a gap, never a made-up zero.
  readonly cpu = new Float32Array(PERFORMANCE_CAPACITY);
  readonly mem = new Float32Array(PERFORMANCE_CAPACITY);
  readonly rate = new Float32Array(PERFORMANCE_CAPACITY);
  head = 0;
  size = 0;
  lastTouched = 0;
}

export class PerformanceHistory {
  private rings = new Map<string, Ring>();
  private listeners = new Set<(agentId: string) => void>();

  push(s: PerformanceSample): void {
    if (!Number.isFinite(s.time)) return;
    let ring = this.rings.get(s.agentId);
    if (!ring) {
      if (this.rings.size >= PERFORMANCE_MAX_AGENTS) this.evictOldest();
      ring = new Ring();
      this.rings.set(s.agentId, ring);
    }
    // Out-of-order samples (replays after a reconnect) are dropped: the series must stay sorted.
    if (ring.size > 0) {
      const lastIdx = (ring.head - 1 + PERFORMANCE_CAPACITY) % PERFORMANCE_CAPACITY;
      if (s.time <= (ring.time[lastIdx] ?? 0)) return;
    }
    const i = ring.head;
    ring.time[i] = s.time;
    ring.cpu[i] = num(s.cpuUsage);
    ring.mem[i] = num(s.memoryUsage);
    ring.rate[i] = num(s.tokenRate);
    ring.head = (i + 1) % PERFORMANCE_CAPACITY;
    ring.size = Math.min(ring.size + 1, PERFORMANCE_CAPACITY);
    ring.lastTouched = s.time;
    for (const l of this.listeners) l(s.agentId);
  }

  /** Samples within the window ending at `now`, oldest first, as uPlot columns. */
  columns(agentId: string, now: number): PerformanceColumns {
    const out: PerformanceColumns = [[], [], [], []];
    const ring = this.rings.get(agentId);
    if (!ring) return out;
    const start = (ring.head - ring.size + PERFORMANCE_CAPACITY) % PERFORMANCE_CAPACITY;
    for (let k = 0; k < ring.size; k++) {
      const i = (start + k) % PERFORMANCE_CAPACITY;
      const t = ring.time[i] ?? 0;
      if (t < now - PERFORMANCE_WINDOW_MS) continue;
      out[0].push(t / 1000);
      out[1].push(nullable(ring.cpu[i]));
      out[2].push(nullable(ring.mem[i]));
      out[3].push(nullable(ring.rate[i]));
    }
    return out;
  }

  size(agentId: string): number {
    return this.rings.get(agentId)?.size ?? 0;
  }

  forget(agentId: string): void {
    this.rings.delete(agentId);
  }

  subscribe(listener: (agentId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private evictOldest(): void {
    let oldestId: string | null = null;
    let oldest = Infinity;
    for (const [id, r] of this.rings) if (r.lastTouched < oldest) [oldest, oldestId] = [r.lastTouched, id];
    if (oldestId !== null) this.rings.delete(oldestId);
  }
}

function num(v: number | null): number {
  return v === null || !Number.isFinite(v) ? NaN : v;
}
function nullable(v: number | undefined): number | null {
  return v === undefined || Number.isNaN(v) ? null : v;
}
