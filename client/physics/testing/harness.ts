/**
 * In-page driver for the physics browser tests (e2e/physics.spec.ts) and benchmark (bench/physics.bench.ts):
 * backend equivalence against the CPU reference computed in the same page, and per-step timings and layout
 * quality beside d3-force-3d and ngraph.forcelayout on the same graphs and starting positions.
 */
import { forceCenter, forceLink, forceManyBody, forceSimulation, type SimNode } from 'd3-force-3d';
import createGraph from 'ngraph.graph';
import createLayout from 'ngraph.forcelayout';
import {
  choosePhysicsBackend,
  createLocalCpuEngine,
  createPhysicsEngine,
  edgeStress,
  makeSwarmGraph,
  maxRelativeError,
  type BackendName,
  type ChooseOptions,
  type PhysicsEngine,
  type PhysicsGraph,
  type PhysicsParams,
} from '../index.js';
import { PhysicsCore, createCpuKernel } from '../core.js';
import { buildGrid } from '../grid.js';
import { computeForces } from '../reference.js';
import { createWebGlKernel } from '../webgl.js';
import { createWebGpuKernel } from '../webgpu.js';

export interface EquivalenceResult {
  backend: BackendName;
  nodes: number;
  steps: number;
  /** null when the backend could not start here. */
  maxRel: number | null;
  /** Largest |position| of the reference, for scale. */
  refScale: number;
  error?: string;
}

function graphWithCoincident(n: number, seed: number): PhysicsGraph {
  const g = makeSwarmGraph(n, seed);
  // Stack a few nodes exactly on top of each other to exercise the coincident-pair rule on every backend.
  const positions = new Float32Array(3 * n).fill(NaN);
  for (let i = 1; i <= 5 && i < n; i++) positions.set([10, 20, 30], 3 * i);
  // A fleet's clusters on every backend: the first two thirds of the nodes in two clusters (their anchors'
  // pull), the rest in none, so both the pulled and the unpulled path are compared with the reference.
  const cluster = Int32Array.from({ length: n }, (_, i) => (i < n / 3 ? 0 : i < (2 * n) / 3 ? 1 : -1));
  return { ...g, positions, cluster, anchors: new Float32Array([-300, 0, 0, 300, 0, 0]) };
}

async function equivalence(opts: { backend: BackendName; nodes: number; steps: number; seed?: number }): Promise<EquivalenceResult> {
  const g = graphWithCoincident(opts.nodes, opts.seed ?? 3);
  const ref = createLocalCpuEngine();
  await ref.init(g);
  let engine: PhysicsEngine | null = null;
  try {
    engine = await createPhysicsEngine({ backend: opts.backend });
    await engine.init(g);
    // Step one at a time on both so neither stops at a different point on settling.
    for (let s = 0; s < opts.steps; s++) {
      await ref.step(1);
      await engine.step(1);
    }
    const a = new Float32Array(3 * opts.nodes);
    const b = new Float32Array(3 * opts.nodes);
    engine.readPositions(a);
    ref.readPositions(b);
    let scale = 0;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    return { backend: opts.backend, nodes: opts.nodes, steps: opts.steps, maxRel: maxRelativeError(a, b), refScale: scale };
  } catch (e) {
    return { backend: opts.backend, nodes: opts.nodes, steps: opts.steps, maxRel: null, refScale: 0, error: String(e instanceof Error ? e.message : e).slice(0, 500) };
  } finally {
    engine?.dispose();
    ref.dispose();
  }
}

