/**
 * Backend over a bare claude-flow 3.x CLI (ruflo; shared/reference/claude-flow-3.md). 3.x is a
 * per-directory registry of worker records: `hive-mind spawn` adds records and exits unless `--claude`
 * starts Claude Code in the foreground, and there is no sessions/stop/pause/resume. So each session
 * gets its own directory (and with it its own hive): `<root>/<uuid>`, passed as CLAUDE_FLOW_CWD (and
 * as the exec's cwd where the driver honours it). State is read with `--format json`; stop ends the
 * processes the session started (found by its uuid, no pgrep) and clears its hive with
 * `shutdown --force`, then verifies both. Every exec carries CLAUDE_FLOW_AUTO_UPDATE=false (3.x would
 * otherwise check the npm registry and may install updates).
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Session, SessionStatus } from '../../../shared/model/session.js';
import { TERMINAL_SESSION_STATUSES } from '../../../shared/model/session.js';
import { SESSION_UUID_PATTERN } from '../../../shared/api.js';
import type { RequestContext } from '../../context.js';
import { ControlError } from '../errors.js';
import type { StateStore, StoredSession } from '../stateStore.js';
import { TAG_FLAG, failed, objectiveArg } from './claudeFlow.js';
import { agentsFromHiveStatus, agentsFromMcpList, sessionFigures } from './claudeFlow3Normalise.js';
import { AGENT_ID_PATTERN, HIVE_ID_PATTERN, agentListFrom, hiveStatusFrom, parseHiveStatus3, parseInit3, parseSpawn3, taskFrom, type HiveStatus3, type McpAgent3 } from './claudeFlow3Parse.js';
import { MAX_SESSION_MCP, SessionMcpPool, type SessionMcp, type SessionMcpOpener } from './sessionMcp.js';
import { spawnLogPath } from '../console/spawnLog.js';
import type { LogLocation } from '../console/logRead.js';
import { PS_ARGV, endProcesses, parsePsTable, type EndOptions } from './processes.js';
import { StartStopOrder } from './startStop.js';
import type { Backend, BackendDescription, ExecAgent, ListResult, RunFn, RunOptions, SpawnRequest } from './types.js';

export const SESSIONS_ROOT = '/workspace/.hivescope/sessions';
/** 3.x caps `-n` at 20 per call. */
const MAX_PER_CALL = 20;
const CLAUDE_CHECK_TTL_MS = 60_000;
const NO_CLAUDE_NOTE = 'No `claude` binary in the container: the hive holds worker records only and nothing runs them. Install Claude Code in the container to have `hive-mind spawn --claude` work on the task.';

export interface ClaudeFlow3Options {
  run: RunFn;
  store: StateStore;
  /** argv that runs claude-flow. Default ['claude-flow']. */
  cli?: readonly string[];
  /** As `--version` printed it. */
  version?: string | null;
  /** Parent of the per-session directories. */
  sessionsRoot?: string;
  /** Both drivers start a detached command as the leader of its own process group (docker exec: always). */
  driverKind: 'docker' | 'local';
  stopTiming?: EndOptions;
  /** Status reads in flight at once during a refresh. Default 4. */
  readConcurrency?: number;
  /**
   * Opens a stdio MCP server in a session's directory (the relay hands one in once the telemetry plane
   * exists; none: sessions are read by exec only, and MCP-only operations answer 503 saying so).
   */
  sessionMcp?: () => SessionMcpOpener | null;
  logger?: Logger;
}

