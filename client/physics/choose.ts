/**
 * Start-up backend choice by a short measured trial, not by availability: on a software rasteriser
 * (SwiftShader) WebGPU and WebGL are slower than the CPU, on a real GPU they win at large sizes.
 * `?physics=webgpu|webgl|cpu` forces one (it is still checked to start, else the trial decides).
 */
import { createPhysicsEngine, type BackendName, type PhysicsEngine } from './engine.js';
import type { PhysicsGraph } from './graph.js';
import type { PhysicsParams } from './params.js';
import { makeSwarmGraph } from './quality.js';

export const BACKENDS: readonly BackendName[] = ['cpu', 'webgpu', 'webgl'];

export interface ChooseOptions {
  /** `location.search`; `physics=<backend>` in it forces that backend. */
  search?: string;
  /** Forces a backend (wins over `search`). */
  force?: BackendName | null;
  /** Trial graph: the real one if known, else a synthetic swarm graph of `nodes` nodes (default 2048). */
  graph?: PhysicsGraph;
  nodes?: number;
  /** Timed steps per backend after one untimed step (compile, upload). Default 5. */
  steps?: number;
  params?: Partial<PhysicsParams>;
  candidates?: readonly BackendName[];
  /** Per-backend budget in ms for create + trial; over it the backend scores null. Default 5000. */
  timeoutMs?: number;
}

export interface BackendChoice {
  backend: BackendName;
  /** Measured ms per step on the trial graph; null = unavailable, failed or not tried. */
  scores: Record<BackendName, number | null>;
  forced: boolean;
  /** One line for logs and the UI. */
  reason: string;
  trialNodes: number;
}

/** Reads `physics=` from a query string; null when absent or not a known backend. */
export function parsePhysicsParam(search: string | undefined): BackendName | null {
  if (!search) return null;
  let v: string | null = null;
  try {
    v = new URLSearchParams(search).get('physics');
  } catch {
    return null;
  }
  return v !== null && (BACKENDS as readonly string[]).includes(v) ? (v as BackendName) : null;
}

async function withTimeout<T>(p: Promise<T>, ms: number, onLate: (v: T) => void): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve(null);
    }, ms);
  });
  const guarded = p.then(
    (v) => {
      if (timedOut) onLate(v);
      return v;
    },
    () => null,
  );
  const r = await Promise.race([guarded, timeout]);
  clearTimeout(timer);
  return r;
}

/** Times `steps` steps of one backend on `graph`; null when it cannot run here. */
export async function trialBackend(backend: BackendName, graph: PhysicsGraph, steps: number, params: Partial<PhysicsParams> | undefined, timeoutMs: number): Promise<number | null> {
  const run = async (): Promise<{ ms: number; engine: PhysicsEngine }> => {
    const engine = await createPhysicsEngine({ backend, params });
    try {
      await engine.init(graph);
      await engine.step(1);
      const t0 = performance.now();
      const info = await engine.step(steps);
      const ms = (performance.now() - t0) / Math.max(1, info.steps);
      return { ms, engine };
    } catch (e) {
      engine.dispose();
      throw e;
    }
  };
  const r = await withTimeout(run(), timeoutMs, (late) => late.engine.dispose());
  if (!r) return null;
  r.engine.dispose();
  return Number.isFinite(r.ms) ? r.ms : null;
}

export async function choosePhysicsBackend(opts: ChooseOptions = {}): Promise<BackendChoice> {
  const forced = opts.force ?? parsePhysicsParam(opts.search);
  const graph = opts.graph ?? makeSwarmGraph(Math.max(16, Math.min(1 << 17, opts.nodes ?? 2048)), 7);
  const steps = Math.max(1, Math.min(100, opts.steps ?? 5));
  const timeoutMs = opts.timeoutMs ?? 5000;
  const scores: Record<BackendName, number | null> = { cpu: null, webgpu: null, webgl: null };
  const trialNodes = graph.ids.length;
  if (forced) {
    scores[forced] = await trialBackend(forced, graph, 1, opts.params, timeoutMs);
    if (scores[forced] !== null) return { backend: forced, scores, forced: true, reason: `forced by physics=${forced}`, trialNodes };
  }
  const candidates = (opts.candidates ?? BACKENDS).filter((b) => b !== forced);
  // One at a time: running trials side by side would measure contention, not the backends.
  for (const b of candidates) scores[b] = await trialBackend(b, graph, steps, opts.params, timeoutMs);
  let best: BackendName = 'cpu';
  let bestMs = Infinity;
  for (const b of candidates) {
    const s = scores[b];
    if (s !== null && s < bestMs) {
      best = b;
      bestMs = s;
    }
  }
  const fmt = BACKENDS.map((b) => `${b}=${scores[b] === null ? 'n/a' : scores[b]!.toFixed(2) + 'ms'}`).join(' ');
  const prefix = forced ? `physics=${forced} unavailable; ` : '';
  return { backend: best, scores, forced: false, reason: `${prefix}fastest on a ${trialNodes}-node trial: ${fmt}`, trialNodes };
}
