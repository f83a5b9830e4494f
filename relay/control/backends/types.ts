/** What the control plane needs from a backend (session manager or bare claude-flow), over one exec function. */
import type { Session, SessionStatus, SwarmConfig } from '../../../shared/model/session.js';
import type { ExecResult } from '../exec.js';

export interface RunOptions {
  /** Safe to repeat after a timeout (reads); non-idempotent commands are retried only when they cannot have run. */
  idempotent: boolean;
  detached?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
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

export interface Backend {
  readonly name: 'session-manager' | 'claude-flow';
  /** Registers the session and returns its uuid (one exec for the session manager). */
  create(req: SpawnRequest): Promise<string>;
  /** Starts it detached; returns without waiting for the swarm. */
  start(uuid: string, req: SpawnRequest): Promise<void>;
  /** Every session, one exec. */
  list(): Promise<ListResult>;
  get(uuid: string): Promise<Session>;
  stop(uuid: string): Promise<SessionStatus>;
  pause(uuid: string): Promise<SessionStatus>;
  resume(uuid: string): Promise<SessionStatus>;
  /** Removes finished sessions older than the age; returns how many (null when not reported). */
  cleanup(maxAgeHours: number): Promise<number | null>;
  /** Marks sessions without a live process as interrupted; returns their uuids. */
  reap(): Promise<string[]>;
  /** Backend-wide figures where the backend has them (claude-flow: `hive-mind metrics`). */
  metrics?(): Promise<import('../parsers.js').HiveMetrics>;
  /** Agents read by exec (claude-flow's `hive-mind status`), for backends whose MCP never sees their swarms. */
  execAgents?(): ExecAgent[];
  /** Re-reads those agents (one exec); true when they changed. */
  refreshAgents?(): Promise<boolean>;
  /** Swarm ids still unknown get looked up here (claude-flow: `hive-mind status`); session manager: no-op. */
  discover?(pending: readonly string[]): Promise<void>;
}

/** An agent known only from exec output: no metrics (claude-flow reports none), never invented. */
export interface ExecAgent {
  /** `<swarmId>/<name>`: claude-flow prints no agent ids. */
  id: string;
  swarmId: string;
  sessionUuid: string | null;
  name: string;
  type: string;
  status: string;
  /** Workers point at their swarm's queen, so the graph draws the hierarchy. */
  parentQueenId: string | null;
}