/** Tool calls on a session's MCP (3.x answers them in 0.2-27 ms; a spawn writes a redb file). */
const MCP_CALL_TIMEOUT_MS = 10_000;
/** `hive-mind shutdown` retried this often when 3.x's policy-state lock timed out, this long apart. */
const SHUTDOWN_LOCK_RETRIES = 3;
const SHUTDOWN_LOCK_WAIT_MS = 500;
const LOCK_TIMEOUT = /lock-timeout/i;
/**
 * `sh -c POLICY_LOCK_CLEAR <lock file>`: removes 3.x's policy-state lock when the process it names is
 * gone; exit 3 when that process lives, 4 when the file names none yet (its holder is between creating and
 * writing it), and nothing is removed then. 3.x takes the lock (`<dir>/.claude-flow/policy/
 * state.lock`, `{"pid":…}`) for every hive-mind command and releases it in a `finally` that a signalled
 * process never runs; others then wait 5 s per try and fail with policy-state-lock-timeout until the file
 * is 30 s old. A stop ends the session's processes first, so a lock they held is left: a fresh CI run's
 * stops of three sessions at once failed on it. The path is an argument, never part of the script.
 */
export const POLICY_LOCK_CLEAR = '[ -f "$0" ] || exit 0; p=$(sed -n \'s/.*"pid":\\([0-9][0-9]*\\).*/\\1/p\' "$0"); [ -n "$p" ] || exit 4; if kill -0 "$p" 2>/dev/null; then exit 3; fi; rm -f -- "$0"';
/** 3.x's task priorities (`hive-mind task -p`): the model's `medium` is its `normal`. */
const TASK_PRIORITY: Record<string, string> = { low: 'low', medium: 'normal', high: 'high', critical: 'critical' };

/** What the relay keeps for a 3.x session beyond the shared `cf` record (persisted with it). */
type Cf3 = NonNullable<StoredSession['cf']> & {
  /** Made by this backend (a 2.7 record left in the same state file is not). */
  v3?: true;
  /** Whether Claude Code was started (`--claude`); false: no claude binary, the hive is records only. */
  claude?: boolean;
}

/** Workers per agent type: `total` spread over the types, at least one each, at most 20 per call. */
export function workerPlan(types: readonly string[], total: number): { type: string | null; count: number }[] {
  if (types.length === 0) return [{ type: null, count: Math.max(1, Math.min(MAX_PER_CALL, total)) }];
  const n = Math.max(types.length, Math.min(total, MAX_PER_CALL * types.length));
  return types.map((type, i) => ({ type, count: Math.min(MAX_PER_CALL, Math.floor(n / types.length) + (i < n % types.length ? 1 : 0)) }));
}

export function unsupported(op: string, why: string): ControlError {
  return new ControlError('unsupported', `claude-flow 3.x cannot ${op} a session: ${why}`);
}

export class ClaudeFlow3Backend implements Backend, SessionMcpOps {
  readonly name = 'claude-flow' as const;
  private readonly cli: readonly string[];
  private readonly root: string;
  /** Last status read per session (agents, figures); dropped when the session stops. */
  private readonly reads = new Map<string, HiveStatus3>();
  /** Agents the last MCP read listed outside the hive (agent_spawn's store), per session. */
  private readonly mcpAgents = new Map<string, McpAgent3[]>();
  private emittedKey = '[]';
  private claudeChecked: { at: number; present: boolean } | null = null;
  /** A stop waits for its session's start; while it runs the start launches nothing more and reads skip the session. */
  private readonly order = new StartStopOrder();
  /** One stdio MCP server per live session, in its directory: agents spawned through MCP, tasks. */
  readonly mcp: SessionMcpPool;

  constructor(private readonly o: ClaudeFlow3Options) {
    this.cli = o.cli ?? ['claude-flow'];
    this.root = o.sessionsRoot ?? SESSIONS_ROOT;
    // argv only: the directory is the exec's working directory and CLAUDE_FLOW_CWD, never shell text.
    this.mcp = new SessionMcpPool(
      () => o.sessionMcp?.() ?? null,
      (uuid) => ({ argv: [...this.cli, 'mcp', 'start'], cwd: this.dir(uuid), env: { CLAUDE_FLOW_AUTO_UPDATE: 'false', CLAUDE_FLOW_CWD: this.dir(uuid) } }),
      o.logger ?? null,
    );
  }

