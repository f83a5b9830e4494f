/// <reference types="@webgpu/types" />
/**
 * WebGPU backend: the force pass as a WGSL compute shader (one invocation per node gathers repulsion over
 * the 27 grid cells around it, then its springs from the CSR lists, then centring). The grid is built and
 * the step integrated on the CPU (core.ts), so per step this uploads positions + grid and reads back the
 * forces: O(n) transfer, the O(n k) pair work on the GPU. Needs `navigator.gpu` (in headless Chromium:
 * --enable-unsafe-webgpu, then SwiftShader, which is slower than the CPU: measure, do not assume).
 */
import type { Csr } from './graph.js';
import type { Grid } from './grid.js';
import type { PhysicsParams } from './params.js';
import { COINCIDENT_D2 } from './reference.js';
import type { ForceKernel } from './core.js';

export const FORCE_WGSL = /* wgsl */ `
struct Params {
  gx: i32, gy: i32, gz: i32, n: u32,
  cut2: f32, repelK: f32, eps: f32, maxF: f32,
  springK: f32, rest: f32, centerK: f32, coincident: f32,
};
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> pos: array<f32>;
@group(0) @binding(2) var<storage, read> cellXYZ: array<i32>;
@group(0) @binding(3) var<storage, read> cellStart: array<u32>;
@group(0) @binding(4) var<storage, read> cellNodes: array<u32>;
@group(0) @binding(5) var<storage, read> csrStart: array<u32>;
@group(0) @binding(6) var<storage, read> csrNbr: array<u32>;
@group(0) @binding(7) var<storage, read> csrW: array<f32>;
@group(0) @binding(8) var<storage, read_write> outF: array<f32>;

const INV_SQRT3: f32 = 0.5773502691896258;

fn p3(k: u32) -> vec3<f32> { return vec3<f32>(pos[3u * k], pos[3u * k + 1u], pos[3u * k + 2u]); }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.n) { return; }
  let pi = p3(i);
  var f = vec3<f32>(0.0, 0.0, 0.0);
  let cx = cellXYZ[3u * i];
  let cy = cellXYZ[3u * i + 1u];
  let cz = cellXYZ[3u * i + 2u];
  for (var dx = -1; dx <= 1; dx++) {
    let nx = cx + dx;
    if (nx < 0 || nx >= P.gx) { continue; }
    for (var dy = -1; dy <= 1; dy++) {
      let ny = cy + dy;
      if (ny < 0 || ny >= P.gy) { continue; }
      for (var dz = -1; dz <= 1; dz++) {
        let nz = cz + dz;
        if (nz < 0 || nz >= P.gz) { continue; }
        let c = u32((nx * P.gy + ny) * P.gz + nz);
        let k1 = cellStart[c + 1u];
        for (var k = cellStart[c]; k < k1; k++) {
          let j = cellNodes[k];
          if (j == i) { continue; }
          let d = pi - p3(j);
          let d2 = d.x * d.x + d.y * d.y + d.z * d.z;
          if (!(d2 < P.cut2)) { continue; }
          if (d2 < P.coincident) {
            let lo = min(i, j);
            let hi = max(i, j);
            let code = ((lo % 8u) + (hi % 8u) * 3u) % 8u;
            var s = min(P.repelK / (d2 + P.eps), P.maxF) * INV_SQRT3;
            if (i == lo) { s = -s; }
            f += vec3<f32>(select(-1.0, 1.0, (code & 1u) != 0u), select(-1.0, 1.0, (code & 2u) != 0u), select(-1.0, 1.0, (code & 4u) != 0u)) * s;
          } else {
            let dist = sqrt(d2);
            f += d * (min(P.repelK / (d2 + P.eps), P.maxF) / dist);
          }
        }
      }
    }
  }
  let e1 = csrStart[i + 1u];
  for (var e = csrStart[i]; e < e1; e++) {
    let d = p3(csrNbr[e]) - pi;
    let dist = sqrt(d.x * d.x + d.y * d.y + d.z * d.z);
    if (dist > 1e-6) {
      f += d * ((P.springK * (dist - P.rest) * csrW[e]) / dist);
    }
  }
  f -= pi * P.centerK;
  outF[3u * i] = f.x;
  outF[3u * i + 1u] = f.y;
  outF[3u * i + 2u] = f.z;
}
`;

export function webgpuAvailable(): boolean {
  return typeof navigator !== 'undefined' && 'gpu' in navigator && navigator.gpu !== undefined;
}

