/**
 * Full snapshots: on connect, on a subscription change, and to resync a client whose held delta grew
 * too large. Many clients connecting at once (a relay restart) share one encoding of the graph per
 * filter until the graph changes.
 */
import type { Telemetry } from '../telemetry/index.js';
import { agentVisible, filterKey, visibleUnder, type StreamFilter } from './deltas.js';
import type { Outbound } from './outbound.js';
import type { StreamClient } from './streamClient.js';

export class SnapshotCache {
  /** Bumped per graph change; keys the cache. */
  private graphVersion = 0;
  private cacheVersion = -1;
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly telemetry: Telemetry,
    private readonly out: Outbound,
    /** The event cursor a snapshot carries (the client's events resume after it). */
    private readonly eventCursor: () => number,
  ) {}

  /** The graph changed: the next snapshot is encoded afresh. */
  invalidate(): void {
    this.graphVersion++;
  }

  send(c: StreamClient): void {
    c.held = null;
    c.needsSnapshot = false;
    if (this.cacheVersion !== this.graphVersion) {
      this.cache.clear();
      this.cacheVersion = this.graphVersion;
    }
    const key = filterKey(c.filter);
    let graphJson = this.cache.get(key);
    if (graphJson === undefined) {
      graphJson = JSON.stringify(this.graph(c.filter));
      this.cache.set(key, graphJson);
    }
    this.out.send(c, `{"type":"snapshot","graph":${graphJson},"eventCursor":${this.eventCursor()},"layoutRole":${JSON.stringify(c.role)}}`, false);
  }

  private graph(f: StreamFilter) {
    const snap = this.telemetry.snapshot({ includeMock: f.includeMock });
    if (f.swarmIds === null) return snap;
    const visible = visibleUnder(this.telemetry, f);
    return {
      agents: snap.agents.filter((a) => agentVisible(a, f)),
      edges: snap.edges.filter((e) => visible(e.source) && visible(e.target)),
      sessions: snap.sessions,
      swarms: snap.swarms.filter((s) => f.swarmIds!.has(s.id)),
    };
  }
}
