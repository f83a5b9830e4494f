/**
 * The control commands the HTTP routes (and the demo keeper and restore) call: spawn, stop, pause,
 * resume, spawn-agent-hybrid, task submission, get, list, swarm metrics, cleanup and reap. Each checks its
 * ids before anything reaches an argv and takes the request's context as its LAST, optional parameter:
 * its execs (and their retries) are logged with that request's reqId, and the events it leads to carry
 * the request's id.
 */
import type { RequestContext } from '../context.js';
import type { InitializeSwarmBody } from '../../shared/api.js';
import { SESSION_UUID_PATTERN } from '../../shared/api.js';
import type { Session, SessionStatus, SwarmConfig, Priority } from '../../shared/model/session.js';
import { SESSION_STATUSES, TERMINAL_SESSION_STATUSES } from '../../shared/model/session.js';
import { ControlError, asControlError, readOnlyError } from './errors.js';
import type { RateLimiter } from './resilience.js';
import type { StateStore } from './stateStore.js';
import type { SpawnRequest } from './backends/types.js';
import type { HiveMetrics } from './parsers.js';
import type { BackendSlot } from './backendDetect.js';
import type { SessionCache } from './sessionCache.js';
import type { PlaneEvents } from './planeEvents.js';
import { hasSessionMcpOps } from './backends/claudeFlow3.js';
import type { Backend } from './backends/types.js';

/**
 * claude-flow 2.7's MCP server keeps its own store and never sees hive-mind swarms (claude-flow-2.7.md,
 * "MCP server"): an agent or task sent there would "succeed" without reaching the session.
 */
function mcpMissesSwarms(b: Backend | null): boolean {
  return b?.describe?.().kind === 'claude-flow-2';
}
const V27_NO_MCP = "claude-flow 2.7's MCP server never sees hive-mind swarms (its store is separate), so nothing sent there would reach this session";

/** Hooks the telemetry plane provides for the MCP side of spawn-agent-hybrid and task submission. */
export interface McpTools {
  agentSpawn(a: { type: string; name?: string; swarmId: string }, ctx?: RequestContext): Promise<{ agentId: string | null; message?: string }>;
  taskOrchestrate(a: { task: string; priority: Priority; swarmId: string }, ctx?: RequestContext): Promise<{ taskId: string | null; message?: string }>;
}

export interface SpawnOptions {
  /** The session this one re-spawns after a container restart. */
  replaces?: string | null;
  /** Count against SPAWN_RATE_PER_MIN (default true; restore and the demo keeper pass false). */
  rateLimit?: boolean;
}

export interface SpawnAgentBody {
  agentType: string;
  swarmId?: string;
  sessionUuid?: string;
  method: 'docker' | 'mcp' | 'hybrid';
  name?: string;
}

export interface CommandDeps {
  /** False with HIVE_DRIVER=none: every writing command answers read-only. */
  writable: boolean;
  limiter: RateLimiter;
  backend: BackendSlot;
  cache: SessionCache;
  store: StateStore;
  events: PlaneEvents;
  mcpTools(): McpTools | null;
  cleanupMaxAgeHours: number;
}

export function assertUuid(uuid: string): void {
  if (typeof uuid !== 'string' || !SESSION_UUID_PATTERN.test(uuid)) throw new ControlError('bad-request', 'not a session uuid');
}

export class ControlCommands {
  constructor(private readonly d: CommandDeps) {}

  private assertWritable(): void {
    if (!this.d.writable) throw readOnlyError();
  }

  /** The list, re-read with one exec when the cache is older than listTtlMs; the stale cache when that fails. */
  async listSessions(ctx?: RequestContext): Promise<{ sessions: Session[]; stale: boolean }> {
    if (this.d.writable && this.d.cache.expired) await this.d.cache.refresh(ctx).catch(() => undefined);
    return this.d.cache.sessions();
  }

