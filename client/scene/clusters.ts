/**
 * Where a fleet's targets sit in the scene (docs/fleet.md section 4): one anchor per target on a circle in
 * the plane facing the default camera, its radius from the target count so neighbouring anchors stay
 * CLUSTER_SPACING apart, and each agent's cluster index for the physics' weak pull to its anchor. One
 * target (or a relay that names none) has no clusters at all: the layout is exactly the single-container one.
 */
import type { Agent } from '../../shared/index.js';
import { targetOf } from '../state/targets.js';

/** Distance between neighbouring anchors: room for a few 8-agent swarms (about 120 units across) each. */
export const CLUSTER_SPACING = 420;

/** Radius of the anchors' circle for `count` targets (0 for one or none). */
export function clusterRadius(count: number, spacing = CLUSTER_SPACING): number {
  if (count <= 1) return 0;
  // Chord between neighbours 2 R sin(pi / count) = spacing.
  return spacing / (2 * Math.sin(Math.PI / count));
}

/**
 * xyz per target, in target order: the first on the left, then clockwise as seen from the default camera
 * (two targets: left and right; three: left, upper right, lower right). Empty for one target or none.
 */
export function clusterAnchors(count: number, spacing = CLUSTER_SPACING): Float32Array {
  if (count <= 1) return new Float32Array(0);
  const r = clusterRadius(count, spacing);
  const out = new Float32Array(3 * count);
  for (let k = 0; k < count; k++) {
    const a = Math.PI - (2 * Math.PI * k) / count;
    // Rounded so an anchor is the same float on every page (leaders agree on where targets sit).
    out[3 * k] = Math.round(r * Math.cos(a) * 1000) / 1000;
    out[3 * k + 1] = Math.round(r * Math.sin(a) * 1000) / 1000;
    out[3 * k + 2] = 0;
  }
  return out;
}

export interface Clusters {
  /** Target names in cluster order (index = cluster). */
  names: readonly string[];
  /** Cluster of each slot, -1 for an agent whose target is not known. */
  cluster: Int32Array;
  anchors: Float32Array;
}

/**
 * The cluster of each slotted agent, or null when there is nothing to cluster (fewer than two targets):
 * the physics then gets no cluster data and lays out as it always did.
 */
export function clustersFor(names: readonly string[], slotAgents: readonly string[], agents: ReadonlyMap<string, Pick<Agent, 'target'>>): Clusters | null {
  if (names.length <= 1) return null;
  const index = new Map(names.map((n, i) => [n, i] as const));
  const cluster = new Int32Array(slotAgents.length);
  for (let i = 0; i < slotAgents.length; i++) {
    const a = agents.get(slotAgents[i]!);
    const t = a ? targetOf(a) : null;
    cluster[i] = t === null ? -1 : (index.get(t) ?? -1);
  }
  return { names, cluster, anchors: clusterAnchors(names.length) };
}
