/**
 * Which claude-flow drives a container, by asking it (`claude-flow --version`), never by assuming:
 * 3.x (`ruflo v3.43.0`) and 2.x (`v2.7.47`) are different products behind one name and get different
 * backends. The kit's session manager is found before this (its script in the container); its
 * `capabilities` line names it (parseKitCapabilities) when the version is wanted.
 */
import type { RequestContext } from '../../context.js';
import type { StateStore } from '../stateStore.js';
import { ClaudeFlowBackend } from './claudeFlow.js';
import { ClaudeFlow3Backend } from './claudeFlow3.js';
import { parseCliVersion, type DetectedBackend } from './claudeFlow3Parse.js';
import type { Backend, RunFn } from './types.js';
import type { SessionMcpOpener } from './sessionMcp.js';
import type { Logger } from 'pino';

/** `--version` takes the 3.x fast path (~40 ms); 2.7 through npx can take over a second. */
export const VERSION_ARGV = ['claude-flow', '--version'] as const;

/**
 * Asks the container's claude-flow for its version. null when there is no claude-flow (exit != 0);
 * a ControlError('parse-error') when it answers with a version hivescope does not know.
 */
export async function detectClaudeFlow(run: RunFn, ctx?: RequestContext): Promise<DetectedBackend | null> {
  const r = await run([...VERSION_ARGV], { idempotent: true, timeoutMs: 15_000, ctx, env: { CLAUDE_FLOW_AUTO_UPDATE: 'false' } });
  if (r.exitCode !== 0) return null;
  return parseCliVersion(r.stdout);
}

export interface ClaudeFlowBackendDeps {
  run: RunFn;
  store: StateStore;
  driverKind: 'docker' | 'local';
  /** 3.x: opens an MCP server in a session's directory (see sessionMcp.ts). */
  sessionMcp?: () => SessionMcpOpener | null;
  logger?: Logger;
}

/** The backend for the detected claude-flow. */
export function claudeFlowBackend(d: DetectedBackend, deps: ClaudeFlowBackendDeps): Backend {
  if (d.kind === 'claude-flow-3') return new ClaudeFlow3Backend({ ...deps, version: d.version });
  if (d.kind === 'claude-flow-2') return new ClaudeFlowBackend({ ...deps, version: d.version });
  throw new TypeError(`${d.kind} is not a claude-flow kind`);
}
