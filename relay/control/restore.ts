/**
 * Restore after a container restart: the sessions that were running (or starting) when the container
 * went down are re-spawned once each (HIVE_RESTORE=1), each linked to the one it replaces. When the
 * container certainly restarted (a die event, a new StartedAt) their processes are gone and they are
 * re-spawned at once; when Docker was only unreachable, only those the registry no longer shows running.
 */
import type { InitializeSwarmBody } from '../../shared/api.js';
import type { Session } from '../../shared/model/session.js';
import { asControlError } from './errors.js';
import type { StateStore } from './stateStore.js';
import type { SessionCache } from './sessionCache.js';
import type { PlaneEvents } from './planeEvents.js';
import type { SpawnOptions } from './commands.js';

const DEFAULT_AGENT_TYPES = ['coordinator', 'researcher', 'coder', 'analyst', 'tester', 'architect', 'optimizer'];

export interface RestoreDeps {
  /** HIVE_RESTORE. */
  enabled: boolean;
  store: StateStore;
  cache: SessionCache;
  events: PlaneEvents;
  spawn(body: InitializeSwarmBody, o: SpawnOptions): Promise<{ uuid: string }>;
}

export class Restorer {
  private candidates: Session[] = [];
  /** True when the last "down" certainly ended the container's processes (die, new StartedAt), not just our view of it. */
  private downCertain = false;
  private readonly restoring = new Set<string>();

  constructor(private readonly d: RestoreDeps) {}

  /** Whether the sessions noted at the last "down" are certainly gone (restore them at once). */
  get certain(): boolean {
    return this.downCertain;
  }

  /**
   * The container went down (`first`: it was not already known to be down). Notes the sessions to
   * restore and returns how many were running.
   */
  noteDown(certain: boolean, first: boolean): number {
    if (first) this.downCertain = certain;
    else this.downCertain ||= certain;
    // Only sessions that were actually running (or starting) come back; a `created` one was never started.
    const running = this.d.cache.all().filter((s) => s.status === 'running' || s.status === 'starting');
    // Keep the earliest snapshot: a second "down" event (stop then die) must not overwrite it with nothing.
    if (first || this.candidates.length === 0) this.candidates = running;
    return running.length;
  }

  /** Re-spawns the noted sessions (once; the note is cleared). */
  async run(): Promise<void> {
    const candidates = this.candidates;
    const certain = this.downCertain;
    this.candidates = [];
    this.downCertain = false;
    if (!this.d.enabled || candidates.length === 0) return;
    // In parallel (the exec semaphore bounds it): ten sessions must not take ten create round trips.
    await Promise.all(candidates.map((old) => this.restoreOne(old, certain)));
  }

  private async restoreOne(old: Session, certain: boolean): Promise<void> {
    if (this.d.store.get(old.uuid)?.replacedBy || this.restoring.has(old.uuid)) return;
    const now = this.d.cache.get(old.uuid);
    // Still genuinely running (e.g. only the relay saw a blip): nothing to restore.
    if (!certain && now && (now.status === 'running' || now.status === 'paused')) return;
    this.restoring.add(old.uuid);
    try {
      const c = old.config ?? {};
      const r = await this.d.spawn(
        {
          topology: c.topology ?? 'mesh',
          maxAgents: Math.min(20, Math.max(3, c.maxAgents ?? 8)),
          strategy: c.strategy ?? 'adaptive',
          priority: c.priority ?? old.priority,
          enableNeural: c.enableNeural ?? true,
          agentTypes: c.agentTypes && c.agentTypes.length > 0 ? c.agentTypes : DEFAULT_AGENT_TYPES,
          customPrompt: old.task || 'restored session',
        },
        { replaces: old.uuid, rateLimit: false },
      );
      this.d.store.update(old.uuid, { replacedBy: r.uuid }, old.backend);
      this.d.events.activity('spawn', 'info', `restored session ${old.uuid} as ${r.uuid}`, { sessionUuid: r.uuid });
    } catch (err) {
      this.d.events.activity('error', 'error', `could not restore session ${old.uuid}: ${asControlError(err).message}`, { sessionUuid: old.uuid, swarmId: old.swarmId });
    } finally {
      this.restoring.delete(old.uuid);
    }
  }
}