  describe(): BackendDescription {
    return {
      kind: 'claude-flow-3',
      version: this.o.version ?? null,
      operations: { spawn: true, list: true, stop: true, pause: false, resume: false, cleanup: true, reap: true, metrics: false },
      limits: [
        'no pause or resume (3.x has neither)',
        'no per-agent CPU or memory (shown as unknown)',
        'hive workers are records that 3.x never updates: their idle status and health are shown as unknown',
        ...(this.claudeChecked && !this.claudeChecked.present ? [NO_CLAUDE_NOTE] : []),
      ],
    };
  }

  sessionNotes(uuid: string): string[] {
    const cf = this.o.store.get(uuid)?.cf as Cf3 | undefined;
    return cf?.claude === false ? [NO_CLAUDE_NOTE] : [];
  }

  dir(uuid: string): string {
    if (!SESSION_UUID_PATTERN.test(uuid)) throw new ControlError('bad-request', 'not a session uuid');
    return `${this.root}/${uuid}`;
  }

  /** Every exec: auto-update off; claude-flow commands in the session's directory. */
  private exec(argv: readonly string[], o: RunOptions & { uuid?: string }): Promise<import('../exec.js').ExecResult> {
    const { uuid, ...rest } = o;
    const dir = uuid ? this.dir(uuid) : undefined;
    const env = { ...rest.env, CLAUDE_FLOW_AUTO_UPDATE: 'false', ...(dir ? { CLAUDE_FLOW_CWD: dir } : {}) };
    return this.o.run(argv, { ...rest, env, ...(dir ? { cwd: dir } : {}) });
  }

  private cf(uuid: string): Cf3 {
    const s = this.o.store.get(uuid);
    if (!s?.cf) throw new ControlError('session-not-found', `no session ${uuid}`);
    return s.cf as Cf3;
  }

  private patch(uuid: string, p: Partial<Cf3>, swarmId?: string | null): void {
    const s = this.o.store.get(uuid);
    if (!s?.cf) return;
    this.o.store.update(uuid, { cf: { ...s.cf, ...p }, ...(swarmId !== undefined ? { swarmId } : {}) }, 'claude-flow');
  }

  /** Sessions this backend made (marked at create; their claude-flow id is then the hive id init gave them). */
  private ours(): [string, StoredSession & { cf: Cf3 }][] {
    return this.o.store.entries().filter((e): e is [string, StoredSession & { cf: Cf3 }] => e[1].backend === 'claude-flow' && (e[1].cf as Cf3 | undefined)?.v3 === true);
  }

  /** Ours and holding a hive (init answered). */
  private hived(uuid: string): boolean {
    return HIVE_ID_PATTERN.test(this.o.store.get(uuid)?.cf?.sessionId ?? '');
  }

  private toSession(uuid: string, s: StoredSession): Session {
    const cf = s.cf!;
    return { uuid, swarmId: s.swarmId, task: cf.task, priority: cf.priority, status: cf.status, createdAt: cf.createdAt, updatedAt: s.updatedAt, lastActivity: s.updatedAt, config: cf.config, backend: 'claude-flow', progress: cf.progress, agentCount: cf.agentCount, replaces: cf.replaces };
  }

  async logFile(uuid: string): Promise<LogLocation> {
    const cf = this.cf(uuid);
    if (cf.logPath) return { path: cf.logPath };
    const message = (why: string) => `session ${uuid} has no log the relay can read: ${why}`;
    if (cf.claude === false) return { path: null, reason: 'no-log', message: message('no `claude` in the container, so no process runs the hive and nothing prints') };
    if (cf.status === 'created' || cf.status === 'starting') return { path: null, reason: 'missing', message: message('its spawn has not started yet') };
    return { path: null, reason: 'no-log', message: message('it was started before the relay captured spawn output') };
  }

