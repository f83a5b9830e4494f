/**
 * Edges as instanced cylinders (real width, so they also read in XR where GL lines are 1 px): lit and
 * coloured when a message crossed them in the last few seconds, wider with traffic; plus particles
 * travelling along active edges. Endpoint slots and widths are rebuilt when the graph changes; matrices
 * and particle positions are rewritten in useFrame from NodePositions.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import * as THREE from 'three';
import { useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { edgeIsActive, edgeRadius, particleCount } from './encodings.js';
import { SLOT_POSITION, SLOT_STRIDE } from './positions.js';

const _m = new THREE.Matrix4();
const _q = new THREE.Quaternion();
const _a = new THREE.Vector3();
const _b = new THREE.Vector3();
const _mid = new THREE.Vector3();
const _dir = new THREE.Vector3();
const _s = new THREE.Vector3();
const _c = new THREE.Color();
const UP = new THREE.Vector3(0, 1, 0);

/** Particles drawn at most (3 per active edge). */
export const MAX_PARTICLES = 4096;
/**
 * Particle diameter in layout units. three.js attenuates a point's size by its view-space depth, which
 * includes the swarm group's scale, but never multiplies the size itself by that scale: in XR (the swarm
 * scaled to metres, about 1/30) a size in layout units became 30 times too big, squares hundreds of pixels
 * wide that covered most of the headset's view. So the material's size is this times the world scale.
 */
export const PARTICLE_SIZE = 2.2;

interface EdgeTable {
  a: Int32Array;
  b: Int32Array;
  radius: Float32Array;
  lastMessage: Float64Array;
  particles: Uint8Array;
  count: number;
}

