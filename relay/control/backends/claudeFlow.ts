/**
 * Backend over a bare claude-flow 2.7 CLI (no session manager in the container). claude-flow prints no
 * JSON and keeps no uuid of ours, so the relay keeps its own record per session (StateStore) and reads
 * claude-flow's ids from `hive-mind sessions` / `hive-mind status` text, matching by objective.
 * `hive-mind spawn` never exits and `hive-mind stop` does not end it: we start it detached in its own
 * process group (a docker exec leads its own, with the shim as parent, which reaps it; locally the driver
 * makes the group) tagged with `--hivescope-session <uuid>` (an unknown flag claude-flow ignores) so
 * stop/pause/resume/reap can find the group by that tag. No setsid: busybox's forks and orphans the spawn
 * under PID 1, a zombie once stopped wherever PID 1 does not reap (measured: claudeFlow.docker.test.ts).
 */
import crypto from 'node:crypto';
import type { Session, SessionStatus } from '../../../shared/model/session.js';
import { TERMINAL_SESSION_STATUSES } from '../../../shared/model/session.js';
import { ControlError, clip } from '../errors.js';
import type { ExecResult } from '../exec.js';
import { hiveStopNotFound, parseHiveMetrics, parseHiveSessions, type HiveMetrics, parseHiveStatus } from '../parsers.js';
import type { StateStore, StoredSession } from '../stateStore.js';
import type { Backend, BackendDescription, ExecAgent, ListResult, RunFn, SpawnRequest } from './types.js';
import type { RequestContext } from '../../context.js';
import type { HiveSwarmInfo } from '../parsers.js';
import { spawnLogPath } from '../console/spawnLog.js';
import type { LogLocation } from '../console/logRead.js';
import { PS_ARGV, endProcesses, isZombie, type ProcInfo, parsePsTable, scanProcesses, sessionProcesses, signal, type EndOptions } from './processes.js';
import { StartStopOrder } from './startStop.js';
import { sleep as realSleep } from '../resilience.js';

export const TAG_FLAG = '--hivescope-session';

