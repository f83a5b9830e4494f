/**
 * Starts `hive-engine` as a child process and waits for its readiness line (for the relay's embedded
 * mode and scripts that want the engine out of their own event loop). `port: 0` picks a free port;
 * the resolved `port` is the real one. `stop()` sends SIGTERM and resolves when it exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EngineProcessOptions {
  host?: string;
  port?: number;
  authToken?: string | null;
  seed?: number;
  speed?: number;
  /** HIVE_ROOT of the session registry the engine writes for sessions `start` hands to it (default: env's, else /workspace). */
  hiveRoot?: string;
  /** Extra environment (TCP_CONNECTION_TIMEOUT, HIVE_ORPHAN_GRACE_MS, ...). */
  env?: Record<string, string>;
  /** Where the engine's stderr goes; default inherited. */
  stderr?: 'inherit' | 'ignore';
  readyTimeoutMs?: number;
}

export interface EngineProcess {
  host: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The compiled main.js next to us, or dist/'s when this module runs from source (vitest). */
const MAIN = fs.existsSync(path.join(here, 'main.js')) ? path.join(here, 'main.js') : path.resolve(here, '../../dist/container/engine/main.js');

export function spawnEngineProcess(opts: EngineProcessOptions = {}): Promise<EngineProcess> {
  // MCP_TCP_PORT would win over MCP_PORT in the engine: the port asked for here is set under both names.
  const port = String(opts.port ?? 9500);
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, MCP_HOST: opts.host ?? '127.0.0.1', MCP_PORT: port, MCP_TCP_PORT: port };
  if (opts.authToken) env.MCP_AUTH_TOKEN = opts.authToken;
  if (opts.hiveRoot) env.HIVE_ROOT = opts.hiveRoot;
  if (opts.seed !== undefined) env.HIVE_SIM_SEED = String(opts.seed);
  if (opts.speed !== undefined) env.HIVE_SIM_SPEED = String(opts.speed);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', opts.stderr ?? 'inherit'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hive-engine did not become ready: ${out.slice(0, 500)}`));
    }, opts.readyTimeoutMs ?? 15_000);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`hive-engine exited (${code}) before it was ready: ${out.slice(0, 500)}`));
    };
    child.once('exit', onExit);
    child.stdout!.on('data', (d: Buffer) => {
      if (out.length < 4096) out += d.toString();
      const m = /hive-engine listening on (.+):(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        host: m[1]!,
        port: Number(m[2]),
        pid: child.pid!,
        child,
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null || child.signalCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
