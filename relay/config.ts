/**
 * Relay configuration: parsed once from the environment at start, then passed down as one object.
 * Each field says what it means and ends with its default. Invalid values stop the relay with a
 * message naming the variable, rather than running half-configured.
 */
import { z } from 'zod';
import path from 'node:path';
import { CONTAINER_NAME_RE, DEFAULT_TARGET_NAME, TARGET_NAME_RE, TargetsError, modemDebugRefusal, parseTargets, singleTarget, type TargetConfig } from './targets.js';

const bool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : ['1', 'true', 'yes', 'on'].includes(v)));
const int = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer in ${min}..${max}` });
        return z.NEVER;
      }
      return n;
    });
const str = (def: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? def : v));
const optStr = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? null : v));

const EnvSchema = z.object({
  HOST: str('127.0.0.1'),
  PORT: int(3000, 0, 65535),
  RELAY_TOKEN: optStr,
  ALLOWED_ORIGINS: optStr,
  HIVE_DRIVER: z.enum(['auto', 'docker', 'local', 'none']).optional().default('auto'),
  HIVE_CONTAINER: str('multi-agent-container').pipe(z.string().regex(CONTAINER_NAME_RE, 'not a container name')),
  HIVE_TARGETS: optStr,
  HIVE_DISCOVER: z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', '']).optional(),
  HIVE_STALE_TTL: int(3600, 0, 30 * 24 * 3600),
  HIVE_ENGINE_EXECS: int(16, 1, 1024),
  HIVE_TARGET_NAME: str(DEFAULT_TARGET_NAME).pipe(z.string().regex(TARGET_NAME_RE, 'must be 1-32 of a-z, 0-9 and "-", not starting or ending with "-"')),
  DOCKER_CERT_PATH: optStr,
  HIVE_RESTORE: bool(true),
  HIVE_STATE_DIR: str('.hivescope'),
  HIVE_EMBEDDED: bool(true),
  HIVE_DEMO: bool(true),
  MCP_HOST: str('127.0.0.1'),
  MCP_PORT: int(9500, 1, 65535),
  MCP_AUTH_TOKEN: optStr,
  MCP_POLL_MS: int(1000, 100, 60_000),
  MCP_METRICS_HZ: int(4, 1, 10),
  MCP_REQUEST_TIMEOUT_MS: int(10_000, 100, 120_000),
  EXEC_TIMEOUT_MS: int(15_000, 100, 600_000),
  EXEC_MAX_OUTPUT_BYTES: int(4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
  SPAWN_RATE_PER_MIN: int(60, 1, 100_000),
  POSITION_HZ: int(20, 1, 60),
  SETTLED_HZ: int(1, 1, 10),
  DELTA_HZ: int(10, 1, 60),
  HIDE_MOCK: bool(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
  STATIC_DIR: str('build/client'),
});

export interface RelayConfig {
  /** Address the HTTP server binds. Anything but loopback requires `token`. Default `127.0.0.1` (HOST). */
  host: string;
  /** TCP port; 0 picks a free one. Default 3000 (PORT). */
  port: number;
  /** Bearer token for every HTTP call and WebSocket upgrade when set. Default none (RELAY_TOKEN). */
  token: string | null;
  /** Extra origins allowed to open the WebSocket, besides the relay's own. Default none (ALLOWED_ORIGINS, comma list). */
  allowedOrigins: string[];
  /** Control-plane driver: docker when the container runs, local child processes, or none (read-only). Default auto (HIVE_DRIVER). */
  driver: 'auto' | 'docker' | 'local' | 'none';
  /**
   * Container to exec into; only ever taken from configuration. With HIVE_TARGETS, the first target's
   * (HIVE_CONTAINER must then be unset); null with `HIVE_TARGETS=[]` (no configured target: labelled
   * containers are the fleet, each target's plane gets its own through configForTarget).
   * Default multi-agent-container (HIVE_CONTAINER).
   */
  container: string | null;
  /**
   * The swarm containers this relay drives, each on its Docker engine (relay/targets.ts, docs/fleet.md).
   * HIVE_TARGETS: a JSON array `[{ name, docker?, container, mcp?, tls?, ssh? }]` inline or `@path` to a
   * file. Each gets its own control plane and telemetry (relay/fleet). Default: one target named
   * HIVE_TARGET_NAME (`local`) on the environment's engine (DOCKER_HOST) with HIVE_CONTAINER and MCP_HOST:MCP_PORT.
   * Empty with `HIVE_TARGETS=[]` and discovery on: the containers labelled on the environment's engine are the fleet.
   */
  targets: TargetConfig[];
  /**
   * Label discovery (docs/fleet.md section 5): containers labelled `org.hivescope.target=<name>` on the
   * targets' engines join as targets by themselves and leave when removed. `HIVE_DISCOVER=1` without
   * HIVE_TARGETS puts the relay in fleet mode on the environment's engine: the default target
   * (HIVE_CONTAINER, named HIVE_TARGET_NAME) becomes a configured fleet target, ids are qualified, and
   * labelled containers join beside it. `HIVE_TARGETS=[]` (discovery on) has no configured target: the
   * environment's engine is watched and its labelled containers alone are the fleet. `HIVE_DISCOVER=0`
   * turns discovery off with HIVE_TARGETS (refused with `[]`: that fleet could never have a target).
   * Default: on with HIVE_TARGETS, off without (HIVE_DISCOVER).
   */
  discover: boolean;
  /**
   * Seconds a discovered target whose container was removed stays, its swarms shown stale, before it
   * and its swarms are dropped; 0 keeps them until the container returns. Default 3600 (HIVE_STALE_TTL).
   */
  staleTtlMs: number;
  /**
   * Execs running at once on one Docker engine, all of its targets together (each target also keeps its
   * own bound of 8). Targets on different engines do not share it. Default 16 (HIVE_ENGINE_EXECS).
   */
  engineExecs: number;
  /** Re-spawn sessions that were running when the container restarted. Default true (HIVE_RESTORE). */
  restore: boolean;
  /** Where the relay persists node ids, the uuid-to-swarm map, and the embedded hive's root. Default .hivescope (HIVE_STATE_DIR). */
  stateDir: string;
  /** With the local driver, run the kit's engine in-process-tree so `npm start` shows a live swarm. Default true (HIVE_EMBEDDED). */
  embedded: boolean;
  /** With the embedded hive, keep one demo swarm running whenever no session is active, so a new user sees a live swarm. Default true (HIVE_DEMO). */
  demo: boolean;
  mcp: {
    /**
     * MCP telemetry server host (with HIVE_TARGETS: the first target's; with `[]`, MCP_HOST, where a
     * container labelled on the environment's engine is looked for). Default 127.0.0.1 (MCP_HOST).
     */
    host: string;
    /** With HIVE_TARGETS: the first target's (with `[]`, MCP_PORT). Default 9500 (MCP_PORT). */
    port: number;
    /** Sent with `authenticate` when set. Default none (MCP_AUTH_TOKEN). */
    authToken: string | null;
    /** Poll period for agent_list/swarm_status when the server does not push. Default 1000 ms (MCP_POLL_MS). */
    pollMs: number;
    /** Max rate of per-agent metric polls for selected agents. Default 4 Hz (MCP_METRICS_HZ). */
    metricsHz: number;
    /** Per-request timeout. Default 10000 ms (MCP_REQUEST_TIMEOUT_MS). */
    requestTimeoutMs: number;
  };
  exec: {
    /** Per-exec timeout. Default 15000 ms (EXEC_TIMEOUT_MS). */
    timeoutMs: number;
    /** Output cap per exec (stdout + stderr); more is an error, never silently cut. Default 4 MiB (EXEC_MAX_OUTPUT_BYTES). */
    maxOutputBytes: number;
  };
  /** Spawns allowed per minute before 429. Default 60 (SPAWN_RATE_PER_MIN). */
  spawnRatePerMin: number;
  stream: {
    /** Position frame rate while moving. Default 20 (POSITION_HZ). */
    positionHz: number;
    /** Position frame rate when settled. Default 1 (SETTLED_HZ). */
    settledHz: number;
    /** Max JSON delta rate. Default 10 (DELTA_HZ). */
    deltaHz: number;
  };
  /** Hide claude-flow's hard-coded mock agents unless a client asks for them. Default true (HIDE_MOCK). */
  hideMock: boolean;
  /** pino level. Default info (LOG_LEVEL). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Built client served at `/`. Default build/client (STATIC_DIR). */
  staticDir: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): RelayConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  let targets: TargetConfig[];
  const discover = e.HIVE_DISCOVER === undefined || e.HIVE_DISCOVER === '' ? e.HIVE_TARGETS !== null : ['1', 'true', 'yes', 'on'].includes(e.HIVE_DISCOVER);
  if (e.HIVE_TARGETS === null) {
    const single = singleTarget({ name: e.HIVE_TARGET_NAME, container: e.HIVE_CONTAINER, mcpHost: e.MCP_HOST, mcpPort: e.MCP_PORT });
    if (discover && e.HIVE_DRIVER === 'local') throw new ConfigError('HIVE_DRIVER=local runs the embedded hive; HIVE_DISCOVER=1 joins Docker containers (use docker or auto)');
    // Discovery makes a fleet: the default target is then one configured fleet target like any in
    // HIVE_TARGETS (its ids qualified, its state in <stateDir>/targets/<name>, a Docker driver only).
    targets = [discover ? { ...single, source: 'HIVE_TARGETS' } : single];
  } else {
    // Two places naming the container would leave one silently ignored.
    if (env.HIVE_CONTAINER) throw new ConfigError('HIVE_CONTAINER and HIVE_TARGETS are both set: name each container in HIVE_TARGETS and unset HIVE_CONTAINER');
    if (env.HIVE_TARGET_NAME) throw new ConfigError('HIVE_TARGET_NAME names the single default target; with HIVE_TARGETS each entry has its own name');
    // The embedded hive is this machine's child processes, not a container on an engine.
    if (e.HIVE_DRIVER === 'local') throw new ConfigError('HIVE_DRIVER=local runs the embedded hive; HIVE_TARGETS lists Docker containers (use docker or auto)');
    try {
      targets = parseTargets(e.HIVE_TARGETS, { cwd, dockerCertPath: e.DOCKER_CERT_PATH ?? undefined, mcpDefault: { host: e.MCP_HOST, port: e.MCP_PORT }, allowEmpty: true });
    } catch (err) {
      if (err instanceof TargetsError) throw new ConfigError(err.message);
      throw err;
    }
    // `[]` is a fleet of labelled containers alone; without discovery nothing could ever join it.
    if (targets.length === 0 && !discover) {
      throw new ConfigError('HIVE_TARGETS is empty and HIVE_DISCOVER is off: that fleet could never have a target. Leave HIVE_DISCOVER unset (or 1) to drive the containers labelled org.hivescope.target on the environment\'s engine, name targets in HIVE_TARGETS, or unset it for the single default target');
    }
  }
  // No configured target (HIVE_TARGETS=[]): the relay-wide container and MCP endpoint describe none.
  const primary = targets[0];
  const leak = modemDebugRefusal(env.DEBUG, targets, e.DOCKER_CERT_PATH, targets.length === 0);
  if (leak) throw new ConfigError(leak);
  if (!isLoopbackHost(e.HOST) && !e.RELAY_TOKEN) {
    throw new ConfigError(
      `refusing to bind ${e.HOST} without RELAY_TOKEN: the relay holds the Docker socket. Set RELAY_TOKEN or bind 127.0.0.1.`,
    );
  }
  if (e.RELAY_TOKEN !== null && e.RELAY_TOKEN.length < 16) {
    throw new ConfigError('RELAY_TOKEN must be at least 16 characters');
  }
  return {
    host: e.HOST,
    port: e.PORT,
    token: e.RELAY_TOKEN,
    allowedOrigins: e.ALLOWED_ORIGINS ? e.ALLOWED_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : [],
    driver: e.HIVE_DRIVER,
    container: primary?.container ?? null,
    targets,
    discover,
    staleTtlMs: e.HIVE_STALE_TTL * 1000,
    engineExecs: e.HIVE_ENGINE_EXECS,
    restore: e.HIVE_RESTORE,
    stateDir: path.resolve(cwd, e.HIVE_STATE_DIR),
    embedded: e.HIVE_EMBEDDED,
    demo: e.HIVE_DEMO,
    mcp: {
      host: primary?.mcp.host ?? e.MCP_HOST,
      port: primary?.mcp.port ?? e.MCP_PORT,
      authToken: e.MCP_AUTH_TOKEN,
      pollMs: e.MCP_POLL_MS,
      metricsHz: e.MCP_METRICS_HZ,
      requestTimeoutMs: e.MCP_REQUEST_TIMEOUT_MS,
    },
    exec: { timeoutMs: e.EXEC_TIMEOUT_MS, maxOutputBytes: e.EXEC_MAX_OUTPUT_BYTES },
    spawnRatePerMin: e.SPAWN_RATE_PER_MIN,
    stream: { positionHz: e.POSITION_HZ, settledHz: e.SETTLED_HZ, deltaHz: e.DELTA_HZ },
    hideMock: e.HIDE_MOCK,
    logLevel: e.LOG_LEVEL,
    staticDir: path.resolve(cwd, e.STATIC_DIR),
  };
}

/**
 * The relay config as one target's control plane and telemetry read it (issue 14, docs/fleet.md): its
 * container, its MCP endpoint (`mcp`: a derived endpoint refined from the container's environment), and
 * for a HIVE_TARGETS target its own state folder `<stateDir>/targets/<name>` (session record, restore).
 * Those planes then need no notion of a fleet. The single target of a relay without HIVE_TARGETS keeps
 * the config's own folder, so nothing moves for existing installs.
 */
export function configForTarget(config: RelayConfig, target: TargetConfig, mcp: { host: string; port: number } = target.mcp): RelayConfig {
  return {
    ...config,
    container: target.container,
    targets: [target],
    mcp: { ...config.mcp, host: mcp.host, port: mcp.port },
    stateDir: target.source === 'single' ? config.stateDir : path.join(config.stateDir, 'targets', target.name),
  };
}
