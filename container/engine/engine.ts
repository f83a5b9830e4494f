/**
 * The hive engine host: one Simulation driven by a single timer loop, served by one McpTcpServer, with
 * simulation events turned into MCP push notifications. `startEngine` is what `hive-engine` (main.ts)
 * runs, and what the relay may call in-process for its embedded mode.
 */
import { McpTcpServer, type McpServerOptions } from './mcp-server.js';
import { Simulation, swarmTokens, type SimAgent, type SimEvent, type SimSwarm } from './sim.js';
import { RegistrySink } from './registry-sink.js';
import { OutputSink } from './output-sink.js';
import { LogSink } from './log-sink.js';
import { listenControl, SessionService, type ControlListener } from './session-service.js';
import { agentJson, swarmStatusJson } from './tools.js';

export interface EngineOptions extends Partial<McpServerOptions> {
  seed?: number;
  speed?: number;
  /** Real ms between simulation ticks (one timer for every swarm). */
  tickMs?: number;
  /**
   * Real ms between flushes of agents changed outside a tick (notifications/hive/agents); default 50.
   * Agents changed by a tick are flushed right after it. Changes are coalesced per flush (one
   * notification per swarm carrying each changed agent once). When a flush itself is slow (thousands of
   * swarms) the next one waits as long as it took (at most 250 ms).
   */
  pushMs?: number;
  /** Flush agents changed by a tick right after it (default true; false: only the pushMs timer). */
  pushAfterTick?: boolean;
  /**
   * HIVE_ROOT whose session registry this engine writes for sessions handed to it (`session_run` with
   * detach); null: none (detached runs are refused). At start, its simulated sessions still marked
   * active are set `interrupted` (they belonged to a previous engine).
   */
  registryRoot?: string | null;
  /**
   * Serve the session manager's hot commands (create, list, status, get) on a loopback port published in
   * `<registryRoot>/.swarm/engine.ctl` (session-service.ts); needs registryRoot. hive-engine: on unless
   * HIVE_ENGINE_CTL=0. Default false for in-process engines.
   */
  serveSessionManager?: boolean;
}

export interface RunningEngine {
  host: string;
  port: number;
  sim: Simulation;
  server: McpTcpServer;
  registry: RegistrySink | null;
  /** The session manager's control port (serveSessionManager), else null. */
  control: ControlListener | null;
  /** Sessions marked interrupted at start (see registryRoot). */
  reaped: string[];
  /** Writes sessions' result files (with registryRoot), else null. */
  outputs: OutputSink | null;
  close(): Promise<void>;
}

