/**
 * Agent detail: every field of the selected agent with where it came from (MCP poll, MCP push, exec,
 * derived, relay) and "unknown" for what nobody reported; uPlot sparklines of cpu, memory and token rate
 * over the last 5 minutes from the relay's `performance` messages; current task; its recent log lines
 * (relay events); and a form that submits a task to the agent's session.
 */
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { RestError, validateBody } from '../net/rest.js';
import { AGENT_METRIC_KEYS, PRIORITIES, type Agent, type AgentMetricKey, type Priority } from '../../shared/index.js';
import { formatMetric, isWorking, healthBand } from '../scene/encodings.js';
import { formatAge, useNow } from './useNow.js';
import { useReturnFocus } from './focus.js';

const METRIC_UNITS: Record<AgentMetricKey, '%' | '/min' | '' | 'ratio'> = {
  health: '',
  cpuUsage: '%',
  memoryUsage: '%',
  workload: 'ratio',
  activity: 'ratio',
  tokens: '',
  tokenRate: '/min',
  currentTask: '',
  tasksActive: '',
  tasksCompleted: '',
  successRate: 'ratio',
};

/** Rows of the field table: label, value text, source (exported for unit tests). */
export function agentFieldRows(a: Agent, now: number): { field: string; value: string; source: string }[] {
  const rows: { field: string; value: string; source: string }[] = [
    { field: 'id', value: a.id, source: 'relay' },
    { field: 'nodeId', value: String(a.nodeId), source: 'relay' },
    { field: 'name', value: a.name, source: 'mcp' },
    { field: 'type', value: a.type, source: 'mcp' },
    { field: 'status', value: `${a.status}${isWorking(a) ? ' (doing work)' : ''}`, source: 'mcp' },
    { field: 'swarmId', value: a.swarmId ?? 'unknown', source: a.swarmId ? 'mcp' : 'unknown' },
    { field: 'session', value: a.sessionUuid ?? 'unknown', source: a.sessionUuid ? 'mcp' : 'unknown' },
    { field: 'parentQueenId', value: a.parentQueenId ?? 'none', source: 'mcp' },
    { field: 'capabilities', value: a.capabilities.length ? a.capabilities.join(', ') : 'none reported', source: 'mcp' },
    { field: 'created', value: a.createdAt !== null ? `${formatAge(now - a.createdAt)} ago` : 'unknown', source: a.createdAt !== null ? 'mcp' : 'unknown' },
    { field: 'lastActive', value: a.lastActive !== null ? `${formatAge(now - a.lastActive)} ago` : 'unknown', source: a.lastActive !== null ? 'mcp' : 'unknown' },
  ];
  for (const k of AGENT_METRIC_KEYS) {
    if (k === 'currentTask') continue;
    const v = a[k] as number | null;
    let text = formatMetric(v, METRIC_UNITS[k]);
    if (k === 'health' && v !== null) text += ` (${healthBand(v).label})`;
    rows.push({ field: k, value: text, source: v === null ? 'unknown' : (a.sources[k] ?? 'relay') });
  }
  rows.push({ field: 'updated', value: `${formatAge(now - a.updatedAt)} ago`, source: 'relay' });
  if (a.mock) rows.push({ field: 'mock', value: 'placeholder agent reported by claude-flow, not a real worker', source: 'mcp' });
  return rows;
}

