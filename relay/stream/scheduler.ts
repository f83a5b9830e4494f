/**
 * When deltas and activity entries go out. Every message is encoded once per tick and the same string
 * goes to every client that should get it (one encoding per filter for deltas, per cursor for events).
 *
 * Deltas: the graph's change sets are merged into one pending change set (never queued). How soon it
 * goes out depends on the most urgent change in it:
 * - topology (an agent, edge, swarm or session appearing or going, a session change: what a person
 *   waits for after acting) on the next turn, at most once per TOPOLOGY_GAP_MS;
 * - other structural changes (a status) 1/deltaHz after the last structural delta;
 * - metric-only updates 1/metricHz after the last delta of any kind, and only METRIC_GATHER_MS after the
 *   first of them arrived.
 * So metric churn never makes a spawn or a status change wait, and status churn never makes a spawn wait.
 * Every delta carries everything pending, metrics included.
 *
 * Per client, the same spacing holds; a client that is backed up, over its JSON budget or not yet due
 * gets the delta merged into what is held for it (bounded by the graph; past PENDING_RESYNC_ENTRIES it
 * gets one fresh snapshot instead). Events have their own leading-edge throttle at deltaHz, so a log
 * line never holds back the agent change that follows it, and resume from each client's cursor.
 */
import type { Logger } from 'pino';
import { EVENT_KINDS } from '../../shared/protocol/messages.js';
import { ChangeSetAccumulator, type ChangeSet } from '../graph/changeSet.js';
import type { Telemetry } from '../telemetry/index.js';
import { encodeDeltaBody, filterDelta, filterKey, visibleUnder } from './deltas.js';
import type { EventRing } from './eventRing.js';
import type { StreamMetrics } from './metrics.js';
import type { Outbound } from './outbound.js';
import type { SnapshotCache } from './snapshots.js';
import type { StreamClient } from './streamClient.js';

/**
 * Deltas that only update metrics of existing agents (cpu, tokens, counters) go out at most this often.
 * Continuous metric churn would otherwise take every slot, and a structural change would wait behind it.
 */
export const METRIC_DELTA_HZ = 4;
/**
 * A metric-only change waits this long before it may take a delta slot: an engine sends the log and
 * swarm lines of a change at once but batches the agent objects (the kit's engine every 50 ms), so the
 * agent part usually joins the same delta.
 */
export const METRIC_GATHER_MS = 60;
/**
 * Smallest gap between two topology deltas (to one client, and overall): spawns and removals go out on
 * the next turn, but a storm of them (1000 spawns) still merges into at most 1000/TOPOLOGY_GAP_MS
 * deltas a second.
 */
export const TOPOLOGY_GAP_MS = 20;
/** A held (merged) delta larger than this is dropped in favour of one fresh snapshot. */
export const PENDING_RESYNC_ENTRIES = 5_000;

type Weight = 'metric' | 'structural' | 'topology';

function weightOf(x: { structural: boolean; topology: boolean }): Weight {
  return x.topology ? 'topology' : x.structural ? 'structural' : 'metric';
}

export interface SchedulerDeps {
  clients: ReadonlyMap<string, StreamClient>;
  out: Outbound;
  m: StreamMetrics;
  log: Logger;
  ring: EventRing;
  snapshots: SnapshotCache;
  telemetry: Telemetry;
  /** 1/deltaHz: structural deltas and event messages, per client and overall. */
  deltaIntervalMs: number;
  /** 1/metricHz (never shorter than deltaIntervalMs): metric-only deltas. */
  metricIntervalMs: number;
}

export class DeltaScheduler {
  private readonly pending = new ChangeSetAccumulator();
  /** When a delta of any kind / a structural / a topology one, and an event message, last went out. */
  private lastDeltaAt = 0;
  private lastStructuralAt = 0;
  private lastTopologyAt = 0;
  private lastEventsAt = 0;
  /** Newest event seq already flushed to every client that was due. */
  private eventsFlushedTo: number;
  /** Earliest time some client that was not due yet gets its held delta or events (null: none waiting). */
  private clientsDueAt: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = 0;
  private closed = false;

  constructor(private readonly d: SchedulerDeps) {
    this.eventsFlushedTo = d.ring.latest;
  }

  /** A change set from the graph: merged into the pending one. */
  addChange(cs: ChangeSet): void {
    this.pending.addChange(cs);
    this.schedule();
  }

