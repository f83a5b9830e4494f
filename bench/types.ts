/**
 * What every benchmark returns: one row per comparison, always with the peer or physical floor
 * measured in the same run, so the ratio means something on a noisy 2-core machine.
 */
export interface BenchContext {
  /** `npm run bench -- --quick`: smaller sizes and fewer repetitions (whole run under 2 minutes). */
  quick: boolean;
  /** Repository root. */
  root: string;
  /** Path to Debian's chromium when present, else null (browser rows are then reported as not run). */
  chromium: string | null;
  /** True when a Docker engine answers and the kit's image is built (docker rows need it). */
  docker: boolean;
  log: (msg: string) => void;
}

export interface BenchFigure {
  value: number | null;
  unit: string;
}

export interface BenchRow {
  /** Stable id, e.g. `v2.decode.100k`. */
  id: string;
  /** What was measured, for a person. */
  what: string;
  ours: BenchFigure;
  /** The peer or physical floor, measured in the same run. */
  floor: BenchFigure & { name: string };
  /** ours / floor in the direction stated by `goal` (null when either is unknown). */
  ratio: number | null;
  /** The goal in words, e.g. "ratio <= 1.5". */
  goal: string;
  /** null: not applicable or not run. */
  met: boolean | null;
  /** Why a row is not run, what it needs to mean anything (e.g. a real GPU), extra figures. */
  notes?: string;
}

/** Median of a sample (sorts a copy). */
export function median(xs: readonly number[]): number {
  return percentile(xs, 0.5);
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1));
  return s[i]!;
}

export function ratioRow(
  base: Omit<BenchRow, 'ratio' | 'met'>,
  direction: 'lower-is-better' | 'higher-is-better',
  limit: number,
): BenchRow {
  const o = base.ours.value;
  const f = base.floor.value;
  const ratio = o === null || f === null || f === 0 ? null : o / f;
  const met = ratio === null ? null : direction === 'lower-is-better' ? ratio <= limit : ratio >= limit;
  return { ...base, ratio, met };
}

/**
 * A row judged by how far ours may lag its floor (e.g. "within a second of Docker's own event"):
 * met when ours - floor <= maxOverMs. The ratio is still shown.
 */
export function marginRow(base: Omit<BenchRow, 'ratio' | 'met' | 'goal'>, maxOverMs: number, why = ''): BenchRow {
  const o = base.ours.value;
  const f = base.floor.value;
  return {
    ...base,
    ratio: o === null || f === null || f === 0 ? null : o / f,
    goal: `ours - floor <= ${maxOverMs} ms${why ? ` (${why})` : ''}`,
    met: o === null || f === null ? false : o - f <= maxOverMs,
  };
}
