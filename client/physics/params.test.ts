import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS, TUNABLE_PARAMS, TUNABLE_RANGES, resolveParams, tunableDefaults } from './params.js';

describe('physics params: defaults and tunable ranges', () => {
  it('every tunable range is one the engine accepts at both ends, with a step that divides it', () => {
    for (const k of TUNABLE_PARAMS) {
      const r = TUNABLE_RANGES[k];
      expect(r.min, k).toBeLessThan(r.max);
      expect(r.step, k).toBeGreaterThan(0);
      expect(resolveParams({ [k]: r.min })[k], k).toBe(r.min);
      expect(resolveParams({ [k]: r.max })[k], k).toBe(r.max);
    }
  });

  it('every default lies inside its tunable range, and tunableDefaults are the defaults', () => {
    const d = tunableDefaults();
    expect(Object.keys(d)).toEqual([...TUNABLE_PARAMS]);
    for (const k of TUNABLE_PARAMS) {
      expect(d[k], k).toBe(DEFAULT_PARAMS[k]);
      expect(d[k], k).toBeGreaterThanOrEqual(TUNABLE_RANGES[k].min);
      expect(d[k], k).toBeLessThanOrEqual(TUNABLE_RANGES[k].max);
    }
    expect(d.centerGravityK).toBe(0.001);
  });
});
