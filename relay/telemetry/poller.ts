/**
 * Polling the MCP server: the full poll (agent_list, swarm_list or swarm_status, agent_messages) every
 * config.mcp.pollMs while the server does not push, and only every PUSH_RECONCILE_MS (to catch drift)
 * once it does; between full polls, messages are polled unless they are pushed too. One poll at a time.
 */
import type { Logger } from 'pino';
import type { AgentGraph } from '../graph/graph.js';
import { agentArray, isObject, normalizeAgent, normalizeSwarm, swarmArray, toNumber, toStr } from '../graph/normalize.js';
import type { McpClient } from './client.js';
import type { MessageFeed } from './messageFeed.js';
import type { PushState } from './notifications.js';
import { ToolUnsupportedError, type ToolSupport } from './toolSupport.js';

/** With push on, the full poll only reconciles drift: at most this often. */
export const PUSH_RECONCILE_MS = 10_000;
/** Most agents, swarms and messages taken from one answer. */
const MAX_AGENTS_PER_POLL = 20_000;
const MAX_SWARMS_PER_POLL = 2_000;
const MAX_MESSAGES_PER_POLL = 5_000;

export class Poller {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private closed = false;
  /** null until swarm_list answered once (claude-flow's server lacks it: swarm_status instead). */
  private swarmListWorks: boolean | null = null;
  private lastFullPoll = 0;

  constructor(
    private readonly client: McpClient,
    private readonly graph: AgentGraph,
    private readonly messages: MessageFeed,
    private readonly push: PushState,
    private readonly pollMs: number,
    private readonly log: Logger,
    /** Told after each full poll (health may have changed). */
    private readonly onPolled: () => void,
    /** Tools this connection's server lacks or stubs are not called again until reset. */
    private readonly tools: ToolSupport,
    /** Which claude-flow (if any) the control plane found: its answers' scales differ. */
    private readonly backendKind: () => string | null = () => null,
  ) {}

  /** A new connection: forget what the last server supported and catch up on what changed meanwhile. */
  reset(): void {
    this.tools.reset();
    this.swarmListWorks = null;
    this.messages.works = null;
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delay: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, delay);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    if (this.closed) return;
    if (this.client.state === 'ready' && !this.polling) {
      const due = !this.push.agents || Date.now() - this.lastFullPoll >= PUSH_RECONCILE_MS;
      this.polling = true;
      try {
        if (due) await this.pollOnce();
        else if (!this.push.messages) await this.pollMessages();
      } catch (e) {
        this.log.debug({ err: String(e) }, 'poll failed');
      } finally {
        this.polling = false;
      }
    }
    this.schedule(this.pollMs);
  }

  /** One full poll: agents, swarms, messages. */
  private async pollOnce(): Promise<void> {
    const [agents, swarms] = await Promise.allSettled([
      this.tools.call(this.client, 'agent_list', {}),
      this.swarmListWorks === false ? Promise.resolve(null) : this.tools.call(this.client, 'swarm_list', {}),
    ]);
    if (agents.status === 'fulfilled') this.applyAgentList(agents.value);
    const list = swarms.status === 'fulfilled' ? swarmArray(swarms.value) : null;
    if (list) {
      this.swarmListWorks = true;
      this.graph.batch(() => {
        const listed = new Set<string>();
        for (const s of list.slice(0, MAX_SWARMS_PER_POLL)) {
          const p = normalizeSwarm(s);
          if (!p) continue;
          listed.add(p.id);
          this.graph.applySwarm(p);
        }
        this.graph.reconcileSwarms(listed);
      });
    } else {
      this.swarmListWorks = false;
      try {
        const p = normalizeSwarm(await this.tools.call(this.client, 'swarm_status', {}));
        if (p) this.graph.applySwarm(p);
      } catch {
        // swarm_status is optional telemetry; agent_list already ran.
      }
    }
    // Even with pushed messages, a full poll catches up on what was missed while disconnected (the cursor dedupes).
    await this.pollMessages();
    this.onPolled();
  }

  private applyAgentList(answer: unknown): void {
    const arr = agentArray(answer);
    if (!arr) {
      this.log.debug('agent_list answer has no agent array');
      return;
    }
    // claude-flow puts the swarm id once at the top, not on each agent.
    const top = isObject(answer) ? toStr(answer.swarmId ?? answer.swarm_id, 256) : undefined;
    const v3 = this.backendKind() === 'claude-flow-3';
    const patches = arr.slice(0, MAX_AGENTS_PER_POLL).map((raw) => normalizeAgent(v3 ? claudeFlow3Agent(raw) : raw));
    const good = patches.filter((p): p is NonNullable<typeof p> => p !== null);
    if (typeof top === 'string' && top) for (const p of good) if (p.swarmId === undefined) p.swarmId = top;
    for (const p of good) if (p.swarmId === 'mock-swarm') p.mock = true;
    this.graph.countRejected('agents', patches.length - good.length);
    this.graph.reconcileAgents(good, 'mcp', 'mcp');
    this.graph.markInitialSynced();
    this.lastFullPoll = Date.now();
    // An empty answer is still fresh telemetry (an idle engine is not a stale one).
    this.graph.touchTelemetry(this.lastFullPoll);
  }

  private async pollMessages(): Promise<void> {
    const feed = this.messages;
    if (feed.works === false) return;
    let payload: unknown;
    try {
      payload = await this.tools.call(this.client, 'agent_messages', feed.cursor === null ? { limit: 500 } : { since: feed.cursor, limit: 500 });
    } catch (e) {
      // Missing or a stub (3.x has no agent_messages; 2.7's is a stub): never asked again on this connection.
      if (e instanceof ToolUnsupportedError) feed.works = false;
      return;
    }
    if (!isObject(payload) || !Array.isArray(payload.messages)) {
      feed.works = false;
      return;
    }
    feed.works = true;
    const cursor = toNumber(payload.cursor);
    feed.ingest(payload.messages.slice(0, MAX_MESSAGES_PER_POLL));
    if (typeof cursor === 'number') feed.cursor = cursor;
  }
}

/** What 3.x prints for a hive worker nothing has touched (claude-flow-3.md section 3.3). */
const V3_WORKER_HEALTH = 1;

/**
 * One 3.x `agent_list` entry in the model's terms: health is 0..1 there (a percentage here), a hive
 * worker's health 1 is a constant nothing updates (unknown, not 100 %), and 3.x measures no per-agent
 * CPU or memory: those stay absent, so the graph shows them unknown, never 0.
 */
export function claudeFlow3Agent(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const rest: Record<string, unknown> = { ...raw };
  for (const k of ['health', 'cpu', 'cpuUsage', 'memory', 'memoryUsage']) delete rest[k];
  const health = raw.health;
  const hive = raw.domain === 'hive-mind';
  if (typeof health === 'number' && Number.isFinite(health) && health >= 0 && health <= 1 && !(hive && health === V3_WORKER_HEALTH)) rest.health = Math.round(health * 1000) / 10;
  return rest;
}
