/**
 * Chooses the exec driver from config.driver: `docker` (exec into the target's container on the target's
 * engine), `local` (the embedded hive's child processes), `none` (read-only), or `auto`: docker when the
 * container runs, else local. The target defaults to the first configured one (config.targets[0]); its
 * engine is reached as its `docker` URL says (dockerConnection.ts), or as DOCKER_HOST says when it has none.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import type { TargetConfig } from '../targets.js';
import type { ExecDriver } from './exec.js';
import { DockerDriver } from './drivers/docker.js';
import { createDocker } from './drivers/dockerConnection.js';
import { LocalDriver } from './drivers/local.js';
import { repoRoot } from './paths.js';

/** How long `auto` waits for Docker to say whether the container runs before choosing local. */
const AUTO_INSPECT_MS = 2000;

export async function chooseDriver(config: RelayConfig, logger: Logger, target: TargetConfig = config.targets[0]!): Promise<ExecDriver | null> {
  // The environment's engine (no docker URL) keeps dockerode's own default client, exactly as before fleets.
  const docker = () =>
    new DockerDriver(
      target.container,
      target.docker === null ? undefined : createDocker(target.docker, `target ${target.name}`, { sshAuthSock: process.env.SSH_AUTH_SOCK, onHostKeyRefused: (reason) => logger.error({ target: target.name }, `ssh host key refused: ${reason}`) }),
    );
  const local = () =>
    new LocalDriver({
      env: { HIVE_ROOT: path.join(config.stateDir, 'hive'), MCP_HOST: '127.0.0.1', MCP_PORT: String(config.mcp.port), MCP_TCP_PORT: String(config.mcp.port), ...(config.mcp.authToken ? { MCP_AUTH_TOKEN: config.mcp.authToken } : {}) },
      cwd: repoRoot(),
    });
  switch (config.driver) {
    case 'none':
      return null;
    case 'docker':
      return docker();
    case 'local':
      return local();
    default: {
      // A HIVE_TARGETS (or discovered) target is a container on an engine: never the local hive in its place (docs/fleet.md).
      if (target.source !== 'single') return docker();
      const d = docker();
      try {
        const st = await Promise.race([d.inspectState(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('docker inspect timed out')), AUTO_INSPECT_MS).unref())]);
        if (st.running) {
          logger.info({ target: target.name, container: target.container }, 'control driver: docker');
          return d;
        }
        logger.info({ target: target.name, container: target.container }, 'control driver: local (container not running)');
      } catch (err) {
        logger.info({ err: (err as Error).message }, 'control driver: local (Docker not reachable)');
      }
      await d.close();
      return local();
    }
  }
}
