/**
 * The session list the relay serves: a cache re-read with one exec (single-flight, so concurrent readers
 * share it), filled in from the relay's own record (a swarm id survives a relay restart), and the swarm
 * id discovery that follows a spawn (re-read with backoff while a spawned session has none). Every change
 * is a `session` event; a change to a session a request spawned carries that request's id.
 */
import type { Logger } from 'pino';
import type { RequestContext } from '../context.js';
import type { Session } from '../../shared/model/session.js';
import { TERMINAL_SESSION_STATUSES } from '../../shared/model/session.js';
import type { StateStore } from './stateStore.js';
import type { BackendSlot } from './backendDetect.js';
import type { PlaneEvents } from './planeEvents.js';
import type { ControlTiming } from './timing.js';

export interface SessionCacheDeps {
  backend: BackendSlot;
  store: StateStore;
  events: PlaneEvents;
  logger: Logger;
  timing: Pick<ControlTiming, 'listTtlMs' | 'discoverMaxMs'>;
  /** The first good list after none or a failed one (health changes). */
  onListOk(): void;
}

/** A spawned session still waiting for its swarm id: since when, and the request that spawned it. */
interface Pending {
  since: number;
  requestId: string | undefined;
}

export class SessionCache {
  private readonly byUuid = new Map<string, Session>();
  private cacheAt = 0;
  private listOk = false;
  private refreshing: Promise<void> | null = null;
  private readonly pending = new Map<string, Pending>();
  private discoverTimer: NodeJS.Timeout | null = null;
  private discoverDelay = 250;
  private closed = false;

  constructor(private readonly d: SessionCacheDeps) {}

  get(uuid: string): Session | undefined {
    return this.byUuid.get(uuid);
  }

  all(): Session[] {
    return [...this.byUuid.values()];
  }

  /** The cached list, newest first (never execs); `stale` when the last refresh failed or none succeeded yet. */
  sessions(): { sessions: Session[]; stale: boolean } {
    return { sessions: this.all().sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)), stale: !this.listOk };
  }

  /** Older than listTtlMs: the next reader re-reads it. */
  get expired(): boolean {
    return Date.now() - this.cacheAt > this.d.timing.listTtlMs;
  }

  /** The container went away: what we hold may no longer be true. */
  markStale(): void {
    this.listOk = false;
  }

  /** Fills what the registry lacks from the relay's own record (swarm id survives a relay restart). */
  merge(s: Session): Session {
    const stored = this.d.store.get(s.uuid);
    if (s.swarmId && stored?.swarmId !== s.swarmId) this.d.store.update(s.uuid, { swarmId: s.swarmId }, s.backend);
    if (!s.swarmId && stored?.swarmId) return { ...s, swarmId: stored.swarmId };
    return s;
  }

  /** Stores the session; a change in status or swarm id is a `session` event (with the request behind it, if any). */
  upsert(s: Session, requestId?: string): void {
    const prev = this.byUuid.get(s.uuid);
    this.byUuid.set(s.uuid, s);
    if (!prev || prev.status !== s.status || prev.swarmId !== s.swarmId) {
      const rid = requestId ?? this.pending.get(s.uuid)?.requestId;
      this.d.events.emit('session', { uuid: s.uuid, swarmId: s.swarmId, status: s.status, replaces: s.replaces, session: s, ...(rid ? { requestId: rid } : {}) });
      if (prev && !prev.swarmId && s.swarmId) this.d.events.activity('status', 'info', `session ${s.uuid} runs swarm ${s.swarmId}`, { sessionUuid: s.uuid, swarmId: s.swarmId, requestId: rid });
    }
  }

  /** One exec re-reads every session (single-flight: concurrent callers share it, and its exec is logged with the first caller's ctx). */
  refresh(ctx?: RequestContext): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const b = await this.d.backend.require(ctx);
        const { sessions, skipped } = await b.list(ctx);
        if (skipped > 0) (ctx?.log ?? this.d.logger).warn({ skipped }, 'registry entries the relay cannot show');
        const seen = new Set<string>();
        for (const raw of sessions) {
          const s = this.merge(raw);
          seen.add(s.uuid);
          // The registry has not caught up with a spawn the relay just answered: keep "spawning".
          const cur = this.byUuid.get(s.uuid);
          this.upsert(cur?.status === 'spawning' && s.status === 'created' ? { ...s, status: 'spawning' } : s);
        }
        for (const [uuid, s] of this.byUuid) {
          if (seen.has(uuid)) continue;
          if (s.status === 'spawning' && Date.now() - (s.createdAt ?? 0) < 30_000) continue;
          this.byUuid.delete(uuid);
          this.d.events.emit('sessionRemoved', { uuid });
        }
        this.cacheAt = Date.now();
        if (!this.listOk) {
          this.listOk = true;
          this.d.onListOk();
        }
      } catch (err) {
        this.listOk = false;
        throw err;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Re-reads the list when the cached one is older than listTtlMs. */
  async refreshIfExpired(ctx?: RequestContext): Promise<void> {
    if (this.expired) await this.refresh(ctx);
  }

  /** A spawn answered: its swarm id follows; the session's events until then carry the spawning request's id. */
  awaitSwarmId(uuid: string, since: number, requestId: string | undefined): void {
    this.pending.set(uuid, { since, requestId });
  }

  /** The session's swarm id is no longer awaited (it failed to start, or was stopped). */
  forget(uuid: string): void {
    this.pending.delete(uuid);
  }

  /** Swarm ids arrive after the spawn answered: refresh with backoff (250 ms doubling to 5 s) while any are pending. */
  scheduleDiscovery(reset = false): void {
    if (this.closed) return;
    if (reset) this.discoverDelay = 250;
    if (this.discoverTimer) {
      if (!reset) return;
      clearTimeout(this.discoverTimer);
    }
    this.discoverTimer = setTimeout(() => {
      this.discoverTimer = null;
      void this.discover();
    }, this.discoverDelay);
    this.discoverTimer.unref?.();
    this.discoverDelay = Math.min(5000, this.discoverDelay * 2);
  }

  private async discover(): Promise<void> {
    if (this.pending.size === 0 || this.closed) return;
    try {
      await this.refresh();
      const b = this.d.backend.current;
      const waiting = [...this.pending.keys()].filter((u) => !this.byUuid.get(u)?.swarmId);
      if (b?.discover && waiting.length > 0) {
        await b.discover(waiting);
        await this.refresh();
      }
    } catch (err) {
      this.d.logger.debug({ err }, 'swarm id discovery');
    }
    const now = Date.now();
    for (const [uuid, p] of this.pending) {
      const s = this.byUuid.get(uuid);
      if (s?.swarmId || (s && TERMINAL_SESSION_STATUSES.includes(s.status))) this.pending.delete(uuid);
      else if (now - p.since > this.d.timing.discoverMaxMs) {
        this.pending.delete(uuid);
        this.d.events.activity('error', 'warn', `session ${uuid}: no swarm id after ${Math.round(this.d.timing.discoverMaxMs / 1000)} s`, { sessionUuid: uuid, requestId: p.requestId });
      }
    }
    if (this.pending.size > 0) this.scheduleDiscovery();
  }

  close(): void {
    this.closed = true;
    if (this.discoverTimer) clearTimeout(this.discoverTimer);
  }
}
