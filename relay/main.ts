/**
 * The relay process: parse the environment once, start, print the URL, and shut down cleanly on
 * SIGINT/SIGTERM (the embedded hive and every other child stop with us; a second signal forces exit).
 */
import pino from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { startRelay } from './app.js';
import { TARGET_LABEL } from './fleet/index.js';
import { describeEndpoint } from './control/drivers/dockerConnection.js';

let config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`hivescope: ${e.message}`);
    process.exit(2);
  }
  throw e;
}

const logger = pino({ level: config.logLevel });
const relay = await startRelay(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, 'relay failed to start');
  console.error(`hivescope: could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

if (relay.fleet.qualify) {
  console.log(`hivescope relay listening on ${relay.url}  (${relay.fleet.targets.size} targets)`);
  // One line per target: where it is and how it stands now (a target still starting joins by itself).
  for (const t of relay.health().targets ?? []) console.log(`  target ${t.name}: ${t.container} on ${t.docker}; MCP ${t.telemetry.host}:${t.telemetry.port}; ${t.lifecycle === 'running' ? t.status : t.lifecycle}`);
  // HIVE_TARGETS=[]: those already running are being listed now; say where the targets come from.
  if (config.targets.length === 0) console.log(`  no configured target: containers labelled ${TARGET_LABEL}=<name> on ${describeEndpoint(null)} join as they are found`);
} else {
  console.log(`hivescope relay listening on ${relay.url}  (driver: ${relay.control.health().driver}; MCP ${config.mcp.host}:${config.mcp.port})`);
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    console.error(`hivescope: ${signal} again, exiting now`);
    process.exit(130);
  }
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  relay.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
