/**
 * One label per fleet target (docs/fleet.md section 4): the target's name above its cluster of swarms,
 * "(gone)" or "(unavailable)" and grey when its swarms are stale. Nothing at all with one target. Where a
 * label sits (above the highest of its agents, centred on them; at the anchor while the target has none)
 * is set in useFrame from the typed-array positions; which labels exist is React state, changing only when
 * targets come or go.
 */
import { useEffect, useRef, useState } from 'react';
import { useFrame } from '@react-three/fiber';
import { Billboard, Text } from '@react-three/drei';
import type * as THREE from 'three';
import { useHive } from '../state/react.js';
import { useServices } from '../page/context.js';
import { chipTone } from '../state/targets.js';
import { LABEL_FONT_URL } from './Labels.js';
import { SLOT_POSITION, SLOT_STRIDE } from './positions.js';
import { clusterLabelsRef } from './sceneRefs.js';

/** Height of the name above a cluster's highest agent, layout units. */
const LIFT = 28;

export function ClusterLabels() {
  const { positions, layout } = useServices();
  const targets = useHive((s) => s.targets);
  const [names, setNames] = useState<readonly string[]>([]);
  const groups = useRef<(THREE.Group | null)[]>([]);
  const seen = useRef({ clusters: null as unknown, positions: -1 });
  const xyz = useRef(new Float32Array(0));

  useEffect(() => () => {
    clusterLabelsRef.current = null;
  }, []);

  useFrame(() => {
    const clusters = layout.clusters;
    if (clusters !== seen.current.clusters) {
      seen.current.clusters = clusters;
      seen.current.positions = -1;
      const next = clusters?.names ?? [];
      if (next.join('\n') !== names.join('\n')) setNames(next);
    }
    if (clusters === null || seen.current.positions === positions.version) return;
    seen.current.positions = positions.version;
    const c = clusters.names.length;
    if (xyz.current.length !== 3 * c) xyz.current = new Float32Array(3 * c);
    const sum = new Float64Array(3 * c);
    const count = new Uint32Array(c);
    const top = new Float64Array(c).fill(-Infinity);
    const f = positions.records.floats;
    const n = Math.min(positions.count, clusters.cluster.length);
    for (let i = 0; i < n; i++) {
      const k = clusters.cluster[i]!;
      if (k < 0) continue;
      const o = i * SLOT_STRIDE + SLOT_POSITION;
      sum[3 * k] = sum[3 * k]! + f[o]!;
      sum[3 * k + 2] = sum[3 * k + 2]! + f[o + 2]!;
      if (f[o + 1]! > top[k]!) top[k] = f[o + 1]!;
      count[k] = count[k]! + 1;
    }
    const out = xyz.current;
    for (let k = 0; k < c; k++) {
      if (count[k]! > 0) {
        out[3 * k] = sum[3 * k]! / count[k]!;
        out[3 * k + 1] = top[k]! + LIFT;
        out[3 * k + 2] = sum[3 * k + 2]! / count[k]!;
      } else {
        out[3 * k] = clusters.anchors[3 * k]!;
        out[3 * k + 1] = clusters.anchors[3 * k + 1]! + LIFT;
        out[3 * k + 2] = clusters.anchors[3 * k + 2]!;
      }
      groups.current[k]?.position.set(out[3 * k]!, out[3 * k + 1]!, out[3 * k + 2]!);
    }
    clusterLabelsRef.current = { names: clusters.names, positions: out };
  });

  if (names.length <= 1) return null;
  const byName = new Map(targets.map((t) => [t.name, t] as const));
  return (
    <group name="cluster-labels">
      {names.map((name, k) => {
        const t = byName.get(name);
        // Not listed by the relay any more: gone while this page looked away.
        const tone = t ? chipTone(t) : 'gone';
        const suffix = tone === 'gone' ? ' (gone)' : tone === 'down' ? ' (unavailable)' : '';
        return (
          <group key={name} ref={(g) => void (groups.current[k] = g)}>
            <Billboard>
              <Text fontSize={14} color={suffix ? '#8a8f99' : '#cfe3ff'} outlineWidth={1} outlineColor="#000000" anchorX="center" anchorY="bottom" font={LABEL_FONT_URL}>
                {name + suffix}
              </Text>
            </Billboard>
          </group>
        );
      })}
    </group>
  );
}
