/**
 * Web Worker entry of the CPU backend: runs the reference core (core.ts + reference.ts) off the main
 * thread. Each reply carries a fresh copy of the positions, transferred, so the main thread never shares
 * memory with a step in progress.
 */
import { PhysicsCore, createCpuKernel } from './core.js';
import type { WorkerReply, WorkerRequest } from './cpu-worker-protocol.js';

const MAX_STEPS_PER_REQUEST = 10_000;
const core = new PhysicsCore(createCpuKernel());
const scope = self as unknown as { onmessage: ((ev: MessageEvent<WorkerRequest>) => void) | null; postMessage(msg: WorkerReply, transfer: Transferable[]): void };

scope.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const msg = ev.data;
  const reply: WorkerReply = { id: typeof msg?.id === 'number' ? msg.id : 0 };
  try {
    switch (msg?.type) {
      case 'init':
        core.setGraph(msg.graph);
        core.reheat();
        break;
      case 'setGraph':
        reply.changed = core.setGraph(msg.graph);
        break;
      case 'step': {
        const n = Math.max(0, Math.min(MAX_STEPS_PER_REQUEST, Math.floor(Number(msg.n) || 0)));
        reply.info = core.stepSync(n);
        break;
      }
      case 'pin':
        core.pin(msg.i, msg.xyz[0], msg.xyz[1], msg.xyz[2]);
        break;
      case 'unpin':
        core.unpin(msg.i);
        break;
      case 'setParams':
        core.setParams(msg.params);
        reply.params = core.params;
        break;
      default:
        throw new Error('unknown physics worker request');
    }
    reply.settled = core.settled;
    if (msg.type !== 'setParams' && msg.type !== 'pin' && msg.type !== 'unpin') reply.positions = core.pos.slice();
  } catch (err) {
    reply.error = err instanceof Error ? err.message : String(err);
  }
  scope.postMessage(reply, reply.positions ? [reply.positions.buffer] : []);
};
