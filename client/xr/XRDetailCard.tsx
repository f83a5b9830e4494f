/**
 * In-scene detail card for XR (DOM panels do not show in a headset): SDF text on a dark panel next to
 * the selected agent, facing the viewer. Selecting works with controller rays and hands through the
 * same onClick handlers the mouse uses (@react-three/xr routes XR pointers into R3F events).
 * Mounting it publishes the agent id on the store (body[data-xr-card]) for the end-to-end test.
 */
import { useEffect, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { Billboard, Text } from '@react-three/drei';
import type * as THREE from 'three';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { formatMetric, isWorking, healthBand, agentSize, NODE_UNIT } from '../scene/encodings.js';
import { LABEL_FONT_URL } from '../scene/Labels.js';
import type { Agent } from '../../shared/index.js';

export function detailCardText(a: Agent): string {
  return [
    `${a.name}  (${a.type})`,
    `status ${a.status}${isWorking(a) ? ' · working' : ''}`,
    `health ${formatMetric(a.health)} (${healthBand(a.health).label})`,
    `cpu ${formatMetric(a.cpuUsage, '%')}   memory ${formatMetric(a.memoryUsage, '%')}`,
    `tokens ${formatMetric(a.tokens)}   rate ${formatMetric(a.tokenRate, '/min')}`,
    `tasks active ${formatMetric(a.tasksActive)}   done ${formatMetric(a.tasksCompleted)}`,
    `task: ${a.currentTask ? (a.currentTask.length > 80 ? `${a.currentTask.slice(0, 77)}...` : a.currentTask) : 'none reported'}`,
  ].join('\n');
}

const tmp: [number, number, number] = [0, 0, 0];

export function XRDetailCard() {
  const selectedId = useHive((s) => s.selectedAgentId);
  const agent = useHive((s) => (s.selectedAgentId ? (s.agents.get(s.selectedAgentId) ?? null) : null));
  const store = useHiveStore();
  const { positions } = useServices();
  const ref = useRef<THREE.Group>(null);
  useEffect(() => {
    store.setState({ xrCardAgentId: agent ? agent.id : null });
    return () => store.setState({ xrCardAgentId: null });
  }, [agent, store]);
  useFrame(() => {
    const g = ref.current;
    if (!g || !agent) return;
    const p = positions.positionOf(agent.nodeId, tmp);
    if (!p) return;
    const r = agentSize(agent) * NODE_UNIT;
    g.position.set(p[0] + r + 6, p[1] + r, p[2]);
  });
  if (!agent || !selectedId) return null;
  return (
    <group ref={ref} name="xr-detail-card">
      <Billboard>
        <mesh position={[22, -8, -0.2]}>
          <planeGeometry args={[48, 26]} />
          <meshBasicMaterial color="#111722" transparent opacity={0.88} />
        </mesh>
        <Text font={LABEL_FONT_URL} fontSize={2.2} color="#e8ecf4" anchorX="left" anchorY="top" position={[0, 4, 0]} maxWidth={44} lineHeight={1.35}>
          {detailCardText(agent)}
        </Text>
      </Billboard>
    </group>
  );
}
