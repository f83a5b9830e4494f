/**
 * The app's one store: a zustand/vanilla store composed from slices (graph data, connection, health,
 * events, ui/selection, settings). React binds to it through client/state/react.ts with one selector per
 * field; the render loop reads getState() inside useFrame. Maps are replaced, never mutated, so a
 * selector returning a Map changes identity exactly when its content changed.
 *
 * Positions and other per-frame data are NOT here: they live in typed arrays (client/scene/positions.ts).
 */
import { createStore, type StateCreator, type StoreApi } from 'zustand/vanilla';
import type { Agent, Edge, Session, Swarm, Health, ActivityEvent, LayoutRole, ServerHello, PhysicsBackend, TargetHealth } from '../../shared/index.js';
import { DEFAULT_SETTINGS, type VisualSettings } from './settings.js';

/** The reconnect state machine's states (client/net/reconnect.ts), mirrored on body[data-connection]. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'offline' | 'closed';

/** Cap on the activity log kept in memory (the relay's ring holds the same). */
export const EVENT_LOG_CAP = 1000;

export interface GraphSlice {
  agents: ReadonlyMap<string, Agent>;
  edges: ReadonlyMap<string, Edge>;
  sessions: ReadonlyMap<string, Session>;
  swarms: ReadonlyMap<string, Swarm>;
  /** Bumped when the set of agents or edges (not their metrics) changes: the physics reheats on it. */
  structureVersion: number;
  /** Bumped on every graph change: the scene re-reads attributes on it. */
  graphVersion: number;
  /** True once the first snapshot of this connection was applied. */
  snapshotApplied: boolean;
  /** Relay time (ms) of the last graph change we applied; drives the stale indicator. */
  lastGraphUpdate: number | null;
}

export interface ConnectionSlice {
  connection: ConnectionState;
  /** Consecutive failed attempts (0 while open). */
  attempt: number;
  /** When the next attempt happens (ms since epoch) while reconnecting. */
  nextAttemptAt: number | null;
  lastCloseReason: string | null;
  clientId: string | null;
  serverConfig: ServerHello['config'] | null;
  protocolMismatch: string | null;
  /** Round trip of our ping, ms. */
  latencyMs: number | null;
  layoutRole: LayoutRole | null;
  layoutSettled: boolean;
  /** Last event seq seen; sent as resumeFrom after a reconnect. */
  eventCursor: number | null;
  lastServerError: { code: string; message: string } | null;
}

export interface HealthSlice {
  health: Health | null;
  /** Local time the last health message arrived. */
  healthReceivedAt: number | null;
}

/** The fleet's targets (issue 14, client/state/targets.ts): one entry per target from health.targets. */
export interface TargetsSlice {
  /** In the relay's order; replaced with every health message; [] until one arrives, and from old relays. */
  targets: readonly TargetHealth[];
}

export interface EventsSlice {
  /** Newest last; at most EVENT_LOG_CAP. */
  events: readonly ActivityEvent[];
  /** True when the relay said events were lost between our cursor and its ring. */
  eventGap: boolean;
}

export interface SpawnNotice {
  uuid: string;
  status: Session['status'];
  swarmId: string | null;
  /** Agents of this swarm visible so far. */
  agentsSeen: number;
  /** The fleet target it was spawned on and why the relay picked it (null: asked for, or an old relay). */
  target?: string | null;
  pickedBecause?: string | null;
  startedAt: number;
  error: string | null;
}

export interface UiSlice {
  selectedAgentId: string | null;
  hoveredAgentId: string | null;
  /** The swarm "+ agent" buttons add to; null: the newest running swarm. */
  selectedSwarmId: string | null;
  search: string;
  filterType: string | null;
  filterStatus: string | null;
  filterSwarm: string | null;
  /**
   * Show only this fleet target's agents and sessions in the control panel; null: all. Not persisted,
   * like the other filters: a target may not exist next time the page opens.
   */
  targetFilter: string | null;
  spawnOpen: boolean;
  spawnNotice: SpawnNotice | null;
  /** Session whose console (log, files, tasks) is open, or null. */
  consoleSession: string | null;
  /** Physics backend actually running (body[data-physics-backend]). */
  physicsBackend: PhysicsBackend;
  /** Why this backend (the start-up trial's one-line result). */
  physicsChoice: string | null;
  /** Last physics step time, ms (overlay). */
  physicsStepMs: number | null;
  /** Messages for the person (toasts): newest last, capped. */
  notices: readonly { id: number; level: 'info' | 'error'; text: string }[];
  /** True while an XR session runs. */
  inXR: boolean;
  /** Agent whose in-scene XR detail card is showing. */
  xrCardAgentId: string | null;
  /** Bumped by "F" / the fit button; the camera rig watches it. */
  fitRequest: number;
  /** False unmounts the scene content inside the canvas (the leak test mounts and unmounts it). */
  sceneMounted: boolean;
}

