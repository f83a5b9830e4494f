/**
 * Agent-to-agent messages into the graph's message edges, from polls (agent_messages) and pushes
 * (notifications/hive/message) alike. The server's cursor dedupes the two: push and poll can overlap,
 * and a seq at or below the cursor was counted already.
 */
import type { AgentGraph } from '../graph/graph.js';
import { normalizeMessage } from '../graph/normalize.js';

export class MessageFeed {
  /** Newest message seq counted (null until the server reported one). */
  cursor: number | null = null;
  /** null until the first answer says whether the server has agent_messages. */
  works: boolean | null = null;

  constructor(private readonly graph: AgentGraph) {}

  ingest(list: readonly unknown[]): void {
    const now = Date.now();
    this.graph.batch(() => {
      for (const raw of list) {
        const m = normalizeMessage(raw, now);
        if (!m) {
          this.graph.countRejected('messages');
          continue;
        }
        if (m.seq !== null && this.cursor !== null && m.seq <= this.cursor) continue;
        this.graph.recordMessage(m);
        if (m.seq !== null) this.cursor = Math.max(this.cursor ?? 0, m.seq);
      }
    });
  }
}
