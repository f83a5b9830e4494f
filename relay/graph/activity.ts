/**
 * Activity entries the graph writes (before the stream's ring gives each a seq): what a person would
 * want in the activity log when an agent changes (spawn, status, error, task start and finish).
 */
import type { Agent } from '../../shared/model/index.js';
import type { ActivityEvent } from '../../shared/protocol/messages.js';

/** An activity event before the stream's ring gives it a seq. */
export type GraphEvent = Omit<ActivityEvent, 'seq'>;

/** An entry with only what differs from the defaults (info level, no agent, swarm, session or progress). */
export type EventDraft = Pick<GraphEvent, 'kind' | 'message'> & Partial<GraphEvent>;

/** Longest message kept (the shared schema's bound). */
const MAX_MESSAGE = 8192;

export function activityEntry(e: EventDraft, now: number): GraphEvent {
  return {
    time: now,
    level: 'info',
    agentId: null,
    swarmId: null,
    sessionUuid: null,
    progress: null,
    ...e,
    message: e.message.length > MAX_MESSAGE ? e.message.slice(0, MAX_MESSAGE) : e.message,
  };
}

/** The entries an agent's change deserves (none for an unchanged status and task; no spawns before the first sync). */
export function agentEvents(prev: Agent | undefined, next: Agent, synced: boolean): EventDraft[] {
  const base = { agentId: next.id, swarmId: next.swarmId, sessionUuid: next.sessionUuid };
  const who = `${next.name} (${next.type})`;
  if (!prev) return synced ? [{ ...base, kind: 'spawn', message: `${who} spawned` }] : [];
  const out: EventDraft[] = [];
  if (prev.status !== next.status) {
    out.push({
      ...base,
      kind: next.status === 'error' ? 'error' : 'status',
      level: next.status === 'error' ? 'error' : 'info',
      message: `${who}: ${prev.status} -> ${next.status}`,
    });
  }
  if (prev.currentTask !== next.currentTask) {
    if (prev.currentTask !== null) out.push({ ...base, kind: 'task-finish', message: `${next.name} finished: ${prev.currentTask}` });
    if (next.currentTask !== null) out.push({ ...base, kind: 'task-start', message: `${next.name} started: ${next.currentTask}` });
  } else if (prev.tasksCompleted !== null && next.tasksCompleted !== null && next.tasksCompleted > prev.tasksCompleted) {
    out.push({ ...base, kind: 'task-finish', message: `${next.name} completed ${next.tasksCompleted - prev.tasksCompleted} task(s)` });
  }
  return out;
}
