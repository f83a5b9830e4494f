/**
 * The one physics interface the app uses, and its factory. Every backend runs PhysicsCore (core.ts) and
 * differs only in its force kernel; the CPU backend runs the core inside a Web Worker (cpu-worker.ts) so
 * the render loop never waits on it, the GPU backends run on the main thread (they own a GPU device).
 */
import { PhysicsCore, createCpuKernel, type BackendName, type ForceKernel, type StepInfo } from './core.js';
import type { PhysicsGraph } from './graph.js';
import { resolveParams as resolveParamsSync, type PhysicsParams } from './params.js';
import type { WorkerReply, WorkerRequest } from './cpu-worker-protocol.js';

export type { BackendName, StepInfo };

export interface PhysicsEngine {
  readonly backend: BackendName;
  /** Nodes in the current graph. */
  readonly nodeCount: number;
  /** True once mean |v|^2 fell below settleThreshold after warm-up: the render loop may pause. */
  readonly settled: boolean;
  readonly params: Readonly<PhysicsParams>;
  /** Sets the first graph (equivalent to setGraph; always starts warm-up). */
  init(graph: PhysicsGraph): Promise<void>;
  /**
   * Replaces the graph, keeping positions by node id; new nodes start near their parent. Resolves true when
   * nodes or edges changed (the layout reheated), false for a weight-only update.
   */
  setGraph(graph: PhysicsGraph): Promise<boolean>;
  /** Runs up to n steps (default 1); no-op once settled. */
  step(n?: number): Promise<StepInfo>;
  /** Copies the latest positions (xyz interleaved, 3 * nodeCount floats) into `out`. */
  readPositions(out: Float32Array): void;
  /** Holds node i at (x, y, z) until unpin (dragging). Wakes the layout. */
  pin(i: number, x: number, y: number, z: number): void;
  unpin(i: number): void;
  /** Live edit; throws RangeError on an invalid value. Wakes the layout without restarting warm-up. */
  setParams(p: Partial<PhysicsParams>): void;
  dispose(): void;
}

export interface EngineOptions {
  backend: BackendName;
  params?: Partial<PhysicsParams>;
  /** CPU only: run in a Web Worker (default true where Worker exists). */
  worker?: boolean;
}

/** A core on this thread, any kernel. */
class LocalEngine implements PhysicsEngine {
  private core: PhysicsCore;
  private disposed = false;
  private queue: Promise<void> = Promise.resolve();
  constructor(readonly backend: BackendName, kernel: ForceKernel, params?: Partial<PhysicsParams>) {
    this.core = new PhysicsCore(kernel, params);
  }
  get nodeCount(): number {
    return this.core.n;
  }
  get settled(): boolean {
    return this.core.settled;
  }
  get params(): Readonly<PhysicsParams> {
    return this.core.params;
  }
  /** The state itself (tests and the in-page reference read it without copying). */
  get state(): PhysicsCore {
    return this.core;
  }
  async init(graph: PhysicsGraph): Promise<void> {
    this.core.setGraph(graph);
    this.core.reheat();
    await this.core.syncTopology();
  }
  async setGraph(graph: PhysicsGraph): Promise<boolean> {
    const changed = this.core.setGraph(graph);
    await this.core.syncTopology();
    return changed;
  }
  step(n = 1): Promise<StepInfo> {
    // GPU steps await readback: serialise them so two callers never interleave one core's state.
    const run = async (): Promise<StepInfo> => {
      if (this.disposed) throw new Error('physics engine disposed');
      await this.core.syncTopology();
      return this.core.kernel.name === 'cpu' ? this.core.stepSync(n) : this.core.step(n);
    };
    const result = this.queue.then(run, run);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
  readPositions(out: Float32Array): void {
    out.set(this.core.pos.subarray(0, Math.min(out.length, this.core.pos.length)));
  }
  pin(i: number, x: number, y: number, z: number): void {
    this.core.pin(i, x, y, z);
  }
  unpin(i: number): void {
    this.core.unpin(i);
  }
  setParams(p: Partial<PhysicsParams>): void {
    this.core.setParams(p);
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.core.kernel.dispose();
  }
}

/** The CPU core in a Web Worker; positions come back (transferred) after each request. */
class WorkerEngine implements PhysicsEngine {
  readonly backend = 'cpu' as const;
  private positions: Float32Array = new Float32Array(0);
  private pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private _settled = false;
  private _params: PhysicsParams;
  private failed: Error | null = null;

