/**
 * The control plane's side of the graph: its sessions (each change as it happens, plus the full list
 * every SESSION_RECONCILE_MS) and the exec-only agents of a claude-flow backend. A session change a
 * request caused keeps that request's correlation id.
 */
import type { Logger } from 'pino';
import { SessionSchema, type Session } from '../../shared/model/index.js';
import type { AgentGraph } from '../graph/graph.js';
import { normalizeAgent } from '../graph/normalize.js';

/** An agent the control plane read by exec (claude-flow's `hive-mind status`); no metrics. */
export interface ExecAgentInfo {
  id?: string;
  swarmId: string | null;
  sessionUuid?: string | null;
  name: string;
  type: string;
  status: string;
}

/** What caused a session change, when a request did. */
export interface SessionCause {
  requestId?: string;
}

/**
 * The narrow view of the control plane telemetry needs. `on` is EventEmitter-compatible; `agents` and
 * `execAgents` are optional (only a claude-flow backend has exec-only agents). A `session` listener may
 * get the change's cause as a second argument.
 */
export interface ControlView {
  sessions(): Session[];
  on(event: 'session', listener: (s: Session, cause?: SessionCause) => void): unknown;
  on(event: 'agents', listener: () => void): unknown;
  /** The backend driving the container changed (detected, or another one after a restart). */
  on(event: 'backend', listener: () => void): unknown;
  off?(event: 'session' | 'agents' | 'backend', listener: (...args: never[]) => void): unknown;
  execAgents?(): ExecAgentInfo[];
  /** Which backend drives the container (kind and version), when one was detected. */
  backend?(): { kind: string; version: string | null } | null;
}

/** How often the control plane's session list is reconciled, beside its events. */
const SESSION_RECONCILE_MS = 5_000;
/** Longest correlation id carried into the activity log (the HTTP edge makes far shorter ones). */
const MAX_REQUEST_ID = 128;

/** Follows the control plane; returns the function that stops following it. */
export function followControl(control: ControlView, graph: AgentGraph, log: Logger): () => void {
  const syncSessions = () => {
    try {
      graph.reconcileSessions(control.sessions().filter((s) => SessionSchema.safeParse(s).success));
    } catch (e) {
      log.warn({ err: String(e) }, 'control.sessions() failed');
    }
  };
  const onSession = (s: Session, cause?: SessionCause) => {
    const reqId = typeof cause?.requestId === 'string' && cause.requestId.length <= MAX_REQUEST_ID ? cause.requestId : undefined;
    if (!SessionSchema.safeParse(s).success) {
      (reqId ? log.child({ reqId }) : log).warn('control plane sent an invalid session; ignored');
      return;
    }
    graph.upsertSession(s, reqId ? { requestId: reqId } : {});
  };
  const onAgents = () => syncExecAgents(control, graph, log);
  control.on('session', onSession);
  control.on('agents', onAgents);
  syncSessions();
  syncExecAgents(control, graph, log);
  const timer = setInterval(syncSessions, SESSION_RECONCILE_MS);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    control.off?.('session', onSession as (...args: never[]) => void);
    control.off?.('agents', onAgents as (...args: never[]) => void);
  };
}

function syncExecAgents(control: ControlView, graph: AgentGraph, log: Logger): void {
  if (!control.execAgents) return;
  let list: ExecAgentInfo[];
  try {
    list = control.execAgents();
  } catch (e) {
    log.warn({ err: String(e) }, 'control.execAgents() failed');
    return;
  }
  const patches = list
    .map((a) => normalizeAgent({ ...a, id: a.id ?? `${a.swarmId ?? 'unknown'}/${a.name}` }))
    .filter((p): p is NonNullable<typeof p> => p !== null);
  graph.reconcileAgents(patches, 'exec', 'exec');
}
