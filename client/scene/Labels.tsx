/**
 * SDF text labels (drei <Text>, troika: crisp at any distance and rendered in XR too) for the hovered
 * agent, the selected one and the N busiest only, so labels stay readable in a big swarm. Which agents
 * get a label is React state (it changes at the delta rate); where a label sits is set in useFrame.
 */
import { useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { Billboard, Text } from '@react-three/drei';
import type * as THREE from 'three';
import { useHive } from '../state/react.js';
import { useServices } from '../page/context.js';
import { topBusiest, agentSize, NODE_UNIT, labelText, type AgentTraffic } from './encodings.js';
import type { Agent, Edge } from '../../shared/index.js';

function trafficByAgent(edges: ReadonlyMap<string, Edge>): Map<string, AgentTraffic> {
  const out = new Map<string, AgentTraffic>();
  const add = (id: string, e: Edge) => {
    const t = out.get(id) ?? { messages: 0, bytes: 0, links: 0 };
    t.messages += e.messageCount;
    t.bytes += e.dataVolume;
    t.links++;
    out.set(id, t);
  };
  for (const e of edges.values()) {
    add(e.source, e);
    add(e.target, e);
  }
  return out;
}

/** Served from public/: troika would otherwise fetch fonts from a CDN, which an offline machine cannot reach. */
export const LABEL_FONT_URL = '/fonts/DejaVuSans.ttf';

export function Labels() {
  const agents = useHive((s) => s.agents);
  const hovered = useHive((s) => s.hoveredAgentId);
  const selected = useHive((s) => s.selectedAgentId);
  const topN = useHive((s) => s.settings.rendering.labelTopN);
  const showMock = useHive((s) => s.settings.rendering.showMock);
  const mode = useHive((s) => s.settings.rendering.labelMode);
  const edges = useHive((s) => s.edges);
  const traffic = useMemo(() => (mode === 'network' ? trafficByAgent(edges) : null), [mode, edges]);
  const ids = useMemo(() => {
    const visible = [...agents.values()].filter((a) => showMock || !a.mock);
    const set = new Set(topBusiest(visible, topN));
    if (hovered) set.add(hovered);
    if (selected) set.add(selected);
    return [...set].filter((id) => agents.has(id));
  }, [agents, hovered, selected, topN, showMock]);
  return (
    <group name="labels">
      {ids.map((id) => (
        <Label
          key={id}
          agent={agents.get(id)!}
          text={labelText(agents.get(id)!, mode, traffic?.get(id))}
          emphasis={id === selected ? 'selected' : id === hovered ? 'hovered' : 'busy'}
        />
      ))}
    </group>
  );
}

const tmp: [number, number, number] = [0, 0, 0];

function Label(props: { agent: Agent; text: string; emphasis: 'selected' | 'hovered' | 'busy' }) {
  const { positions } = useServices();
  const ref = useRef<THREE.Group>(null);
  const { agent, emphasis } = props;
  const lift = agentSize(agent) * NODE_UNIT + 2.5;
  useFrame(() => {
    const g = ref.current;
    if (!g) return;
    const p = positions.positionOf(agent.nodeId, tmp);
    if (!p) {
      g.visible = false;
      return;
    }
    g.visible = true;
    g.position.set(p[0], p[1] + lift, p[2]);
  });
  return (
    <group ref={ref}>
      <Billboard>
        <Text
          fontSize={emphasis === 'busy' ? 2.2 : 2.8}
          color={emphasis === 'selected' ? '#ffe27a' : '#e8ecf4'}
          outlineWidth={0.25}
          outlineColor="#000000"
          anchorX="center"
          anchorY="bottom"
          textAlign="center"
          maxWidth={60}
          font={LABEL_FONT_URL}
        >
          {props.text}
        </Text>
      </Billboard>
    </group>
  );
}
