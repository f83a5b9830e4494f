/**
 * Agents as instanced meshes: one InstancedMesh per shape (shape by status), instance colour by type,
 * scale from the size formula with a token-rate pulse, and one additive glow shell per agent coloured by
 * health (neutral grey when health is unknown); in a fleet, agents of a target that is gone or unavailable
 * are greyed as stale (kept, not removed). Per-instance data lives in typed arrays rebuilt when the
 * graph changes; matrices are rewritten in useFrame from NodePositions, never via React state.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame, useThree, type ThreeEvent } from '@react-three/fiber';
import * as THREE from 'three';
import { useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { SHAPES, type Shape, shapeForStatus, colorForType, healthColor, staleColor, agentSize, pulseHz, PULSE_AMPLITUDE, NODE_UNIT } from './encodings.js';
import { graphTargets, isFleet, orderedTargets, staleTargets, targetOf } from '../state/targets.js';
import { SLOT_POSITION, SLOT_STRIDE } from './positions.js';

const _m = new THREE.Matrix4();
const _q = new THREE.Quaternion();
const _p = new THREE.Vector3();
const _s = new THREE.Vector3();
const _c = new THREE.Color();

function makeGeometry(shape: Shape): THREE.BufferGeometry {
  switch (shape) {
    case 'sphere':
      return new THREE.SphereGeometry(1, 12, 8);
    case 'icosahedron':
      return new THREE.IcosahedronGeometry(1.1, 0);
    case 'tetrahedron':
      return new THREE.TetrahedronGeometry(1.25, 0);
    case 'octahedron':
      return new THREE.OctahedronGeometry(1.2, 0);
    case 'box':
      return new THREE.BoxGeometry(1.5, 1.5, 1.5);
  }
}

/** Per-instance data, rebuilt when the graph or settings change. */
interface InstanceTable {
  /** For each shape: slot of each instance. */
  slots: Record<Shape, Int32Array>;
  /** Per slot: base size, pulse Hz, phase. */
  size: Float32Array;
  pulse: Float32Array;
  phase: Float32Array;
  count: number;
}

/** Pointer travel (px) before a press on an agent becomes a drag rather than a click. */
export const DRAG_THRESHOLD_PX = 4;
/** Pins are sent to the relay at most this often while dragging, ms. */
const PIN_SEND_INTERVAL_MS = 100;

interface DragState {
  nodeId: number;
  pointerId: number;
  plane: THREE.Plane;
  startX: number;
  startY: number;
  moved: boolean;
  lastSent: number;
}

