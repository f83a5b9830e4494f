/**
 * Public surface of the control plane (issue 4). relay/app.ts wires `createControlPlane`; the HTTP routes
 * over it live in relay/http (which imports this plane, never the other way round). Everything else here
 * is for tests, benches and health/metrics.
 */
import type { Logger } from 'pino';
import type { RelayConfig } from '../config.js';
import { ControlPlane, type ControlPlaneDeps } from './controlPlane.js';
import { chooseDriver } from './chooseDriver.js';

export { ControlPlane } from './controlPlane.js';
export { chooseDriver } from './chooseDriver.js';
export type { ControlPlaneDeps } from './controlPlane.js';
export type { ControlHealth, SessionChange, ControlActivity, ControlEvents } from './planeEvents.js';
export type { McpTools } from './commands.js';
export type { ControlTiming } from './timing.js';
export { registerControlMetrics, ExecFamilies, type ControlPerformance, type LabelledControlSource } from './metrics.js';
export { ControlError, CONTROL_ERROR_HTTP, type ControlErrorKind } from './errors.js';
export type { ExecDriver, ExecOptions, ExecResult } from './exec.js';
export { OutputFileError, contentTypeFor, contentDisposition, isTextType, type OpenedFile } from './outputFiles/index.js';
export { LogUnavailable, type LogRead, type LogQuery, type LogUnavailableReason } from './console/logRead.js';
export type { LogWatch, LogWatchCallbacks } from './console/logWatch.js';

/**
 * Picks the driver (config.driver; auto = docker when the container runs, else local), probes the
 * backend, starts timers, the Docker event subscription and (local + embedded) the engine.
 */
export async function createControlPlane(deps: { config: RelayConfig; logger: Logger } & Partial<Omit<ControlPlaneDeps, 'config' | 'logger'>>): Promise<ControlPlane> {
  const logger = deps.logger.child({ part: 'control' });
  const driver = deps.driver !== undefined ? deps.driver : await chooseDriver(deps.config, logger);
  const cp = new ControlPlane(deps.config, logger, driver, { ...deps, logger });
  await cp.start();
  return cp;
}
