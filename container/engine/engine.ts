/**
 * The hive engine host: one Simulation driven by a single timer loop, served by one McpTcpServer, with
 * simulation events turned into MCP push notifications. `startEngine` is what `hive-engine` (main.ts)
 * runs, and what the relay may call in-process for its embedded mode.
 */
import { McpTcpServer, type McpServerOptions } from './mcp-server.js';
import { Simulation, swarmTokens, type SimEvent } from './sim.js';
import { agentJson, swarmStatusJson } from './tools.js';

export interface EngineOptions extends Partial<McpServerOptions> {
  seed?: number;
  speed?: number;
  /** Real ms between simulation ticks (one timer for every swarm). */
  tickMs?: number;
  /** Real ms between pushes of changed agents (notifications/hive/agents). */
  pushMs?: number;
}

export interface RunningEngine {
  host: string;
  port: number;
  sim: Simulation;
  server: McpTcpServer;
  close(): Promise<void>;
}

export async function startEngine(opts: EngineOptions = {}): Promise<RunningEngine> {
  const sim = new Simulation({ seed: opts.seed ?? Date.now() % 2 ** 31, speed: opts.speed ?? 1 });
  const server = new McpTcpServer(sim, {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 9500,
    authToken: opts.authToken ?? null,
    ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
    ...(opts.maxLineBytes !== undefined ? { maxLineBytes: opts.maxLineBytes } : {}),
    ...(opts.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: opts.connectionTimeoutMs } : {}),
    ...(opts.orphanGraceMs !== undefined ? { orphanGraceMs: opts.orphanGraceMs } : {}),
  });
  sim.on((e) => pushEvent(server, e));
  const addr = await server.listen();

  const tickMs = opts.tickMs ?? 100;
  let last = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    // Long stalls (a suspended container) are not replayed as one huge jump.
    const elapsed = Math.min(t - last, tickMs * 10);
    last = t;
    sim.tick(elapsed);
  }, tickMs);
  const pusher = setInterval(() => flushAgents(sim, server), opts.pushMs ?? 500);

  return {
    host: addr.host,
    port: addr.port,
    sim,
    server,
    async close() {
      clearInterval(ticker);
      clearInterval(pusher);
      await server.close();
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

function flushAgents(sim: Simulation, server: McpTcpServer): void {
  if (!server.hasListeners) {
    // Nobody listens: forget the changes rather than let them pile up.
    sim.drainDirty(() => undefined);
    return;
  }
  sim.drainDirty((swarm, changed, removed) => {
    server.broadcast(
      'agents',
      'notifications/hive/agents',
      { swarmId: swarm.id, sessionId: swarm.sessionId, agents: changed.map(agentJson), removed },
      { swarmId: swarm.id, sessionId: swarm.sessionId },
    );
  });
}