export function Agents(props: { capacity: number }) {
  const store = useHiveStore();
  const { positions, layout, connection } = useServices();
  const controls = useThree((s) => s.controls) as { enabled: boolean } | null;
  const invalidate = useThree((s) => s.invalidate);
  const drag = useRef<DragState | null>(null);
  const suppressClick = useRef(false);
  const { capacity } = props;
  const meshes = useRef<Partial<Record<Shape, THREE.InstancedMesh>>>({});
  const glowRef = useRef<THREE.InstancedMesh>(null);
  const table = useRef<InstanceTable | null>(null);
  const seen = useRef({ graph: -1, structure: -1, settings: null as unknown, targets: null as unknown, positions: -1 });

  const geometries = useMemo(() => Object.fromEntries(SHAPES.map((s) => [s, makeGeometry(s)])) as Record<Shape, THREE.BufferGeometry>, []);
  const glowGeometry = useMemo(() => new THREE.IcosahedronGeometry(1, 1), []);
  const material = useMemo(() => new THREE.MeshStandardMaterial({ color: 0xffffff, roughness: 0.45, metalness: 0.1 }), []);
  const glowMaterial = useMemo(
    // Back faces only: the half in front of the agent would be hidden by it anyway, so this draws the halo
    // around the agent at half the fill cost (fill rate is what a software rasteriser runs out of).
    () => new THREE.MeshBasicMaterial({ color: 0xffffff, transparent: true, opacity: 0.2, blending: THREE.AdditiveBlending, depthWrite: false, side: THREE.BackSide }),
    [],
  );
  useEffect(
    () => () => {
      for (const g of Object.values(geometries)) g.dispose();
      glowGeometry.dispose();
      material.dispose();
      glowMaterial.dispose();
    },
    [geometries, glowGeometry, material, glowMaterial],
  );

  const rebuild = () => {
    const s = store.getState();
    const n = Math.min(positions.count, capacity);
    const buckets: Record<Shape, number[]> = { sphere: [], icosahedron: [], tetrahedron: [], octahedron: [], box: [] };
    const size = new Float32Array(n);
    const pulse = new Float32Array(n);
    const phase = new Float32Array(n);
    const colors = s.settings.colors;
    const glow = glowRef.current;
    // Only a fleet greys: with one target the degraded banners already say what is down.
    const inGraph = graphTargets(s.agents.values());
    const stale = isFleet(orderedTargets(s.targets, inGraph)) ? staleTargets(s.targets, inGraph) : null;
    for (let slot = 0; slot < n; slot++) {
      const agent = s.agents.get(layout.slotAgents[slot] ?? '');
      if (!agent) continue;
      const shape = shapeForStatus(agent.status);
      const mesh = meshes.current[shape];
      const instance = buckets[shape].length;
      buckets[shape].push(slot);
      size[slot] = agentSize(agent) * NODE_UNIT * s.settings.rendering.nodeScale;
      pulse[slot] = s.settings.animation.pulse ? pulseHz(agent.tokenRate) : 0;
      phase[slot] = (agent.nodeId % 97) / 97;
      const t = stale !== null && stale.size > 0 ? targetOf(agent) : null;
      if (t !== null && stale!.has(t)) {
        mesh?.setColorAt(instance, _c.set(staleColor(colorForType(agent.type, colors), colors)));
        glow?.setColorAt(slot, _c.set(colors.unknown));
      } else {
        mesh?.setColorAt(instance, _c.set(colorForType(agent.type, colors)));
        glow?.setColorAt(slot, _c.set(healthColor(agent.health, colors)));
      }
    }
    const slots = Object.fromEntries(SHAPES.map((sh) => [sh, Int32Array.from(buckets[sh])])) as Record<Shape, Int32Array>;
    for (const sh of SHAPES) {
      const mesh = meshes.current[sh];
      if (!mesh) continue;
      mesh.count = slots[sh].length;
      if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
    }
    if (glow) {
      glow.count = n;
      if (glow.instanceColor) glow.instanceColor.needsUpdate = true;
    }
    table.current = { slots, size, pulse, phase, count: n };
  };

  useFrame((state) => {
    const s = store.getState();
    const seenNow = seen.current;
    if (s.graphVersion !== seenNow.graph || positions.structure !== seenNow.structure || s.settings !== seenNow.settings || s.targets !== seenNow.targets) {
      rebuild();
      seenNow.graph = s.graphVersion;
      seenNow.structure = positions.structure;
      seenNow.settings = s.settings;
      seenNow.targets = s.targets;
      seenNow.positions = -1;
    }
    const t = table.current;
    if (!t) return;
    const time = state.clock.elapsedTime * s.settings.animation.speed;
    let animating = false;
    for (let k = 0; k < t.count; k++) {
      if (t.pulse[k]! > 0) {
        animating = true;
        break;
      }
    }
    if (!animating && seenNow.positions === positions.version) return;
    seenNow.positions = positions.version;
    const pos = positions.records.floats;
    const scaleOf = (slot: number) => {
      const f = t.pulse[slot]!;
      return t.size[slot]! * (f > 0 ? 1 + PULSE_AMPLITUDE * Math.sin((time * f + t.phase[slot]!) * Math.PI * 2) : 1);
    };
    for (const sh of SHAPES) {
      const mesh = meshes.current[sh];
      if (!mesh) continue;
      const slots = t.slots[sh];
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i]!;
        const r = scaleOf(slot);
        const o = slot * SLOT_STRIDE + SLOT_POSITION;
        _p.set(pos[o]!, pos[o + 1]!, pos[o + 2]!);
        _m.compose(_p, _q, _s.set(r, r, r));
        mesh.setMatrixAt(i, _m);
      }
      mesh.instanceMatrix.needsUpdate = true;
      // Raycasting uses the bounding sphere: it must follow the instances.
      mesh.computeBoundingSphere();
    }
    const glow = glowRef.current;
    if (glow) {
      for (let slot = 0; slot < t.count; slot++) {
        const r = scaleOf(slot) * 1.35;
        const o = slot * SLOT_STRIDE + SLOT_POSITION;
        _p.set(pos[o]!, pos[o + 1]!, pos[o + 2]!);
        _m.compose(_p, _q, _s.set(r, r, r));
        glow.setMatrixAt(slot, _m);
      }
      glow.instanceMatrix.needsUpdate = true;
      glow.computeBoundingSphere();
    }
    if (animating) state.invalidate();
  });

  const agentAt = (shape: Shape, e: ThreeEvent<PointerEvent | MouseEvent>): string | null => {
    const id = e.instanceId;
    const t = table.current;
    if (id === undefined || !t) return null;
    const slot = t.slots[shape][id];
    return slot === undefined ? null : (layout.slotAgents[slot] ?? null);
  };

  return (
    <group name="agents">
      {SHAPES.map((shape) => (
        <instancedMesh
          key={`${shape}-${capacity}`}
          name={`agents-${shape}`}
          ref={(m: THREE.InstancedMesh | null) => {
            if (m) {
              meshes.current[shape] = m;
              m.count = 0;
              m.frustumCulled = false;
              seen.current.graph = -1;
            } else delete meshes.current[shape];
          }}
          args={[geometries[shape], material, capacity]}
          onPointerOver={(e) => {
            e.stopPropagation();
            store.getState().hover(agentAt(shape, e));
          }}
          onPointerOut={() => store.getState().hover(null)}
          onPointerDown={(e) => {
            const id = agentAt(shape, e);
            if (!id) return;
            e.stopPropagation();
            // In XR, selecting on trigger press is more dependable than a click (down and up within
            // 300 ms on the same object), which slow frames or a shaky hand easily miss.
            if (store.getState().inXR) {
              store.getState().select(id);
              return;
            }
            if (e.button !== 0) return;
            const agent = store.getState().agents.get(id);
            const p = agent ? positions.positionOf(agent.nodeId, [0, 0, 0]) : null;
            if (!agent || !p) return;
            // Drag on the plane through the agent that faces the camera.
            const normal = new THREE.Vector3();
            e.camera.getWorldDirection(normal);
            drag.current = {
              nodeId: agent.nodeId,
              pointerId: e.pointerId,
              plane: new THREE.Plane().setFromNormalAndCoplanarPoint(normal, new THREE.Vector3(p[0], p[1], p[2])),
              startX: e.clientX,
              startY: e.clientY,
              moved: false,
              lastSent: 0,
            };
            (e.target as unknown as Element).setPointerCapture?.(e.pointerId);
            if (controls) controls.enabled = false;
          }}
          onPointerMove={(e) => {
            const d = drag.current;
            if (!d || e.pointerId !== d.pointerId) return;
            e.stopPropagation();
            if (!d.moved && Math.hypot(e.clientX - d.startX, e.clientY - d.startY) < DRAG_THRESHOLD_PX) return;
            d.moved = true;
            const hit = e.ray.intersectPlane(d.plane, new THREE.Vector3());
            if (!hit) return;
            layout.pin(d.nodeId, hit.x, hit.y, hit.z);
            const now = performance.now();
            if (now - d.lastSent > PIN_SEND_INTERVAL_MS) {
              d.lastSent = now;
              connection.pin(d.nodeId, hit.x, hit.y, hit.z);
            }
            invalidate();
          }}
          onPointerUp={(e) => {
            const d = drag.current;
            if (!d || e.pointerId !== d.pointerId) return;
            drag.current = null;
            (e.target as unknown as Element).releasePointerCapture?.(e.pointerId);
            if (controls) controls.enabled = true;
            if (d.moved) {
              // A drag pins the agent where it was dropped; the click that follows is not a selection.
              suppressClick.current = true;
              const p = positions.positionOf(d.nodeId, [0, 0, 0]);
              if (p) connection.pin(d.nodeId, p[0], p[1], p[2]);
            }
          }}
          onDoubleClick={(e) => {
            const id = agentAt(shape, e);
            const agent = id ? store.getState().agents.get(id) : undefined;
            if (!agent || !layout.pinned.has(agent.nodeId)) return;
            e.stopPropagation();
            layout.unpin(agent.nodeId);
            connection.unpin(agent.nodeId);
            invalidate();
          }}
          onClick={(e) => {
            e.stopPropagation();
            if (suppressClick.current) {
              suppressClick.current = false;
              return;
            }
            const id = agentAt(shape, e);
            if (id) store.getState().select(id);
          }}
        />
      ))}
      <instancedMesh
        key={`glow-${capacity}`}
        ref={(m: THREE.InstancedMesh | null) => {
          glowRef.current = m;
          if (m) {
            m.count = 0;
            m.frustumCulled = false;
            seen.current.graph = -1;
          }
        }}
        args={[glowGeometry, glowMaterial, capacity]}
        raycast={() => null}
      />
    </group>
  );
}
