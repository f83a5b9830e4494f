/**
 * "Spawn Hive Mind" (upstream's MultiAgentInitializationPrompt): topology, max agents 3-20 (8), 12 agent
 * types with upstream's 7 defaults, neural toggle, task description, plus strategy and priority. Validates
 * with the route's own schema (the relay validates the same way), hints to add the queen for a
 * hierarchical topology, shows whether MCP telemetry is connected, and after submitting shows a notice
 * with the session id that advances until the swarm id and the first agents arrive. With several fleet
 * targets it has a target picker (client/panels/Targets.tsx) and the notice says which target was used.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { validateBody, RestError } from '../net/rest.js';
import { spawnPhase } from '../state/apply.js';
import { TOPOLOGIES, STRATEGIES, PRIORITIES, type Topology, type Strategy, type Priority } from '../../shared/index.js';
import { containTab, useReturnFocus } from './focus.js';
import { TargetPicker, pickedTarget } from './Targets.js';
import { mcpIndicator } from '../state/targets.js';

export const PROMPT_AGENT_TYPES = ['queen', 'coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer', 'reviewer', 'documenter', 'monitor', 'specialist'] as const;
export const DEFAULT_PROMPT_TYPES: readonly string[] = ['coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer'];

export interface SpawnForm {
  topology: Topology;
  maxAgents: number;
  strategy: Strategy;
  priority: Priority;
  enableNeural: boolean;
  agentTypes: string[];
  customPrompt: string;
}

export const DEFAULT_SPAWN_FORM: SpawnForm = {
  topology: 'mesh',
  maxAgents: 8,
  strategy: 'adaptive',
  priority: 'medium',
  enableNeural: true,
  agentTypes: [...DEFAULT_PROMPT_TYPES],
  customPrompt: '',
};

/** Person-readable validation messages for the form (empty when it can be sent). */
export function spawnFormIssues(form: SpawnForm): string[] {
  const issues: string[] = [];
  if (form.agentTypes.length === 0) issues.push('Select at least one agent type.');
  if (form.customPrompt.trim().length === 0) issues.push('Describe the task for the swarm.');
  if (issues.length > 0) return issues;
  const v = validateBody('initializeSwarm', form);
  return v.ok ? [] : v.issues;
}

export function SpawnPrompt() {
  const open = useHive((s) => s.spawnOpen);
  const notice = useHive((s) => s.spawnNotice);
  useReturnFocus(open);
  return (
    <>
      {open && <SpawnDialog />}
      {notice && <SpawnNoticeView />}
    </>
  );
}

