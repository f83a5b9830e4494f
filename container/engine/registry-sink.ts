/**
 * The engine's side of the session registry. In simulated mode `hive-session-manager start` hands a
 * session to the engine (`session_run` with `detach: true`) and exits, so no process per session stays
 * alive; the engine then records what happens next (final status, progress, agent_count) in the same
 * registry, with the same lock + temp + fsync + rename writes (session-manager/registry.ts).
 * Writes are batched (one registry write per flush for every changed session) and the lock is only
 * tried, never waited for: a CLI holding it delays a write by one flush, never the engine's event loop.
 */
import fs from 'node:fs';
import { pidAlive, paths, toSessionFile, tryUpdateRegistry, updateRegistry, writeSessionFile, type Paths, type Registry } from '../session-manager/registry.js';
import { swarmProgress, type SimSwarm } from './sim.js';

const ACTIVE = new Set(['starting', 'running', 'paused']);
type Final = 'completed' | 'failed' | 'stopped';

interface Change {
  swarmId: string;
  status: Final | null;
  progress: number;
  agentCount: number;
}

export interface RegistrySinkOptions {
  /** ms between a final status and its write (coalesces bursts); progress-only batches wait 5x longer. */
  flushMs?: number;
  /** At most one progress write per session per this many ms (final statuses are never throttled). */
  progressEveryMs?: number;
}

export class RegistrySink {
  readonly paths: Paths;
  private readonly owned = new Map<string, { swarmId: string; lastProgressAt: number }>();
  private readonly pending = new Map<string, Change>();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private readonly flushMs: number;
  private readonly progressEveryMs: number;
  stats = { writes: 0, busy: 0, errors: 0 };

  constructor(root: string, opts: RegistrySinkOptions = {}) {
    // HIVE_LOG_DIR too: the image sets it (/var/log/multi-agent), and without it the sessions the engine
    // creates logged to <root>/.swarm/logs while `log <uuid>` (the CLI, with the image's env) named the other.
    this.paths = paths({ HIVE_ROOT: root, HIVE_LOG_DIR: process.env.HIVE_LOG_DIR });
    this.flushMs = opts.flushMs ?? 200;
    this.progressEveryMs = opts.progressEveryMs ?? 5_000;
  }

  /** The engine now owns this session's lifecycle (its final status goes to the registry). */
  own(sessionId: string, swarmId: string): void {
    this.owned.set(sessionId, { swarmId, lastProgressAt: 0 });
  }

  /** Undoes own() (the session could not be recorded). */
  disown(sessionId: string): void {
    this.owned.delete(sessionId);
    this.pending.delete(sessionId);
  }

  owns(sessionId: string): boolean {
    return this.owned.has(sessionId);
  }

  get ownedCount(): number {
    return this.owned.size;
  }

  /** Fed with every `swarm` event of the simulation. */
  onSwarm(swarm: SimSwarm): void {
    const sid = swarm.sessionId;
    if (!sid) return;
    const o = this.owned.get(sid);
    if (!o || o.swarmId !== swarm.id) return;
    const st = swarm.status;
    const final: Final | null = st === 'completed' || st === 'failed' || st === 'stopped' ? st : null;
    const now = Date.now();
    if (!final && now - o.lastProgressAt < this.progressEveryMs) return;
    o.lastProgressAt = now;
    this.pending.set(sid, {
      swarmId: swarm.id,
      status: final,
      progress: final === 'completed' ? 1 : Math.round(swarmProgress(swarm) * 1000) / 1000,
      agentCount: swarm.agents.length,
    });
    if (final) this.owned.delete(sid);
    // Progress alone can wait: at 1000 sessions it is the bulk of the writes (the whole registry each time).
    this.schedule(final ? this.flushMs : this.flushMs * 5);
  }

  private schedule(ms: number): void {
    const due = Date.now() + ms;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
    this.timer.unref?.();
  }

  private apply(reg: Registry, batch: Map<string, Change>, deferred: Set<string>): boolean {
    let changed = false;
    const now = new Date().toISOString();
    for (const [sid, c] of batch) {
      const e = reg.sessions[sid];
      // Someone else decided (stop, reap) or the session was restarted into another swarm: theirs wins.
      if (!e || !ACTIVE.has(e.status) || (e.swarm_id !== null && e.swarm_id !== c.swarmId)) continue;
      // A `start` between claiming the entry (starting, no swarm yet) and recording its swarm: this change
      // may be the previous swarm's last word (a stop's `stopped`) and must not land on the new run. Keep
      // it until the entry names its swarm; then the check above applies it or drops it.
      if (e.swarm_id === null && e.status === 'starting') {
        deferred.add(sid);
        continue;
      }
      if (c.status) e.status = c.status;
      e.progress = c.progress;
      if (c.agentCount > 0) e.agent_count = c.agentCount;
      e.updated = now;
      e.last_activity = now;
      // session.json follows every status change; progress alone lives in the registry (`get` reads it there).
      if (c.status) writeSessionFile(this.paths, sid, toSessionFile(this.paths, sid, e));
      changed = true;
    }
    return changed;
  }

  /** Writes what is pending if the lock is free now; returns false (and retries later) when it is not. */
  flush(blocking = false): boolean {
    if (this.pending.size === 0) return true;
    const batch = new Map(this.pending);
    const deferred = new Set<string>();
    let done: boolean;
    try {
      done = blocking
        ? (updateRegistry(this.paths, (reg) => this.apply(reg, batch, deferred)), true)
        : tryUpdateRegistry(this.paths, (reg) => this.apply(reg, batch, deferred)) !== undefined;
      if (done) this.stats.writes++;
      else this.stats.busy++;
    } catch {
      // Registry unreadable or the disk is full: keep the changes and retry, slowly.
      this.stats.errors++;
      if (!blocking) this.schedule(this.flushMs * 10);
      return false;
    }
    if (!done) {
      this.schedule(this.flushMs);
      return false;
    }
    for (const [sid, c] of batch) if (this.pending.get(sid) === c && !deferred.has(sid)) this.pending.delete(sid);
    if (deferred.size > 0 && !blocking) this.schedule(this.flushMs);
    return true;
  }

  /**
   * A freshly started engine knows no swarm: simulated sessions the registry still calls active were lost
   * with the previous engine and become `interrupted`. A `start` still connecting (status `starting`,
   * its process alive) is left alone. Returns the uuids marked.
   */
  reapOnStart(): string[] {
    const marked: string[] = [];
    if (!fs.existsSync(this.paths.registry)) return marked;
    try {
      updateRegistry(this.paths, (reg) => {
        const now = new Date().toISOString();
        for (const [uuid, e] of Object.entries(reg.sessions)) {
          if (e.engine !== 'simulated' || !ACTIVE.has(e.status)) continue;
          if (e.runner_pid && pidAlive(e.runner_pid)) continue;
          e.status = 'interrupted';
          e.updated = now;
          e.last_activity = now;
          writeSessionFile(this.paths, uuid, toSessionFile(this.paths, uuid, e));
          marked.push(uuid);
        }
        return marked.length > 0;
      });
    } catch {
      // no registry yet, or unreadable: nothing of ours to reap
    }
    return marked;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flush(true);
  }
}
