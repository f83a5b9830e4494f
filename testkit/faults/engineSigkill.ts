/**
 * Fault scenario a (issue 7): the embedded engine killed with SIGKILL under an in-process relay (local
 * driver). Browsers stay connected and are told (health `mcp-down`); the control plane restarts the
 * engine and telemetry reconnects.
 */
import { freePort } from '../ports.js';
import { holdsWithin } from '../wait.js';
import { inProcessRelay, scenario, stateDir, until, wsClient, type FaultResources } from './resources.js';

/** Issue 7: telemetry connected again within 5 s of the restarted engine listening. */
export const ENGINE_RECONNECT_LIMIT_MS = 5000;

export interface EngineSigkillFigures {
  /** Restarted engine listening -> the browser is told telemetry is connected again; null: not within reconnectWaitMs. */
  reconnectMs: number | null;
  /** SIGKILL -> the browser has a health message with `mcp-down`. */
  outageShownMs: number;
  /** SIGKILL -> the relay's MCP client reported itself not connected (the floor for outageShownMs); null: not seen. */
  outageNoticedMs: number | null;
  /** SIGKILL -> the control plane's restarted engine listening. */
  engineRestartMs: number;
  /** SIGKILL -> the browser is told telemetry is back; null when it was not. */
  outageTotalMs: number | null;
  /** Browser WebSockets closed during the outage (0 expected). */
  wsDisconnects: number;
  /** Browsers the relay still serves at the end (1 expected). */
  clientsAfter: number;
}

/**
 * The embedded engine killed with SIGKILL under an in-process relay (local driver): browsers stay
 * connected and are told (health `mcp-down`); the control plane restarts the engine and telemetry
 * reconnects. `reconnectWaitMs` bounds the wait after the engine listens (default 4x the limit,
 * so a miss is measured, not cut off).
 */
export function engineSigkill(opts: { resources?: FaultResources; reconnectWaitMs?: number } = {}): Promise<EngineSigkillFigures> {
  return scenario(opts.resources, async (res) => {
    const relay = await inProcessRelay(res, { HIVE_DRIVER: 'local', HIVE_STATE_DIR: stateDir(res), MCP_PORT: String(await freePort()), HIVE_DEMO: '0' });
    const engine = relay.control.engine;
    if (!engine) throw new Error('the local driver started no embedded engine');
    await engine.ready();
    await until(() => relay.telemetry.health().state === 'connected', 20_000, 'MCP connected at start');

    const c = await wsClient(res, `ws://127.0.0.1:${relay.port}/wss`);
    c.hello({ physicsScore: 1 });
    await c.waitFor((x) => x.of('health').some((m) => m.health.telemetry.state === 'connected'), 'healthy first');
    const pid = engine.pid!;
    let tNoticed: number | null = null;
    const onHealth = (h: { state: string }) => {
      if (h.state !== 'connected') tNoticed ??= Date.now();
    };
    relay.telemetry.on('health', onHealth);
    res.add(() => void relay.telemetry.off('health', onHealth));
    const tKill = Date.now();
    process.kill(pid, 'SIGKILL');

    const outageSeen = () => c.msgs.findIndex((m, i) => c.msgTimes[i]! >= tKill && m.type === 'health' && m.health.degraded.some((d) => d.code === 'mcp-down'));
    await until(() => outageSeen() >= 0, 10_000, 'health shows mcp-down');
    const tOutage = c.msgTimes[outageSeen()]!;

    await until(() => engine.pid !== null && engine.pid !== pid, 20_000, 'engine restarted by the control plane');
    await engine.ready();
    const tListening = Date.now();
    const back = () =>
      c.msgs.findIndex((m, i) => c.msgTimes[i]! >= tOutage && m.type === 'health' && m.health.telemetry.state === 'connected' && !m.health.degraded.some((d) => d.code === 'mcp-down'));
    const isBack = await holdsWithin(() => back() >= 0, opts.reconnectWaitMs ?? 4 * ENGINE_RECONNECT_LIMIT_MS);
    const tBack = isBack ? c.msgTimes[back()]! : null;
    return {
      reconnectMs: tBack === null ? null : Math.max(0, tBack - tListening),
      outageShownMs: tOutage - tKill,
      outageNoticedMs: tNoticed === null ? null : tNoticed - tKill,
      engineRestartMs: tListening - tKill,
      outageTotalMs: tBack === null ? null : tBack - tKill,
      wsDisconnects: c.closed === null ? 0 : 1,
      clientsAfter: relay.stream.clientCount(),
    };
  });
}

