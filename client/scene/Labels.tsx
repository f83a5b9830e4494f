/**
 * SDF text labels (drei <Text>, troika: crisp at any distance and rendered in XR too) for the hovered
 * agent, the selected one and the N busiest only, decluttered in screen space so they never pile up:
 * each frame every label's screen rectangle is measured and declutter.ts decides which show (selected and
 * hovered always; then the queen, coordinators, and the busiest; an overlapping less important label is
 * hidden, with hysteresis so nothing flickers as the layout moves). Which agents get a label is React
 * state (it changes at the delta rate); where a label sits and whether it shows is set in useFrame, in
 * typed arrays and refs.
 */
import { useEffect, useMemo, useRef } from 'react';
import { useFrame } from '@react-three/fiber';
import { Billboard, Text } from '@react-three/drei';
import * as THREE from 'three';
import { useHive } from '../state/react.js';
import { useServices } from '../page/context.js';
import { topBusiest, agentSize, NODE_UNIT, labelText, typeGroup, type AgentTraffic } from './encodings.js';
import { createDeclutterState, declutter, carryOver, type DeclutterInput, type DeclutterState } from './declutter.js';
import { labelLayoutRef } from './sceneRefs.js';
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

/** Importance of an agent's label beyond selection and hover: the queen, then coordinators, then the rest. */
function tierOf(a: Agent): number {
  if (a.type === 'queen') return 3;
  return typeGroup(a.type) === 'coordination' ? 2 : 1;
}

/** The label list and its per-frame arrays; replaced (with decisions carried over) when the list changes. */
interface LabelSet {
  ids: string[];
  nodeIds: Int32Array;
  lift: Float32Array;
  input: DeclutterInput;
  state: DeclutterState;
}

interface LabelObjects {
  group: THREE.Group | null;
  text: (THREE.Mesh & { textRenderInfo?: { blockBounds?: number[]; visibleBounds?: number[] } | null }) | null;
}

const _v = new THREE.Vector3();
const tmp: [number, number, number] = [0, 0, 0];