/** Resolves to null when there is no adapter/device (the caller falls back). */
export async function createWebGpuKernel(): Promise<(ForceKernel & { adapterInfo: string }) | null> {
  if (!webgpuAvailable()) return null;
  const adapter = await navigator.gpu.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const device = await adapter.requestDevice().catch(() => null);
  if (!device) return null;
  let lost = false;
  void device.lost.then(() => {
    lost = true;
  });
  const module = device.createShaderModule({ code: FORCE_WGSL });
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const uniform = device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const paramData = new ArrayBuffer(48);
  const pI = new Int32Array(paramData);
  const pU = new Uint32Array(paramData);
  const pF = new Float32Array(paramData);
  const bufs = new Map<string, GPUBuffer>();
  // Grows a named buffer to at least `bytes` (never below 16: WebGPU forbids empty bindings).
  const ensure = (name: string, bytes: number, usage: number): GPUBuffer => {
    const need = Math.max(16, Math.ceil(bytes / 4) * 4);
    const cur = bufs.get(name);
    if (cur && cur.size >= need) return cur;
    cur?.destroy();
    const b = device.createBuffer({ size: Math.max(need, Math.ceil((cur?.size ?? 0) * 1.5 / 4) * 4), usage });
    bufs.set(name, b);
    bindGroup = null;
    return b;
  };
  let bindGroup: GPUBindGroup | null = null;
  let csrSizes = [0, 0];
  const u32 = (a: Uint32Array | Int32Array | Float32Array): ArrayBuffer => a.buffer as ArrayBuffer;
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const adapterInfo = info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : 'unknown';

  return {
    name: 'webgpu',
    forceStride: 3,
    float32Out: true,
    adapterInfo,
    setTopology(n: number, csr: Csr) {
      const start = ensure('csrStart', 4 * (n + 1), S);
      const nbr = ensure('csrNbr', 4 * Math.max(1, csr.nbr.length), S);
      const w = ensure('csrW', 4 * Math.max(1, csr.weight.length), S);
      device.queue.writeBuffer(start, 0, u32(csr.start), csr.start.byteOffset, csr.start.byteLength);
      if (csr.nbr.length > 0) {
        device.queue.writeBuffer(nbr, 0, u32(csr.nbr), csr.nbr.byteOffset, csr.nbr.byteLength);
        device.queue.writeBuffer(w, 0, u32(csr.weight), csr.weight.byteOffset, csr.weight.byteLength);
      }
      csrSizes = [n, csr.nbr.length];
    },
    async compute(pos: Float32Array, n: number, grid: Grid, p: PhysicsParams, out: Float32Array | Float64Array) {
      if (lost) throw new Error('WebGPU device lost');
      if (n === 0) return;
      if (csrSizes[0] !== n) throw new Error('webgpu: topology not uploaded');
      const posB = ensure('pos', 12 * n, S);
      const cellB = ensure('cellXYZ', 12 * n, S);
      const startB = ensure('cellStart', grid.cellStart.byteLength, S);
      const nodesB = ensure('cellNodes', 4 * n, S);
      const outB = ensure('out', 12 * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      const readB = ensure('read', 12 * n, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(posB, 0, u32(pos), pos.byteOffset, 12 * n);
      device.queue.writeBuffer(cellB, 0, u32(grid.cellXYZ), grid.cellXYZ.byteOffset, 12 * n);
      device.queue.writeBuffer(startB, 0, u32(grid.cellStart), grid.cellStart.byteOffset, grid.cellStart.byteLength);
      device.queue.writeBuffer(nodesB, 0, u32(grid.cellNodes), grid.cellNodes.byteOffset, 4 * n);
      pI[0] = grid.gx;
      pI[1] = grid.gy;
      pI[2] = grid.gz;
      pU[3] = n;
      pF[4] = p.repulsionCutoff * p.repulsionCutoff;
      pF[5] = p.repelK;
      pF[6] = p.repulsionEpsilon;
      pF[7] = p.maxForce;
      pF[8] = p.springK;
      pF[9] = p.restLength;
      pF[10] = p.centerGravityK;
      pF[11] = COINCIDENT_D2;
      device.queue.writeBuffer(uniform, 0, paramData);
      if (!bindGroup) {
        const entries = [uniform, posB, cellB, startB, nodesB, bufs.get('csrStart')!, bufs.get('csrNbr')!, bufs.get('csrW')!, outB].map((buffer, binding) => ({ binding, resource: { buffer } }));
        bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      }
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      enc.copyBufferToBuffer(outB, 0, readB, 0, 12 * n);
      device.queue.submit([enc.finish()]);
      await readB.mapAsync(GPUMapMode.READ, 0, 12 * n);
      const f = new Float32Array(readB.getMappedRange(0, 12 * n));
      if (out instanceof Float32Array) out.set(f);
      else for (let k = 0; k < 3 * n; k++) out[k] = f[k]!;
      readB.unmap();
    },
    dispose() {
      for (const b of bufs.values()) b.destroy();
      bufs.clear();
      uniform.destroy();
      device.destroy();
    },
  };
}
