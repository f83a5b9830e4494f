/**
 * WebGL2 backend through gpu.js: the same per-node gather as the WGSL shader, written in gpu.js's
 * JavaScript subset and compiled by it to a GLSL fragment shader (one texel per node, RGBA = force xyz, 0).
 * Integer data (grid cells, node indices, CSR) travels as float textures: exact below 2^24, which the
 * grid guarantees (maxCellsFor) and MAX_NODES keeps. Grid and integration stay on the CPU (core.ts).
 */
import { GPU, type IKernelRunShortcut } from 'gpu.js';
import type { Csr } from './graph.js';
import type { Grid } from './grid.js';
import type { PhysicsParams } from './params.js';
import { COINCIDENT_D2 } from './reference.js';
import type { ForceKernel } from './core.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- gpu.js kernels are typed by its transpiler, not TS. */
// The kernel body: gpu.js parses this function's source, so it must stay within its JS subset
// (no closures, no bit operators: `code` bits come from floor/mod).
function forceKernel(
  this: any,
  pos: any, cellXYZ: any, cellStart: any, cellNodes: any, csrStart: any, csrNbr: any, csrW: any,
  gx: number, gy: number, gz: number, cut2: number, repelK: number, eps: number, maxF: number,
  springK: number, rest: number, centerK: number, coincident: number,
): number[] {
  const i = this.thread.x;
  const xi = pos[i * 3];
  const yi = pos[i * 3 + 1];
  const zi = pos[i * 3 + 2];
  let fx = 0.0;
  let fy = 0.0;
  let fz = 0.0;
  const cx = cellXYZ[i * 3];
  const cy = cellXYZ[i * 3 + 1];
  const cz = cellXYZ[i * 3 + 2];
  for (let a = 0; a < 27; a++) {
    const nx = cx + Math.floor(a / 9) - 1;
    const ny = cy + (Math.floor(a / 3) % 3) - 1;
    const nz = cz + (a % 3) - 1;
    if (nx >= 0 && nx < gx && ny >= 0 && ny < gy && nz >= 0 && nz < gz) {
      const c = (nx * gy + ny) * gz + nz;
      const k0 = cellStart[c];
      const k1 = cellStart[c + 1];
      for (let k = k0; k < k1; k++) {
        const j = cellNodes[k];
        if (j !== i) {
          const dx = xi - pos[j * 3];
          const dy = yi - pos[j * 3 + 1];
          const dz = zi - pos[j * 3 + 2];
          const d2 = dx * dx + dy * dy + dz * dz;
          if (d2 < cut2) {
            if (d2 < coincident) {
              const lo = Math.min(i, j);
              const hi = Math.max(i, j);
              const code = ((lo % 8) + (hi % 8) * 3) % 8;
              let s = Math.min(repelK / (d2 + eps), maxF) * 0.5773502691896258;
              if (i === lo) s = -s;
              fx += (code % 2 >= 1 ? 1.0 : -1.0) * s;
              fy += (Math.floor(code / 2) % 2 >= 1 ? 1.0 : -1.0) * s;
              fz += (Math.floor(code / 4) % 2 >= 1 ? 1.0 : -1.0) * s;
            } else {
              const f = Math.min(repelK / (d2 + eps), maxF) / Math.sqrt(d2);
              fx += dx * f;
              fy += dy * f;
              fz += dz * f;
            }
          }
        }
      }
    }
  }
  const e0 = csrStart[i];
  const e1 = csrStart[i + 1];
  for (let e = e0; e < e1; e++) {
    const j = csrNbr[e];
    const dx = pos[j * 3] - xi;
    const dy = pos[j * 3 + 1] - yi;
    const dz = pos[j * 3 + 2] - zi;
    const dist = Math.sqrt(dx * dx + dy * dy + dz * dz);
    if (dist > 0.000001) {
      const f = (springK * (dist - rest) * csrW[e]) / dist;
      fx += dx * f;
      fy += dy * f;
      fz += dz * f;
    }
  }
  fx -= xi * centerK;
  fy -= yi * centerK;
  fz -= zi * centerK;
  return [fx, fy, fz, 0.0];
}

function canvasAvailable(): boolean {
  if (typeof document === 'undefined') return false;
  try {
    return !!document.createElement('canvas').getContext('webgl2');
  } catch {
    return false;
  }
}

export function webglAvailable(): boolean {
  return canvasAvailable();
}

/** Copies integer data into a reusable Float32Array of at least length 1 (gpu.js dislikes empty inputs). */
function toF32(src: ArrayLike<number>, len: number, prev: Float32Array | undefined): Float32Array {
  const out = prev && prev.length === Math.max(1, len) ? prev : new Float32Array(Math.max(1, len));
  for (let k = 0; k < len; k++) out[k] = src[k]!;
  return out;
}

/** Null when WebGL2 is unavailable or gpu.js cannot build the kernel. */
export function createWebGlKernel(): (ForceKernel & { gpuMode: string }) | null {
  if (!webglAvailable()) return null;
  let gpu: GPU;
  let kernel: IKernelRunShortcut;
  try {
    gpu = new GPU({ mode: 'webgl2' });
    kernel = gpu
      .createKernel(forceKernel as any, {
        output: [1],
        returnType: 'Array(4)',
        precision: 'single',
        tactic: 'precision',
        pipeline: true,
        dynamicOutput: true,
        dynamicArguments: true,
        loopMaxIterations: MAX_LOOP,
        optimizeFloatMemory: false,
      } as any);
  } catch {
    return null;
  }
  let csrStart: Float32Array | undefined, csrNbr: Float32Array | undefined, csrW: Float32Array | undefined;
  let cellXYZ: Float32Array | undefined, cellStart: Float32Array | undefined, cellNodes: Float32Array | undefined;
  let outN = -1;
  return {
    name: 'webgl',
    forceStride: 4,
    float32Out: true,
    gpuMode: (gpu as any).mode ?? 'webgl2',
    setTopology(n: number, csr: Csr) {
      csrStart = toF32(csr.start, n + 1, csrStart);
      csrNbr = toF32(csr.nbr, csr.nbr.length, csrNbr);
      csrW = csr.weight.length > 0 ? csr.weight : new Float32Array(1);
    },
    compute(pos: Float32Array, n: number, grid: Grid, p: PhysicsParams, out: Float32Array | Float64Array) {
      if (n === 0) return;
      cellXYZ = toF32(grid.cellXYZ, 3 * n, cellXYZ);
      cellStart = toF32(grid.cellStart, grid.cellStart.length, cellStart);
      cellNodes = toF32(grid.cellNodes, n, cellNodes);
      if (outN !== n) {
        kernel.setOutput([n]);
        outN = n;
      }
      const tex = kernel(
        pos.length === 3 * n ? pos : pos.subarray(0, 3 * n), cellXYZ, cellStart, cellNodes, csrStart!, csrNbr!, csrW!,
        grid.gx, grid.gy, grid.gz, p.repulsionCutoff * p.repulsionCutoff, p.repelK, p.repulsionEpsilon, p.maxForce,
        p.springK, p.restLength, p.centerGravityK, COINCIDENT_D2,
      ) as any;
      const raw: Float32Array = tex.renderRawOutput();
      // The texture belongs to the kernel (pipeline mode, not immutable): it is reused next call, never deleted here.
      out.set(raw.subarray(0, 4 * n));
    },
    dispose() {
      try {
        kernel.destroy();
        gpu.destroy();
      } catch {
        /* already gone with its context */
      }
    },
  };
}

/** Loop bound gpu.js writes into GLSL: larger than any cell occupancy or degree we accept. */
const MAX_LOOP = 1 << 22;
