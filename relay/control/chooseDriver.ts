/**
 * Chooses the exec driver from config.driver: `docker` (exec into the configured container), `local`
 * (the embedded hive's child processes), `none` (read-only), or `auto`: docker when the container
 * runs, else local.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import type { ExecDriver } from './exec.js';
import { DockerDriver } from './drivers/docker.js';
import { LocalDriver } from './drivers/local.js';
import { repoRoot } from './paths.js';

/** How long `auto` waits for Docker to say whether the container runs before choosing local. */
const AUTO_INSPECT_MS = 2000;

export async function chooseDriver(config: RelayConfig, logger: Logger): Promise<ExecDriver | null> {
  const local = () =>
    new LocalDriver({
      env: { HIVE_ROOT: path.join(config.stateDir, 'hive'), MCP_HOST: '127.0.0.1', MCP_PORT: String(config.mcp.port), ...(config.mcp.authToken ? { MCP_AUTH_TOKEN: config.mcp.authToken } : {}) },
      cwd: repoRoot(),
    });
  switch (config.driver) {
    case 'none':
      return null;
    case 'docker':
      return new DockerDriver(config.container);
    case 'local':
      return local();
    default: {
      const d = new DockerDriver(config.container);
      try {
        const st = await Promise.race([d.inspectState(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('docker inspect timed out')), AUTO_INSPECT_MS).unref())]);
        if (st.running) {
          logger.info({ container: config.container }, 'control driver: docker');
          return d;
        }
        logger.info({ container: config.container }, 'control driver: local (container not running)');
      } catch (err) {
        logger.info({ err: (err as Error).message }, 'control driver: local (Docker not reachable)');
      }
      await d.close();
      return local();
    }
  }
}
