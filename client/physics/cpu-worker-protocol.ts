/** Messages between the CPU physics engine (main thread) and its worker (cpu-worker.ts). */
import type { StepInfo } from './core.js';
import type { PhysicsGraph } from './graph.js';
import type { PhysicsParams } from './params.js';

export type WorkerRequest =
  | { id: number; type: 'init'; graph: PhysicsGraph }
  | { id: number; type: 'setGraph'; graph: PhysicsGraph }
  | { id: number; type: 'step'; n: number }
  | { id: number; type: 'pin'; i: number; xyz: [number, number, number] }
  | { id: number; type: 'unpin'; i: number }
  | { id: number; type: 'setParams'; params: Partial<PhysicsParams> };

export interface WorkerReply {
  id: number;
  error?: string;
  /** A copy of the positions after the request (transferred). */
  positions?: Float32Array;
  settled?: boolean;
  changed?: boolean;
  info?: StepInfo;
  params?: PhysicsParams;
}