  constructor(private worker: Worker, params: PhysicsParams) {
    this._params = params;
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
      const r = ev.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.error !== undefined) p.reject(new Error(r.error));
      else p.resolve(r);
    };
    worker.onerror = (ev) => {
      this.failed = new Error(`physics worker failed: ${ev.message}`);
      for (const p of this.pending.values()) p.reject(this.failed);
      this.pending.clear();
    };
  }
  get nodeCount(): number {
    return this.positions.length / 3;
  }
  get settled(): boolean {
    return this._settled;
  }
  get params(): Readonly<PhysicsParams> {
    return this._params;
  }
  private request(msg: WorkerRequest, transfer: Transferable[] = []): Promise<WorkerReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    }).then((r) => {
      const reply = r as WorkerReply;
      if (reply.positions) this.positions = reply.positions;
      if (reply.settled !== undefined) this._settled = reply.settled;
      if (reply.params) this._params = reply.params;
      return reply;
    });
  }
  async init(graph: PhysicsGraph): Promise<void> {
    await this.request({ type: 'init', graph, id: 0 });
  }
  async setGraph(graph: PhysicsGraph): Promise<boolean> {
    const r = await this.request({ type: 'setGraph', graph, id: 0 });
    return r.changed === true;
  }
  async step(n = 1): Promise<StepInfo> {
    const r = await this.request({ type: 'step', n, id: 0 });
    return r.info!;
  }
  readPositions(out: Float32Array): void {
    out.set(this.positions.subarray(0, Math.min(out.length, this.positions.length)));
  }
  pin(i: number, x: number, y: number, z: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.nodeCount) throw new RangeError(`pin: node index ${i} out of range`);
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) throw new RangeError('pin: position must be finite');
    // Show the drag at once; the worker applies the same before its next step (messages are ordered).
    this.positions[3 * i] = x;
    this.positions[3 * i + 1] = y;
    this.positions[3 * i + 2] = z;
    this._settled = false;
    void this.request({ type: 'pin', i, xyz: [x, y, z], id: 0 }).catch(() => {});
  }
  unpin(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.nodeCount) throw new RangeError(`unpin: node index ${i} out of range`);
    this._settled = false;
    void this.request({ type: 'unpin', i, id: 0 }).catch(() => {});
  }
  setParams(p: Partial<PhysicsParams>): void {
    // Validate here so the caller gets the RangeError synchronously.
    this._params = resolveParamsSync(p, this._params);
    this._settled = false;
    void this.request({ type: 'setParams', params: p, id: 0 }).catch(() => {});
  }
  dispose(): void {
    this.worker.terminate();
    const err = new Error('physics engine disposed');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.failed = err;
  }
}


/** Creates an engine on the given backend; rejects when that backend is unavailable here. */
export async function createPhysicsEngine(opts: EngineOptions): Promise<PhysicsEngine> {
  const params = resolveParamsSync(opts.params);
  if (opts.backend === 'cpu') {
    const useWorker = opts.worker ?? typeof Worker !== 'undefined';
    if (useWorker) {
      const worker = new Worker(new URL('./cpu-worker.ts', import.meta.url), { type: 'module', name: 'hivescope-physics' });
      const engine = new WorkerEngine(worker, params);
      await engine['request']({ type: 'setParams', params, id: 0 });
      return engine;
    }
    return new LocalEngine('cpu', createCpuKernel(), params);
  }
  // GPU backends load on demand: gpu.js alone is ~500 kB the first paint does not need.
  if (opts.backend === 'webgpu') {
    const { createWebGpuKernel } = await import('./webgpu.js');
    const k = await createWebGpuKernel();
    if (!k) throw new Error('WebGPU is not available here');
    return new LocalEngine('webgpu', k, params);
  }
  if (opts.backend === 'webgl') {
    const { createWebGlKernel } = await import('./webgl.js');
    const k = createWebGlKernel();
    if (!k) throw new Error('WebGL2 (gpu.js) is not available here');
    return new LocalEngine('webgl', k, params);
  }
  throw new RangeError(`unknown physics backend: ${String(opts.backend).slice(0, 32)}`);
}

/** A CPU engine on the calling thread (Node, tests, the in-page reference). */
export function createLocalCpuEngine(params?: Partial<PhysicsParams>): PhysicsEngine & { readonly state: PhysicsCore } {
  return new LocalEngine('cpu', createCpuKernel(), params);
}
