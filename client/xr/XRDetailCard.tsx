/**
 * In-scene detail card for XR (DOM panels do not show in a headset): SDF text on a dark panel next to
 * the selected agent, facing the viewer. Selecting works with controller rays and hands through the
 * same onClick handlers the mouse uses (@react-three/xr routes XR pointers into R3F events).
 * Mounting it publishes the agent id on the store (body[data-xr-card]) for the end-to-end test. Below the
 * fields, a short plain-text tail of the agent's session log (the page's DOM console does not show in a
 * headset): the last few lines, escapes stripped, redrawn at most twice a second, not per chunk.
 */
import { useEffect, useRef, useState } from 'react';
import { useFrame } from '@react-three/fiber';
import { Billboard, Text } from '@react-three/drei';
import type * as THREE from 'three';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { formatMetric, isWorking, healthBand, agentSize, NODE_UNIT } from '../scene/encodings.js';
import { LABEL_FONT_URL } from '../scene/Labels.js';
import { plainTail } from '../panels/consoleModel.js';
import type { Agent } from '../../shared/index.js';

/** Lines of the session log's tail on the card, their width, and how often it is redrawn. */
export const XR_TAIL_LINES = 4;
/** Characters per tail line: one line each on the card (the lines do not wrap). */
const XR_TAIL_WIDTH = 46;
const XR_TAIL_MS = 500;
/** Characters of recent log text kept to cut the tail from. */
const XR_TAIL_KEEP = 4096;

/**
 * The last XR_TAIL_LINES of a session's log as plain text, or a line saying why there are none; the
 * text is kept in a ref and React hears of it at most every XR_TAIL_MS.
 */
function useLogTail(uuid: string | null): string {
  const { connection } = useServices();
  const [tail, setTail] = useState('');
  useEffect(() => {
    if (!uuid) return void setTail('session unknown: no log');
    let recent = '';
    let note = 'waiting for the log…';
    let timer: ReturnType<typeof setTimeout> | null = null;
    const publish = () => {
      timer = null;
      const lines = plainTail(recent, XR_TAIL_LINES, XR_TAIL_WIDTH);
      setTail(lines.length > 0 ? lines.join('\n') : note);
    };
    const later = () => (timer ??= setTimeout(publish, XR_TAIL_MS));
    const off = connection.logs.subscribe(uuid, (e) => {
      if (e.kind === 'text') recent = (recent + e.text).slice(-XR_TAIL_KEEP);
      else if (e.kind === 'reset') recent = '';
      else if (e.kind === 'status') {
        const s = e.status;
        note = s.state === 'unavailable' ? `no log: ${s.message || s.reason || 'unavailable'}` : s.state === 'ended' ? 'session ended; log empty' : s.state === 'waiting' ? 'waiting for the log…' : 'log empty so far';
      } else return;
      later();
    });
    publish();
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [connection, uuid]);
  return tail;
}

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
  const tail = useLogTail(agent?.sessionUuid ?? null);
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
        {/* Tall enough for the fields with a task wrapped over three lines, then the log's tail. */}
        <mesh position={[22, -17, -0.2]}>
          <planeGeometry args={[48, 44]} />
          <meshBasicMaterial color="#111722" transparent opacity={0.88} />
        </mesh>
        <Text font={LABEL_FONT_URL} fontSize={2.2} color="#e8ecf4" anchorX="left" anchorY="top" position={[0, 4, 0]} maxWidth={44} lineHeight={1.35}>
          {detailCardText(agent)}
        </Text>
        <Text name="xr-card-log" font={LABEL_FONT_URL} fontSize={1.6} color="#9aa6b8" anchorX="left" anchorY="top" position={[0, -27, 0]} whiteSpace="nowrap" lineHeight={1.3}>
          {`session log:\n${tail}`}
        </Text>
      </Billboard>
    </group>
  );
}
