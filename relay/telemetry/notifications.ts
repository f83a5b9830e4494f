/**
 * MCP push notifications into the graph: agent and swarm changes, messages between agents, and the
 * log, progress and client-message lines of the activity log. Seeing a push of a kind tells the poller
 * it may stop polling for that kind (PushState).
 */
import type { AgentGraph, GraphEvent } from '../graph/graph.js';
import { isObject, normalizeAgent, normalizeSwarm, toNumber, toStr } from '../graph/normalize.js';
import type { MessageFeed } from './messageFeed.js';

/** Which kinds the server pushed on the current connection (reset on every new connection). */
export interface PushState {
  agents: boolean;
  messages: boolean;
}

const MCP_LEVELS: Record<string, GraphEvent['level']> = {
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warning: 'warn',
  warn: 'warn',
  error: 'error',
  critical: 'error',
  alert: 'error',
  emergency: 'error',
};

/** Most agents (or removals) taken from one notification. */
const MAX_AGENTS_PER_PUSH = 20_000;

export class Notifications {
  constructor(
    private readonly graph: AgentGraph,
    private readonly messages: MessageFeed,
    private readonly push: PushState,
    /** Told when the population was pushed (health may have changed: push on). */
    private readonly onAgentsPushed: () => void,
  ) {}

  /** Applies one notification; `ignored` is called with methods this relay does not use. */
  handle(method: string, params: unknown, ignored: (method: string) => void): void {
    this.graph.touchTelemetry(Date.now());
    const p = isObject(params) ? params : {};
    const swarmId = toStr(p.swarmId ?? p.swarm_id, 256) ?? null;
    const sessionUuid = toStr(p.sessionId ?? p.session_id, 64) ?? null;
    const agentId = toStr(p.agentId ?? p.agent_id, 256) ?? null;
    switch (method) {
      case 'notifications/hive/agents':
        return this.agents(p, swarmId, sessionUuid);
      case 'notifications/hive/swarm': {
        const s = normalizeSwarm(p);
        if (s) this.graph.applySwarm(s);
        return;
      }
      case 'notifications/hive/message':
        this.push.messages = true;
        this.messages.ingest([p]);
        return;
      case 'notifications/message': {
        const data = p.data;
        const d = isObject(data) ? data : {};
        const text = typeof data === 'string' ? data : typeof d.text === 'string' ? d.text : JSON.stringify(data ?? null);
        this.graph.addEvent({
          time: Date.now(),
          kind: 'log',
          level: MCP_LEVELS[String(p.level)] ?? 'info',
          message: text.slice(0, 8192),
          agentId: toStr(d.agentId ?? d.agent_id, 256) ?? agentId,
          swarmId: toStr(d.swarmId ?? d.swarm_id, 256) ?? swarmId,
          sessionUuid: toStr(d.sessionId ?? d.session_id, 64) ?? sessionUuid,
          progress: null,
        });
        return;
      }
      case 'notifications/progress':
        return this.progress(p, agentId, swarmId, sessionUuid);
      case 'notification': {
        // Upstream agents' client messages.
        if (p.type !== 'client_message') return;
        const msg = p.message;
        this.graph.addEvent({
          time: toNumber(p.timestamp) ?? Date.now(),
          kind: 'message',
          level: 'info',
          message: (typeof msg === 'string' ? msg : JSON.stringify(msg ?? null)).slice(0, 8192),
          agentId,
          swarmId,
          sessionUuid,
          progress: null,
        });
        return;
      }
      default:
        ignored(method);
    }
  }

  private agents(p: Record<string, unknown>, swarmId: string | null, sessionUuid: string | null): void {
    this.push.agents = true;
    this.graph.batch(() => {
      const agents = Array.isArray(p.agents) ? p.agents.slice(0, MAX_AGENTS_PER_PUSH) : [];
      for (const raw of agents) {
        const patch = normalizeAgent(raw);
        if (!patch) {
          this.graph.countRejected('agents');
          continue;
        }
        if (patch.swarmId === undefined && swarmId) patch.swarmId = swarmId;
        if (patch.sessionUuid === undefined && sessionUuid) patch.sessionUuid = sessionUuid;
        this.graph.applyAgent(patch, 'mcp-push', 'mcp');
      }
      const removed = Array.isArray(p.removed) ? p.removed : [];
      for (const id of removed.slice(0, MAX_AGENTS_PER_PUSH)) if (typeof id === 'string') this.graph.removeAgent(id);
    });
    this.graph.markInitialSynced();
    this.onAgentsPushed();
  }

  private progress(p: Record<string, unknown>, agentId: string | null, swarmId: string | null, sessionUuid: string | null): void {
    const progress = toNumber(p.progress);
    const total = toNumber(p.total);
    let ratio: number | null = null;
    if (typeof progress === 'number') {
      if (typeof total === 'number' && total > 0) ratio = progress / total;
      else if (progress >= 0 && progress <= 1) ratio = progress;
    }
    if (ratio !== null) ratio = Math.min(1, Math.max(0, ratio));
    const token = toStr(p.progressToken, 256);
    this.graph.addEvent({
      time: Date.now(),
      kind: 'progress',
      level: 'info',
      message: (toStr(p.message, 8192) ?? `${token ?? 'task'}: ${ratio === null ? 'progress' : `${Math.round(ratio * 100)}%`}`) || 'progress',
      agentId,
      swarmId,
      sessionUuid,
      progress: ratio,
    });
  }
}