export function AgentDetail() {
  const store = useHiveStore();
  const agent = useHive((s) => (s.selectedAgentId ? (s.agents.get(s.selectedAgentId) ?? null) : null));
  const now = useNow(1000);
  useReturnFocus(agent !== null);
  if (!agent) return null;
  return (
    <aside className="panel detail" aria-label={`Agent ${agent.name}`} data-testid="agent-detail" data-agent-id={agent.id}>
      <div className="detail-head">
        <h2>{agent.name}</h2>
        <button type="button" aria-label="Close agent detail" onClick={() => store.getState().select(null)}>
          ×
        </button>
      </div>
      <p className="current-task" data-testid="current-task">
        <strong>Current task:</strong> {agent.currentTask ?? (agent.sources.currentTask ? 'none' : 'unknown')}
      </p>
      {agent.sessionUuid !== null ? (
        <button type="button" onClick={() => store.setState({ consoleSession: agent.sessionUuid })} data-testid="agent-open-console">
          Open its session console
        </button>
      ) : (
        <p className="muted">This agent's session is unknown, so it has no console.</p>
      )}
      <Sparklines agentId={agent.id} />
      <table className="fields">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Value</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {agentFieldRows(agent, now).map((r) => (
            <tr key={r.field} data-field={r.field}>
              <th scope="row">{r.field}</th>
              <td className={r.source === 'unknown' ? 'unknown' : ''}>{r.value}</td>
              <td className="muted">{r.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <AgentLog agentId={agent.id} />
      <SubmitTask agent={agent} />
    </aside>
  );
}

const SERIES = [
  { key: 1, label: 'cpu %', color: '#4aa3f0' },
  { key: 2, label: 'memory %', color: '#a071e8' },
  { key: 3, label: 'tokens/min', color: '#f5b942' },
] as const;

function Sparklines(props: { agentId: string }) {
  const { performance } = useServices();
  const refs = useRef<(HTMLDivElement | null)[]>([]);
  const [count, setCount] = useState(() => performance.size(props.agentId));
  useEffect(() => {
    const plots: uPlot[] = [];
    const now = Date.now();
    const cols = performance.columns(props.agentId, now);
    SERIES.forEach((s, i) => {
      const el = refs.current[i];
      if (!el) return;
      plots.push(
        new uPlot(
          {
            width: 250,
            height: 44,
            legend: { show: false },
            cursor: { show: false },
            axes: [{ show: false }, { show: false }],
            scales: { x: { time: true } },
            series: [{}, { stroke: s.color, width: 1.5, spanGaps: false }],
          },
          [cols[0], cols[s.key]] as uPlot.AlignedData,
          el,
        ),
      );
    });
    // Redraw straight from the history's typed arrays when a sample for this agent arrives.
    let pending = false;
    const unsub = performance.subscribe((id) => {
      if (id !== props.agentId || pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const c = performance.columns(props.agentId, Date.now());
        plots.forEach((p, i) => p.setData([c[0], c[SERIES[i]!.key]] as uPlot.AlignedData));
        setCount(c[0].length);
      });
    });
    return () => {
      unsub();
      for (const p of plots) p.destroy();
    };
  }, [performance, props.agentId]);
  return (
    <div className="sparklines" aria-label="Last 5 minutes">
      {SERIES.map((s, i) => (
        <div key={s.key} className="spark">
          <span className="muted">{s.label}</span>
          <div
            ref={(el) => {
              refs.current[i] = el;
            }}
          />
        </div>
      ))}
      {count === 0 && <p className="muted">No samples yet: the relay sends them while this agent is selected.</p>}
    </div>
  );
}

function AgentLog(props: { agentId: string }) {
  const events = useHive((s) => s.events);
  const lines = useMemo(() => events.filter((e) => e.agentId === props.agentId).slice(-20).reverse(), [events, props.agentId]);
  return (
    <section aria-label="Recent log lines">
      <h3>Recent activity</h3>
      {lines.length === 0 ? (
        <p className="muted">No events from this agent yet.</p>
      ) : (
        <ul className="log small" data-testid="agent-log">
          {lines.map((e) => (
            <li key={e.seq} className={`level-${e.level}`}>
              <time dateTime={new Date(e.time).toISOString()}>{new Date(e.time).toLocaleTimeString()}</time> <span className="kind">{e.kind}</span> {e.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function SubmitTask(props: { agent: Agent }) {
  const { rest } = useServices();
  const store = useHiveStore();
  const readOnly = useHive((s) => s.serverConfig?.readOnly ?? false);
  const [task, setTask] = useState('');
  const taskField = useRef<HTMLTextAreaElement>(null);
  const [priority, setPriority] = useState<Priority>('medium');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const uuid = props.agent.sessionUuid;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!uuid || busy) return;
    const v = validateBody('submitTask', { task, priority });
    if (!v.ok) return setError(v.issues.join('; '));
    setBusy(true);
    setError(null);
    try {
      const r = await rest.call('submitTask', { params: { uuid }, body: { task, priority } });
      store.getState().notify(r.accepted ? 'info' : 'error', r.accepted ? `Task submitted${r.taskId ? ` (${r.taskId})` : ''}` : `Task refused: ${r.message}`);
      if (r.accepted) {
        if (taskField.current) taskField.current.value = '';
        setTask('');
      }
    } catch (err) {
      setError(err instanceof RestError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="submit-task" onSubmit={submit} aria-label="Submit a task to this agent's swarm">
      <h3>Submit a task to this swarm</h3>
      {!uuid && <p className="muted">This agent's session is unknown, so tasks cannot be routed to it.</p>}
      <label>
        Task
        {/* Uncontrolled, so a busy page never puts older text back (docs/client.md); cleared by ref. */}
        <textarea ref={taskField} rows={2} defaultValue="" onChange={(e) => setTask(e.target.value)} disabled={!uuid || readOnly} />
      </label>
      <label>
        Priority
        <select value={priority} onChange={(e) => setPriority(e.target.value as Priority)} disabled={!uuid || readOnly}>
          {PRIORITIES.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </label>
      {error && (
        <p className="errors" role="alert">
          {error}
        </p>
      )}
      {/* aria-disabled, not disabled, while sending: a disabled button loses focus in Chromium. */}
      <button type="submit" disabled={!uuid || readOnly} aria-disabled={busy || undefined}>
        {busy ? 'Submitting…' : 'Submit task'}
      </button>
    </form>
  );
}
