/** What the control plane needs from a backend (session manager or bare claude-flow), over one exec function. */
import type { Session, SessionStatus, SwarmConfig } from '../../../shared/model/session.js';
import type { ExecResult } from '../exec.js';
import type { RequestContext } from '../../context.js';

export interface RunOptions {
  /** Safe to repeat after a timeout (reads); non-idempotent commands are retried only when they cannot have run. */
  idempotent: boolean;
  detached?: boolean;
  /** Detached only: append the command's stdout and stderr to this file in the container (ExecOptions.outputFile). */
  outputFile?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** The request this exec serves: the exec and its retries are logged with its logger (its reqId). */
  ctx?: RequestContext | undefined;
  /**
   * Working directory in the container (claude-flow 3.x keeps one hive per directory). The control
   * plane's run does not pass it on yet: the 3.x backend also sets CLAUDE_FLOW_CWD, which 3.x reads.
   */
  cwd?: string;
}
export type RunFn = (argv: readonly string[], o: RunOptions) => Promise<ExecResult>;

export interface SpawnRequest {
  /** Validated task text (<= 8 KB, no NUL). */
  task: string;
  config: SwarmConfig;
  /** Session this one re-spawns after a container restart. */
  replaces: string | null;
}

export interface ListResult {
  sessions: Session[];
  /** Registry entries we could not show (unknown status, bad id). */
  skipped: number;
}

/**
 * Every method that runs a command takes the request's context as its last, optional parameter and
 * passes it to `run` (RunOptions.ctx), so the exec is logged with that request's reqId.
 */
export interface Backend {
  readonly name: 'session-manager' | 'claude-flow';
  /** Registers the session and returns its uuid (one exec for the session manager). */
  create(req: SpawnRequest, ctx?: RequestContext): Promise<string>;
  /** Starts it detached; returns without waiting for the swarm. */
  start(uuid: string, req: SpawnRequest, ctx?: RequestContext): Promise<void>;
  /** Every session, one exec. */
  list(ctx?: RequestContext): Promise<ListResult>;
  get(uuid: string, ctx?: RequestContext): Promise<Session>;
  stop(uuid: string, ctx?: RequestContext): Promise<SessionStatus>;
  pause(uuid: string, ctx?: RequestContext): Promise<SessionStatus>;
  resume(uuid: string, ctx?: RequestContext): Promise<SessionStatus>;
  /** Removes finished sessions older than the age; returns how many (null when not reported). */
  cleanup(maxAgeHours: number, ctx?: RequestContext): Promise<number | null>;
  /** Marks sessions without a live process as interrupted; returns their uuids. */
  reap(ctx?: RequestContext): Promise<string[]>;
  /** Backend-wide figures where the backend has them (claude-flow: `hive-mind metrics`). */
  metrics?(ctx?: RequestContext): Promise<import('../parsers.js').HiveMetrics>;
  /** Agents read by exec (claude-flow's `hive-mind status`), for backends whose MCP never sees their swarms. */
  execAgents?(): ExecAgent[];
  /** Re-reads those agents (one exec); true when they changed. */
  refreshAgents?(): Promise<boolean>;
  /** Swarm ids still unknown get looked up here (claude-flow: `hive-mind status`); session manager: no-op. */
  discover?(pending: readonly string[]): Promise<void>;
  /** Which kind and version drive the container and what they can do (the API answers 4xx for the rest). */
  describe?(): BackendDescription;
  /** Where the session's log is in the container, or why the relay can reach none (relay/control/console). */
  logFile?(uuid: string, ctx?: RequestContext): Promise<import('../console/logRead.js').LogLocation>;
  /**
   * The directory holding the session's produced files in the container, or why no directory holds them
   * alone (relay/control/outputFiles). Throws session-not-found for an unknown session.
   */
  outputDir?(uuid: string, ctx?: RequestContext): Promise<import('../outputFiles/outputFiles.js').OutputLocation>;
  /**
   * The raw answer of `task_list` for this session where the backend itself holds the MCP connection
   * that knows its tasks (claude-flow 3.x: the session directory's own server); mapped by
   * relay/telemetry/tasks.ts. Absent: the relay's main MCP connection answers (the kit) or none does.
   */
  taskList?(uuid: string, ctx?: RequestContext): Promise<unknown>;
  /** Things a person should know about one session (e.g. "no `claude` in the container: nothing runs the hive"). */
  sessionNotes?(uuid: string): string[];
}

// Kinds, operations and the description are the wire's (GET /api/hybrid/status shows them): one source.
export { BACKEND_OPERATIONS, type BackendKind, type BackendOperation } from '../../../shared/model/health.js';
import type { BackendInfo } from '../../../shared/model/health.js';
export type BackendDescription = BackendInfo;

/** An agent known only from exec output: no metrics (claude-flow reports none), never invented. */
export interface ExecAgent {
  /** `<swarmId>/<name>`: claude-flow prints no agent ids. */
  id: string;
  /** null for agents in no swarm (3.x MCP agents before swarm_init). */
  swarmId: string | null;
  sessionUuid: string | null;
  name: string;
  type: string;
  status: string;
  /** Workers point at their swarm's queen, so the graph draws the hierarchy. */
  parentQueenId: string | null;
  /**
   * false when the status is a constant the backend prints whatever happens (3.x hive workers stay
   * `idle`, its queen `active`): the page should show it as unknown. Absent: observed (2.7).
   */
  statusObserved?: boolean;
  /** Metrics where the backend has them, in the model's units (health 0-100); null = unknown, absent = not reported. */
  health?: number | null;
  cpuUsage?: number | null;
  memoryUsage?: number | null;
  workload?: number | null;
  currentTask?: string | null;
  tasksCompleted?: number | null;
  createdAt?: number | null;
}
