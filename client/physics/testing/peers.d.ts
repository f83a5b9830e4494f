// Minimal typings for the two peer layouts the benchmark runs beside ours (they ship no TypeScript types
// that fit here); only what harness.ts calls.
declare module 'd3-force-3d' {
  export interface SimNode { index?: number; x?: number; y?: number; z?: number; vx?: number; vy?: number; vz?: number }
  export interface Simulation {
    force(name: string, f: unknown): Simulation;
    tick(n?: number): Simulation;
    stop(): Simulation;
    nodes(): SimNode[];
  }
  export function forceSimulation(nodes: SimNode[], numDimensions?: number): Simulation;
  export function forceLink(links: { source: number; target: number }[]): { distance(d: number): unknown; id(f: (n: SimNode) => number): unknown };
  export function forceManyBody(): unknown;
  export function forceCenter(): unknown;
}
declare module 'ngraph.graph' {
  export interface Graph { addNode(id: number): unknown; addLink(a: number, b: number): unknown }
  export default function createGraph(): Graph;
}
declare module 'ngraph.forcelayout' {
  import type { Graph } from 'ngraph.graph';
  export interface Layout {
    step(): boolean;
    getNodePosition(id: number): { x: number; y: number; z?: number };
    setNodePosition(id: number, x: number, y: number, z?: number): void;
    dispose(): void;
  }
  export default function createLayout(graph: Graph, settings?: { dimensions?: number; springLength?: number }): Layout;
}