/** A stable uuid-shaped id for a claude-flow session the relay did not spawn (so routes can address it). */
export function uuidForForeignSession(sessionId: string): string {
  const h = crypto.createHash('sha256').update(`claude-flow:${sessionId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16]!, 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** claude-flow reads a leading `-` as a flag; a leading space keeps the objective positional. */
export function objectiveArg(task: string): string {
  return task.startsWith('-') ? ` ${task}` : task;
}

/** Ids a 2.7 spawn prints in its summary (`Swarm ID: swarm-…`, `Session ID: session-…`), or its failure. */
export interface SpawnIds {
  swarmId: string | null;
  sessionId: string | null;
  complete: boolean;
  /** What a spawn that gave up printed (`✖ Failed to spawn Hive Mind swarm` then `Error: …`); null otherwise. */
  failure: string | null;
}
/** Bytes of a spawn's log read for its ids (they come within the first ~1 KB). */
const SPAWN_LOG_HEAD_BYTES = 16_384;
/** Logs read per refresh at most (sessions still waiting for their link). */
const MAX_LOG_READS = 8;
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export function parseSpawnIds(text: string): SpawnIds {
  const t = text.slice(0, SPAWN_LOG_HEAD_BYTES).replace(ANSI, '');
  const swarmId = /^\s*Swarm ID:\s*(swarm-\d{13}-[a-z0-9]{6,12})\s*$/m.exec(t)?.[1] ?? null;
  const sessionId = /^\s*Session ID:\s*(session-\d{13}-[a-z0-9]{6,12})\s*$/m.exec(t)?.[1] ?? null;
  const gaveUp = /^\s*✖ Failed to spawn Hive Mind swarm\s*$/m.exec(t);
  const failure = gaveUp ? clip(/^\s*Error:\s*(.*\S)\s*$/m.exec(t.slice(gaveUp.index))?.[1] ?? 'no reason printed', 300) : null;
  return { swarmId, sessionId, complete: swarmId !== null && sessionId !== null, failure };
}

/**
 * How long a start waits for its spawn's summary (or its failure) before the next spawn may run, and how
 * often it reads the log meanwhile. The summary comes 0.7-1.3 s after start (claude-flow-2.7.md), a few
 * seconds on a loaded machine; a spawn that prints neither in time is left `starting`, as before.
 */
export interface SpawnSettle {
  timeoutMs: number;
  pollMs: number;
  /** Tests: instead of resilience.ts's sleep. */
  sleep?: (ms: number) => Promise<void>;
}
export const SPAWN_SETTLE: SpawnSettle = { timeoutMs: 15_000, pollMs: 150 };

export function failed(what: string, r: ExecResult): ControlError {
  return new ControlError('command-failed', `claude-flow ${what} exited with ${r.exitCode}: ${clip(r.stderr.trim() || r.stdout.trim() || '(no output)')}`, {
    exitCode: r.exitCode,
    stderr: clip(r.stderr, 2000),
  });
}

export interface ClaudeFlowBackendOptions {
  run: RunFn;
  store: StateStore;
  /** argv that runs claude-flow. Default ['claude-flow']. */
  cli?: readonly string[];
  /** 'docker': find the spawn's group through ps or /proc (no pgrep); 'local': the driver made the group and knows its pid. */
  driverKind: 'docker' | 'local';
  /** Version `--version` printed (for describe()). */
  version?: string | null;
  /** Stop's TERM -> KILL grace and polling (tests shorten them). */
  stopTiming?: EndOptions;
  /** How long a start waits for its spawn's summary, and its polling (default SPAWN_SETTLE). */
  spawnSettle?: SpawnSettle;
}

type Cf = NonNullable<StoredSession['cf']>;

export class ClaudeFlowBackend implements Backend {
  readonly name = 'claude-flow' as const;
  private readonly cli: readonly string[];

  constructor(private readonly o: ClaudeFlowBackendOptions) {
    this.cli = o.cli ?? ['claude-flow'];
  }

  describe(): BackendDescription {
    return {
      kind: 'claude-flow-2',
      version: this.o.version ?? null,
      operations: { spawn: true, list: true, stop: true, pause: true, resume: true, cleanup: true, reap: true, metrics: true },
      limits: ['no per-agent metrics: agents come from `hive-mind status` text', 'its MCP server never sees hive-mind swarms and lists mock agents in a fresh process'],
    };
  }

  private cf(uuid: string): Cf {
    const s = this.o.store.get(uuid);
    if (!s?.cf) throw new ControlError('session-not-found', `no session ${uuid}`);
    return s.cf;
  }

  private patch(uuid: string, p: Partial<Cf>, swarmId?: string | null): void {
    const s = this.o.store.get(uuid);
    if (!s?.cf) return;
    this.o.store.update(uuid, { cf: { ...s.cf, ...p }, ...(swarmId !== undefined ? { swarmId } : {}) }, 'claude-flow');
  }

  private toSession(uuid: string, s: StoredSession): Session {
    const cf = s.cf!;
    return {
      uuid,
      swarmId: s.swarmId,
      task: cf.task,
      priority: cf.priority,
      status: cf.status,
      createdAt: cf.createdAt,
      updatedAt: s.updatedAt,
      lastActivity: s.updatedAt,
      config: cf.config,
      backend: 'claude-flow',
      progress: cf.progress,
      agentCount: cf.agentCount,
      replaces: cf.replaces,
    };
  }

  async create(req: SpawnRequest): Promise<string> {
    const uuid = crypto.randomUUID();
    const priority = req.config.priority === 'critical' ? 'high' : req.config.priority;
    this.o.store.set(uuid, {
      swarmId: null,
      backend: 'claude-flow',
      updatedAt: Date.now(),
      cf: { sessionId: null, task: req.task, priority, config: req.config, status: 'created', createdAt: Date.now(), pid: null, replaces: req.replaces, progress: null, agentCount: null },
    });
    return uuid;
  }

  /** A stop waits for its session's start; a start landing during a stop does not mark the session live. */
  private readonly order = new StartStopOrder();

  /**
   * The spawns the relay launches, one at a time. Every 2.7 spawn writes the container's one
   * `.hive-mind/hive.db`, and two started together can collide: one gives up with "database is locked"
   * after it wrote its swarm and agents but before its summary, and exits (1 in 25 pairs here on a loaded
   * machine; the proof's "session without a process"; docs/claude-flow-observed.md). So a spawn starts
   * once the previous one printed its summary or gave up.
   */
  private spawnChain: Promise<void> = Promise.resolve();

  start(uuid: string, req: SpawnRequest, ctx?: RequestContext): Promise<void> {
    return this.order.start(uuid, () => {
      const run = this.spawnChain.then(() => this.startSteps(uuid, req, ctx));
      this.spawnChain = run.catch(() => undefined);
      return run;
    });
  }

  private async startSteps(uuid: string, req: SpawnRequest, ctx?: RequestContext): Promise<void> {
    // Stopped before the spawn was even launched: launch nothing (as 3.x's start does).
    if (this.order.isStopping(uuid)) return;
    const argv = [
      ...this.cli,
      'hive-mind',
      'spawn',
      objectiveArg(req.task),
      '--queen-type',
      req.config.strategy,
      '--max-workers',
      String(Math.min(20, Math.max(1, req.config.maxAgents))),
      '--workerTypes',
      req.config.agentTypes.filter((t) => t !== 'queen').join(',') || 'researcher',
      TAG_FLAG,
      uuid,
    ];
    // The spawn's output is the session's log (relay/control/console): appended to a file in the container.
    const logPath = spawnLogPath(uuid);
    const r = await this.o.run(argv, { idempotent: false, detached: true, outputFile: logPath, ctx });
    if (r.exitCode !== 0) {
      this.patch(uuid, { status: 'failed' });
      throw failed('hive-mind spawn', r);
    }
    // A stop that came meanwhile waits for this start and then ends what it launched: the pid and log
    // are kept for it, but the session is not marked live again under it.
    this.patch(uuid, this.order.isStopping(uuid) ? { pid: r.pid, logPath } : { status: 'starting', pid: r.pid, logPath });
    const ids = await this.awaitSummary(uuid, logPath, ctx);
    if (ids && ids.failure !== null) {
      this.patch(uuid, { status: 'failed' });
      throw new ControlError('command-failed', `claude-flow hive-mind spawn failed: ${ids.failure} (its log: ${logPath})`);
    }
  }

  /**
   * Reads the spawn's log until it shows the summary (kept as the session's printed ids) or a failure;
   * null when neither came within the settle time, or a stop came meanwhile (the stop waits for this).
   */
  private async awaitSummary(uuid: string, logPath: string, ctx?: RequestContext): Promise<SpawnIds | null> {
    const { timeoutMs, pollMs, sleep = realSleep } = this.o.spawnSettle ?? SPAWN_SETTLE;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.order.isStopping(uuid)) return null;
      const ids = await this.readSpawnLog(logPath, ctx);
      if (ids && (ids.complete || ids.failure !== null)) {
        this.spawnIds.set(uuid, ids);
        return ids;
      }
      if (Date.now() >= deadline) return null;
      await sleep(pollMs);
    }
  }

  /**
   * What a spawn's captured log shows of its ids or failure so far; null when it cannot be read (not
   * there yet is fine: the capture wrapper creates the file as the spawn starts).
   */
  private async readSpawnLog(logPath: string, ctx?: RequestContext): Promise<SpawnIds | null> {
    const r = await this.o.run(['head', '-c', String(SPAWN_LOG_HEAD_BYTES), logPath], { idempotent: true, ctx, timeoutMs: 5000 }).catch(() => null);
    return r?.exitCode === 0 ? parseSpawnIds(r.stdout) : null;
  }

  async logFile(uuid: string): Promise<LogLocation> {
    const cf = this.cf(uuid);
    if (cf.logPath) return { path: cf.logPath };
    const why = cf.config === null ? 'it was started outside the relay, and claude-flow 2.7 keeps no file of a spawn\'s output' : 'it was started before the relay captured spawn output';
    return { path: null, reason: 'no-log', message: `session ${uuid} has no log the relay can read: ${why}` };
  }

  /** 2.7 keeps no directory per session: every spawn runs in the container's working directory. */
  async outputDir(uuid: string): Promise<{ dir: null; message: string }> {
    this.cf(uuid);
    return {
      dir: null,
      message: `claude-flow 2.7 runs every hive-mind spawn in the container's one working directory (its .hive-mind database is shared by all sessions), so no directory holds session ${uuid}'s files alone`,
    };
  }

  /** What each spawn printed about itself (its captured output): the one sure link, whatever the objective. */
  private readonly spawnIds = new Map<string, SpawnIds>();

  /**
   * Reads the ids the spawns of sessions still waiting for a link printed (`Swarm ID:` / `Session ID:`
   * near the top of their log): one small exec per such session, only until both are known. Two
   * sessions with the same objective cannot be told apart by it (the bench spawned several at once, and
   * stopping one stopped the other's row): the ids can.
   */
  private async readSpawnIds(ctx?: RequestContext): Promise<void> {
    const waiting = this.o.store
      .entries()
      .filter(([uuid, s]) => s.backend === 'claude-flow' && s.cf?.logPath && !TERMINAL_SESSION_STATUSES.includes(s.cf.status) && (!s.cf.sessionId || !s.swarmId) && !this.spawnIds.get(uuid)?.complete && !this.spawnIds.get(uuid)?.failure);
    await Promise.all(
      waiting.slice(0, MAX_LOG_READS).map(async ([uuid, s]) => {
        const ids = await this.readSpawnLog(s.cf!.logPath!, ctx);
        if (!ids) return;
        this.spawnIds.set(uuid, ids);
        // A spawn that gave up after its start stopped waiting (or before a relay restart) ran nothing.
        if (ids.failure !== null) this.patch(uuid, { status: 'failed' });
      }),
    );
  }

  /** One exec: `hive-mind sessions`; our records fill in what it does not say. */
  async list(ctx?: RequestContext): Promise<ListResult> {
    await this.readSpawnIds(ctx);
    const r = await this.o.run([...this.cli, 'hive-mind', 'sessions'], { idempotent: true, ctx });
    if (r.exitCode !== 0) throw failed('hive-mind sessions', r);
    const listed = parseHiveSessions(r.stdout);
    const bySid = new Map(listed.map((l) => [l.sessionId, l]));
    const known = new Set<string>();
    const ours = this.o.store.entries().filter(([, s]) => s.backend === 'claude-flow' && s.cf);
    for (const [, s] of ours) if (s.cf!.sessionId) known.add(s.cf!.sessionId);
    // Match newly spawned sessions (no claude-flow id yet) by the id their spawn printed; else by objective,
    // but only where it names one session on each side (never a guess between two).
    const unlinked = ours.filter(([, s]) => !s.cf!.sessionId).sort((a, b) => a[1].cf!.createdAt - b[1].cf!.createdAt);
    for (const [uuid, s] of unlinked) {
      const printed = this.spawnIds.get(uuid)?.sessionId ?? null;
      const task = s.cf!.task.trim();
      const byObjective = () => {
        if (unlinked.filter(([u, x]) => x.cf!.task.trim() === task && !this.spawnIds.get(u)?.sessionId).length !== 1) return undefined;
        const same = listed.filter((l) => !known.has(l.sessionId) && l.objective === task);
        return same.length === 1 ? same[0] : undefined;
      };
      const hit = printed ? listed.find((l) => l.sessionId === printed && !known.has(l.sessionId)) : byObjective();
      if (hit) {
        known.add(hit.sessionId);
        this.patch(uuid, { sessionId: hit.sessionId });
      }
    }
    for (const l of listed) {
      if (known.has(l.sessionId)) continue;
      // A session someone started outside the relay: show it under a stable uuid.
      const uuid = uuidForForeignSession(l.sessionId);
      this.o.store.set(uuid, {
        swarmId: null,
        backend: 'claude-flow',
        updatedAt: l.updatedAt ?? Date.now(),
        cf: { sessionId: l.sessionId, task: l.objective ?? '', priority: 'medium', config: null, status: 'running', createdAt: l.createdAt ?? Date.now(), pid: null, replaces: null, progress: null, agentCount: null },
      });
    }
    const out: Session[] = [];
    for (const [uuid, s] of this.o.store.entries()) {
      if (s.backend !== 'claude-flow' || !s.cf) continue;
      const l = s.cf.sessionId ? bySid.get(s.cf.sessionId) : undefined;
      if (l) {
        // 2.7's rows say `active` (or `paused`, written by the spawn's TERM handler) long after the process is
        // gone: once the relay saw the session end (stopped, reaped as interrupted), the database cannot revive it.
        const ended = TERMINAL_SESSION_STATUSES.includes(s.cf.status);
        const status: SessionStatus = ended ? s.cf.status : l.status === 'paused' ? 'paused' : l.status === 'active' ? (s.cf.status === 'paused' ? 'paused' : 'running') : s.cf.status;
        this.patch(uuid, { status, progress: l.progress, agentCount: l.agents });
      } else if (s.cf.sessionId && (s.cf.status === 'running' || s.cf.status === 'starting')) {
        // claude-flow lists only active and paused sessions: one that left the list has ended.
        this.patch(uuid, { status: 'stopped' });
      }
      out.push(this.toSession(uuid, this.o.store.get(uuid)!));
    }
    return { sessions: out, skipped: 0 };
  }

  /** Agents of the last `hive-mind status`, as exec reported them (session link resolved on read). */
  private agents: (Omit<ExecAgent, 'sessionUuid' | 'swarmId'> & { swarmId: string })[] = [];
  /** What refreshAgents last reported as changed: any read (discovery's too) is compared with this. */
  private emittedKey = '[]';

  execAgents(): ExecAgent[] {
    // Linked at read time: the swarm id may be matched to its session after the status was read.
    const entries = this.o.store.entries().filter(([, s]) => s.swarmId);
    const sessionOf = new Map(entries.map(([uuid, s]) => [s.swarmId!, uuid]));
    // 2.7's database keeps a swarm `active` whose process is gone (killed, or lost with a container
    // restart): the relay knows better once its session has ended, and shows none of its agents.
    const ended = new Set(entries.filter(([, s]) => s.cf && TERMINAL_SESSION_STATUSES.includes(s.cf.status)).map(([, s]) => s.swarmId!));
    return this.agents.filter((a) => !ended.has(a.swarmId)).map((a) => ({ ...a, sessionUuid: sessionOf.get(a.swarmId) ?? null }));
  }

  /**
   * One exec of `hive-mind status`; keeps its agents and links every session still waiting for its
   * swarm id (matched by objective), whoever asked for the read: linking then takes at most one
   * status period (the agents refresh), not the discovery backoff.
   */
  private async readStatus(): Promise<HiveSwarmInfo[]> {
    await this.readSpawnIds();
    const r = await this.o.run([...this.cli, 'hive-mind', 'status'], { idempotent: true });
    if (r.exitCode !== 0) throw failed('hive-mind status', r);
    const swarms = parseHiveStatus(r.stdout);
    this.agents = swarms.flatMap((w) => {
      const queen = w.agents.find((a) => a.role === 'queen');
      const queenId = queen ? `${w.swarmId}/${queen.name}` : null;
      return w.agents.map((a) => ({ id: `${w.swarmId}/${a.name}`, swarmId: w.swarmId, name: a.name, type: a.type, status: a.status, parentQueenId: a.role === 'worker' ? queenId : null }));
    });
    this.link(swarms);
    return swarms;
  }

  private link(swarms: HiveSwarmInfo[]): void {
    const taken = new Set(this.o.store.entries().map(([, s]) => s.swarmId).filter(Boolean));
    const waiting = this.o.store
      .entries()
      .filter(([, s]) => s.backend === 'claude-flow' && s.cf && !s.swarmId && s.cf.config !== null && !TERMINAL_SESSION_STATUSES.includes(s.cf.status))
      .sort((a, b) => a[1].cf!.createdAt - b[1].cf!.createdAt);
    for (const [uuid, s] of waiting) {
      const printed = this.spawnIds.get(uuid)?.swarmId ?? null;
      const task = s.cf!.task.trim();
      let hit: HiveSwarmInfo | undefined;
      if (printed) hit = swarms.find((w) => w.swarmId === printed && !taken.has(w.swarmId));
      else if (waiting.filter(([u, x]) => x.cf!.task.trim() === task && !this.spawnIds.get(u)?.swarmId).length === 1) {
        // By objective only where it names one swarm and one waiting session (never a guess between two).
        const same = swarms.filter((w) => !taken.has(w.swarmId) && w.objective === task);
        if (same.length === 1) hit = same[0];
      }
      if (!hit) continue;
      taken.add(hit.swarmId);
      this.patch(uuid, { status: s.cf!.status === 'starting' || s.cf!.status === 'created' ? 'running' : s.cf!.status, agentCount: hit.totalAgents }, hit.swarmId);
    }
  }

  /**
   * Re-reads the agents; true when they differ from what was last reported. Compared with the last
   * report, not the last read: discovery reads the same status, and a swarm it saw first must still
   * reach the graph.
   */
  async refreshAgents(): Promise<boolean> {
    await this.readStatus();
    const key = JSON.stringify(this.execAgents());
    if (key === this.emittedKey) return false;
    this.emittedKey = key;
    return true;
  }

  /** Swarm ids: `hive-mind status`, matched by objective to sessions that have none yet (readStatus links them). */
  async discover(pending: readonly string[]): Promise<void> {
    if (pending.length === 0) return;
    await this.readStatus();
  }

  async metrics(ctx?: RequestContext): Promise<HiveMetrics> {
    const r = await this.o.run([...this.cli, 'hive-mind', 'metrics'], { idempotent: true, ctx });
    if (r.exitCode !== 0) throw failed('hive-mind metrics', r);
    return parseHiveMetrics(r.stdout);
  }

  async get(uuid: string): Promise<Session> {
    this.cf(uuid);
    return this.toSession(uuid, this.o.store.get(uuid)!);
  }

  /** Local driver: the spawn's process group (the driver made it; its leader's pid is recorded); empty when gone. */
  private localGroups(uuid: string): number[] {
    const cf = this.cf(uuid);
    return cf.pid !== null && pidAlive(cf.pid) ? [cf.pid] : [];
  }

  /**
   * STOP or CONT the session's processes; true when they are then stopped (T) or running. In a container
   * judged by the process table, not kill's exit code: busybox's kill delivers `-- -PGID` but exits 1.
   */
  private async signal(uuid: string, sig: 'STOP' | 'CONT', ctx: RequestContext | undefined): Promise<boolean> {
    if (this.o.driverKind === 'local') {
      let ok = false;
      for (const g of this.localGroups(uuid)) ok = (await this.o.run(['kill', `-${sig}`, '--', `-${g}`], { idempotent: true, ctx })).exitCode === 0 || ok;
      return ok;
    }
    const run: RunFn = (argv, o) => this.o.run(argv, { ...o, ctx });
    const live = async () => sessionProcesses(await scanProcesses(run, uuid));
    const before = await live();
    if (before.procs.every(isZombie)) return false;
    await signal(run, sig, before);
    const done = (t: { procs: ProcInfo[] }) => {
      const alive = t.procs.filter((p) => !isZombie(p));
      return alive.length > 0 && alive.every((p) => p.stat.startsWith('T') === (sig === 'STOP'));
    };
    for (let i = 0; i < 8; i++) {
      if (done(await live())) return true;
      await new Promise((r) => setTimeout(r, 125));
    }
    return false;
  }

  /**
   * `hive-mind stop` flips database rows and leaves the spawn running: end its processes ourselves
   * (CONT, TERM, KILL after the grace period) and verify; processes that survive are an error, never
   * `stopped`.
   */
  async stop(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    this.cf(uuid);
    // 2.7's start is one detached exec, so the window a stop must wait out is that exec; what it
    // launched is in the listing once it settled.
    return this.order.stop(uuid, () => this.stopSteps(uuid, ctx));
  }

  private async stopSteps(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    const cf = this.cf(uuid);
    if (cf.sessionId) {
      const r = await this.o.run([...this.cli, 'hive-mind', 'stop', cf.sessionId], { idempotent: true, ctx });
      if (r.exitCode !== 0 && !hiveStopNotFound(r.stdout, r.stderr)) throw failed('hive-mind stop', r);
    }
    if (this.o.driverKind === 'local') {
      if (cf.pid !== null) await this.o.run(['kill', '-TERM', '--', `-${cf.pid}`], { idempotent: true, ctx }).catch(() => undefined);
    } else {
      const end = await endProcesses((argv, o) => this.o.run(argv, { ...o, ctx }), uuid, this.o.stopTiming);
      if (end.remaining.length > 0) {
        throw new ControlError('command-failed', `session ${uuid}: ${end.remaining.length} process(es) still running after TERM and KILL (pids ${end.remaining.map((p) => p.pid).join(', ')}); not marked stopped`);
      }
    }
    this.patch(uuid, { status: 'stopped' });
    return 'stopped';
  }

  async pause(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    const cf = this.cf(uuid);
    if (TERMINAL_SESSION_STATUSES.includes(cf.status)) throw new ControlError('command-failed', `session ${uuid} is ${cf.status}`);
    if (!(await this.signal(uuid, 'STOP', ctx))) throw new ControlError('command-failed', `session ${uuid} has no running process to pause`);
    this.patch(uuid, { status: 'paused' });
    return 'paused';
  }

  async resume(uuid: string, ctx?: RequestContext): Promise<SessionStatus> {
    const cf = this.cf(uuid);
    if (!(await this.signal(uuid, 'CONT', ctx))) throw new ControlError('command-failed', `session ${uuid} has no process to resume`);
    if (cf.sessionId) await this.o.run([...this.cli, 'hive-mind', 'resume', cf.sessionId], { idempotent: true, ctx });
    this.patch(uuid, { status: 'running' });
    return 'running';
  }

  async cleanup(maxAgeHours: number): Promise<number | null> {
    const cutoff = Date.now() - maxAgeHours * 3_600_000;
    let n = 0;
    for (const [uuid, s] of this.o.store.entries()) {
      if (s.backend === 'claude-flow' && s.cf && (s.cf.status === 'completed' || s.cf.status === 'failed' || s.cf.status === 'stopped') && s.updatedAt < cutoff) {
        this.o.store.delete(uuid);
        n++;
      }
    }
    return n;
  }

  /** Sessions that claim to run without a live tagged process -> interrupted (one `ps` exec). */
  async reap(ctx?: RequestContext): Promise<string[]> {
    // Judged: the sessions that claimed to run BEFORE the listing was taken. One whose spawn started while
    // `ps` ran (a restore right after a restart) is not in the listing yet and must not be called dead.
    const claimed = this.o.store
      .entries()
      .filter(([, s]) => s.backend === 'claude-flow' && s.cf && ['running', 'starting', 'paused'].includes(s.cf.status))
      .map(([uuid]) => uuid);
    const live = new Set<string>();
    if (this.o.driverKind === 'docker') {
      const r = await this.o.run([...PS_ARGV], { idempotent: true, ctx });
      const table = r.exitCode === 0 ? parsePsTable(r.stdout) : null;
      // Without a process list nothing can be judged: marking every session interrupted would be a guess.
      if (!table) return [];
      for (const p of table) if (!p.stat.startsWith('Z')) for (const m of p.args.matchAll(/hivescope-session ([0-9a-f-]{36})/g)) live.add(m[1]!);
    }
    const out: string[] = [];
    for (const uuid of claimed) {
      const s = this.o.store.get(uuid);
      if (!s?.cf || !['running', 'starting', 'paused'].includes(s.cf.status)) continue;
      const alive = this.o.driverKind === 'docker' ? live.has(uuid) : s.cf.pid !== null && pidAlive(s.cf.pid);
      // Foreign sessions (no pid, no tag) cannot be judged: leave them as claude-flow reports them.
      if (!alive && (s.cf.pid !== null || this.o.driverKind === 'docker') && s.cf.config !== null) {
        this.patch(uuid, { status: 'interrupted' });
        out.push(uuid);
      }
    }
    return out;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
