/**
 * The session console: what a swarm is saying and what it has produced, for one session, in tabs Log,
 * Files and Tasks (WAI-ARIA tabs, ./Tabs.tsx). It opens from the Sessions tab, from an agent's detail
 * and with the C key (client/App.tsx); on opening, focus goes to its selected tab; Escape or × closes it
 * and focus returns to what opened it. The Log tab stays mounted while another tab shows, so switching
 * tabs keeps the terminal's buffer and the live subscription (its panel is only hidden).
 */
import { useEffect, useId, useRef, useState } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { TabList, TabPanel, tabIds, type TabSpec } from './Tabs.js';
import { useReturnFocus } from './focus.js';
import { ConsoleLog } from './ConsoleLog.js';
import { ConsoleFiles } from './ConsoleFiles.js';
import { ConsoleTasks } from './ConsoleTasks.js';

type ConsoleTab = 'log' | 'files' | 'tasks';

const TABS: readonly TabSpec<ConsoleTab>[] = [
  { id: 'log', label: 'Log' },
  { id: 'files', label: 'Files' },
  { id: 'tasks', label: 'Tasks' },
];

export function Console() {
  const uuid = useHive((s) => s.consoleSession);
  useReturnFocus(uuid !== null);
  if (!uuid) return null;
  // A different session is a fresh console (its own terminal and subscription).
  return <ConsolePanel key={uuid} uuid={uuid} />;
}

function ConsolePanel(props: { uuid: string }) {
  const store = useHiveStore();
  const session = useHive((s) => s.sessions.get(props.uuid) ?? null);
  const [tab, setTab] = useState<ConsoleTab>('log');
  const idBase = useId();
  const root = useRef<HTMLElement>(null);
  useEffect(() => {
    root.current?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus();
  }, []);
  const logIds = tabIds(idBase, 'log');
  const title = session?.task ? (session.task.length > 80 ? `${session.task.slice(0, 77)}…` : session.task) : 'session';
  return (
    <section ref={root} className="panel console" aria-label={`Session console: ${title}`} data-testid="console" data-session={props.uuid}>
      <div className="console-head">
        <TabList label="Session console tabs" idBase={idBase} tabs={TABS} selected={tab} onSelect={setTab} testIdPrefix="console-tab-" />
        <span className="console-title" title={session?.task ?? props.uuid}>
          {title} <span className="muted">· {props.uuid.slice(0, 8)} · {session ? session.status : 'not in the relay\'s session list'}</span>
        </span>
        <button type="button" aria-label="Close session console" onClick={() => store.setState({ consoleSession: null })}>
          ×
        </button>
      </div>
      {/* The Log panel stays mounted when hidden (see the file comment). */}
      <div role="tabpanel" id={logIds.panel} aria-labelledby={logIds.tab} hidden={tab !== 'log'} className="console-body" data-tab="log">
        <ConsoleLog uuid={props.uuid} />
      </div>
      <TabPanel idBase={idBase} tab="files" selected={tab === 'files'} className="console-body">
        <ConsoleFiles uuid={props.uuid} />
      </TabPanel>
      <TabPanel idBase={idBase} tab="tasks" selected={tab === 'tasks'} className="console-body">
        <ConsoleTasks uuid={props.uuid} />
      </TabPanel>
    </section>
  );
}
