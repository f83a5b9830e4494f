/**
 * Composition root: builds the fleet (one control plane and one telemetry per target, relay/fleet; one
 * target without HIVE_TARGETS) and the stream on one http.Server.
 * `startRelay` is what `npm start` runs (through relay/main.ts) and what integration tests and
 * benchmarks start in-process. Shutdown runs in reverse order and stops every child process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pino, { type Logger } from 'pino';
import type { RelayConfig } from './config.js';
import { createApp, originOk, tokenOk } from './http/server.js';
import { registerControlMetrics, type ControlPlane, type ControlPlaneDeps } from './control/index.js';
import { registerTelemetryMetrics, type Telemetry } from './telemetry/index.js';
import { Fleet, FleetControl, FleetTelemetry, registerFleetMetrics, type FleetOptions } from './fleet/index.js';
import { createStreamServer, registerStreamMetrics, type StreamServer } from './stream/index.js';
import { controlRoutes } from './http/controlRoutes.js';
import { telemetryRoutes } from './http/telemetryRoutes.js';
import { logRoutes } from './http/logRoutes.js';
import { sessionOutputRoutes, sessionOutputView } from './http/sessionOutputRoutes.js';
import { LogUnavailable } from './control/index.js';
import { ControlError } from './control/errors.js';
import type { StreamLogView } from './stream/index.js';
import { startDemoKeeper } from './demo.js';
import { routes } from '../shared/api.js';
import { createRelayRegistry } from './metrics.js';
import type { Health } from '../shared/model/health.js';

export interface RelayHandle {
  url: string;
  port: number;
  config: RelayConfig;
  server: http.Server;
  /** The first target's control plane (the only one without HIVE_TARGETS); throws while it is not made, or while a fleet of labelled containers alone has none. */
  readonly control: ControlPlane;
  /** The fleet's telemetry: every target's graph, ids stamped (and in fleet mode qualified) with its target. */
  telemetry: Telemetry;
  /** Every target's planes (relay/fleet). */
  fleet: Fleet;
  stream: StreamServer;
  health(): Health;
  close(): Promise<void>;
}

/** The narrow view the live log needs of the control: reads (each one exec), a change watch, the listed status. */
function logView(control: FleetControl): StreamLogView {
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
    watch: (uuid, path, onChange, onEnd) => control.watchLog(uuid, path, { onChange, onEnd }),
    sessionStatus: (uuid) => control.sessions().sessions.find((s) => s.uuid === uuid)?.status ?? null,
  };
}

/** Test and bench seams; production passes none. */
export interface RelayOverrides {
  /** Control-plane dependencies (a recording driver, a backend, timings). */
  control?: Partial<Omit<ControlPlaneDeps, 'config' | 'logger'>>;
  /** A fleet target's driver instead of its engine (relay/fleet FleetOptions.targetDriver). */
  targetDriver?: FleetOptions['targetDriver'];
  /** Label discovery's engine client instead of dockerode (relay/fleet FleetOptions.discovery). */
  discovery?: FleetOptions['discovery'];
}

export async function startRelay(config: RelayConfig, logger: Logger = pino({ level: config.logLevel }), overrides: RelayOverrides = {}): Promise<RelayHandle> {
  const startedAt = Date.now();
  // One control plane and one telemetry per target (docs/fleet.md); without HIVE_TARGETS, exactly one.
  const fleet = await Fleet.start(config, logger, { control: overrides.control, targetDriver: overrides.targetDriver, discovery: overrides.discovery });
  const telemetry = new FleetTelemetry(fleet);
  const control = new FleetControl(fleet, (e) => telemetry.emit('event', e));
  const primaryControl = (): ControlPlane => fleet.readyPrimary().control;

  let stream: StreamServer | null = null;
  const registry = createRelayRegistry(startedAt);
  // Each family once, with a `target` label; every target whose planes are made reports at each scrape
  // (one, `local`, without HIVE_TARGETS). Per-target health, whatever its state: relay/fleet/metrics.ts.
  registerControlMetrics(registry, fleet.execFamilies, () => fleet.ready().map((rt) => [rt.config.name, rt.control] as const));
  registerTelemetryMetrics(registry, () => fleet.ready().map((rt) => [rt.config.name, rt.telemetry] as const));
  registerFleetMetrics(registry, fleet);
  const health = (): Health => fleet.health(stream?.clientCount() ?? 0);

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
      telemetryRoutes(telemetry, { hideMock: config.hideMock, targets: () => [...fleet.targets.keys()] }),
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
    // `health` below is the fleet's; the stream needs no control view of its own.
    control: null,
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
  const lone = fleet.qualify ? null : (fleet.primary?.control ?? null);
  const stopDemo = config.demo && lone?.engine ? startDemoKeeper(lone, logger.child({ part: 'demo' })) : () => {};

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      stopDemo();
      await stream?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await telemetry.close();
      await fleet.close();
    })());

  return {
    url,
    port,
    config,
    server,
    get control() {
      return primaryControl();
    },
    telemetry,
    fleet,
    stream,
    health,
    close,
  };
}