  /** Each session has its own directory (its hive and whatever Claude Code writes there). */
  async outputDir(uuid: string): Promise<{ dir: string }> {
    this.cf(uuid);
    return { dir: this.dir(uuid) };
  }

  /** `claude` on PATH in the container (asked at most once a minute). */
  async claudePresent(ctx?: RequestContext): Promise<boolean> {
    if (this.claudeChecked && Date.now() - this.claudeChecked.at < CLAUDE_CHECK_TTL_MS) return this.claudeChecked.present;
    const w = await this.exec(['which', 'claude'], { idempotent: true, ctx, timeoutMs: 5000 }).catch(() => null);
    let present = w !== null && w.exitCode === 0 && w.stdout.trim().length > 0;
    // No `which` (exit 126/127): ask claude itself.
    if (w === null || w.exitCode > 1) present = (await this.exec(['claude', '--version'], { idempotent: true, ctx, timeoutMs: 10_000 }).catch(() => null))?.exitCode === 0;
    this.claudeChecked = { at: Date.now(), present };
    return present;
  }

  async create(req: SpawnRequest): Promise<string> {
    const uuid = crypto.randomUUID();
    const priority = req.config.priority === 'critical' ? 'high' : req.config.priority;
    const cf: Cf3 = { sessionId: null, task: req.task, priority, config: req.config, status: 'created', createdAt: Date.now(), pid: null, replaces: req.replaces, progress: null, agentCount: null, v3: true };
    this.o.store.set(uuid, { swarmId: null, backend: 'claude-flow', updatedAt: Date.now(), cf });
    return uuid;
  }

  /**
   * mkdir, `hive-mind init -t <topology>`, then one `spawn -n <count> -t <type>` per agent type (the
   * flags 3.x reads; 2.7's --queen-type/--max-workers/--workerTypes are ignored by it). With `claude`
   * present the last spawn carries `--claude` and the objective and stays in the foreground, detached
   * (tagged with the uuid so stop and reap find it).
   */
  start(uuid: string, req: SpawnRequest, ctx?: RequestContext): Promise<void> {
    return this.order.start(uuid, () => this.startSteps(uuid, req, ctx));
  }

