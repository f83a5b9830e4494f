/**
 * `hive-engine`: the long-lived simulated swarm engine and MCP server. Configuration from the
 * environment (parsed once here): HIVE_ROOT (/workspace; the session registry it writes for sessions `start` hands over),
 * MCP_HOST (127.0.0.1), MCP_TCP_PORT (upstream's name) or else MCP_PORT (9500; 0 picks a free port: several
 * kit containers share a host network on different ports), MCP_AUTH_TOKEN or
 * WS_AUTH_ENABLED=true + WS_AUTH_TOKEN, HIVE_SIM_SEED, HIVE_SIM_SPEED (1), TCP_MAX_CONNECTIONS (50),
 * TCP_CONNECTION_TIMEOUT (ms, 300000; 0 disables), HIVE_ORPHAN_GRACE_MS (15000), HIVE_PUSH_MS (50), HIVE_PUSH_AFTER_TICK (1; 0: timer only),
 * HIVE_ENGINE_CTL (1; 0: do not serve the session manager's create/list/status/get, see session-service.ts).
 * Prints one readiness line `hive-engine listening on <host>:<port>` to stdout.
 */
import { startEngine } from './engine.js';

function num(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`hive-engine: ${name} must be a number in ${min}..${max}`);
    process.exit(2);
  }
  return v;
}

function authToken(): string | null {
  const t = process.env.MCP_AUTH_TOKEN;
  if (t) return t;
  if (/^(1|true|yes)$/i.test(process.env.WS_AUTH_ENABLED ?? '') && process.env.WS_AUTH_TOKEN) return process.env.WS_AUTH_TOKEN;
  return null;
}

const engine = await startEngine({
  host: process.env.MCP_HOST || '127.0.0.1',
  port: num(process.env.MCP_TCP_PORT ? 'MCP_TCP_PORT' : 'MCP_PORT', 9500, 0, 65535),
  authToken: authToken(),
  seed: num('HIVE_SIM_SEED', Date.now() % 2 ** 31, 0, 2 ** 32 - 1),
  speed: num('HIVE_SIM_SPEED', 1, 0.001, 10_000),
  maxConnections: num('TCP_MAX_CONNECTIONS', 50, 1, 10_000),
  connectionTimeoutMs: num('TCP_CONNECTION_TIMEOUT', 300_000, 0, 2 ** 31 - 1),
  orphanGraceMs: num('HIVE_ORPHAN_GRACE_MS', 15_000, 0, 2 ** 31 - 1),
  pushMs: num('HIVE_PUSH_MS', 50, 1, 60_000),
  pushAfterTick: process.env.HIVE_PUSH_AFTER_TICK !== '0',
  // The session manager's default root: sessions handed over by `start` are recorded there.
  registryRoot: process.env.HIVE_ROOT || '/workspace',
  serveSessionManager: process.env.HIVE_ENGINE_CTL !== '0',
}).catch((e: Error) => {
  console.error(`hive-engine: cannot start: ${e.message}`);
  process.exit(1);
});

for (const uuid of engine.reaped) console.log(`hive-engine: session ${uuid} was running in a previous engine; marked interrupted`);
console.log(`hive-engine listening on ${engine.host}:${engine.port}`);

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  void engine.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