function SpawnDialog() {
  const store = useHiveStore();
  const { rest } = useServices();
  const mcp = useHive((s) => s.health?.telemetry.state ?? null);
  const [form, setForm] = useState<SpawnForm>(DEFAULT_SPAWN_FORM);
  /** A fleet's target to spawn on; '' is automatic (the relay's pick policy). */
  const [target, setTarget] = useState('');
  const targets = useHive((s) => s.targets);
  const indicator = mcpIndicator(mcp, targets, target);
  const [issues, setIssues] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const firstField = useRef<HTMLTextAreaElement>(null);
  useEffect(() => firstField.current?.focus(), []);

  const close = () => store.setState({ spawnOpen: false });
  const toggleType = (t: string) =>
    setForm((f) => ({ ...f, agentTypes: f.agentTypes.includes(t) ? f.agentTypes.filter((x) => x !== t) : [...f.agentTypes, t] }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const problems = spawnFormIssues(form);
    setIssues(problems);
    if (problems.length > 0) return;
    setBusy(true);
    try {
      const r = await rest.call('initializeSwarm', { body: { ...form, ...pickedTarget(target) } });
      store.setState({
        spawnOpen: false,
        spawnNotice: { uuid: r.uuid, status: r.status, swarmId: r.swarmId, agentsSeen: 0, startedAt: Date.now(), error: null, target: r.target ?? null, pickedBecause: r.pickedBecause ?? null },
      });
    } catch (err) {
      const m = err instanceof RestError ? (err.issues.length ? err.issues : [`${err.message}${err.code ? ` (${err.code})` : ''}`]) : [String(err)];
      setIssues(m);
    } finally {
      setBusy(false);
    }
  };

  const hierarchicalWithoutQueen = form.topology === 'hierarchical' && !form.agentTypes.includes('queen');
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <form className="modal spawn" role="dialog" aria-modal="true" aria-labelledby="spawn-title" onSubmit={submit} onKeyDown={containTab} data-testid="spawn-prompt" noValidate>
        <h2 id="spawn-title">Spawn Hive Mind</h2>
        {/* A fleet: the picked target's telemetry (automatic: it depends on the relay's pick). */}
        <p className={`mcp-indicator ${indicator.tone}`} data-testid="mcp-indicator" data-state={indicator.state} data-target={indicator.target ?? undefined} aria-live="polite">
          <span className="dot" aria-hidden="true" />
          {indicator.text}
        </p>
        <label>
          Task description
          {/* Uncontrolled: the field owns its text and the form state only reads it. Controlled, React puts
              the value it last committed back into the field after each input event; when the page is busy
              the commit of the previous keystroke can come after that, so the field was set back to older
              text and keystrokes typed meanwhile were lost (a keyboard journey ended with only "p" of its
              task; under 8x CPU throttling one fresh page in five lost characters). */}
          <textarea
            ref={firstField}
            name="customPrompt"
            rows={3}
            defaultValue={DEFAULT_SPAWN_FORM.customPrompt}
            onChange={(e) => { const v = e.target.value; setForm((f) => ({ ...f, customPrompt: v })); }}
            placeholder="What should the swarm do?"
            aria-invalid={issues.length > 0 && form.customPrompt.trim() === ''}
          />
        </label>
        <div className="row">
          <label>
            Topology
            <select name="topology" value={form.topology} onChange={(e) => { const v = e.target.value as Topology; setForm((f) => ({ ...f, topology: v })); }}>
              {TOPOLOGIES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Strategy
            <select name="strategy" value={form.strategy} onChange={(e) => { const v = e.target.value as Strategy; setForm((f) => ({ ...f, strategy: v })); }}>
              {STRATEGIES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Priority
            <select name="priority" value={form.priority} onChange={(e) => { const v = e.target.value as Priority; setForm((f) => ({ ...f, priority: v })); }}>
              {PRIORITIES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </label>
          <TargetPicker value={target} onChange={setTarget} />
        </div>
        <label>
          <span>
            Max agents: <output htmlFor="spawn-max-agents">{form.maxAgents}</output>
          </span>
          <input
            id="spawn-max-agents"
            type="range"
            name="maxAgents"
            aria-label="Max agents"
            min={3}
            max={20}
            // Uncontrolled like the task field: on a busy page React wrote the last committed value back
            // between two key presses (Home, then ArrowRight ended at 9, not 5, in a fresh CI run).
            defaultValue={DEFAULT_SPAWN_FORM.maxAgents}
            onChange={(e) => { const v = Number(e.target.value); setForm((f) => ({ ...f, maxAgents: v })); }}
          />
        </label>
        <fieldset>
          <legend>Agent types</legend>
          <div className="types">
            {PROMPT_AGENT_TYPES.map((t) => (
              <label key={t} className="check">
                <input type="checkbox" name="agentTypes" value={t} checked={form.agentTypes.includes(t)} onChange={() => toggleType(t)} />
                {t}
              </label>
            ))}
          </div>
        </fieldset>
        {hierarchicalWithoutQueen && (
          <p className="hint" data-testid="queen-hint">
            Hierarchical swarms are led by a queen: enable the queen type so workers have someone to report to.
          </p>
        )}
        <label className="check">
          <input type="checkbox" name="enableNeural" checked={form.enableNeural} onChange={(e) => { const v = e.target.checked; setForm((f) => ({ ...f, enableNeural: v })); }} />
          Neural enhancements
        </label>
        {issues.length > 0 && (
          <ul className="errors" role="alert" data-testid="spawn-errors">
            {issues.map((i) => (
              <li key={i}>{i}</li>
            ))}
          </ul>
        )}
        <div className="actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          {/* aria-disabled, not disabled, while sending: a disabled button loses focus in Chromium. */}
          <button type="submit" className="primary" aria-disabled={busy || undefined}>
            {busy ? 'Spawning…' : 'Spawn swarm'}
          </button>
        </div>
      </form>
    </div>
  );
}

function SpawnNoticeView() {
  const store = useHiveStore();
  const n = useHive((s) => s.spawnNotice)!;
  const fleet = useHive((s) => s.targets.length > 1);
  const phase = spawnPhase(n);
  const text =
    phase === 'failed'
      ? `Spawn failed${n.error ? `: ${n.error}` : ` (${n.status})`}`
      : phase === 'agents-arriving'
        ? `Swarm ${n.swarmId ?? ''} is up: ${n.agentsSeen} agent${n.agentsSeen === 1 ? '' : 's'} so far.`
        : phase === 'swarm-known'
          ? `Swarm ${n.swarmId} created; waiting for its first agents…`
          : `Session ${n.uuid} ${n.status}; waiting for the swarm id…`;
  return (
    <div className={`spawn-notice ${phase}`} role="status" aria-live="polite" data-testid="spawn-notice" data-phase={phase} data-session={n.uuid}>
      <span>{text}</span>
      {fleet && n.target ? (
        <span className="muted" data-testid="spawn-notice-target" data-target={n.target} title={n.pickedBecause ?? undefined}>
          {' '}on target {n.target}
          {n.pickedBecause ? ` (picked: ${n.pickedBecause})` : ''}
        </span>
      ) : null}
      <span className="muted"> session {n.uuid}</span>
      {(phase === 'requested' || phase === 'swarm-known') && <progress aria-label="Spawn progress" />}
      <button type="button" aria-label="Dismiss" onClick={() => store.setState({ spawnNotice: null })}>
        ×
      </button>
    </div>
  );
}