  /**
   * 3.x names a hive `hive-<Date.now()>` at init, so two inits in the same millisecond (two spawns at
   * once, in two session directories) made two sessions with one hive id: one swarm in the graph, and
   * the proof's two sessions mixed up. Inits run one at a time per container; each takes hundreds of
   * milliseconds, so the next one's clock has moved on.
   */
  private initChain: Promise<unknown> = Promise.resolve();
  private oneInitAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.initChain.then(fn, fn);
    this.initChain = p.catch(() => undefined);
    return p;
  }

  private async startSteps(uuid: string, req: SpawnRequest, ctx?: RequestContext): Promise<void> {
    // A stop that came while starting: nothing more is launched (the stop then ends what was).
    const stopped = () => this.order.isStopping(uuid);
    const fail = (e: ControlError): never => {
      this.patch(uuid, { status: 'failed' });
      throw e;
    };
    const mk = await this.exec(['mkdir', '-p', this.dir(uuid)], { idempotent: true, ctx });
    if (mk.exitCode !== 0) fail(failed('mkdir of the session directory', mk));
    if (stopped()) return;
    const init = await this.oneInitAtATime(() => this.exec([...this.cli, 'hive-mind', 'init', '-t', req.config.topology, '--format', 'json'], { idempotent: false, ctx, uuid }));
    if (init.exitCode !== 0) fail(failed('hive-mind init', init));
    const hive = parseInit3(init.stdout);
    const claude = await this.claudePresent(ctx);
    this.patch(uuid, { sessionId: hive.hiveId, status: 'starting', claude }, hive.hiveId);
    const types = req.config.agentTypes.filter((t) => t !== 'queen');
    const plan = workerPlan(types, req.config.maxAgents - (types.length < req.config.agentTypes.length ? 1 : 0));
    let workers: number | null = null;
    for (const [i, step] of plan.entries()) {
      if (stopped()) return;
      const typeArgs = step.type ? ['-t', step.type] : [];
      if (claude && i === plan.length - 1) {
        // No setsid: a docker exec already leads its own group with the shim as parent, which reaps it;
        // busybox's setsid would fork and orphan it under PID 1, a zombie when PID 1 does not reap.
        const argv = [...this.cli, 'hive-mind', 'spawn', '-n', String(step.count), ...typeArgs, '--claude', '--queen-type', req.config.strategy, '-o', objectiveArg(req.task), TAG_FLAG, uuid];
        // Its output (Claude Code's terminal) is the session's log (relay/control/console).
        const logPath = spawnLogPath(uuid);
        const r = await this.exec(argv, { idempotent: false, detached: true, outputFile: logPath, ctx, uuid });
        if (r.exitCode !== 0) fail(failed('hive-mind spawn --claude', r));
        this.patch(uuid, { pid: r.pid, logPath });
        continue;
      }
      const r = await this.exec([...this.cli, 'hive-mind', 'spawn', '-n', String(step.count), ...typeArgs, '--format', 'json'], { idempotent: false, ctx, uuid });
      if (r.exitCode !== 0) fail(failed('hive-mind spawn', r));
      workers = parseSpawn3(r.stdout).totalWorkers ?? workers;
    }
    if (stopped()) return;
    this.patch(uuid, { status: 'running', agentCount: workers === null ? null : workers + 1 });
  }

  /** From the relay's records and the last status reads: 3.x has no session list of its own. */
  async list(): Promise<ListResult> {
    return { sessions: this.ours().map(([uuid, s]) => this.toSession(uuid, s)), skipped: 0 };
  }

  async get(uuid: string): Promise<Session> {
    this.cf(uuid);
    return this.toSession(uuid, this.o.store.get(uuid)!);
  }

  /** One `hive-mind status --format json` in the session's directory. */
  private async read(uuid: string, ctx?: RequestContext): Promise<HiveStatus3> {
    const r = await this.exec([...this.cli, 'hive-mind', 'status', '--format', 'json'], { idempotent: true, ctx, uuid });
    if (r.exitCode !== 0) throw failed('hive-mind status', r);
    return parseHiveStatus3(r.stdout);
  }

  private live(): string[] {
    return this.ours()
      .filter(([uuid, s]) => !TERMINAL_SESSION_STATUSES.includes(s.cf.status) && this.hived(uuid) && !this.order.isStopping(uuid))
      .map(([uuid]) => uuid);
  }

  /**
   * Through the session's MCP when it is connected: `hive-mind_status` (the same object as the CLI's
   * status) and `agent_list` (both stores: hive workers and agents spawned through MCP). null: not
   * connected, or an answer did not parse (the exec read stands in).
   */
  private async readMcp(uuid: string): Promise<HiveStatus3 | null> {
    const m = this.mcp.get(uuid);
    if (!m || m.state !== 'ready') return null;
    try {
      const [status, list] = await Promise.all([m.callTool('hive-mind_status', {}, MCP_CALL_TIMEOUT_MS), m.callTool('agent_list', {}, MCP_CALL_TIMEOUT_MS)]);
      const s = hiveStatusFrom(status);
      // Hive workers come from the status (with their queen); the rest are agent_spawn's.
      this.mcpAgents.set(uuid, agentListFrom(list).agents.filter((a) => a.domain !== 'hive-mind'));
      return s;
    } catch (e) {
      this.o.logger?.debug({ uuid, err: String(e) }, 'session MCP read failed; reading by exec');
      return null;
    }
  }

  /** Reads every live session's hive (a few at a time); a hive that vanished (shutdown elsewhere, container lost it) interrupts its session. */
  private async readAll(uuids: readonly string[]): Promise<void> {
    const queue = [...uuids];
    const worker = async () => {
      for (let uuid = queue.shift(); uuid !== undefined; uuid = queue.shift()) {
        const s = (await this.readMcp(uuid)) ?? (await this.read(uuid).catch(() => null));
        if (!s) continue;
        this.reads.set(uuid, s);
        const cf = this.o.store.get(uuid)?.cf;
        if (!cf) continue;
        if (!s.initialized && cf.status === 'running') this.patch(uuid, { status: 'interrupted', agentCount: 0 });
        else if (s.initialized) this.patch(uuid, sessionFigures(s));
      }
    };
    await Promise.all(Array.from({ length: Math.min(queue.length, this.o.readConcurrency ?? 4) }, worker));
  }

  /**
   * Hive workers under their queen, and the agents spawned through the session's MCP in the session's
   * swarm (the hive: 3.x records no swarm for them), all linked to the session.
   */
  execAgents(): ExecAgent[] {
    const live = new Set(this.live());
    return [...this.reads.entries()]
      .filter(([uuid]) => live.has(uuid))
      .flatMap(([uuid, s]) => [...agentsFromHiveStatus(s, uuid), ...(s.initialized ? agentsFromMcpList(this.mcpAgents.get(uuid) ?? [], uuid, s.hiveId, null).map((a) => ({ ...a, swarmId: s.hiveId })) : [])]);
  }

  /** True when the agents differ from what was last reported (discovery's reads count too). */
  async refreshAgents(): Promise<boolean> {
    const live = this.live();
    // Servers of sessions that ended are closed before the reads open those of new ones.
    await this.mcp.retain(new Set(live));
    await this.readAll(live);
    const key = JSON.stringify(this.execAgents());
    if (key === this.emittedKey) return false;
    this.emittedKey = key;
    return true;
  }

  /** The hive id is known from init; a read fills agents and figures for the page at once. */
  async discover(pending: readonly string[]): Promise<void> {
    const mine = new Set(this.live());
    await this.readAll(pending.filter((u) => mine.has(u)));
  }

  /**
   * Ends the processes the session started (its tagged `--claude` spawn and Claude Code under it,
   * TERM then KILL), clears its hive (`shutdown --force`: workers deleted, initialized false) and
   * verifies both; anything left is an error, never `stopped`. Other sessions' hives are other
   * directories and are not touched.
   */
  async stop(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    this.cf(uuid);
    // A start still running would launch its `spawn --claude` after this stop looked (the bench's stops
    // right after spawns did: a stopped session kept running and its Claude Code came late, see
    // endProcesses). It launches nothing more now; what it did launch is in the listing once it settled.
    return this.order.stop(uuid, () => this.stopSteps(uuid, ctx));
  }

  private async stopSteps(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    // Its MCP server first: stdin EOF, it exits (the shim reaps it), nothing of the session reads on.
    await this.mcp.close(uuid);
    this.mcpAgents.delete(uuid);
    if (!this.hived(uuid)) {
      this.patch(uuid, { status: 'stopped' });
      return 'stopped';
    }
    const end = await endProcesses((argv, o) => this.exec(argv, { ...o, ctx }), uuid, this.o.stopTiming);
    if (end.remaining.length > 0) throw new ControlError('command-failed', `session ${uuid}: ${end.remaining.length} process(es) still running after TERM and KILL (pids ${end.remaining.map((p) => p.pid).join(', ')}); not marked stopped`);
    // A process just ended may have held the directory's policy-state lock: cleared when its holder is gone.
    if (end.found > 0) await this.clearDeadPolicyLock(uuid, ctx);
    let r = await this.exec([...this.cli, 'hive-mind', 'shutdown', '--force'], { idempotent: true, ctx, uuid });
    // 3.x locks the directory's policy state for every hive-mind command; under load a command still running
    // there (one just signalled) makes shutdown fail with policy-state-lock-timeout. Found by the bench.
    for (let i = 0; i < SHUTDOWN_LOCK_RETRIES && r.exitCode !== 0 && LOCK_TIMEOUT.test(r.stderr + r.stdout); i++) {
      await this.clearDeadPolicyLock(uuid, ctx);
      await new Promise((res) => setTimeout(res, SHUTDOWN_LOCK_WAIT_MS));
      r = await this.exec([...this.cli, 'hive-mind', 'shutdown', '--force'], { idempotent: true, ctx, uuid });
    }
    if (r.exitCode !== 0) throw failed('hive-mind shutdown --force', r);
    // shutdown prints "complete" even when it did nothing: believe the status, not the summary.
    const after = await this.read(uuid, ctx);
    if (after.initialized || after.workers.length > 0) throw new ControlError('command-failed', `session ${uuid}: hive-mind shutdown --force left the hive ${after.initialized ? 'initialised' : ''} with ${after.workers.length} worker(s); not marked stopped`);
    this.reads.delete(uuid);
    this.patch(uuid, { status: 'stopped', agentCount: 0 });
    return 'stopped';
  }

  /** Removes the session directory's policy-state lock when the process holding it is gone (POLICY_LOCK_CLEAR). */
  private async clearDeadPolicyLock(uuid: string, ctx?: RequestContext): Promise<void> {
    const lock = `${this.dir(uuid)}/.claude-flow/policy/state.lock`;
    const r = await this.exec(['sh', '-c', POLICY_LOCK_CLEAR, lock], { idempotent: true, ctx }).catch(() => null);
    if (r?.exitCode === 0) this.o.logger?.debug({ uuid }, 'policy-state lock checked (a dead holder\'s lock is removed)');
  }

  /**
   * The running session's MCP server, connected (the call waits briefly for a fresh one); a 4xx/503
   * that says what to do when there is none.
   */
  private sessionMcp(uuid: string, what: string): SessionMcp {
    const cf = this.cf(uuid);
    if (TERMINAL_SESSION_STATUSES.includes(cf.status) || !this.hived(uuid)) throw new ControlError('conflict', `session ${uuid} is ${cf.status}: ${what} needs a running 3.x session`);
    const m = this.mcp.get(uuid);
    if (m) return m;
    const why = this.o.sessionMcp?.() ? `${this.mcp.size} session MCP servers already run in this container (at most ${MAX_SESSION_MCP}), or this one kept exiting` : 'this relay cannot run an MCP server in the container (no exec stream)';
    throw new ControlError('mcp-unavailable', `claude-flow 3.x does ${what} only through an MCP server in the session's directory, and ${why}; stop a session or try again later`);
  }

  /** One tool on the session's MCP; 3.x's `{success:false,error}` becomes a 4xx naming its error. */
  private async callIn(uuid: string, what: string, tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const m = this.sessionMcp(uuid, what);
    let out: unknown;
    try {
      out = await m.callTool(tool, args, MCP_CALL_TIMEOUT_MS);
    } catch (e) {
      throw new ControlError('mcp-unavailable', `MCP ${tool} in session ${uuid} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof out !== 'object' || out === null || Array.isArray(out)) throw new ControlError('parse-error', `MCP ${tool} answered ${JSON.stringify(String(out).slice(0, 80))}, not an object`);
    const o = out as Record<string, unknown>;
    if (o.success === false) throw new ControlError('bad-request', `claude-flow 3.x refused ${tool}: ${String(o.error ?? 'success:false').slice(0, 500)}`);
    return o;
  }

  async spawnAgentIn(uuid: string, agentType: string): Promise<{ agentId: string; message: string }> {
    const o = await this.callIn(uuid, 'agent spawns', 'agent_spawn', { agentType });
    const agentId = o.agentId;
    // Only an id 3.x minted (and that could reach an argv) is reported as the agent's.
    if (typeof agentId !== 'string' || !AGENT_ID_PATTERN.test(agentId)) throw new ControlError('parse-error', `MCP agent_spawn answered without a usable agent id (${JSON.stringify(String(agentId).slice(0, 80))})`);
    // Read the session again now, so the agent is in the graph before the next period.
    await this.readAll([uuid]).catch(() => undefined);
    return { agentId, message: `spawned ${agentType} ${agentId} in session ${uuid} through its MCP (3.x registers the agent; it runs only when Claude Code gives it work)` };
  }

  async createTaskIn(uuid: string, task: { description: string; priority: string }): Promise<{ taskId: string; message: string }> {
    const o = await this.callIn(uuid, 'tasks', 'task_create', { type: 'task', description: task.description, priority: TASK_PRIORITY[task.priority] ?? 'normal' });
    const t = taskFrom(o);
    return { taskId: t.taskId, message: `task ${t.taskId} created in session ${uuid} (${t.status ?? 'status unknown'}; 3.x starts a task when it is assigned to an agent)` };
  }

  /** The tasks mapper's source (Backend.taskList): the session MCP's task_list answer as 3.x gave it. */
  async taskList(uuid: string): Promise<unknown> {
    return this.callIn(uuid, 'task listing', 'task_list', {});
  }

  async pause(): Promise<SessionStatus> {
    throw unsupported('pause', '3.x has no pause (its hive is a set of records; nothing runs to hold still)');
  }

  async resume(): Promise<SessionStatus> {
    throw unsupported('resume', '3.x has no resume');
  }

  /** Forgets finished sessions older than the age and removes their directories. */
  async cleanup(maxAgeHours: number, ctx?: RequestContext): Promise<number | null> {
    const cutoff = Date.now() - maxAgeHours * 3_600_000;
    let n = 0;
    for (const [uuid, s] of this.ours()) {
      if (!TERMINAL_SESSION_STATUSES.includes(s.cf.status) || s.updatedAt >= cutoff) continue;
      const r = await this.exec(['rm', '-rf', '--', this.dir(uuid)], { idempotent: true, ctx });
      if (r.exitCode !== 0) continue;
      this.o.store.delete(uuid);
      n++;
    }
    return n;
  }

  /**
   * Only sessions that started Claude Code had a process to lose: those whose tagged spawn is gone
   * are interrupted. A hive without `--claude` never had one and stays as its directory says.
   */
  async reap(ctx?: RequestContext): Promise<string[]> {
    const running = this.ours().filter(([, s]) => s.cf.claude === true && s.cf.status === 'running');
    if (running.length === 0) return [];
    const r = await this.exec([...PS_ARGV], { idempotent: true, ctx });
    const table = r.exitCode === 0 ? parsePsTable(r.stdout) : null;
    if (!table) return [];
    const out: string[] = [];
    for (const [uuid] of running) {
      if (table.some((p) => !p.stat.startsWith('Z') && p.args.includes(`${TAG_FLAG} ${uuid}`))) continue;
      this.patch(uuid, { status: 'interrupted' });
      out.push(uuid);
    }
    return out;
  }
}

/** The 3.x session operations that go through the session's own MCP server (see ClaudeFlow3Backend.mcp). */
export interface SessionMcpOps {
  /** MCP `agent_spawn` in the session's directory; the agent joins the session's graph. */
  spawnAgentIn(uuid: string, agentType: string, ctx?: RequestContext): Promise<{ agentId: string; message: string }>;
  /** MCP `task_create` in the session's directory (3.x has no task_orchestrate): pending until assigned. */
  createTaskIn(uuid: string, task: { description: string; priority: string }, ctx?: RequestContext): Promise<{ taskId: string; message: string }>;
  /** The session's MCP `task_list` answer as 3.x gave it (parsed JSON), for the tasks mapper. */
  taskList(uuid: string, ctx?: RequestContext): Promise<unknown>;
}

export function hasSessionMcpOps(b: unknown): b is SessionMcpOps {
  return b instanceof ClaudeFlow3Backend;
}
