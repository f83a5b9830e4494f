/**
 * Composition root: builds the control plane, the telemetry plane and the stream on one http.Server.
 * `startRelay` is what `npm start` runs (through relay/main.ts) and what integration tests and
 * benchmarks start in-process. Shutdown runs in reverse order and stops every child process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import express from 'express';
import pino, { type Logger } from 'pino';
import type { RelayConfig } from './config.js';
import { createApp, originOk, tokenOk } from './http/server.js';
import { createControlPlane, registerControlMetrics, type ControlPlane, type ControlPlaneDeps } from './control/index.js';
import { createTelemetry, openStdioMcp, registerTelemetryMetrics, type ControlView, type Telemetry } from './telemetry/index.js';
import { createStreamServer, registerStreamMetrics, type StreamServer } from './stream/index.js';
import { controlRoutes } from './http/controlRoutes.js';
import { telemetryRoutes } from './http/telemetryRoutes.js';
import { logRoutes } from './http/logRoutes.js';
import { sessionOutputRoutes, sessionOutputView } from './http/sessionOutputRoutes.js';
import { LogUnavailable } from './control/index.js';
import { ControlError } from './control/errors.js';
import type { StreamLogView } from './stream/index.js';
import { combineHealth, countActiveSessions } from './health.js';
import { startDemoKeeper } from './demo.js';
import { routes } from '../shared/api.js';
import { createRelayRegistry } from './metrics.js';
import type { Session } from '../shared/model/session.js';
import type { Health } from '../shared/model/health.js';

export interface RelayHandle {
  url: string;
  port: number;
  config: RelayConfig;
  server: http.Server;
  control: ControlPlane;
  telemetry: Telemetry;
  stream: StreamServer;
  health(): Health;
  close(): Promise<void>;
}

/** The narrow view telemetry needs of the control plane: sessions, and a plain Session per change. */
function controlView(control: ControlPlane): ControlView & { dispose(): void } {
  const bus = new EventEmitter();
  const offSession = control.on('session', (c: { session: Session; requestId?: string }) => bus.emit('session', c.session, { requestId: c.requestId }));
  const offAgents = control.on('agents', () => bus.emit('agents'));
  const backend = () => {
    const b = control.health().backendInfo;
    return b ? { kind: b.kind, version: b.version } : null;
  };
  // Health changes carry the backend: telemetry is told when its kind or version changed.
  let backendKey = JSON.stringify(backend());
  const offHealth = control.on('health', () => {
    const key = JSON.stringify(backend());
    if (key === backendKey) return;
    backendKey = key;
    bus.emit('backend');
  });
  const unsubscribe = () => {
    offSession();
    offAgents();
    offHealth();
  };
  return {
    sessions: () => control.sessions().sessions,
    execAgents: () => control.execAgents(),
    backend,
    on: (event: 'session' | 'agents' | 'backend', listener: (...args: never[]) => void) => bus.on(event, listener as (...a: unknown[]) => void),
    off: (event: 'session' | 'agents' | 'backend', listener: (...args: never[]) => void) => bus.off(event, listener as (...a: unknown[]) => void),
    dispose: unsubscribe,
  } as ControlView & { dispose(): void };
}

/** The narrow view the live log needs of the control plane: reads (each one exec) and the listed status. */
function logView(control: ControlPlane): StreamLogView {
  return {
    read: async (uuid, q) => {
      try {
        const { chunk, bytes } = await control.readLog(uuid, q);
        return { ok: true, chunk, bytes };
      } catch (err) {
        if (err instanceof LogUnavailable) return { ok: false, reason: err.reason, message: err.message, permanent: err.reason === 'no-log' };
        const gone = err instanceof ControlError && err.kind === 'session-not-found';
        return { ok: false, reason: null, message: err instanceof Error ? err.message : String(err), permanent: gone };
      }
    },
    sessionStatus: (uuid) => control.sessions().sessions.find((s) => s.uuid === uuid)?.status ?? null,
  };
}