export async function startEngine(opts: EngineOptions = {}): Promise<RunningEngine> {
  const sim = new Simulation({ seed: opts.seed ?? Date.now() % 2 ** 31, speed: opts.speed ?? 1 });
  const registry = opts.registryRoot ? new RegistrySink(opts.registryRoot) : null;
  const reaped = registry ? registry.reapOnStart() : [];
  // Sessions the registry knows get their results written to their output directories.
  const outputs = registry ? new OutputSink(registry.paths.outputRoot) : null;
  // And their swarms' log lines to the session's log file.
  const logs = registry ? new LogSink(registry.paths.logDir) : null;
  const server = new McpTcpServer(sim, {
    registry,
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 9500,
    authToken: opts.authToken ?? null,
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}),
    ...(opts.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: opts.connectionTimeoutMs } : {}),
    ...(opts.orphanGraceMs !== undefined ? { orphanGraceMs: opts.orphanGraceMs } : {}),
  });
  // Set while the simulation ticks: changes made then are flushed right after the tick anyway.
  let ticking = false;
  let soon: NodeJS.Immediate | null = null;
  sim.on((e) => {
    if (registry && e.type === 'swarm') registry.onSwarm(e.swarm);
    if (outputs && (e.type === 'progress' || e.type === 'swarm')) outputs.onEvent(e);
    if (logs && (e.type === 'log' || e.type === 'swarm')) logs.onEvent(e);
    pushEvent(server, e);
    // A swarm-level change between ticks (agent_spawn, a swarm created, paused or stopped) is what a
    // person waits to see: flush its agents on the next turn of the event loop instead of the pushMs
    // timer (which added up to 50 ms to a spawn's latency). Coalesced: one flush per burst. Off with
    // pushAfterTick=false, which keeps the old timer-only behaviour for comparison.
    if (e.type === 'swarm' && pushAfterTick && !ticking && soon === null) {
      soon = setImmediate(() => {
        soon = null;
        flush();
      });
    }
  });
  const addr = await server.listen();

  // Agent pushes: the simulation changes agents on its tick, so changed agents are flushed right after
  // each tick (no added wait), and a pushMs timer flushes changes made between ticks (agent_spawn,
  // task_orchestrate). Each flush sends one notification per swarm with each changed agent once, so a
  // burst coalesces; an agent whose only change is metric drift (cpu, memory, tokens) is held back and
  // pushed every DRIFT_MS (agentFlusher), so agents busy on every tick cost what they did with a 500 ms flush. Bounded: after a flush that took `took` ms, the next waits at least min(250, took),
  // so pushing never takes more than half the engine's time even when serialising is slow.
  const pushMs = opts.pushMs ?? 50;
  const pushAfterTick = opts.pushAfterTick ?? true;
  let nextFlushAt = 0;
  const flushAgents = agentFlusher(sim, server);
  const flush = (): void => {
    const t0 = performance.now();
    if (t0 < nextFlushAt) return;
    flushAgents();
    const took = performance.now() - t0;
    nextFlushAt = t0 + took + Math.min(250, took);
  };
  const pusher = setInterval(flush, pushMs);

  const tickMs = opts.tickMs ?? 100;
  let last = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    // Long stalls (a suspended container) are not replayed as one huge jump.
    const elapsed = Math.min(t - last, tickMs * 10);
    last = t;
    ticking = true;
    try {
      sim.tick(elapsed);
    } finally {
      ticking = false;
    }
    if (pushAfterTick) flush();
  }, tickMs);

  const control = registry && opts.serveSessionManager ? await listenControl(new SessionService(registry.paths, sim, registry), registry.paths) : null;

  return {
    host: addr.host,
    port: addr.port,
    sim,
    server,
    registry,
    control,
    reaped,
    outputs,
    async close() {
      clearInterval(ticker);
      clearInterval(pusher);
      if (soon) clearImmediate(soon);
      await control?.close();
      await server.close();
      await outputs?.idle();
      logs?.close();
      registry?.close();
    },
  };
}

function scope(e: { swarm: { id: string; sessionId: string | null } }): { swarmId: string; sessionId: string | null } {
  return { swarmId: e.swarm.id, sessionId: e.swarm.sessionId };
}

function pushEvent(server: McpTcpServer, e: SimEvent): void {
  if (!server.hasListeners) return;
  switch (e.type) {
    case 'log':
      server.broadcast(
        'log',
        'notifications/message',
        { level: e.level, logger: 'hive-engine', data: { text: e.text, swarmId: e.swarm.id, sessionId: e.swarm.sessionId, agentId: e.agentId } },
        scope(e),
      );
      break;
    case 'progress': {
      const t = e.task;
      const pct = t.status === 'completed' ? 100 : Math.min(99, Math.floor((t.elapsed / t.duration) * 100));
      server.broadcast(
        'progress',
        'notifications/progress',
        {
          progressToken: t.id,
          progress: pct,
          total: 100,
          message: `${t.status}: ${t.description.slice(0, 200)}`,
          swarmId: e.swarm.id,
          sessionId: e.swarm.sessionId,
          agentId: e.agentId,
        },
        scope(e),
      );
      break;
    }
    case 'swarm': {
      const s = e.swarm;
      server.broadcast('swarm', 'notifications/hive/swarm', { ...swarmStatusJson(s), tokens: Math.floor(swarmTokens(s)) }, scope(e));
      if (s.status === 'completed' || s.status === 'failed') {
        // Upstream-style client message, so clients exercise both notification shapes.
        server.broadcast(
          'client_message',
          'notification',
          { type: 'client_message', message: `Swarm ${s.id} ${s.status}`, timestamp: new Date().toISOString(), session_id: s.sessionId, agent_id: s.queenId },
          scope(e),
        );
      }
      break;
    }
    case 'message':
      server.broadcast('message', 'notifications/hive/message', { ...e.message }, scope(e));
      break;
  }
}