export function Labels() {
  const agents = useHive((s) => s.agents);
  const hovered = useHive((s) => s.hoveredAgentId);
  const selected = useHive((s) => s.selectedAgentId);
  const topN = useHive((s) => s.settings.rendering.labelTopN);
  const showMock = useHive((s) => s.settings.rendering.showMock);
  const mode = useHive((s) => s.settings.rendering.labelMode);
  const edges = useHive((s) => s.edges);
  const { positions } = useServices();
  const traffic = useMemo(() => (mode === 'network' ? trafficByAgent(edges) : null), [mode, edges]);
  const ranked = useMemo(() => {
    const visible = [...agents.values()].filter((a) => showMock || !a.mock);
    const busiest = topBusiest(visible, topN);
    const set = new Set(busiest);
    if (hovered) set.add(hovered);
    if (selected) set.add(selected);
    return { ids: [...set].filter((id) => agents.has(id)), busiest };
  }, [agents, hovered, selected, topN, showMock]);

  const objects = useRef(new Map<string, LabelObjects>());
  const previous = useRef<LabelSet | null>(null);
  const labels = useMemo(() => {
    const { ids, busiest } = ranked;
    const n = ids.length;
    const input: DeclutterInput = { n, rects: new Float32Array(n * 4).fill(Number.NaN), priority: new Float64Array(n), forced: new Uint8Array(n) };
    const lift = new Float32Array(n);
    const nodeIds = new Int32Array(n);
    ids.forEach((id, k) => {
      const a = agents.get(id)!;
      nodeIds[k] = a.nodeId;
      lift[k] = agentSize(a) * NODE_UNIT + 2.5;
      const rank = busiest.indexOf(id);
      // Selected above hovered above everything; within a tier the busier first.
      input.priority[k] = (id === selected ? 2e7 : id === hovered ? 1e7 : 0) + tierOf(a) * 1e4 + (rank < 0 ? 0 : busiest.length - rank);
      input.forced[k] = id === selected || id === hovered ? 1 : 0;
    });
    const state = createDeclutterState(n);
    const prev = previous.current;
    if (prev) carryOver(prev.state, state, ids.map((id) => prev.ids.indexOf(id)));
    const set: LabelSet = { ids, nodeIds, lift, input, state };
    previous.current = set;
    return set;
  }, [ranked, agents, selected, hovered]);

  useEffect(() => () => {
    labelLayoutRef.current = null;
  }, []);

  useFrame((frame) => {
    labelLayoutRef.current = labels;
    const { ids, nodeIds, lift, input, state } = labels;
    const parent = ids.length > 0 ? objects.current.get(ids[0]!)?.group?.parent : null;
    if (!parent) return;
    // In XR the renderer draws with its own camera; its pose and projection are what the viewer sees.
    const cam = frame.gl.xr.isPresenting ? frame.gl.xr.getCamera() : frame.camera;
    // The renderer updates the camera's matrices only when it draws, after this: a camera just moved (the
    // fit, an orbit) would otherwise be measured where it was, and a settled scene keep that stale layout.
    if (!frame.gl.xr.isPresenting) cam.updateMatrixWorld();
    const { width, height } = frame.size;
    const worldScale = parent.matrixWorld.getMaxScaleOnAxis();
    const pe = cam.projectionMatrix.elements;
    const rects = input.rects;
    for (let k = 0; k < ids.length; k++) {
      const o = objects.current.get(ids[k]!);
      const g = o?.group;
      rects[k * 4] = Number.NaN;
      if (!g) continue;
      const p = positions.positionOf(nodeIds[k]!, tmp);
      if (!p) {
        g.visible = false;
        continue;
      }
      g.position.set(p[0], p[1] + lift[k]!, p[2]);
      const bounds = o.text?.textRenderInfo?.visibleBounds ?? o.text?.textRenderInfo?.blockBounds;
      if (!bounds) continue;
      _v.set(g.position.x, g.position.y, g.position.z).applyMatrix4(parent.matrixWorld).applyMatrix4(cam.matrixWorldInverse);
      const depth = -_v.z;
      if (depth <= 1e-6) continue;
      _v.applyMatrix4(cam.projectionMatrix);
      if (Math.abs(_v.x) > 1.5 || Math.abs(_v.y) > 1.5) continue;
      // Screen px per local text unit at this depth (the billboard faces the camera, so x is right, y up).
      const sx = ((pe[0]! * width) / 2 / depth) * worldScale;
      const sy = ((pe[5]! * height) / 2 / depth) * worldScale;
      const cx = ((_v.x + 1) / 2) * width;
      const cy = ((1 - _v.y) / 2) * height;
      rects[k * 4] = cx + bounds[0]! * sx;
      rects[k * 4 + 1] = cy - bounds[3]! * sy;
      rects[k * 4 + 2] = cx + bounds[2]! * sx;
      rects[k * 4 + 3] = cy - bounds[1]! * sy;
    }
    const pending = declutter(input, state);
    for (let k = 0; k < ids.length; k++) {
      const g = objects.current.get(ids[k]!)?.group;
      // Not measured yet (troika still laying the text out): nothing is drawn, so leave it visible.
      if (g && !Number.isNaN(rects[k * 4]!)) g.visible = state.shown[k] === 1;
    }
    // A decision waits for a few more frames: keep drawing them, or a settled scene would freeze mid-way.
    if (pending) frame.invalidate();
  });

  const register = (id: string, part: keyof LabelObjects) => (obj: THREE.Object3D | null) => {
    const entry = objects.current.get(id) ?? { group: null, text: null };
    (entry as Record<keyof LabelObjects, THREE.Object3D | null>)[part] = obj;
    if (entry.group || entry.text) objects.current.set(id, entry);
    else objects.current.delete(id);
  };

  return (
    <group name="labels">
      {labels.ids.map((id) => (
        <Label
          key={id}
          groupRef={register(id, 'group')}
          textRef={register(id, 'text')}
          text={labelText(agents.get(id)!, mode, traffic?.get(id))}
          emphasis={id === selected ? 'selected' : id === hovered ? 'hovered' : 'busy'}
        />
      ))}
    </group>
  );
}

function Label(props: { groupRef: (g: THREE.Group | null) => void; textRef: (t: THREE.Mesh | null) => void; text: string; emphasis: 'selected' | 'hovered' | 'busy' }) {
  const { emphasis } = props;
  return (
    <group ref={props.groupRef} visible={false}>
      <Billboard>
        <Text
          ref={props.textRef}
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
