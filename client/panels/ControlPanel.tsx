/**
 * Control panel (upstream BotsControlPanel): Agents (search, filter by type/status/swarm, "+ type" buttons
 * adding an agent to the selected swarm), Sessions (status, progress, age; stop, pause, resume) and
 * Visual (colours, animation, physics, rendering) with presets, local persistence and JSON export/import.
 */
import { useMemo, useState, type ChangeEvent } from 'react';
import { useHive, useHiveStore, useServices } from '../state/react.js';
import { RestError } from '../net/rest.js';
import { isAgentVisible } from '../state/store.js';
import { LABEL_MODES, SETTINGS_PRESETS, DEFAULT_SETTINGS, exportSettings, importSettings, type VisualSettings } from '../state/settings.js';
import { AGENT_TYPES, AGENT_STATUSES, sessionUiState, TERMINAL_SESSION_STATUSES, type Agent, type Session } from '../../shared/index.js';
import { formatAge, useNow } from './useNow.js';
import { isWorking, formatMetric } from '../scene/encodings.js';

type Tab = 'agents' | 'sessions' | 'visual';

export function ControlPanel() {
  const [tab, setTab] = useState<Tab>('agents');
  const [collapsed, setCollapsed] = useState(false);
  return (
    <aside className={`panel control ${collapsed ? 'collapsed' : ''}`} aria-label="Control panel">
      <div className="tabs" role="tablist">
        {(['agents', 'sessions', 'visual'] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => (setTab(t), setCollapsed(false))} data-testid={`tab-${t}`}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
        <button type="button" className="collapse" aria-label={collapsed ? 'Expand control panel' : 'Collapse control panel'} onClick={() => setCollapsed(!collapsed)}>
          {collapsed ? '»' : '«'}
        </button>
      </div>
      {!collapsed && (
        <div className="tab-body" role="tabpanel">
          {tab === 'agents' && <AgentsTab />}
          {tab === 'sessions' && <SessionsTab />}
          {tab === 'visual' && <VisualTab />}
        </div>
      )}
    </aside>
  );
}

/** Filters as the agents tab applies them (exported for unit tests). */
export function filterAgents(
  agents: Iterable<Agent>,
  f: { search: string; type: string | null; status: string | null; swarm: string | null; showMock: boolean },
): Agent[] {
  const q = f.search.trim().toLowerCase();
  const out: Agent[] = [];
  for (const a of agents) {
    if (!isAgentVisible(a, f.showMock)) continue;
    if (f.type && a.type !== f.type) continue;
    if (f.status && a.status !== f.status) continue;
    if (f.swarm && a.swarmId !== f.swarm) continue;
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

const ADD_TYPES = ['coder', 'tester', 'analyst', 'researcher', 'reviewer', 'architect', 'optimizer', 'documenter'] as const;

function AgentsTab() {
  const store = useHiveStore();
  const { rest } = useServices();
  const agents = useHive((s) => s.agents);
  const swarms = useHive((s) => s.swarms);
  const sessions = useHive((s) => s.sessions);
  const search = useHive((s) => s.search);
  const filterType = useHive((s) => s.filterType);
  const filterStatus = useHive((s) => s.filterStatus);
  const filterSwarm = useHive((s) => s.filterSwarm);
  const selectedSwarm = useHive((s) => s.selectedSwarmId);
  const selectedAgent = useHive((s) => s.selectedAgentId);
  const showMock = useHive((s) => s.settings.rendering.showMock);
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const [busy, setBusy] = useState<string | null>(null);

  const list = useMemo(
    () => filterAgents(agents.values(), { search, type: filterType, status: filterStatus, swarm: filterSwarm, showMock }),
    [agents, search, filterType, filterStatus, filterSwarm, showMock],
  );
  const swarmIds = useMemo(() => {
    const ids = new Set(swarms.keys());
    for (const a of agents.values()) if (a.swarmId) ids.add(a.swarmId);
    return [...ids].sort();
  }, [swarms, agents]);
  const target = targetSwarm(selectedSwarm, sessions.values(), swarmIds);

  const add = async (agentType: string) => {
    if (!target) return;
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
        <input type="search" value={search} onChange={(e) => store.setState({ search: e.target.value })} placeholder="name, id, task" />
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
      </div>
      <fieldset className="add-agents">
        <legend>
          Add to{' '}
          <select aria-label="Swarm to add agents to" value={target ?? ''} onChange={(e) => store.setState({ selectedSwarmId: e.target.value || null })}>
            {!target && <option value="">no running swarm</option>}
            {swarmIds.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </legend>
        {ADD_TYPES.map((t) => (
          <button key={t} type="button" disabled={!target || busy !== null || readOnly} onClick={() => void add(t)} data-testid={`add-${t}`}>
            + {t}
          </button>
        ))}
      </fieldset>
      <p className="muted" aria-live="polite">
        {list.length} agent{list.length === 1 ? '' : 's'}
      </p>
      <ul className="agent-list" data-testid="agent-list">
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
    </div>
  );
}

function SessionsTab() {
  const store = useHiveStore();
  const { rest } = useServices();
  const sessions = useHive((s) => s.sessions);
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const now = useNow(1000);
  const [busy, setBusy] = useState<string | null>(null);
  const list = useMemo(() => [...sessions.values()].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)), [sessions]);

  const act = async (uuid: string, action: 'removeTask' | 'pauseTask' | 'resumeTask') => {
    setBusy(uuid);
    try {
      const r = await rest.call(action, { params: { id: uuid } });
      store.getState().notify('info', `Session ${uuid.slice(0, 8)}: ${r.status}`);
    } catch (e) {
      store.getState().notify('error', `Session ${uuid.slice(0, 8)}: ${e instanceof RestError ? `${e.message} (${e.code})` : String(e)}`);
    } finally {
      setBusy(null);
    }
  };

  if (list.length === 0) return <p className="muted">No sessions yet. Spawn a swarm to start one.</p>;
  return (
    <ul className="session-list" data-testid="session-list">
      {list.map((s) => {
        const ui = sessionUiState(s.status);
        const terminal = TERMINAL_SESSION_STATUSES.includes(s.status);
        return (
          <li key={s.uuid} data-session={s.uuid} data-status={s.status}>
            <div className="session-head">
              <span className={`badge badge-${ui}`}>{s.status}</span>
              <span className="task" title={s.task}>
                {s.task || '(no task text)'}
              </span>
            </div>
            <div className="muted">
              {s.swarmId ?? 'swarm pending'} · age {formatAge(s.createdAt !== null ? now - s.createdAt : null)} · {s.agentCount ?? 'unknown'} agents
            </div>
            <div className="progress-row">
              {s.progress !== null ? <progress max={1} value={s.progress} aria-label="Session progress" /> : <span className="muted">progress unknown</span>}
            </div>
            {!terminal && (
              <div className="actions">
                {s.status === 'paused' ? (
                  <button type="button" disabled={busy !== null || readOnly} onClick={() => void act(s.uuid, 'resumeTask')}>
                    Resume
                  </button>
                ) : (
                  <button type="button" disabled={busy !== null || readOnly || ui !== 'active'} onClick={() => void act(s.uuid, 'pauseTask')}>
                    Pause
                  </button>
                )}
                <button type="button" className="danger" disabled={busy !== null || readOnly} onClick={() => void act(s.uuid, 'removeTask')} data-testid="stop-session">
                  Stop
                </button>
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

type VisualGroup = 'colors' | 'animation' | 'physics' | 'rendering';

const NUMBER_FIELDS: Record<Exclude<VisualGroup, 'colors'>, { key: string; label: string; min: number; max: number; step: number }[]> = {
  animation: [
    { key: 'speed', label: 'Animation speed', min: 0, max: 4, step: 0.1 },
    { key: 'activeEdgeSeconds', label: 'Edge active for (s)', min: 1, max: 60, step: 1 },
  ],
  physics: [
    { key: 'springK', label: 'Spring stiffness', min: 0, max: 100, step: 0.5 },
    { key: 'repelK', label: 'Repulsion', min: 0, max: 2000, step: 10 },
    { key: 'damping', label: 'Damping', min: 0, max: 1, step: 0.01 },
    { key: 'maxVelocity', label: 'Max velocity', min: 1, max: 1000, step: 1 },
    { key: 'restLength', label: 'Rest length', min: 1, max: 300, step: 1 },
    { key: 'centerGravityK', label: 'Centre gravity', min: 0, max: 1, step: 0.001 },
  ],
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

  const apply = (next: VisualSettings) => {
    store.getState().updateSettings(() => next);
    layout.setParams({ ...next.physics });
  };
  const setField = (g: VisualGroup, key: string, value: unknown) => apply({ ...settings, [g]: { ...settings[g], [key]: value } });

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
        <label className="file-button">
          Import JSON
          <input type="file" accept="application/json,.json" onChange={(e) => void doImport(e)} />
        </label>
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
      <div className="tabs small" role="tablist">
        {(['colors', 'animation', 'physics', 'rendering'] as const).map((g) => (
          <button key={g} type="button" role="tab" aria-selected={group === g} onClick={() => setGroup(g)}>
            {g}
          </button>
        ))}
      </div>
      <div className="fields">
        {group === 'colors' &&
          Object.entries(settings.colors).map(([k, v]) => (
            <label key={k} className="color-field">
              <input type="color" value={v} onChange={(e) => setField('colors', k, e.target.value)} />
              {k}
            </label>
          ))}
        {group !== 'colors' &&
          NUMBER_FIELDS[group].map((f) => {
            const v = (settings[group] as unknown as Record<string, number>)[f.key]!;
            return (
              <label key={f.key}>
                {f.label}: <output>{v}</output>
                <input type="range" min={f.min} max={f.max} step={f.step} value={v} onChange={(e) => setField(group, f.key, Number(e.target.value))} />
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
      </div>
    </div>
  );
}
