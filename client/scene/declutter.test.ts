/**
 * Label decluttering: which labels show given their screen rectangles and priorities, that the selected
 * one always shows, and that small moves of the layout do not make labels flicker (hysteresis).
 */
import { describe, expect, it } from 'vitest';
import { createDeclutterState, declutter, carryOver, UNDECIDED, type DeclutterInput, type DeclutterOptions } from './declutter.js';

type Rect = [number, number, number, number];

function input(rects: Rect[], priority: number[], forced: number[] = []): DeclutterInput {
  return {
    n: rects.length,
    rects: Float32Array.from(rects.flat()),
    priority: Float64Array.from(priority),
    forced: Uint8Array.from(rects.map((_, i) => (forced.includes(i) ? 1 : 0))),
  };
}

const OPTS: DeclutterOptions = { padding: 5, hideAfterFrames: 3, showAfterFrames: 3 };
const shownOf = (s: { shown: Uint8Array }, n: number) => [...s.shown.slice(0, n)];

function noShownOverlap(rects: Rect[], shown: number[]): boolean {
  for (let i = 0; i < rects.length; i++)
    for (let j = i + 1; j < rects.length; j++) {
      if (shown[i] !== 1 || shown[j] !== 1) continue;
      const [a, b] = [rects[i]!, rects[j]!];
      if (a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) return false;
    }
  return true;
}

describe('declutter', () => {
  it('shows labels that do not overlap, and of two overlapping ones the more important', () => {
    const s = createDeclutterState(4);
    // 0 and 1 overlap (1 is the queen: higher priority); 2 is apart.
    declutter(input([[0, 0, 100, 20], [50, 10, 150, 30], [300, 0, 400, 20]], [1, 5, 1]), s, OPTS);
    expect(shownOf(s, 3)).toEqual([0, 1, 1]);
  });

  it('keeps the selected label even when it overlaps a more important one, and hides the other', () => {
    const s = createDeclutterState(2);
    declutter(input([[0, 0, 100, 20], [50, 10, 150, 30]], [1, 5], [0]), s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 0]);
  });

  it('never leaves two shown labels overlapping once a pile-up has settled (the default swarm case)', () => {
    const rects: Rect[] = [
      [400, 300, 520, 330], // queen
      [430, 310, 560, 340], // coordinator, overlaps the queen
      [420, 305, 600, 345], // analyst drawn over both
      [700, 100, 800, 130],
      [705, 110, 790, 140],
    ];
    const s = createDeclutterState(rects.length);
    for (let f = 0; f < 10; f++) declutter(input(rects, [100, 50, 3, 2, 1]), s, OPTS);
    const shown = shownOf(s, rects.length);
    expect(shown[0]).toBe(1);
    expect(shown[3]).toBe(1);
    expect(noShownOverlap(rects, shown)).toBe(true);
  });

  it('a shown label survives brief overlaps and hides only after they last hideAfterFrames frames', () => {
    const s = createDeclutterState(2);
    const apart = input([[0, 0, 100, 20], [110, 0, 210, 20]], [5, 1]);
    const touching = input([[0, 0, 100, 20], [95, 0, 195, 20]], [5, 1]);
    declutter(apart, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 1]);
    // Two frames of overlap, then apart: never hidden.
    expect(declutter(touching, s, OPTS)).toBe(true);
    declutter(touching, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 1]);
    expect(declutter(apart, s, OPTS)).toBe(false);
    expect(shownOf(s, 2)).toEqual([1, 1]);
    // Three frames of overlap: hidden.
    for (let f = 0; f < 3; f++) declutter(touching, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 0]);
  });

  it('a hidden label comes back only with a clear gap of `padding` px, so it does not flicker at the edge', () => {
    const s = createDeclutterState(2);
    const overlap = input([[0, 0, 100, 20], [90, 0, 190, 20]], [5, 1]);
    for (let f = 0; f < 4; f++) declutter(overlap, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 0]);
    // Just clear (2 px): still inside the padding, stays hidden however long.
    const justClear = input([[0, 0, 100, 20], [102, 0, 202, 20]], [5, 1]);
    for (let f = 0; f < 20; f++) declutter(justClear, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 0]);
    // Clearly apart for showAfterFrames frames: shown again.
    const apart = input([[0, 0, 100, 20], [120, 0, 220, 20]], [5, 1]);
    for (let f = 0; f < 3; f++) declutter(apart, s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 1]);
  });

  it('is stable across small jittering moves: no label changes state', () => {
    const base: Rect[] = [
      [0, 0, 100, 20],
      [97, 0, 197, 20], // overlaps 0 by 3 px
      [300, 0, 400, 20],
      [300, 40, 400, 60],
    ];
    const s = createDeclutterState(base.length);
    declutter(input(base, [4, 3, 2, 1]), s, OPTS);
    const first = shownOf(s, base.length);
    expect(first).toEqual([1, 0, 1, 1]);
    for (let f = 0; f < 200; f++) {
      // +-4 px of jitter on every label, deterministic.
      const d = ((f * 7919) % 9) - 4;
      const moved = base.map(([x0, y0, x1, y1], i) => [x0 + (i % 2 ? d : -d), y0, x1 + (i % 2 ? d : -d), y1] as Rect);
      declutter(input(moved, [4, 3, 2, 1]), s, OPTS);
      expect(shownOf(s, base.length)).toEqual(first);
    }
  });

  it('an off-screen label is undecided and decided at once when it returns', () => {
    const s = createDeclutterState(2);
    declutter(input([[0, 0, 10, 10], [NaN, 0, 0, 0]], [1, 1]), s, OPTS);
    expect(s.shown[1]).toBe(UNDECIDED);
    declutter(input([[0, 0, 10, 10], [50, 0, 60, 10]], [1, 1]), s, OPTS);
    expect(shownOf(s, 2)).toEqual([1, 1]);
  });

  it('carries decisions over when the label list changes', () => {
    const a = createDeclutterState(2);
    for (let f = 0; f < 4; f++) declutter(input([[0, 0, 100, 20], [50, 0, 150, 20]], [5, 1]), a, OPTS);
    expect(shownOf(a, 2)).toEqual([1, 0]);
    const b = createDeclutterState(3);
    carryOver(a, b, [1, -1, 0]);
    expect(shownOf(b, 3)).toEqual([0, UNDECIDED, 1]);
  });

  it('refuses more labels than its state holds', () => {
    expect(() => declutter(input([[0, 0, 1, 1], [2, 2, 3, 3]], [1, 1]), createDeclutterState(1), OPTS)).toThrow(RangeError);
  });
});