  /**
   * Plans the next tick: the earliest of the pending delta's due time, the events' and any waiting
   * client's. An interval starts only when something was sent, so an empty tick delays nothing.
   */
  schedule(): void {
    if (this.closed) return;
    let at = Infinity;
    if (!this.pending.empty) at = Math.min(at, this.deltaDueAt());
    if (this.ring.latest > this.eventsFlushedTo) at = Math.min(at, this.lastEventsAt + this.d.deltaIntervalMs);
    if (this.clientsDueAt !== null) at = Math.min(at, this.clientsDueAt);
    const now = Date.now();
    const when = at === Infinity ? now : Math.max(now, at);
    if (this.timer) {
      // Already planned: only move it earlier (a structural change behind a pending metric update).
      if (when >= this.timerAt) return;
      clearTimeout(this.timer);
    }
    this.timerAt = when;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.tick();
      } catch (e) {
        this.d.log.error({ err: String(e) }, 'delta flush failed');
      }
      if (!this.pending.empty || this.ring.latest > this.eventsFlushedTo || this.clientsDueAt !== null) this.schedule();
    }, when - now);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private get ring(): EventRing {
    return this.d.ring;
  }

  private deltaDueAt(): number {
    const p = this.pending;
    if (p.topology) return this.lastTopologyAt + TOPOLOGY_GAP_MS;
    if (p.structural) return this.lastStructuralAt + this.d.deltaIntervalMs;
    return Math.max(this.lastDeltaAt + this.d.metricIntervalMs, (p.since ?? 0) + METRIC_GATHER_MS);
  }

  /** When `c` may next get a delta of this weight. */
  private clientDueAt(c: StreamClient, w: Weight): number {
    if (w === 'topology') return c.topologySentAt + TOPOLOGY_GAP_MS;
    if (w === 'structural') return c.structuralSentAt + this.d.deltaIntervalMs;
    return c.deltaSentAt + this.d.deltaIntervalMs;
  }

  /** The pending delta (when due) and new events, to every client that may have them now. */
  private tick(): void {
    const now = Date.now();
    const interval = this.d.deltaIntervalMs;
    const global = !this.pending.empty && now >= this.deltaDueAt() ? this.pending.take() : null;
    const doEvents = this.ring.latest > this.eventsFlushedTo && now - this.lastEventsAt >= interval;
    if (doEvents) this.eventsFlushedTo = this.ring.latest;
    let sent: Weight | null = null;
    let sentEvents = false;
    let dueAt: number | null = null;
    const due = (t: number) => {
      dueAt = dueAt === null ? t : Math.min(dueAt, t);
    };
    // Each filter's delta is filtered and JSON-encoded once; clients only differ by their seq.
    const encoded = new Map<string, string | null>();
    const eventCache = new Map<number, string>();
    for (const c of this.d.clients.values()) {
      const overBudget = this.d.out.overBudget(c, now);
      const hold = this.d.out.backedUp(c, now) || overBudget;
      if (c.needsSnapshot) {
        if (!hold) {
          this.d.m.resyncSnapshots++;
          this.d.snapshots.send(c);
        }
        continue;
      }
      const weight: Weight | null = global ? weightOf({ structural: global.structural || !!c.held?.structural, topology: global.topology || !!c.held?.topology }) : null;
      const notDue = weight !== null && now < this.clientDueAt(c, weight);
      if (hold || notDue) {
        // Held for later: backed up (the slow safety tick retries), or not yet due its next delta.
        if (global) {
          c.held ??= new ChangeSetAccumulator();
          c.held.addChange(global);
          this.d.m.deltasMerged++;
          if (c.held.size > PENDING_RESYNC_ENTRIES) {
            c.held = null;
            c.needsSnapshot = true;
          }
        }
        if (hold) continue;
        due(this.clientDueAt(c, weight!));
      } else {
        let body: string | null = null;
        let w: Weight | null = weight;
        if (c.held) {
          if (global) c.held.addChange(global);
          const held = c.held.take();
          c.held = null;
          w = weightOf(held);
          body = encodeDeltaBody(filterDelta(held.delta, c.filter, visibleUnder(this.d.telemetry, c.filter)));
        } else if (global) {
          const key = filterKey(c.filter);
          body = encoded.get(key) ?? null;
          if (!encoded.has(key)) {
            body = encodeDeltaBody(filterDelta(global.delta, c.filter, visibleUnder(this.d.telemetry, c.filter)));
            encoded.set(key, body);
          }
        }
        if (body !== null && w !== null) {
          this.d.out.send(c, `{"type":"delta","seq":${++c.deltaSeq},${body}`, false);
          c.deltaSentAt = now;
          if (w !== 'metric') c.structuralSentAt = now;
          if (w === 'topology') c.topologySentAt = now;
          if (sent === null || w === 'topology' || (w === 'structural' && sent === 'metric')) sent = w;
        }
      }
      if (c.eventCursor !== null && c.eventCursor < this.ring.latest) {
        if (now - c.eventsSentAt >= interval) {
          this.sendEvents(c, eventCache);
          c.eventsSentAt = now;
          sentEvents = true;
        } else due(c.eventsSentAt + interval);
      }
    }
    if (sent !== null) this.lastDeltaAt = now;
    if (sent === 'structural' || sent === 'topology') this.lastStructuralAt = now;
    if (sent === 'topology') this.lastTopologyAt = now;
    if (sentEvents) this.lastEventsAt = now;
    this.clientsDueAt = dueAt;
  }

  /** New events since the client's cursor (one encoding per cursor per tick). */
  private sendEvents(c: StreamClient, cache: Map<number, string>): void {
    if (c.eventCursor === null || c.eventCursor >= this.ring.latest) return;
    const cursor = c.eventCursor;
    let text = cache.get(cursor);
    if (text === undefined) {
      const { events, gap } = this.ring.since(cursor);
      const valid = events.filter((e) => (EVENT_KINDS as readonly string[]).includes(e.kind));
      text = JSON.stringify({ type: 'event', events: valid, replay: false, gap });
      cache.set(cursor, text);
    }
    this.d.out.send(c, text, false);
    c.eventCursor = this.ring.latest;
  }
}
