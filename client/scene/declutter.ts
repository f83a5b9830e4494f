/**
 * Screen-space label decluttering: given each label's screen rectangle and priority, decide which labels
 * are shown so that no two shown labels overlap, the forced ones (selected, hovered) always show, and the
 * more important one wins a conflict. Decisions have hysteresis so a moving layout does not make labels
 * flicker: a shown label hides only after its text has overlapped a more important shown label for
 * `hideAfterFrames` consecutive frames; a hidden one comes back only after a clear gap of twice `padding` px
 * on every side for `showAfterFrames` frames. Pure and allocation-free per frame (typed arrays in a reusable
 * state), so it runs in useFrame; Labels.tsx feeds it and applies the result.
 */

/** Value of `shown` for a label with no decision yet (new, or just back from off screen): decided at once. */
export const UNDECIDED = 2;

export interface DeclutterOptions {
  /** Margin in px around both rectangles when a hidden label asks to come back (a gap of twice this). */
  padding: number;
  /** Consecutive overlapping frames before a shown label hides. */
  hideAfterFrames: number;
  /** Consecutive clear frames before a hidden label shows again. */
  showAfterFrames: number;
}

export const DEFAULT_DECLUTTER: DeclutterOptions = { padding: 6, hideAfterFrames: 8, showAfterFrames: 8 };

export interface DeclutterState {
  readonly capacity: number;
  /** Per label: 0 hidden, 1 shown, UNDECIDED. */
  readonly shown: Uint8Array;
  /** Per label: consecutive frames its wanted state has differed from `shown`. */
  readonly pending: Uint16Array;
  /** Scratch: labels in priority order, then the accepted (shown) ones. */
  readonly order: Int32Array;
  readonly accepted: Int32Array;
}

export function createDeclutterState(capacity: number): DeclutterState {
  return {
    capacity,
    shown: new Uint8Array(capacity).fill(UNDECIDED),
    pending: new Uint16Array(capacity),
    order: new Int32Array(capacity),
    accepted: new Int32Array(capacity),
  };
}

/**
 * Inputs for `n` labels: `rects` holds x0, y0, x1, y1 per label (screen px, y down; x0 NaN when the label
 * is not on screen), `priority` larger first, `forced` 1 for labels that are always shown.
 */
export interface DeclutterInput {
  n: number;
  rects: Float32Array;
  priority: Float64Array;
  forced: Uint8Array;
}

function overlaps(r: Float32Array, i: number, j: number, pad: number): boolean {
  const a = i * 4;
  const b = j * 4;
  return r[a]! - pad < r[b + 2]! + pad && r[b]! - pad < r[a + 2]! + pad && r[a + 1]! - pad < r[b + 3]! + pad && r[b + 1]! - pad < r[a + 3]! + pad;
}

/** True when `i` comes before `j`: forced first, then higher priority, then lower index (stable). */
function before(input: DeclutterInput, i: number, j: number): boolean {
  const fi = input.forced[i]!;
  const fj = input.forced[j]!;
  if (fi !== fj) return fi > fj;
  const pi = input.priority[i]!;
  const pj = input.priority[j]!;
  if (pi !== pj) return pi > pj;
  return i < j;
}

/**
 * Updates `state.shown` for this frame. Returns true while some decision is pending (the caller keeps
 * drawing frames until it is made, or a settled scene would freeze with two labels overlapping).
 */
export function declutter(input: DeclutterInput, state: DeclutterState, opts: DeclutterOptions = DEFAULT_DECLUTTER): boolean {
  const { n, rects } = input;
  if (n > state.capacity) throw new RangeError(`declutter: ${n} labels for a state of ${state.capacity}`);
  const { shown, pending, order, accepted } = state;
  // Insertion sort: n is tens of labels at most and this allocates nothing.
  for (let k = 0; k < n; k++) {
    let p = k;
    while (p > 0 && before(input, k, order[p - 1]!)) {
      order[p] = order[p - 1]!;
      p--;
    }
    order[p] = k;
  }
  let m = 0;
  let anyPending = false;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (Number.isNaN(rects[i * 4]!)) {
      // Off screen or not laid out yet: decided afresh when it comes back.
      shown[i] = UNDECIDED;
      pending[i] = 0;
      continue;
    }
    if (input.forced[i]) {
      shown[i] = 1;
      pending[i] = 0;
    } else {
      let hit = false;
      const pad = shown[i] === 0 ? opts.padding : 0;
      for (let a = 0; a < m && !hit; a++) hit = overlaps(rects, i, accepted[a]!, pad);
      const want = hit ? 0 : 1;
      if (shown[i] === UNDECIDED) {
        shown[i] = want;
        pending[i] = 0;
      } else if (shown[i] === want) {
        pending[i] = 0;
      } else if (++pending[i]! >= (want === 0 ? opts.hideAfterFrames : opts.showAfterFrames)) {
        shown[i] = want;
        pending[i] = 0;
      } else {
        anyPending = true;
      }
    }
    if (shown[i] === 1) accepted[m++] = i;
  }
  return anyPending;
}

/**
 * Carries decisions over when the label list changes (labels come and go at the delta rate): the new
 * state's label k takes the old state's label `previous[k]` (-1 for a new label, which is UNDECIDED).
 */
export function carryOver(from: DeclutterState, to: DeclutterState, previous: ArrayLike<number>): void {
  for (let k = 0; k < previous.length && k < to.capacity; k++) {
    const p = previous[k]!;
    if (p >= 0 && p < from.capacity) {
      to.shown[k] = from.shown[p]!;
      to.pending[k] = from.pending[p]!;
    }
  }
}
