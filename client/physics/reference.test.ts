// Unit tests of the CPU reference forces and integration (the oracle every GPU backend is compared to).
import { describe, expect, it } from 'vitest';
import { buildCsr, mulberry32 } from './graph.js';
import { buildGrid } from './grid.js';
import { resolveParams } from './params.js';
import { computeForces, computeForcesBrute, integrate, rampFor } from './reference.js';

const P = resolveParams({ centerGravityK: 0 });

function forcesOf(pos: number[], edges: number[] = [], weights?: number[], params = P): Float64Array {
  const n = pos.length / 3;
  const p32 = Float32Array.from(pos);
  const csr = buildCsr(n, Uint32Array.from(edges), weights ? Float32Array.from(weights) : undefined);
  const out = new Float64Array(3 * n);
  computeForces(p32, n, csr, buildGrid(p32, n, params.repulsionCutoff), params, out);
  return out;
}

describe('forces', () => {
  it('a stretched spring pulls both ends together with springK * (d - rest) * weight', () => {
    const f = forcesOf([0, 0, 0, 100, 0, 0], [0, 1], [0.5], resolveParams({ centerGravityK: 0, repelK: 0 }));
    expect(f[0]).toBeCloseTo(10 * 50 * 0.5, 6);
    expect(f[3]).toBeCloseTo(-10 * 50 * 0.5, 6);
    expect(f[1]).toBe(0);
  });

  it('a compressed spring pushes apart', () => {
    const f = forcesOf([0, 0, 0, 0, 20, 0], [0, 1], undefined, resolveParams({ centerGravityK: 0, repelK: 0 }));
    expect(f[1]).toBeCloseTo(-10 * 30, 6);
    expect(f[4]).toBeCloseTo(10 * 30, 6);
  });

  it('repulsion is repelK / (d^2 + eps) inside the cutoff and zero beyond it', () => {
    const f = forcesOf([0, 0, 0, 10, 0, 0]);
    expect(f[0]).toBeCloseTo(-100 / (100 + 0.01), 9);
    expect(f[3]).toBeCloseTo(100 / (100 + 0.01), 9);
    const g = forcesOf([0, 0, 0, 50.5, 0, 0]);
    expect(g[0]).toBe(0);
  });

  it('repulsion per pair is clamped to maxForce', () => {
    const f = forcesOf([0, 0, 0, 0.01, 0, 0]);
    expect(Math.abs(f[0]!)).toBeCloseTo(500, 6);
  });

  it('centring pulls towards the origin by centerGravityK', () => {
    const f = forcesOf([1000, 0, 0], [], undefined, resolveParams({ centerGravityK: 0.001 }));
    expect(f[0]).toBeCloseTo(-1, 9);
  });

  it('coincident nodes get finite, opposite, deterministic forces', () => {
    const f = forcesOf([5, 5, 5, 5, 5, 5, 5, 5, 5]);
    for (const v of f) expect(Number.isFinite(v)).toBe(true);
    const sum = [0, 1, 2].map((a) => f[a]! + f[3 + a]! + f[6 + a]!);
    for (const s of sum) expect(Math.abs(s)).toBeLessThan(1e-9);
    for (let i = 0; i < 3; i++) expect(Math.hypot(f[3 * i]!, f[3 * i + 1]!, f[3 * i + 2]!)).toBeGreaterThan(0);
    expect(forcesOf([5, 5, 5, 5, 5, 5, 5, 5, 5])).toEqual(f);
  });

  it('the grid gives the same forces as all pairs (random graphs, several cutoffs, an outlier)', () => {
    for (const [seed, n, spread, cutoff] of [
      [1, 200, 100, 50],
      [2, 400, 300, 50],
      [3, 300, 60, 10],
      [4, 250, 1000, 200],
    ] as const) {
      const rnd = mulberry32(seed);
      const pos = new Float32Array(3 * n);
      for (let k = 0; k < 3 * n; k++) pos[k] = (rnd() - 0.5) * spread;
      pos[0] = 1e5; // one far node stretches the box: cells grow, results must not change
      const edges = new Uint32Array(2 * n);
      for (let k = 0; k < 2 * n; k++) edges[k] = Math.floor(rnd() * n);
      const params = resolveParams({ repulsionCutoff: cutoff, centerGravityK: 0.001 });
      const csr = buildCsr(n, edges, undefined);
      const a = new Float64Array(3 * n);
      const b = new Float64Array(3 * n);
      computeForces(pos, n, csr, buildGrid(pos, n, cutoff), params, a);
      computeForcesBrute(pos, n, csr, params, b);
      for (let k = 0; k < 3 * n; k++) expect(a[k]).toBeCloseTo(b[k]!, 6);
    }
  });
});

describe('integration', () => {
  const base = resolveParams({ warmup: 0 });
  it('clamps force and velocity', () => {
    const pos = new Float32Array([0, 0, 0]);
    const vel = new Float32Array(3);
    const pinned = new Uint8Array(1);
    integrate(pos, vel, new Float64Array([1e9, 0, 0]), pinned, 1, base, 0);
    expect(vel[0]).toBeCloseTo(base.maxForce * base.dt * (1 - base.damping), 4);
    for (let s = 0; s < 200; s++) integrate(pos, vel, new Float64Array([1e9, 1e9, 0]), pinned, 1, base, s);
    expect(Math.hypot(vel[0]!, vel[1]!, vel[2]!)).toBeLessThanOrEqual(50 * (1 + 1e-6));
  });

  it('during warm-up the velocity limit ramps up, so a fresh graph cannot fling nodes', () => {
    const p = resolveParams({ warmup: 100 });
    const pos = new Float32Array(3);
    const vel = new Float32Array(3);
    integrate(pos, vel, new Float64Array([1e9, 0, 0]), new Uint8Array(1), 1, p, 0);
    expect(vel[0]).toBeCloseTo(50 / 100, 5);
    for (let k = 0; k < 30; k++) integrate(pos, vel, new Float64Array([1e9, 0, 0]), new Uint8Array(1), 1, p, 49);
    expect(vel[0]).toBeCloseTo(25, 4);
  });

  it('pinned nodes do not move and have zero velocity', () => {
    const pos = new Float32Array([1, 2, 3]);
    const vel = new Float32Array([5, 5, 5]);
    integrate(pos, vel, new Float64Array([100, 100, 100]), new Uint8Array([1]), 1, base, 0);
    expect([...pos]).toEqual([1, 2, 3]);
    expect([...vel]).toEqual([0, 0, 0]);
  });

  it('a NaN or infinite force never reaches the state', () => {
    const pos = new Float32Array([1, 2, 3, 4, 5, 6]);
    const vel = new Float32Array(6);
    integrate(pos, vel, new Float64Array([NaN, 0, 0, Infinity, -Infinity, 0]), new Uint8Array(2), 2, base, 0);
    for (const v of [...pos, ...vel]) expect(Number.isFinite(v)).toBe(true);
    expect([...pos]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('the warm-up ramp grows from 1/warmup to 1', () => {
    expect(rampFor(0, 100)).toBeCloseTo(0.01);
    expect(rampFor(49, 100)).toBeCloseTo(0.5);
    expect(rampFor(99, 100)).toBe(1);
    expect(rampFor(5000, 100)).toBe(1);
    expect(rampFor(0, 0)).toBe(1);
  });
});
