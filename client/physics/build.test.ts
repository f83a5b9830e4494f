// Agents + traffic -> PhysicsGraph: hierarchy and communication springs, weights, ragged input.
import { describe, expect, it } from 'vitest';
import { buildPhysicsGraph, COMM_WEIGHT_MIN, HIERARCHY_WEIGHT } from './build.js';

describe('buildPhysicsGraph', () => {
  it('ties workers to their queen and weights busy pairs above quiet ones', () => {
    const g = buildPhysicsGraph(
      [{ id: 10 }, { id: 11, parentId: 10 }, { id: 12, parentId: 10 }, { id: 13, parentId: 10 }],
      [
        { a: 11, b: 12, volume: 1000 },
        { a: 12, b: 13, volume: 1 },
        { a: 13, b: 12, volume: 1 },
      ],
    );
    expect([...g.ids]).toEqual([10, 11, 12, 13]);
    expect([...g.parents!]).toEqual([-1, 0, 0, 0]);
    const w = new Map<string, number>();
    for (let e = 0; e < g.weights!.length; e++) w.set(`${g.edges[2 * e]}-${g.edges[2 * e + 1]}`, g.weights![e]!);
    expect(w.get('0-1')).toBeCloseTo(HIERARCHY_WEIGHT);
    expect(w.get('1-2')).toBeCloseTo(0.8);
    expect(w.get('2-3')!).toBeGreaterThan(COMM_WEIGHT_MIN);
    expect(w.get('2-3')!).toBeLessThan(w.get('1-2')!);
    expect(w.size).toBe(5);
  });

  it('skips ragged links and rejects bad ids', () => {
    const g = buildPhysicsGraph([{ id: 1 }, { id: 2, parentId: 99 }], [
      { a: 1, b: 1, volume: 5 },
      { a: 1, b: 42, volume: 5 },
      { a: 1, b: 2, volume: NaN },
      { a: 1, b: 2, volume: -1 },
    ]);
    expect(g.edges.length).toBe(0);
    expect([...g.parents!]).toEqual([-1, -1]);
    expect(() => buildPhysicsGraph([{ id: 1 }, { id: 1 }])).toThrow(RangeError);
    expect(() => buildPhysicsGraph([{ id: -1 }])).toThrow(RangeError);
    expect(() => buildPhysicsGraph([{ id: 1.5 }])).toThrow(RangeError);
    expect(() => buildPhysicsGraph([{ id: 2 ** 32 }])).toThrow(RangeError);
  });
});
