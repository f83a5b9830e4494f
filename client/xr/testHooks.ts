/**
 * window.__hivescope for end-to-end tests (installed only with ?xr=emulate or ?hooks=1): the store, the
 * services, the XR store with its IWER emulator, the world position of an agent, and a way to aim an
 * emulated controller at a point so a test can select an agent with the controller ray and trigger; where
 * agents and labels land on screen (the XR journey samples pixels there, the label check reads overlaps).
 */
import * as THREE from 'three';
import type { XRStore } from '@react-three/xr';
import type { PageServices } from '../page/context.js';
import { frameStats } from '../scene/frameStats.js';
import { swarmGroupRef, rendererRef, cameraRef, labelLayoutRef, clusterLabelsRef } from '../scene/sceneRefs.js';
import { agentSize, NODE_UNIT } from '../scene/encodings.js';

interface EmulatedInput {
  position: { set(x: number, y: number, z: number): unknown };
  quaternion: { set(x: number, y: number, z: number, w: number): unknown };
  updateButtonValue?(id: string, value: number): void;
}
interface EmulatedDevice {
  controllers: Record<'left' | 'right', EmulatedInput | undefined>;
}

export function installTestHooks(services: PageServices, xrStore: XRStore): void {
  const tmp: [number, number, number] = [0, 0, 0];
  const hooks = {
    services,
    store: services.store,
    xrStore,
    frames: () => frameStats.frames,
    swarm: () => swarmGroupRef.current,
    /** Live GPU resources of the renderer (the leak test compares them across mount cycles). */
    glMemory: () => {
      const r = rendererRef.current;
      return r ? { geometries: r.info.memory.geometries, textures: r.info.memory.textures, programs: r.info.programs?.length ?? 0 } : null;
    },
    setSceneMounted: (mounted: boolean) => services.store.setState({ sceneMounted: mounted }),
    agentWorldPosition(agentId: string): [number, number, number] | null {
      const a = services.store.getState().agents.get(agentId);
      if (!a) return null;
      const p = services.positions.positionOf(a.nodeId, tmp);
      if (!p) return null;
      const v = new THREE.Vector3(p[0], p[1], p[2]);
      const g = swarmGroupRef.current;
      if (g) {
        g.updateWorldMatrix(true, false);
        v.applyMatrix4(g.matrixWorld);
      }
      return [v.x, v.y, v.z];
    },
    /** Where an agent is drawn on the page (CSS px), or null when unknown or behind the camera. */
    agentScreenPosition(agentId: string): [number, number] | null {
      const world = hooks.agentWorldPosition(agentId);
      const cam = cameraRef.current;
      const canvas = rendererRef.current?.domElement;
      if (!world || !cam || !canvas) return null;
      const v = new THREE.Vector3(...world).project(cam);
      if (v.z > 1) return null;
      const r = canvas.getBoundingClientRect();
      return [r.left + ((v.x + 1) / 2) * r.width, r.top + ((1 - v.y) / 2) * r.height];
    },
    /**
     * Where an agent's centre is drawn in the headset view (the XR camera's first view, which the emulator
     * shows on the page), in page CSS px, with its drawn radius in px and its distance in metres; null
     * outside XR, when unknown, or behind the viewer.
     */
    agentXRScreenPosition(agentId: string): { x: number; y: number; radius: number; depth: number } | null {
      const renderer = rendererRef.current;
      const world = hooks.agentWorldPosition(agentId);
      const a = services.store.getState().agents.get(agentId);
      if (!renderer?.xr.isPresenting || !world || !a) return null;
      const xrCamera = renderer.xr.getCamera();
      const eye = xrCamera.cameras[0] ?? xrCamera;
      const v = new THREE.Vector3(...world).applyMatrix4(eye.matrixWorldInverse);
      const depth = -v.z;
      if (depth <= 0) return null;
      v.applyMatrix4(eye.projectionMatrix);
      const canvas = renderer.domElement;
      const r = canvas.getBoundingClientRect();
      // The view's viewport in drawing-buffer px, WebGL style (origin bottom left).
      const vp = (eye as THREE.Camera & { viewport?: THREE.Vector4 }).viewport ?? new THREE.Vector4(0, 0, canvas.width, canvas.height);
      const bx = vp.x + ((v.x + 1) / 2) * vp.z;
      const by = vp.y + ((v.y + 1) / 2) * vp.w;
      const toCssX = r.width / canvas.width;
      const toCssY = r.height / canvas.height;
      const g = swarmGroupRef.current;
      const worldRadius = agentSize(a) * NODE_UNIT * (g ? g.matrixWorld.getMaxScaleOnAxis() : 1);
      const radius = ((worldRadius * eye.projectionMatrix.elements[5]!) / depth) * (vp.w / 2) * toCssY;
      return { x: r.left + bx * toCssX, y: r.top + (canvas.height - by) * toCssY, radius, depth };
    },
    /** The labels' screen rectangles (canvas CSS px) and whether each is shown, as the declutter left them. */
    labelRects(): { id: string; shown: boolean; rect: [number, number, number, number] | null }[] {
      const l = labelLayoutRef.current;
      if (!l) return [];
      return l.ids.map((id, k) => {
        const r = l.input.rects;
        const placed = !Number.isNaN(r[k * 4]!);
        return { id, shown: l.state.shown[k] === 1, rect: placed ? [r[k * 4]!, r[k * 4 + 1]!, r[k * 4 + 2]!, r[k * 4 + 3]!] : null };
      });
    },
    /** The fleet's cluster labels: each target's name and where its label sits (layout units); [] with one target. */
    clusterLabels(): { name: string; position: [number, number, number] }[] {
      const c = clusterLabelsRef.current;
      if (!c) return [];
      return c.names.map((name, k) => ({ name, position: [c.positions[3 * k]!, c.positions[3 * k + 1]!, c.positions[3 * k + 2]!] }));
    },
    isPinned(agentId: string): boolean {
      const a = services.store.getState().agents.get(agentId);
      return a !== undefined && services.layout.pinned.has(a.nodeId);
    },
    /** What a ray from `from` towards `to` hits in the swarm (diagnostics for the XR test). */
    raycast(from: [number, number, number], to: [number, number, number]): { name: string; instanceId: number | null; distance: number }[] {
      const g = swarmGroupRef.current;
      if (!g) return [];
      const origin = new THREE.Vector3(...from);
      const dir = new THREE.Vector3(...to).sub(origin).normalize();
      const hits = new THREE.Raycaster(origin, dir).intersectObject(g, true);
      return hits.slice(0, 5).map((h) => ({ name: h.object.name, instanceId: h.instanceId ?? null, distance: h.distance }));
    },
    /** Places the emulated controller at `from` pointing at `to` (world coordinates). */
    aimController(hand: 'left' | 'right', from: [number, number, number], to: [number, number, number]): boolean {
      const device = xrStore.getState().emulator as unknown as EmulatedDevice | undefined;
      const c = device?.controllers[hand];
      if (!c) return false;
      const dir = new THREE.Vector3(to[0] - from[0], to[1] - from[1], to[2] - from[2]).normalize();
      const q = new THREE.Quaternion().setFromUnitVectors(new THREE.Vector3(0, 0, -1), dir);
      c.position.set(from[0], from[1], from[2]);
      c.quaternion.set(q.x, q.y, q.z, q.w);
      return true;
    },
    pressTrigger(hand: 'left' | 'right', value: number): boolean {
      const device = xrStore.getState().emulator as unknown as EmulatedDevice | undefined;
      const c = device?.controllers[hand];
      if (!c?.updateButtonValue) return false;
      c.updateButtonValue('trigger', value);
      return true;
    },
  };
  (window as unknown as { __hivescope: typeof hooks }).__hivescope = hooks;
}
