/**
 * Control panel (upstream BotsControlPanel): Agents (search, filter by type/status/swarm/fleet target, "+ type" buttons
 * adding an agent to the selected swarm), Sessions (status, progress, age; stop, pause, resume; open the
 * session console) and
 * Visual (colours, animation, physics, rendering) with presets, local persistence and JSON export/import.
 */
import { useId, useLayoutEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { RestError } from '../net/rest.js';
import { isAgentVisible } from '../state/store.js';
import { TUNABLE_PARAMS, TUNABLE_RANGES, type TunableParam } from '../physics/params.js';
import { LABEL_MODES, SETTINGS_PRESETS, DEFAULT_SETTINGS, exportSettings, importSettings, type VisualSettings } from '../state/settings.js';
import { AGENT_TYPES, AGENT_STATUSES, sessionUiState, TERMINAL_SESSION_STATUSES, type Agent, type Session, type SessionStatus } from '../../shared/index.js';
import { formatAge, useNow } from './useNow.js';
import { useDomValue } from './useDomValue.js';
import { isWorking, formatMetric } from '../scene/encodings.js';
import { TabList, TabPanel, type TabSpec } from './Tabs.js';
import { KeepFocus } from './focus.js';
import { TargetFilter } from './Targets.js';
import { graphTargets, isFleet, matchesTarget, orderedTargets, sessionStaleReason } from '../state/targets.js';

type Tab = 'agents' | 'sessions' | 'visual';

const TABS: readonly TabSpec<Tab>[] = [
  { id: 'agents', label: 'Agents' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'visual', label: 'Visual' },
];

export function ControlPanel() {
  const [tab, setTab] = useState<Tab>('agents');
  const [collapsed, setCollapsed] = useState(false);
  const idBase = useId();
  return (
    <aside className={`panel control ${collapsed ? 'collapsed' : ''}`} aria-label="Control panel">
      <div className="tabs">
        <TabList
          label="Control panel sections"
          idBase={idBase}
          tabs={TABS}
          selected={tab}
          onSelect={(t) => (setTab(t), setCollapsed(false))}
          testIdPrefix="tab-"
        />
        <button type="button" className="collapse" aria-label={collapsed ? 'Expand control panel' : 'Collapse control panel'} onClick={() => setCollapsed(!collapsed)}>
          {collapsed ? '»' : '«'}
        </button>
      </div>
      {TABS.map((t) => (
        <TabPanel key={t.id} idBase={idBase} tab={t.id} selected={tab === t.id} hidden={collapsed} className="tab-body">
          {t.id === 'agents' && <AgentsTab />}
          {t.id === 'sessions' && <SessionsTab />}
          {t.id === 'visual' && <VisualTab />}
        </TabPanel>
      ))}
    </aside>
  );
}

/** Filters as the agents tab applies them (exported for unit tests). */
export function filterAgents(
  agents: Iterable<Agent>,
  f: { search: string; type: string | null; status: string | null; swarm: string | null; showMock: boolean; target?: string | null },
): Agent[] {
  const q = f.search.trim().toLowerCase();
  const out: Agent[] = [];
  for (const a of agents) {
    if (!isAgentVisible(a, f.showMock)) continue;
    if (f.type && a.type !== f.type) continue;
    if (f.status && a.status !== f.status) continue;
    if (f.swarm && a.swarmId !== f.swarm) continue;
    if (!matchesTarget(f.target ?? null, a)) continue;
    if (q && !`${a.name} ${a.id} ${a.type} ${a.currentTask ?? ''}`.toLowerCase().includes(q)) continue;
    out.push(a);
  }
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** The swarm "+ type" adds to: the chosen one, else the newest swarm with a running session. */
export function targetSwarm(selected: string | null, sessions: Iterable<Session>, swarmIds: Iterable<string>): string | null {
  const ids = new Set(swarmIds);
  if (selected && ids.has(selected)) return selected;
  let best: Session | null = null;
  for (const s of sessions) {
    if (!s.swarmId || TERMINAL_SESSION_STATUSES.includes(s.status)) continue;
    if (!best || (s.createdAt ?? 0) > (best.createdAt ?? 0)) best = s;
  }
  return best?.swarmId ?? null;
}

/**
 * The swarms "+ type" may add to under the target filter (exported for unit tests): every swarm with no
 * filter; with one, only that target's (a swarm's own target, else its agents'), so "+ coder" while the
 * list shows one target never lands on another.
 */
export function addableSwarms(swarmIds: Iterable<string>, swarms: ReadonlyMap<string, { target?: string | undefined }>, agents: Iterable<{ swarmId: string | null; target?: string | undefined }>, filter: string | null): string[] {
  const ids = [...swarmIds];
  if (filter === null) return ids;
  const of = new Map<string, string | undefined>();
  for (const a of agents) if (a.swarmId !== null && !of.has(a.swarmId)) of.set(a.swarmId, a.target);
  return ids.filter((id) => matchesTarget(filter, { target: swarms.get(id)?.target ?? of.get(id) }));
}

const ADD_TYPES = ['coder', 'tester', 'analyst', 'researcher', 'reviewer', 'architect', 'optimizer', 'documenter'] as const;

function AgentsTab() {
  const store = useHiveStore();
  const { rest } = useServices();
  const agents = useHive((s) => s.agents);
  const swarms = useHive((s) => s.swarms);
  const sessions = useHive((s) => s.sessions);
  const search = useHive((s) => s.search);
  const searchRef = useDomValue<HTMLInputElement>(search);
  const filterType = useHive((s) => s.filterType);
  const filterStatus = useHive((s) => s.filterStatus);
  const filterSwarm = useHive((s) => s.filterSwarm);
  const targetFilter = useHive((s) => s.targetFilter);
  const selectedSwarm = useHive((s) => s.selectedSwarmId);
  const selectedAgent = useHive((s) => s.selectedAgentId);
  const showMock = useHive((s) => s.settings.rendering.showMock);
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const [busy, setBusy] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);

  const list = useMemo(
    () => filterAgents(agents.values(), { search, type: filterType, status: filterStatus, swarm: filterSwarm, showMock, target: targetFilter }),
    [agents, search, filterType, filterStatus, filterSwarm, showMock, targetFilter],
  );
  const swarmIds = useMemo(() => {
    const ids = new Set(swarms.keys());
    for (const a of agents.values()) if (a.swarmId) ids.add(a.swarmId);
    return [...ids].sort();
  }, [swarms, agents]);
  const addable = useMemo(() => addableSwarms(swarmIds, swarms, agents.values(), targetFilter), [swarmIds, swarms, agents, targetFilter]);
  const target = targetSwarm(
    selectedSwarm,
    [...sessions.values()].filter((x) => matchesTarget(targetFilter, x)),
    addable,
  );
  const [heldTarget, setHeldTarget] = useState<string | null | undefined>(undefined);
  const shownTarget = heldTarget !== undefined ? heldTarget : target;

  const add = async (agentType: string) => {
    if (!target || busy !== null) return;
    setBusy(agentType);
    try {
      const r = await rest.call('spawnAgentHybrid', { body: { agentType, swarmId: target, method: 'hybrid' } });
      store.getState().notify(r.success ? 'info' : 'error', r.success ? `Added ${agentType} to ${target} (${r.methodUsed})` : `Could not add ${agentType}: ${r.message}`);
    } catch (e) {
      store.getState().notify('error', `Could not add ${agentType}: ${e instanceof RestError ? e.message : String(e)}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="agents-tab">
      <label>
        Search agents
        <input type="search" ref={searchRef} defaultValue={search} onChange={(e) => store.setState({ search: e.target.value })} placeholder="name, id, task" />
      </label>
      <div className="row">
        <label>
          Type
          <select value={filterType ?? ''} onChange={(e) => store.setState({ filterType: e.target.value || null })}>
            <option value="">all</option>
            {AGENT_TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filterStatus ?? ''} onChange={(e) => store.setState({ filterStatus: e.target.value || null })}>
            <option value="">all</option>
            {AGENT_STATUSES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Swarm
          <select value={filterSwarm ?? ''} onChange={(e) => store.setState({ filterSwarm: e.target.value || null })}>
            <option value="">all</option>
            {swarmIds.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <TargetFilter />
      </div>
      <fieldset className="add-agents">
        <legend>
          Add to{' '}
          {/* While it has focus the select keeps showing the swarm it showed then: the automatic choice
              (the newest running swarm) must not change under a keyboard user who is choosing. */}
          <select
            aria-label="Swarm to add agents to"
            value={shownTarget ?? ''}
            onFocus={() => setHeldTarget(target)}
            onBlur={() => setHeldTarget(undefined)}
            onChange={(e) => {
              const v = e.target.value || null;
              setHeldTarget(v);
              store.setState({ selectedSwarmId: v });
            }}
          >
            {!shownTarget && <option value="">{targetFilter === null ? 'no running swarm' : `no running swarm on ${targetFilter}`}</option>}
            {addable.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </legend>
        {ADD_TYPES.map((t) => (
          // aria-disabled while there is no swarm to add to: swarms finish live, and a button that
          // became disabled would drop its keyboard focus to <body>.
          <button key={t} type="button" disabled={readOnly} aria-disabled={busy !== null || !target || undefined} onClick={() => void add(t)} data-testid={`add-${t}`}>
            + {t}
          </button>
        ))}
      </fieldset>
      <p className="muted" aria-live="polite">
        {list.length} agent{list.length === 1 ? '' : 's'}
      </p>
      {/* Agents come and go with their swarms: KeepFocus moves focus from a row that left to its neighbour. */}
      <KeepFocus list={listRef}>
        <ul ref={listRef} className="agent-list" data-testid="agent-list" tabIndex={-1} aria-label="Agents">
          {list.slice(0, 500).map((a) => (
            <li key={a.id}>
              <button
                type="button"
                className={a.id === selectedAgent ? 'selected' : ''}
                aria-pressed={a.id === selectedAgent}
                onClick={() => store.getState().select(a.id)}
                data-agent-id={a.id}
              >
                <span className={`status status-${a.status}`} aria-hidden="true" />
                <span className="name">{a.name}</span>
                <span className="muted">
                  {a.type} · {isWorking(a) ? 'working' : a.status} · cpu {formatMetric(a.cpuUsage, '%')}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </KeepFocus>
    </div>
  );
}

function SessionsTab() {
  const store = useHiveStore();
  const { rest } = useServices();
  const sessions = useHive((s) => s.sessions);
  const targetFilter = useHive((s) => s.targetFilter);
  const targets = useHive((s) => s.targets);
  const agents = useHive((s) => s.agents);
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const now = useNow(1000);
  // As the scene greys agents: only a fleet marks stale (one target's banners already say what is down).
  const fleet = useMemo(() => isFleet(orderedTargets(targets, graphTargets([...agents.values(), ...sessions.values()]))), [targets, agents, sessions]);
  const [pending, setPending] = useState<{ uuid: string; action: SessionAction } | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const list = useMemo(
    () => [...sessions.values()].filter((x) => matchesTarget(targetFilter, x)).sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)),
    [sessions, targetFilter],
  );
  // Busy until the relay answers or its pushed status already shows the result, whichever comes first:
  // the push often beats the REST answer, and a press on a session that visibly runs again must count.
  const busy = pending !== null && !actionSettled(pending.action, sessions.get(pending.uuid)?.status);

  const act = async (uuid: string, action: SessionAction) => {
    if (busy) return;
    const mine = { uuid, action };
    setPending(mine);
    try {
      const r = await rest.call(action, { params: { id: uuid } });
      store.getState().notify('info', `Session ${uuid.slice(0, 8)}: ${r.status}`);
    } catch (e) {
      store.getState().notify('error', `Session ${uuid.slice(0, 8)}: ${e instanceof RestError ? `${e.message} (${e.code})` : String(e)}`);
    } finally {
      // A later action may have started meanwhile; only this one's marker is cleared.
      setPending((p) => (p === mine ? null : p));
    }
  };

  if (list.length === 0) {
    return (
      <>
        <TargetFilter />
        <p className="muted">{targetFilter === null ? 'No sessions yet. Spawn a swarm to start one.' : `No sessions on target ${targetFilter}.`}</p>
      </>
    );
  }
  return (
    <>
    <TargetFilter />
    {/* Sessions start, end and reorder while a row's controls have focus: KeepFocus keeps it in the list. */}
    <KeepFocus list={listRef}>
      <ul ref={listRef} className="session-list" data-testid="session-list" tabIndex={-1} aria-label="Sessions">
        {list.map((s) => {
          const ui = sessionUiState(s.status);
          const terminal = TERMINAL_SESSION_STATUSES.includes(s.status);
          const stale = sessionStaleReason(targets, fleet, s);
          return (
            // tabIndex -1: the row can take focus when its actions go away (SessionActions).
            <li
              key={s.uuid}
              className={stale ? 'stale' : undefined}
              data-session={s.uuid}
              data-status={s.status}
              data-stale={stale ? 'true' : undefined}
              tabIndex={-1}
              aria-label={`Session ${s.task || s.uuid}: ${s.status}${stale ? ` (${stale})` : ''}`}
            >
              <div className="session-head">
                <span className={`badge badge-${ui}`}>{s.status}</span>
                {/* Its status is the last known: the target it runs on cannot be asked now. */}
                {stale && (
                  <span className="badge badge-stale" id={`stale-${s.uuid}`} data-testid="session-stale" title={`${stale}; the status shown is the last known`}>
                    {stale}
                  </span>
                )}
                <span className="task" title={s.task}>
                  {s.task || '(no task text)'}
                </span>
              </div>
              <div className="muted">
                {s.swarmId ?? 'swarm pending'} · age {formatAge(s.createdAt !== null ? now - s.createdAt : null)} · {s.agentCount ?? 'unknown'} agents
              </div>
              <div className="progress-row">
                {s.progress !== null ? <progress max={1} value={s.progress} aria-label="Session progress" /> : <span className="muted">progress unknown</span>}
                {/* Every session, ended ones too: what a finished swarm wrote is what people come for. */}
                <button type="button" className="open-console" aria-label={`Console of session ${s.uuid.slice(0, 8)}`} onClick={() => store.setState({ consoleSession: s.uuid })} data-testid="open-console">
                  Console
                </button>
              </div>
              {!terminal && <SessionActions session={s} active={ui === 'active'} busy={busy} readOnly={readOnly} stale={stale} act={act} />}
            </li>
          );
        })}
      </ul>
    </KeepFocus>
    </>
  );
}

type SessionAction = 'removeTask' | 'pauseTask' | 'resumeTask';

/** Whether a session's status already shows what `action` asked for (or the session is over or gone). */
export function actionSettled(action: SessionAction, status: SessionStatus | undefined): boolean {
  if (status === undefined || TERMINAL_SESSION_STATUSES.includes(status)) return true;
  if (action === 'pauseTask') return status === 'paused';
  if (action === 'resumeTask') return status === 'running';
  return false;
}

/**
 * A session's Pause/Resume and Stop. While a request is in flight, or (Pause) while the session is not
 * running, the buttons are aria-disabled, not disabled: Chromium drops focus from a button that becomes
 * disabled, so a keyboard user pressing Pause would land on <body> when a live update arrives. When
 * the session ends the actions go away; focus that was on them moves to the session's row instead of
 * falling back to the top of the page.
 */
function SessionActions(props: { session: Session; active: boolean; busy: boolean; readOnly: boolean; stale: string | null; act: (uuid: string, action: SessionAction) => Promise<void> }) {
  const { session: s, readOnly, stale } = props;
  const store = useHiveStore();
  // On a target that cannot be asked now (stale), Pause, Resume and Stop could only fail: they stay in
  // place (and keep focus) but are aria-disabled, described by the row's stale badge, and a press says why.
  const busy = props.busy || stale !== null;
  const described = stale !== null ? `stale-${s.uuid}` : undefined;
  const act = (uuid: string, action: SessionAction) => {
    if (stale !== null) {
      store.getState().notify('error', `Session ${uuid.slice(0, 8)}: ${stale}; it can be paused or stopped once its target answers again`);
      return;
    }
    void props.act(uuid, action);
  };
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const box = ref.current;
    // A layout cleanup runs before React removes these buttons, so focus can still be seen inside them.
    // Only focus that was here moves: a session ending elsewhere must not pull focus to its row.
    return () => {
      const row = box?.closest<HTMLElement>('li');
      const focused = document.activeElement;
      if (box && row && focused !== null && box.contains(focused)) row.focus();
    };
  }, []);
  return (
    <div className="actions" ref={ref}>
      {s.status === 'paused' ? (
        <button type="button" disabled={readOnly} aria-disabled={busy || undefined} aria-describedby={described} onClick={() => act(s.uuid, 'resumeTask')}>
          Resume
        </button>
      ) : (
        // aria-disabled, not disabled, until the session runs: a live status change must not drop focus.
        <button type="button" disabled={readOnly} aria-disabled={busy || !props.active || undefined} aria-describedby={described} onClick={() => props.active && act(s.uuid, 'pauseTask')}>
          Pause
        </button>
      )}
      <button type="button" className="danger" disabled={readOnly} aria-disabled={busy || undefined} aria-describedby={described} onClick={() => act(s.uuid, 'removeTask')} data-testid="stop-session">
        Stop
      </button>
    </div>
  );
}

type VisualGroup = 'colors' | 'animation' | 'physics' | 'rendering';

const VISUAL_GROUPS: readonly TabSpec<VisualGroup>[] = [
  { id: 'colors', label: 'colors' },
  { id: 'animation', label: 'animation' },
  { id: 'physics', label: 'physics' },
  { id: 'rendering', label: 'rendering' },
];

const PHYSICS_LABELS: Record<TunableParam, string> = {
  springK: 'Spring stiffness',
  repelK: 'Repulsion',
  damping: 'Damping',
  maxVelocity: 'Max velocity',
  restLength: 'Rest length',
  centerGravityK: 'Centre gravity',
};

/** The numeric fields of each visual group; the physics ranges come from client/physics/params.ts. */
export const NUMBER_FIELDS: Record<Exclude<VisualGroup, 'colors'>, { key: string; label: string; min: number; max: number; step: number }[]> = {
  animation: [
    { key: 'speed', label: 'Animation speed', min: 0, max: 4, step: 0.1 },
    { key: 'activeEdgeSeconds', label: 'Edge active for (s)', min: 1, max: 60, step: 1 },
  ],
  physics: TUNABLE_PARAMS.map((key) => ({ key, label: PHYSICS_LABELS[key], ...TUNABLE_RANGES[key] })),
  rendering: [
    { key: 'labelTopN', label: 'Labels for the N busiest', min: 0, max: 50, step: 1 },
    { key: 'edgeOpacity', label: 'Edge opacity', min: 0, max: 1, step: 0.05 },
    { key: 'nodeScale', label: 'Agent size', min: 0.1, max: 5, step: 0.1 },
  ],
};

const BOOL_FIELDS: Partial<Record<VisualGroup, { key: string; label: string }[]>> = {
  animation: [
    { key: 'pulse', label: 'Token-rate pulse' },
    { key: 'particles', label: 'Message particles' },
  ],
  rendering: [
    { key: 'showMock', label: 'Show placeholder (mock) agents' },
    { key: 'showOverlay', label: 'Show stats overlay' },
  ],
};

function VisualTab() {
  const store = useHiveStore();
  const { layout } = useServices();
  const settings = useHive((s) => s.settings);
  const [group, setGroup] = useState<VisualGroup>('colors');
  const [importErrors, setImportErrors] = useState<string[]>([]);
  const idBase = useId();
  // The file input stays hidden (a file input's own button cannot be styled) and a real button opens
  // it: a label wrapping a display:none input is not in the Tab order, so import was mouse-only.
  const fileInput = useRef<HTMLInputElement>(null);

  const apply = (next: VisualSettings) => {
    store.getState().updateSettings(() => next);
    layout.setParams({ ...next.physics });
  };
  // Reads the settings at the moment of the change, not those of the last render: two changes between
  // renders (key repeat, a dragged colour) must not build on the same old copy and drop the first.
  const setField = (g: VisualGroup, key: string, value: unknown) => {
    const now = store.getState().settings;
    apply({ ...now, [g]: { ...now[g], [key]: value } });
  };

  const doExport = () => {
    const blob = new Blob([exportSettings(settings)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'hivescope-visual-settings.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  const doImport = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    const r = importSettings(await file.text());
    setImportErrors(r.errors);
    apply(r.settings);
  };

  return (
    <div className="visual-tab">
      <div className="row">
        <label>
          Preset
          <select
            value=""
            onChange={(e) => {
              const p = SETTINGS_PRESETS[e.target.value];
              if (p) apply(p);
            }}
          >
            <option value="">choose…</option>
            {Object.keys(SETTINGS_PRESETS).map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={doExport}>
          Export JSON
        </button>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Import JSON
        </button>
        <input ref={fileInput} type="file" accept="application/json,.json" hidden tabIndex={-1} aria-label="Import visual settings JSON" onChange={(e) => void doImport(e)} />
        <button type="button" onClick={() => apply(DEFAULT_SETTINGS)}>
          Reset
        </button>
      </div>
      {importErrors.length > 0 && (
        <ul className="errors" role="alert">
          {importErrors.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      )}
      <TabList label="Visual settings groups" idBase={idBase} tabs={VISUAL_GROUPS} selected={group} onSelect={setGroup} className="tabs small" testIdPrefix="visual-tab-" />
      {VISUAL_GROUPS.map((g) => (
        <TabPanel key={g.id} idBase={idBase} tab={g.id} selected={group === g.id} className="fields">
          <VisualFields group={g.id} settings={settings} setField={setField} />
        </TabPanel>
      ))}
    </div>
  );
}

/** A settings slider: uncontrolled (see useDomValue), so arrow keys on a busy page are never undone. */
function RangeField(props: { id: string; label: string; min: number; max: number; step: number; value: number; onChange: (v: number) => void }) {
  const { id, label, min, max, step, value, onChange } = props;
  const ref = useDomValue<HTMLInputElement>(String(value));
  return <input ref={ref} id={id} type="range" aria-label={label} min={min} max={max} step={step} defaultValue={value} onChange={(e) => onChange(Number(e.target.value))} />;
}

/** A colour setting: a picker sends many input events while dragged, so it is uncontrolled too. */
function ColorField(props: { name: string; value: string; onChange: (v: string) => void }) {
  const ref = useDomValue<HTMLInputElement>(props.value);
  return (
    <label className="color-field">
      <input ref={ref} type="color" defaultValue={props.value} onChange={(e) => props.onChange(e.target.value)} />
      {props.name}
    </label>
  );
}

/** The fields of one visual settings group. */
function VisualFields(props: { group: VisualGroup; settings: VisualSettings; setField: (g: VisualGroup, key: string, value: unknown) => void }) {
  const { group, settings, setField } = props;
  const idBase = useId();
  return (
    <>
      {group === 'colors' &&
        Object.entries(settings.colors).map(([k, v]) => (
          <ColorField key={k} name={k} value={v} onChange={(x) => setField('colors', k, x)} />
        ))}
      {group !== 'colors' &&
        NUMBER_FIELDS[group].map((f) => {
          const v = (settings[group] as unknown as Record<string, number>)[f.key]!;
          const id = `${idBase}-${f.key}`;
          // An <output> is itself labelable: inside a bare <label> it, not the slider, took the label and
          // left the slider nameless. The label now points at the slider, and aria-label keeps the value
          // out of the slider's name (a slider announces its value itself).
          return (
            <label key={f.key} htmlFor={id}>
              <span>
                {f.label}: <output htmlFor={id}>{v}</output>
              </span>
              <RangeField id={id} label={f.label} min={f.min} max={f.max} step={f.step} value={v} onChange={(x) => setField(group, f.key, x)} />
            </label>
          );
        })}
      {group !== 'colors' &&
        (BOOL_FIELDS[group] ?? []).map((f) => (
          <label key={f.key} className="check">
            <input type="checkbox" checked={(settings[group] as unknown as Record<string, boolean>)[f.key]} onChange={(e) => setField(group, f.key, e.target.checked)} />
            {f.label}
          </label>
        ))}
      {group === 'rendering' && (
        <label>
          Label mode (L cycles)
          <select value={settings.rendering.labelMode} onChange={(e) => setField('rendering', 'labelMode', e.target.value)}>
            {LABEL_MODES.map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
      )}
      {group === 'physics' && <p className="muted">Changes apply live; the layout wakes up without restarting its warm-up.</p>}
    </>
  );
}