  async getSession(uuid: string, ctx?: RequestContext): Promise<Session> {
    assertUuid(uuid);
    const { cache } = this.d;
    if (!this.d.writable) {
      const s = cache.get(uuid);
      if (!s) throw new ControlError('session-not-found', `no session ${uuid}`);
      return s;
    }
    const b = await this.d.backend.require(ctx);
    try {
      const s = cache.merge(await b.get(uuid, ctx));
      cache.upsert(s, ctx?.requestId);
      return s;
    } catch (err) {
      const ce = asControlError(err);
      if (ce.kind === 'session-not-found') {
        const cached = cache.get(uuid);
        // Between `create` answering and the registry listing it, the relay already knows the session.
        if (cached?.status === 'spawning') return cached;
      }
      throw ce;
    }
  }

  /** Spawns a swarm: `create` (answered at once with the uuid), then `start` detached. */
  async spawnSwarm(body: InitializeSwarmBody, o: SpawnOptions = {}, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus; swarmId: null }> {
    this.assertWritable();
    if (o.rateLimit !== false) this.d.limiter.take();
    const { cache, events } = this.d;
    const b = await this.d.backend.require(ctx);
    const config: SwarmConfig = {
      topology: body.topology,
      maxAgents: body.maxAgents,
      strategy: body.strategy,
      priority: body.priority,
      enableNeural: body.enableNeural,
      agentTypes: body.agentTypes,
    };
    const req: SpawnRequest = { task: body.customPrompt, config, replaces: o.replaces ?? null };
    const uuid = await b.create(req, ctx);
    const now = Date.now();
    const session: Session = {
      uuid,
      swarmId: null,
      task: req.task,
      priority: config.priority === 'critical' ? 'high' : config.priority,
      status: 'spawning',
      createdAt: now,
      updatedAt: now,
      lastActivity: now,
      config,
      backend: b.name,
      progress: null,
      agentCount: null,
      replaces: req.replaces,
    };
    const requestId = ctx?.requestId;
    cache.awaitSwarmId(uuid, now, requestId);
    cache.upsert(session, requestId);
    this.d.store.update(uuid, { swarmId: null }, b.name);
    events.activity('spawn', 'info', `spawning swarm for session ${uuid}${req.replaces ? ` (replaces ${req.replaces})` : ''}`, { sessionUuid: uuid, requestId });
    b.start(uuid, req, ctx).then(
      () => cache.scheduleDiscovery(true),
      (err: unknown) => {
        const ce = asControlError(err);
        cache.forget(uuid);
        const cur = cache.get(uuid);
        if (cur) cache.upsert({ ...cur, status: 'failed', updatedAt: Date.now() }, requestId);
        events.activity('error', 'error', `session ${uuid} failed to start: ${ce.message}`, { sessionUuid: uuid, requestId });
      },
    );
    return { uuid, status: 'spawning', swarmId: null };
  }

  stopSession(uuid: string, ctx?: RequestContext) {
    return this.action(uuid, 'stop', ctx);
  }
  pauseSession(uuid: string, ctx?: RequestContext) {
    return this.action(uuid, 'pause', ctx);
  }
  resumeSession(uuid: string, ctx?: RequestContext) {
    return this.action(uuid, 'resume', ctx);
  }

  private async action(uuid: string, verb: 'stop' | 'pause' | 'resume', ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    assertUuid(uuid);
    this.assertWritable();
    const { cache } = this.d;
    const b = await this.d.backend.require(ctx);
    const status = await b[verb](uuid, ctx);
    cache.forget(uuid);
    const cur = cache.get(uuid);
    if (cur) cache.upsert({ ...cur, status, updatedAt: Date.now() }, ctx?.requestId);
    this.d.events.activity('status', 'info', `session ${uuid} ${status}`, { sessionUuid: uuid, swarmId: cur?.swarmId ?? null, requestId: ctx?.requestId });
    void cache.refresh(ctx).catch(() => undefined);
    return { uuid, status };
  }