/** What was last pushed of an agent's significant fields (status, task, task counts). */
interface Pushed {
  status: string;
  task: string | null;
  active: number;
  completed: number;
  failed: number;
}

/** Metric-only drift (cpu, memory, tokens) of an agent is pushed every DRIFT_MS; significant changes at once. */
const DRIFT_MS = 500;

/**
 * Builds the agent flusher. Agents whose significant fields changed (or that are new) go out in this
 * flush; the others are held in `deferred` and go out together every DRIFT_MS, so agents that drift on
 * every tick cost what they did with the old 500 ms flush while status changes arrive within a tick.
 */
function agentFlusher(sim: Simulation, server: McpTcpServer): () => void {
  const pushed = new WeakMap<SimAgent, Pushed>();
  const deferred = new Map<SimSwarm, Set<SimAgent>>();
  let nextDriftAt = 0;
  const record = (a: SimAgent): void => {
    const p = pushed.get(a);
    if (p) {
      p.status = a.status;
      p.task = a.currentTask;
      p.active = a.tasksActive;
      p.completed = a.tasksCompleted;
      p.failed = a.tasksFailed;
    } else pushed.set(a, { status: a.status, task: a.currentTask, active: a.tasksActive, completed: a.tasksCompleted, failed: a.tasksFailed });
  };
  return () => {
    if (!server.hasListeners) {
      // Nobody listens: forget the changes rather than let them pile up.
      sim.drainDirty(() => undefined);
      deferred.clear();
      return;
    }
    const now = performance.now();
    const out = new Map<SimSwarm, { agents: SimAgent[]; removed: string[] }>();
    sim.drainDirty((swarm, changed, removed) => {
      const agents: SimAgent[] = [];
      for (const a of changed) {
        const p = pushed.get(a);
        if (p && p.status === a.status && p.task === a.currentTask && p.active === a.tasksActive && p.completed === a.tasksCompleted && p.failed === a.tasksFailed) {
          let set = deferred.get(swarm);
          if (!set) deferred.set(swarm, (set = new Set()));
          set.add(a);
        } else {
          agents.push(a);
          record(a);
        }
      }
      if (agents.length > 0 || removed.length > 0) out.set(swarm, { agents, removed });
    });
    if (now >= nextDriftAt) {
      nextDriftAt = now + DRIFT_MS;
      for (const [swarm, set] of deferred) {
        if (sim.swarms.get(swarm.id) !== swarm) continue; // pruned meanwhile
        let entry = out.get(swarm);
        if (!entry) out.set(swarm, (entry = { agents: [], removed: [] }));
        for (const a of set) {
          if (entry.agents.includes(a) || !swarm.agents.includes(a)) continue; // sent above, or gone
          entry.agents.push(a);
          record(a);
        }
      }
      deferred.clear();
    }
    for (const [swarm, { agents, removed }] of out) {
      if (agents.length === 0 && removed.length === 0) continue;
      server.broadcast(
        'agents',
        'notifications/hive/agents',
        { swarmId: swarm.id, sessionId: swarm.sessionId, agents: agents.map(agentJson), removed },
        { swarmId: swarm.id, sessionId: swarm.sessionId },
      );
    }
  };
}
