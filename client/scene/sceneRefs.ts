/**
 * Handles on the live three.js objects, set by the canvas (HiveCanvas) and read outside React: the test
 * hooks (client/xr/testHooks.ts) map agents to world and screen coordinates with them and count the
 * renderer's live GPU resources. Plain mutable refs on purpose: they change per mount, not per frame,
 * and nothing renders from them.
 */
import type * as THREE from 'three';

/** The swarm's group; its matrixWorld maps layout units to world metres in XR. */
export const swarmGroupRef: { current: THREE.Group | null } = { current: null };
/** The canvas's renderer: its info.memory counts live GPU geometries and textures. */
export const rendererRef: { current: THREE.WebGLRenderer | null } = { current: null };
/** The non-XR camera (set by the camera rig): tests project agents to screen coordinates with it. */
export const cameraRef: { current: THREE.Camera | null } = { current: null };
/**
 * The labels' last screen layout (Labels.tsx, updated in place every frame): rectangles in canvas CSS px,
 * x0, y0, x1, y1 per label (x0 NaN when not on screen), and which are shown (1). Tests check that no two
 * shown labels overlap.
 */
export const labelLayoutRef: {
  current: { ids: readonly string[]; input: { rects: Float32Array }; state: { shown: Uint8Array } } | null;
} = { current: null };
/**
 * The fleet's cluster labels (ClusterLabels.tsx): target names in cluster order and where each label sits,
 * xyz in layout units (updated in place); null with one target.
 */
export const clusterLabelsRef: { current: { names: readonly string[]; positions: Float32Array } | null } = { current: null };