  /** spawn-agent-hybrid: MCP agent_spawn into a running swarm, or a new one-agent swarm through exec. */
  async spawnAgent(
    body: SpawnAgentBody,
    ctx?: RequestContext,
  ): Promise<{ success: boolean; methodUsed: 'docker' | 'mcp'; agentId: string | null; swarmId: string | null; message: string }> {
    let swarmId = body.swarmId ?? null;
    if (!swarmId && body.sessionUuid) swarmId = (await this.getSession(body.sessionUuid, ctx)).swarmId;
    const backend = body.method === 'docker' ? null : this.d.backend.current;
    if (body.method !== 'docker' && hasSessionMcpOps(backend)) {
      // claude-flow 3.x: through the MCP server in the session's own directory (the one its hive lives in).
      this.assertWritable();
      const uuid = body.sessionUuid ?? (swarmId ? this.d.cache.sessions().sessions.find((s) => s.swarmId === swarmId)?.uuid : undefined);
      if (uuid) {
        try {
          const r = await backend.spawnAgentIn(uuid, body.agentType, ctx);
          this.d.events.emit('agents');
          this.d.events.activity('spawn', 'info', `agent ${body.agentType} spawned in session ${uuid} via its MCP`, { sessionUuid: uuid, swarmId, requestId: ctx?.requestId });
          return { success: true, methodUsed: 'mcp', agentId: r.agentId, swarmId, message: r.message };
        } catch (err) {
          if (body.method === 'mcp' || asControlError(err).kind !== 'mcp-unavailable') throw err;
        }
      } else if (body.method === 'mcp') {
        throw new ControlError('bad-request', `claude-flow 3.x spawns an agent into a session through that session's MCP: give sessionUuid${swarmId ? ` (no session has swarm ${swarmId})` : ''}, or use method docker for a new one-agent session`);
      }
    } else if (body.method !== 'docker' && mcpMissesSwarms(backend)) {
      if (body.method === 'mcp') throw new ControlError('unsupported', `cannot spawn an agent through MCP: ${V27_NO_MCP}; use method docker for a new one-agent session`);
    } else if (body.method !== 'docker') {
      const tools = this.d.mcpTools();
      const why = !tools ? 'the MCP telemetry connection is not available' : !swarmId ? 'no swarm id given (or the session has none yet)' : null;
      if (why === null) {
        try {
          const r = await tools!.agentSpawn({ type: body.agentType, ...(body.name ? { name: body.name } : {}), swarmId: swarmId! }, ctx);
          this.d.events.activity('spawn', 'info', `agent ${body.agentType} spawned in ${swarmId} via MCP`, { sessionUuid: body.sessionUuid ?? null, swarmId, requestId: ctx?.requestId });
          return { success: true, methodUsed: 'mcp', agentId: r.agentId, swarmId, message: r.message ?? `spawned ${body.agentType} in ${swarmId}` };
        } catch (err) {
          if (body.method === 'mcp') throw new ControlError('mcp-unavailable', `MCP agent_spawn failed: ${(err as Error).message}`);
        }
      } else if (body.method === 'mcp') {
        throw new ControlError(tools ? 'bad-request' : 'mcp-unavailable', `cannot spawn through MCP: ${why}`);
      }
    }
    const label = body.name ? ` named ${body.name.replace(/[\u0000-\u001f]/g, ' ')}` : '';
    const r = await this.spawnSwarm(
      { topology: 'star', maxAgents: 3, strategy: 'adaptive', priority: 'medium', enableNeural: true, agentTypes: [body.agentType], customPrompt: `Run a ${body.agentType} agent${label}` },
      {},
      ctx,
    );
    return { success: true, methodUsed: 'docker', agentId: null, swarmId: null, message: `session ${r.uuid} is spawning; its swarm id follows as a session event` };
  }

