/**
 * Where the relay captures the output of the claude-flow spawns it starts (2.7 and 3.x): one file per
 * session in the container, appended by the spawn itself (ExecOptions.outputFile), so the log outlives
 * the relay and resumes by byte offset after a relay restart.
 */
import { SESSION_UUID_PATTERN } from '../../../shared/api.js';

export const SPAWN_LOG_DIR = '/workspace/.hivescope/logs';

export function spawnLogPath(uuid: string, dir = SPAWN_LOG_DIR): string {
  if (!SESSION_UUID_PATTERN.test(uuid)) throw new TypeError('not a session uuid');
  return `${dir}/${uuid}.log`;
}