/** Test and bench seams; production passes none. */
export interface RelayOverrides {
  /** Control-plane dependencies (a recording driver, a backend, timings). */
  control?: Partial<Omit<ControlPlaneDeps, 'config' | 'logger'>>;
}

export async function startRelay(config: RelayConfig, logger: Logger = pino({ level: config.logLevel }), overrides: RelayOverrides = {}): Promise<RelayHandle> {
  const startedAt = Date.now();
  const control = await createControlPlane({ config, logger, ...overrides.control });
  const view = controlView(control);
  const telemetry = createTelemetry({ config, logger: logger.child({ part: 'telemetry' }), control: view });

  // The control plane's MCP side (spawn-agent-hybrid method mcp, task submission) goes through the
  // telemetry connection, so there is one MCP connection per relay.
  control.setMcpTools({
    agentSpawn: async (a, ctx) => {
      const r = (await telemetry.callTool('agent_spawn', a, ctx)) as { agentId?: string; agent?: { id?: string }; message?: string } | null;
      return { agentId: r?.agentId ?? r?.agent?.id ?? null, message: r?.message ?? 'agent spawned through MCP' };
    },
    taskOrchestrate: async (a, ctx) => {
      const r = (await telemetry.callTool('task_orchestrate', a, ctx)) as { taskId?: string; message?: string } | null;
      return { taskId: r?.taskId ?? null, message: r?.message ?? 'task submitted through MCP' };
    },
  });

  // claude-flow 3.x's MCP has no TCP and sees a hive only in its directory: the control plane runs one
  // per running session over an exec stream, spoken to with telemetry's stdio client.
  control.setStdioMcp((open) => openStdioMcp({ open, logger: logger.child({ part: 'session-mcp' }), requestTimeoutMs: config.mcp.requestTimeoutMs }));

  let stream: StreamServer | null = null;
  const registry = createRelayRegistry(startedAt);
  registerControlMetrics(registry, control);
  registerTelemetryMetrics(registry, telemetry);
  const health = (): Health => {
    const c = control.health();
    return combineHealth(c, control.degraded(), telemetry.health(), stream?.clientCount() ?? 0, countActiveSessions(control.sessions().sessions));
  };

  const hybrid = express.Router();
  hybrid.get(routes.hybridStatus.path, (_req, res) => {
    res.json(health());
  });

  const app = createApp({
    config,
    logger,
    startedAt,
    status: () => health().status,
    routers: [
      controlRoutes(control, {
        performanceExtras: () => {
          const m = telemetry.metrics();
          return { mcpLatencyMs: { p50: m.latencyP50Ms, p95: m.latencyP95Ms, count: m.latencyCount }, mcpReconnects: m.reconnects, websocketClients: stream?.clientCount() ?? 0 };
        },
        logError: (err, status, req) => (req.log ?? logger).error({ err, status }, 'control route failed'),
      }),
      telemetryRoutes(telemetry, { hideMock: config.hideMock }),
      logRoutes(control, { logError: (err, status, req) => (req.log ?? logger).error({ err, status }, 'log route failed') }),
      sessionOutputRoutes(sessionOutputView(control, telemetry), { logError: (err, status, req) => (req.log ?? logger).error({ err, status }, 'session output route failed') }),
      hybrid,
    ],
    metrics: () => registry.metrics(),
    metricsContentType: registry.contentType,
  });

  const server = http.createServer(app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  stream = createStreamServer({
    config,
    logger: logger.child({ part: 'stream' }),
    telemetry,
    control,
    logs: logView(control),
    server,
    health,
    authorize: (req) => (!tokenOk(config, req) ? false : originOk(config, req) ? true : 403),
  });
  registerStreamMetrics(registry, stream);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  // Only the embedded hive gets a demo swarm; a real container's sessions are the user's own.
  const stopDemo = config.demo && control.engine ? startDemoKeeper(control, logger.child({ part: 'demo' })) : () => {};

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      stopDemo();
      await stream?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await telemetry.close();
      view.dispose();
      await control.close();
    })());

  return { url, port, config, server, control, telemetry, stream, health, close };
}
