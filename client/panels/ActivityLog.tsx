/**
 * Activity log: the relay's events only (spawn, status, tasks, errors, logs, progress, sessions, messages,
 * health), never synthesised from polling; filterable by kind, level and text; the store caps it at 1000.
 */
import { useMemo, useRef, useState } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { EVENT_KINDS, type ActivityEvent } from '../../shared/index.js';
import { KeepFocus } from './focus.js';

export function filterEvents(events: readonly ActivityEvent[], f: { kind: string; level: string; text: string }): ActivityEvent[] {
  const q = f.text.trim().toLowerCase();
  const levels = ['debug', 'info', 'warn', 'error'];
  const minLevel = f.level ? levels.indexOf(f.level) : 0;
  return events.filter(
    (e) =>
      (!f.kind || e.kind === f.kind) &&
      levels.indexOf(e.level) >= minLevel &&
      (!q || `${e.message} ${e.agentId ?? ''} ${e.swarmId ?? ''}`.toLowerCase().includes(q)),
  );
}

export function ActivityLog() {
  const store = useHiveStore();
  const events = useHive((s) => s.events);
  const gap = useHive((s) => s.eventGap);
  const [open, setOpen] = useState(true);
  const [kind, setKind] = useState('');
  const [level, setLevel] = useState('');
  const [text, setText] = useState('');
  const listRef = useRef<HTMLUListElement>(null);
  const shown = useMemo(() => filterEvents(events, { kind, level, text }).slice(-200).reverse(), [events, kind, level, text]);
  return (
    <section className={`panel activity ${open ? '' : 'collapsed'}`} aria-label="Activity log">
      <div className="activity-head">
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          Activity ({events.length})
        </button>
        {open && (
          <>
            <label>
              Kind
              <select value={kind} onChange={(e) => setKind(e.target.value)}>
                <option value="">all</option>
                {EVENT_KINDS.map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
            <label>
              Level
              <select value={level} onChange={(e) => setLevel(e.target.value)}>
                <option value="">all</option>
                <option value="info">info+</option>
                <option value="warn">warn+</option>
                <option value="error">error</option>
              </select>
            </label>
            <label>
              Filter
              {/* Uncontrolled, so a busy page never puts older text back (docs/client.md). */}
              <input type="search" defaultValue="" onChange={(e) => setText(e.target.value)} placeholder="text, agent, swarm" />
            </label>
          </>
        )}
      </div>
      {open && (
        <>
          {gap && (
            <p className="muted" role="status">
              Some events were missed while disconnected (the relay keeps the last 1000).
            </p>
          )}
          {/* Only the newest 200 lines show: an agent link that scrolls out hands focus to its neighbour. */}
          <KeepFocus list={listRef}>
            <ul ref={listRef} className="log" data-testid="activity-log" aria-live="off" tabIndex={-1} aria-label="Activity events">
              {shown.length === 0 && <li className="muted">No events yet.</li>}
              {shown.map((e) => (
                <li key={e.seq} className={`level-${e.level}`}>
                  <time dateTime={new Date(e.time).toISOString()}>{new Date(e.time).toLocaleTimeString()}</time> <span className="kind">{e.kind}</span>{' '}
                  {e.agentId ? (
                    <button type="button" className="link" onClick={() => store.getState().select(e.agentId)}>
                      {e.agentId}
                    </button>
                  ) : null}{' '}
                  {e.message}
                </li>
              ))}
            </ul>
          </KeepFocus>
        </>
      )}
    </section>
  );
}
