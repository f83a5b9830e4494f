/**
 * Adapts client/physics's PhysicsEngine (async, any backend) to the LayoutEngine the scene drives.
 * The first graph goes through `init` (it starts the warm-up); later ones through `setGraph`.
 */
import type { PhysicsEngine, PhysicsGraph, PhysicsParams } from '../physics/index.js';
import type { LayoutEngine, LayoutGraph } from './layout.js';

export function adaptPhysicsEngine(engine: PhysicsEngine): LayoutEngine {
  let initialised = false;
  let out = new Float32Array(0);
  return {
    backend: engine.backend,
    async setGraph(g: LayoutGraph) {
      const graph: PhysicsGraph = { ids: g.ids, parents: g.parents, edges: g.edges, weights: g.weights, positions: g.positions };
      if (g.cluster !== undefined && g.anchors !== undefined) {
        graph.cluster = g.cluster;
        graph.anchors = g.anchors;
      }
      if (!initialised) {
        initialised = true;
        await engine.init(graph);
      } else await engine.setGraph(graph);
    },
    async step() {
      const info = await engine.step(1);
      return { settled: info.settled, msPerStep: info.msPerStep };
    },
    positions() {
      const n = engine.nodeCount * 3;
      if (out.length !== n) out = new Float32Array(n);
      engine.readPositions(out);
      return out;
    },
    setParams: (p) => engine.setParams(p as Partial<PhysicsParams>),
    pin: (i, x, y, z) => engine.pin(i, x, y, z),
    unpin: (i) => engine.unpin(i),
    dispose: () => engine.dispose(),
  };
}
