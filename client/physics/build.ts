/**
 * From agents and their traffic to a PhysicsGraph: one node per agent slot id, one spring per pair that is
 * either queen-worker or has exchanged messages, weighted so the hierarchy holds the swarm together and
 * busy pairs pull closer. Pure, so the app calls it on every store change and lets setGraph decide
 * whether anything structural changed.
 */
import { MAX_EDGES, MAX_NODES, type PhysicsGraph } from './graph.js';

export interface AgentNode {
  /** Stable numeric slot id of the agent (the app's id -> slot map). */
  id: number;
  /** Slot id of its queen / parent, if any. */
  parentId?: number | null;
}

export interface AgentLink {
  a: number;
  b: number;
  /** Communication volume (bytes or messages) over the window the app chooses; >= 0. */
  volume: number;
}

/** Weight of a queen-worker spring (upstream's coordinator weight). */
export const HIERARCHY_WEIGHT = 0.8;
/** Communication springs span [MIN, MIN + SPAN] by log volume relative to the busiest pair. */
export const COMM_WEIGHT_MIN = 0.2;
export const COMM_WEIGHT_SPAN = 0.6;

/** Links naming unknown ids, self-links and non-finite volumes are skipped (telemetry can be ragged). */
export function buildPhysicsGraph(nodes: readonly AgentNode[], links: readonly AgentLink[] = []): PhysicsGraph {
  if (nodes.length > MAX_NODES) throw new RangeError(`too many agents: ${nodes.length} > ${MAX_NODES}`);
  const n = nodes.length;
  const ids = new Uint32Array(n);
  const index = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const id = nodes[i]!.id;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`agent slot id must be a uint32: ${String(id).slice(0, 32)}`);
    if (index.has(id)) throw new RangeError(`duplicate agent slot id ${id}`);
    index.set(id, i);
    ids[i] = id;
  }
  const parents = new Int32Array(n).fill(-1);
  // One spring per unordered pair: key = lo * 2^21 + hi (indices < 2^21).
  const pairWeight = new Map<number, number>();
  const key = (i: number, j: number): number => (i < j ? i * MAX_NODES + j : j * MAX_NODES + i);
  for (let i = 0; i < n; i++) {
    const pid = nodes[i]!.parentId;
    if (pid === null || pid === undefined) continue;
    const p = index.get(pid);
    if (p === undefined || p === i) continue;
    parents[i] = p;
    pairWeight.set(key(i, p), HIERARCHY_WEIGHT);
  }
  let maxLog = 0;
  const comm = new Map<number, number>();
  for (const l of links) {
    const a = index.get(l.a), b = index.get(l.b);
    if (a === undefined || b === undefined || a === b || !Number.isFinite(l.volume) || l.volume < 0) continue;
    const k = key(a, b);
    comm.set(k, (comm.get(k) ?? 0) + l.volume);
  }
  for (const v of comm.values()) maxLog = Math.max(maxLog, Math.log1p(v));
  for (const [k, v] of comm) {
    const w = COMM_WEIGHT_MIN + (maxLog > 0 ? COMM_WEIGHT_SPAN * (Math.log1p(v) / maxLog) : 0);
    pairWeight.set(k, Math.max(pairWeight.get(k) ?? 0, w));
  }
  if (pairWeight.size > MAX_EDGES) throw new RangeError(`too many links: ${pairWeight.size} > ${MAX_EDGES}`);
  const keys = [...pairWeight.keys()].sort((x, y) => x - y);
  const edges = new Uint32Array(2 * keys.length);
  const weights = new Float32Array(keys.length);
  keys.forEach((k, e) => {
    edges[2 * e] = Math.floor(k / MAX_NODES);
    edges[2 * e + 1] = k % MAX_NODES;
    weights[e] = pairWeight.get(k)!;
  });
  return { ids, parents, edges, weights };
}