export interface SettingsSlice {
  settings: VisualSettings;
}

export interface Actions {
  set: StoreApi<HiveState>['setState'];
  select(agentId: string | null): void;
  hover(agentId: string | null): void;
  notify(level: 'info' | 'error', text: string): void;
  dismissNotice(id: number): void;
  updateSettings(patch: (s: VisualSettings) => VisualSettings): void;
}

export type HiveState = GraphSlice & ConnectionSlice & HealthSlice & TargetsSlice & EventsSlice & UiSlice & SettingsSlice & Actions;
export type HiveStore = StoreApi<HiveState>;

type Slice<T> = StateCreator<HiveState, [], [], T>;

const graphSlice: Slice<GraphSlice> = () => ({
  agents: new Map(),
  edges: new Map(),
  sessions: new Map(),
  swarms: new Map(),
  structureVersion: 0,
  graphVersion: 0,
  snapshotApplied: false,
  lastGraphUpdate: null,
});

const connectionSlice: Slice<ConnectionSlice> = () => ({
  connection: 'idle',
  attempt: 0,
  nextAttemptAt: null,
  lastCloseReason: null,
  clientId: null,
  serverConfig: null,
  protocolMismatch: null,
  latencyMs: null,
  layoutRole: null,
  layoutSettled: false,
  eventCursor: null,
  lastServerError: null,
});

const healthSlice: Slice<HealthSlice> = () => ({ health: null, healthReceivedAt: null });

const targetsSlice: Slice<TargetsSlice> = () => ({ targets: [] });

const eventsSlice: Slice<EventsSlice> = () => ({ events: [], eventGap: false });

const NOTICE_CAP = 5;
let noticeSeq = 0;

const uiSlice: Slice<UiSlice> = () => ({
  selectedAgentId: null,
  hoveredAgentId: null,
  selectedSwarmId: null,
  search: '',
  filterType: null,
  filterStatus: null,
  filterSwarm: null,
  targetFilter: null,
  spawnOpen: false,
  spawnNotice: null,
  consoleSession: null,
  physicsBackend: 'none',
  physicsChoice: null,
  physicsStepMs: null,
  notices: [],
  inXR: false,
  xrCardAgentId: null,
  fitRequest: 0,
  sceneMounted: true,
});

const settingsSlice =
  (initial: VisualSettings): Slice<SettingsSlice> =>
  () => ({ settings: initial });

const actions: Slice<Actions> = (set, get) => ({
  set,
  select: (agentId) => {
    if (get().selectedAgentId !== agentId) set({ selectedAgentId: agentId });
  },
  hover: (agentId) => {
    if (get().hoveredAgentId !== agentId) set({ hoveredAgentId: agentId });
  },
  notify: (level, text) => {
    const id = ++noticeSeq;
    set({ notices: [...get().notices, { id, level, text }].slice(-NOTICE_CAP) });
  },
  dismissNotice: (id) => set({ notices: get().notices.filter((n) => n.id !== id) }),
  updateSettings: (patch) => set({ settings: patch(get().settings) }),
});

export function createHiveStore(opts: { settings?: VisualSettings } = {}): HiveStore {
  return createStore<HiveState>()((...a) => ({
    ...graphSlice(...a),
    ...connectionSlice(...a),
    ...healthSlice(...a),
    ...targetsSlice(...a),
    ...eventsSlice(...a),
    ...uiSlice(...a),
    ...settingsSlice(opts.settings ?? DEFAULT_SETTINGS)(...a),
    ...actions(...a),
  }));
}

/** Agents drawn and counted (body[data-agent-count]): mock agents only when the settings ask for them. */
export function isAgentVisible(agent: Agent, showMock: boolean): boolean {
  return showMock || !agent.mock;
}

export function visibleAgentCount(agents: ReadonlyMap<string, Agent>, showMock: boolean): number {
  let n = 0;
  for (const a of agents.values()) if (isAgentVisible(a, showMock)) n++;
  return n;
}