export interface BenchSample {
  name: string;
  nodes: number;
  /** Median ms per step over the timed steps; null when it could not run. */
  msPerStep: number | null;
  timedSteps: number;
  /** Edge-length stress after `qualitySteps` steps from the shared start (only on quality runs). */
  stress: number | null;
  stressAfterSteps: number | null;
  error?: string;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Shared start: our seeded placement (so every library starts from the same layout). */
async function startPositions(g: PhysicsGraph): Promise<Float32Array> {
  const e = createLocalCpuEngine();
  // init places nodes; read them back before any step.
  await e.init(g);
  const p = new Float32Array(3 * g.ids.length);
  e.readPositions(p);
  e.dispose();
  return p;
}

interface Runner {
  step(): Promise<void> | void;
  positions(): Float32Array;
  dispose(): void;
}

async function makeRunner(name: string, g: PhysicsGraph, start: Float32Array, params?: Partial<PhysicsParams>): Promise<Runner> {
  const n = g.ids.length;
  const m = g.edges.length / 2;
  if (name === 'd3-force-3d') {
    const nodes: SimNode[] = [];
    for (let i = 0; i < n; i++) nodes.push({ index: i, x: start[3 * i]!, y: start[3 * i + 1]!, z: start[3 * i + 2]! });
    const links: { source: number; target: number }[] = [];
    for (let e = 0; e < m; e++) links.push({ source: g.edges[2 * e]!, target: g.edges[2 * e + 1]! });
    const link = forceLink(links);
    link.distance(50);
    const sim = forceSimulation(nodes, 3).force('link', link).force('charge', forceManyBody()).force('center', forceCenter()).stop();
    return {
      step: () => void sim.tick(),
      positions: () => {
        const out = new Float32Array(3 * n);
        nodes.forEach((nd, i) => out.set([nd.x!, nd.y!, nd.z!], 3 * i));
        return out;
      },
      dispose: () => void sim.stop(),
    };
  }
  if (name === 'ngraph.forcelayout') {
    const graph = createGraph();
    for (let i = 0; i < n; i++) graph.addNode(i);
    for (let e = 0; e < m; e++) graph.addLink(g.edges[2 * e]!, g.edges[2 * e + 1]!);
    const layout = createLayout(graph, { dimensions: 3, springLength: 50 });
    for (let i = 0; i < n; i++) layout.setNodePosition(i, start[3 * i]!, start[3 * i + 1]!, start[3 * i + 2]!);
    return {
      step: () => void layout.step(),
      positions: () => {
        const out = new Float32Array(3 * n);
        for (let i = 0; i < n; i++) {
          const p = layout.getNodePosition(i);
          out.set([p.x, p.y, p.z ?? 0], 3 * i);
        }
        return out;
      },
      dispose: () => layout.dispose(),
    };
  }
  const engine = await createPhysicsEngine({ backend: name as BackendName, params });
  await engine.init({ ...g, positions: start });
  return {
    step: async () => {
      await engine.step(1);
    },
    positions: () => {
      const out = new Float32Array(3 * n);
      engine.readPositions(out);
      return out;
    },
    dispose: () => engine.dispose(),
  };
}

/**
 * Times `timedSteps` steps after one warm step; with qualitySteps, also the stress after that many steps;
 * with qualityTimeMs instead, the stress after as many steps as fit in that wall time (equal-time quality).
 */
async function benchOne(opts: { name: string; nodes: number; timedSteps: number; qualitySteps?: number; qualityTimeMs?: number; maxSteps?: number; budgetMs?: number; params?: Partial<PhysicsParams> }): Promise<BenchSample> {
  if (opts.qualityTimeMs !== undefined) return equalTimeQuality(opts.name, opts.nodes, opts.qualityTimeMs, opts.maxSteps ?? 10_000, opts.params);
  const g = makeSwarmGraph(opts.nodes, 11);
  const start = await startPositions(g);
  const sample: BenchSample = { name: opts.name, nodes: opts.nodes, msPerStep: null, timedSteps: 0, stress: null, stressAfterSteps: null };
  let runner: Runner | null = null;
  try {
    runner = await makeRunner(opts.name, g, start, opts.params);
    await runner.step();
    const times: number[] = [];
    const budget = opts.budgetMs ?? 60_000;
    const t0 = performance.now();
    const total = Math.max(opts.timedSteps, opts.qualitySteps ?? 0);
    let done = 1;
    for (; done < total + 1 && (times.length < opts.timedSteps || opts.qualitySteps !== undefined); done++) {
      const t = performance.now();
      await runner.step();
      if (times.length < opts.timedSteps) times.push(performance.now() - t);
      if (performance.now() - t0 > budget) break;
      if (opts.qualitySteps !== undefined && done >= opts.qualitySteps) break;
    }
    sample.msPerStep = median(times);
    sample.timedSteps = times.length;
    if (opts.qualitySteps !== undefined && done >= opts.qualitySteps) {
      sample.stress = edgeStress(runner.positions(), g.edges, 50);
      sample.stressAfterSteps = done;
    }
  } catch (e) {
    sample.error = String(e instanceof Error ? e.message : e).slice(0, 300);
  } finally {
    runner?.dispose();
  }
  return sample;
}

/** One force pass of a GPU kernel vs the CPU reference on identical state (debugging aid). */
async function forceDiff(opts: { backend: 'webgl' | 'webgpu'; nodes: number; seed?: number }): Promise<{ maxAbs: number; worst: number; gpu: number[]; cpu: number[] } | string> {
  const g = graphWithCoincident(opts.nodes, opts.seed ?? 3);
  const core = new PhysicsCore(createCpuKernel());
  core.setGraph(g);
  const grid = buildGrid(core.pos, core.n, core.params.repulsionCutoff);
  const cpuOut = new Float64Array(3 * core.n);
  computeForces(core.pos, core.n, core.csr, grid, core.params, cpuOut);
  const k = opts.backend === 'webgl' ? createWebGlKernel() : await createWebGpuKernel();
  if (!k) return 'unavailable';
  await k.setTopology(core.n, core.csr);
  const out = new Float32Array(k.forceStride * core.n);
  await k.compute(core.pos, core.n, grid, core.params, out);
  k.dispose();
  let maxAbs = 0, worst = 0;
  for (let i = 0; i < core.n; i++) for (let a = 0; a < 3; a++) {
    const d = Math.abs(out[k.forceStride * i + a]! - cpuOut[3 * i + a]!);
    if (!(d <= maxAbs)) { maxAbs = d; worst = i; }
  }
  return { maxAbs, worst, gpu: [...out.subarray(k.forceStride * worst, k.forceStride * worst + 3)], cpu: [...cpuOut.subarray(3 * worst, 3 * worst + 3)] };
}

async function equalTimeQuality(name: string, nodes: number, timeMs: number, maxSteps: number, params?: Partial<PhysicsParams>): Promise<BenchSample> {
  const g = makeSwarmGraph(nodes, 11);
  const start = await startPositions(g);
  const sample: BenchSample = { name, nodes, msPerStep: null, timedSteps: 0, stress: null, stressAfterSteps: null };
  let runner: Runner | null = null;
  try {
    runner = await makeRunner(name, g, start, params);
    const t0 = performance.now();
    let steps = 0;
    while (steps < maxSteps && performance.now() - t0 < timeMs) {
      await runner.step();
      steps++;
    }
    sample.msPerStep = steps > 0 ? (performance.now() - t0) / steps : null;
    sample.timedSteps = steps;
    sample.stress = edgeStress(runner.positions(), g.edges, 50);
    sample.stressAfterSteps = steps;
  } catch (e) {
    sample.error = String(e instanceof Error ? e.message : e).slice(0, 300);
  } finally {
    runner?.dispose();
  }
  return sample;
}

/** Drives the worker-backed CPU engine through the app's calls and reports what it saw. */
async function workerBehaviour(): Promise<Record<string, unknown>> {
  const star = (workers: number): PhysicsGraph => {
    const n = workers + 1;
    const parents = new Int32Array(n).fill(0);
    parents[0] = -1;
    const edges = new Uint32Array(2 * workers);
    for (let w = 0; w < workers; w++) edges.set([0, w + 1], 2 * w);
    return { ids: new Uint32Array(n).map((_, i) => 500 + i), parents, edges };
  };
  const e = await createPhysicsEngine({ backend: 'cpu', worker: true });
  try {
    await e.init(star(4));
    await e.step(30);
    const before = new Float32Array(15);
    e.readPositions(before);
    const changed = await e.setGraph(star(5));
    const after = new Float32Array(18);
    e.readPositions(after);
    const kept = before.every((v, k) => after[k] === v);
    const newDist = Math.hypot(after[15]! - after[0]!, after[16]! - after[1]!, after[17]! - after[2]!);
    e.pin(2, 123, 45, 6);
    await e.step(40);
    const pinned = new Float32Array(18);
    e.readPositions(pinned);
    let rangeError = false;
    try {
      e.setParams({ damping: -3 });
    } catch (err) {
      rangeError = err instanceof RangeError;
    }
    e.setParams({ restLength: 70 });
    const info = await e.step(10_000);
    const weightOnly = await e.setGraph({ ...star(5), weights: new Float32Array(5).fill(0.3) });
    return {
      backend: e.backend,
      changed,
      kept,
      newDist,
      pinnedAt: [pinned[6], pinned[7], pinned[8]],
      rangeError,
      restLength: e.params.restLength,
      settled: info.settled,
      settledFlag: e.settled,
      weightOnly,
      settledAfterWeightOnly: e.settled,
    };
  } finally {
    e.dispose();
  }
}

const harness = {
  workerBehaviour,
  forceDiff,
  equivalence,
  benchOne,
  choose: (opts: ChooseOptions) => choosePhysicsBackend(opts),
  async adapterInfo(): Promise<string | null> {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ isFallbackAdapter?: boolean; info?: { vendor: string; description: string } } | null> } }).gpu;
    if (!gpu) return null;
    const a = await gpu.requestAdapter();
    return a ? `${a.info?.vendor ?? '?'} ${a.info?.description ?? ''} fallback=${a.isFallbackAdapter}` : null;
  },
};

declare global {
  interface Window {
    __physicsHarness?: typeof harness;
  }
}
window.__physicsHarness = harness;
document.body.dataset.ready = '1';