  async submitTask(uuid: string, body: { task: string; priority: Priority }, ctx?: RequestContext): Promise<{ accepted: boolean; taskId: string | null; message: string }> {
    assertUuid(uuid);
    this.assertWritable();
    const s = await this.getSession(uuid, ctx);
    if (TERMINAL_SESSION_STATUSES.includes(s.status)) throw new ControlError('conflict', `session ${uuid} is ${s.status}`);
    if (!s.swarmId) throw new ControlError('conflict', `session ${uuid} has no swarm id yet; try again when it is running`);
    const b = await this.d.backend.require(ctx);
    if (hasSessionMcpOps(b)) {
      // claude-flow 3.x has no task_orchestrate: task_create in the session's directory (pending until assigned).
      const r = await b.createTaskIn(uuid, { description: body.task, priority: body.priority }, ctx);
      this.d.events.activity('task-start', 'info', `task ${r.taskId} created in session ${uuid}`, { sessionUuid: uuid, swarmId: s.swarmId, requestId: ctx?.requestId });
      return { accepted: true, taskId: r.taskId, message: r.message };
    }
    if (mcpMissesSwarms(b)) throw new ControlError('unsupported', `claude-flow 2.7 cannot take a task for a running session: ${V27_NO_MCP}, and its hive-mind CLI has no task command`);
    const tools = this.d.mcpTools();
    if (!tools) throw new ControlError('mcp-unavailable', 'tasks go to the swarm through MCP, which is not connected');
    const r = await tools.taskOrchestrate({ task: body.task, priority: body.priority, swarmId: s.swarmId }, ctx);
    this.d.events.activity('task-start', 'info', `task submitted to ${s.swarmId}`, { sessionUuid: uuid, swarmId: s.swarmId, requestId: ctx?.requestId });
    return { accepted: true, taskId: r.taskId, message: r.message ?? 'task accepted' };
  }

  /**
   * Swarm-level figures: sessions by status and known agents from the registry; claude-flow's own
   * `hive-mind metrics` when that is the backend. Unknown stays null.
   */
  async swarmMetrics(ctx?: RequestContext): Promise<{ backend: string; sessionsByStatus: Record<SessionStatus, number>; agents: number | null; claudeFlow: HiveMetrics | null }> {
    const { sessions } = await this.listSessions(ctx);
    const byStatus = Object.fromEntries(SESSION_STATUSES.map((s) => [s, 0])) as Record<SessionStatus, number>;
    let agents: number | null = null;
    for (const s of sessions) {
      byStatus[s.status]++;
      if (s.agentCount !== null && !TERMINAL_SESSION_STATUSES.includes(s.status)) agents = (agents ?? 0) + s.agentCount;
    }
    const b = this.d.backend.current;
    const claudeFlow = b?.metrics ? await b.metrics(ctx).catch(() => null) : null;
    return { backend: this.d.backend.name, sessionsByStatus: byStatus, agents, claudeFlow };
  }

  /** Removes finished sessions older than the age (session manager `cleanup`). */
  async cleanup(maxAgeHours = this.d.cleanupMaxAgeHours, ctx?: RequestContext): Promise<number | null> {
    this.assertWritable();
    const n = await (await this.d.backend.require(ctx)).cleanup(maxAgeHours, ctx);
    await this.d.cache.refresh(ctx).catch(() => undefined);
    return n;
  }

  /** Marks sessions whose process is gone as interrupted. */
  async reap(ctx?: RequestContext): Promise<string[]> {
    if (!this.d.writable) return [];
    const uuids = await (await this.d.backend.require(ctx)).reap(ctx);
    for (const u of uuids) this.d.events.activity('status', 'warn', `session ${u} had no live process: marked interrupted`, { sessionUuid: u, swarmId: this.d.cache.get(u)?.swarmId ?? null, requestId: ctx?.requestId });
    if (uuids.length > 0) await this.d.cache.refresh(ctx).catch(() => undefined);
    return uuids;
  }
}
