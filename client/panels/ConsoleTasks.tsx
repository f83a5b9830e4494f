/**
 * The console's Tasks tab: the session's tasks as its backend reports them (status, assignee, progress),
 * read again every two seconds while shown. Progress the backend does not report is "unknown", with no
 * bar (an empty bar would read as 0 %); a backend that reports no tasks at all is named with its reason.
 */
import { useRef } from 'react';
import { useServices } from '../page/context.js';
import { usePoll } from './usePoll.js';
import { progressLabel } from './consoleModel.js';
import { KeepFocus } from './focus.js';

export const TASKS_POLL_MS = 2000;

export function ConsoleTasks(props: { uuid: string }) {
  const { rest } = useServices();
  const tasks = usePoll((signal) => rest.call('sessionTasks', { params: { uuid: props.uuid }, signal }), TASKS_POLL_MS, props.uuid);
  const listRef = useRef<HTMLUListElement>(null);
  const d = tasks.data;
  return (
    <div className="console-tasks" data-supported={d ? String(d.supported) : ''}>
      {tasks.error && (
        <p className="errors" role="alert">
          Could not read the tasks: {tasks.error.message} ({tasks.error.code})
        </p>
      )}
      {!d && !tasks.error && <p className="muted">Reading the tasks…</p>}
      {d && !d.supported && (
        <p className="muted" data-testid="tasks-unsupported">
          This session's backend reports no tasks{d.reason ? `: ${d.reason}` : '.'}
        </p>
      )}
      {d && d.supported && d.tasks.length === 0 && <p className="muted">No tasks reported yet.</p>}
      {d && d.supported && d.tasks.length > 0 && (
        <KeepFocus list={listRef}>
          <ul ref={listRef} className="task-list" aria-label="Tasks" tabIndex={-1} data-testid="task-list">
            {d.tasks.map((t) => {
              const pct = progressLabel(t.progress);
              return (
                <li key={t.id} data-task={t.id} data-status={t.status} data-progress={t.progress === null ? 'unknown' : String(t.progress)}>
                  <div className="session-head">
                    <span className={`badge badge-task-${t.status}`}>{t.status}</span>
                    <span className="task" title={t.description}>
                      {t.description || t.id}
                    </span>
                  </div>
                  <div className="progress-row">
                    {t.progress !== null ? (
                      <progress max={1} value={t.progress} aria-label={`Progress of ${t.description || t.id}`} />
                    ) : null}
                    <span className={t.progress === null ? 'muted' : ''}>{t.progress === null ? 'progress unknown' : pct}</span>
                    <span className="muted">· {t.assignee ? `assigned to ${t.assignee}` : 'no assignee reported'}</span>
                  </div>
                </li>
              );
            })}
          </ul>
        </KeepFocus>
      )}
    </div>
  );
}