export function Edges(props: { capacity: number }) {
  const store = useHiveStore();
  const { positions, layout } = useServices();
  const { capacity } = props;
  const meshRef = useRef<THREE.InstancedMesh>(null);
  const pointsRef = useRef<THREE.Points>(null);
  const table = useRef<EdgeTable | null>(null);
  const seen = useRef({ graph: -1, structure: -1, positions: -1, activeKey: -1 });

  const geometry = useMemo(() => new THREE.CylinderGeometry(1, 1, 1, 6, 1, true), []);
  const material = useMemo(() => new THREE.MeshBasicMaterial({ color: 0xffffff, transparent: true, opacity: 0.6, depthWrite: false }), []);
  const particleGeometry = useMemo(() => {
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(new Float32Array(MAX_PARTICLES * 3), 3));
    g.setDrawRange(0, 0);
    return g;
  }, []);
  const particleMaterial = useMemo(
    () => new THREE.PointsMaterial({ size: PARTICLE_SIZE, sizeAttenuation: true, transparent: true, opacity: 0.95, depthWrite: false, blending: THREE.AdditiveBlending }),
    [],
  );
  useEffect(
    () => () => {
      geometry.dispose();
      material.dispose();
      particleGeometry.dispose();
      particleMaterial.dispose();
    },
    [geometry, material, particleGeometry, particleMaterial],
  );

  const rebuild = () => {
    const s = store.getState();
    const index = new Map<string, number>();
    layout.slotAgents.forEach((id, i) => index.set(id, i));
    const a: number[] = [];
    const b: number[] = [];
    const radius: number[] = [];
    const last: number[] = [];
    const parts: number[] = [];
    for (const e of s.edges.values()) {
      const ia = index.get(e.source);
      const ib = index.get(e.target);
      if (ia === undefined || ib === undefined || ia === ib) continue;
      if (a.length >= capacity) break;
      a.push(ia);
      b.push(ib);
      radius.push(edgeRadius(e));
      last.push(e.lastMessageTime ?? -Infinity);
      parts.push(particleCount(e));
    }
    table.current = {
      a: Int32Array.from(a),
      b: Int32Array.from(b),
      radius: Float32Array.from(radius),
      lastMessage: Float64Array.from(last),
      particles: Uint8Array.from(parts),
      count: a.length,
    };
  };

  useFrame((state) => {
    const s = store.getState();
    const sn = seen.current;
    if (s.graphVersion !== sn.graph || positions.structure !== sn.structure) {
      rebuild();
      sn.graph = s.graphVersion;
      sn.structure = positions.structure;
      sn.positions = -1;
    }
    const t = table.current;
    const mesh = meshRef.current;
    if (!t || !mesh) return;
    const now = Date.now();
    const windowS = s.settings.animation.activeEdgeSeconds;
    // Which edges are active changes with time alone; recolour when the set changes.
    let activeCount = 0;
    // Order-sensitive hash of the active set (no per-frame string building).
    let activeKey = 0;
    for (let i = 0; i < t.count; i++) {
      if (edgeIsActive({ lastMessageTime: t.lastMessage[i]! }, now, windowS)) {
        activeCount++;
        activeKey = (Math.imul(activeKey ^ (i + 1), 16777619) >>> 0) + activeCount;
      }
    }
    const pos = positions.records.floats;
    const settingsColors = s.settings.colors;
    material.opacity = s.settings.rendering.edgeOpacity;
    if (sn.positions !== positions.version || sn.activeKey !== activeKey) {
      for (let i = 0; i < t.count; i++) {
        const ia = t.a[i]! * SLOT_STRIDE + SLOT_POSITION;
        const ib = t.b[i]! * SLOT_STRIDE + SLOT_POSITION;
        _a.set(pos[ia]!, pos[ia + 1]!, pos[ia + 2]!);
        _b.set(pos[ib]!, pos[ib + 1]!, pos[ib + 2]!);
        _mid.addVectors(_a, _b).multiplyScalar(0.5);
        _dir.subVectors(_b, _a);
        const len = _dir.length();
        if (len > 1e-6) _q.setFromUnitVectors(UP, _dir.divideScalar(len));
        const active = edgeIsActive({ lastMessageTime: t.lastMessage[i]! }, now, windowS);
        const r = t.radius[i]! * (active ? 1.6 : 1);
        _m.compose(_mid, _q, _s.set(r, Math.max(len, 1e-6), r));
        mesh.setMatrixAt(i, _m);
        mesh.setColorAt(i, _c.set(active ? settingsColors.edgeActive : settingsColors.edgeIdle));
      }
      mesh.count = t.count;
      mesh.instanceMatrix.needsUpdate = true;
      if (mesh.instanceColor) mesh.instanceColor.needsUpdate = true;
      sn.positions = positions.version;
      sn.activeKey = activeKey;
    }

    // Particles: k-th particle of an edge at fraction (time * speed + k / n) mod 1 from source to target.
    const points = pointsRef.current;
    if (points) {
      let p = 0;
      if (s.settings.animation.particles && activeCount > 0) {
        const attr = particleGeometry.getAttribute('position') as THREE.BufferAttribute;
        const arr = attr.array as Float32Array;
        const time = state.clock.elapsedTime * s.settings.animation.speed * 0.6;
        for (let i = 0; i < t.count && p < MAX_PARTICLES; i++) {
          if (!edgeIsActive({ lastMessageTime: t.lastMessage[i]! }, now, windowS)) continue;
          const ia = t.a[i]! * SLOT_STRIDE + SLOT_POSITION;
          const ib = t.b[i]! * SLOT_STRIDE + SLOT_POSITION;
          const n = t.particles[i]!;
          for (let k = 0; k < n && p < MAX_PARTICLES; k++, p++) {
            const f = (time + k / n + (i % 7) / 7) % 1;
            arr[p * 3] = pos[ia]! + (pos[ib]! - pos[ia]!) * f;
            arr[p * 3 + 1] = pos[ia + 1]! + (pos[ib + 1]! - pos[ia + 1]!) * f;
            arr[p * 3 + 2] = pos[ia + 2]! + (pos[ib + 2]! - pos[ia + 2]!) * f;
          }
        }
        attr.needsUpdate = true;
        particleMaterial.color.set(settingsColors.edgeActive);
        particleMaterial.size = PARTICLE_SIZE * points.matrixWorld.getMaxScaleOnAxis();
      }
      particleGeometry.setDrawRange(0, p);
      // Particles move: keep rendering while any edge is active.
      if (p > 0) state.invalidate();
    }
    if (activeCount > 0) state.invalidate();
  });

  return (
    <group name="edges">
      <instancedMesh
        key={`edges-${capacity}`}
        ref={(m: THREE.InstancedMesh | null) => {
          meshRef.current = m;
          if (m) {
            m.count = 0;
            m.frustumCulled = false;
            seen.current.graph = -1;
          }
        }}
        args={[geometry, material, capacity]}
        raycast={() => null}
      />
      <points ref={pointsRef} geometry={particleGeometry} material={particleMaterial} frustumCulled={false} raycast={() => null} />
    </group>
  );
}
