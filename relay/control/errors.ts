/**
 * Error kinds of the control plane. Every failure that leaves this folder is a ControlError whose kind
 * maps to one HTTP status and one shared ErrorCode, with a message a person can act on.
 */
import type { ErrorCode } from '../../shared/api.js';

export const CONTROL_ERROR_KINDS = [
  'docker-unavailable',
  'container-not-running',
  'command-failed',
  'parse-error',
  'session-not-found',
  'timeout',
  'circuit-open',
  'read-only',
  'rate-limited',
  'bad-request',
  'mcp-unavailable',
  'output-too-large',
  'conflict',
  /** The backend cannot do this at all (claude-flow 3.x has no pause): not a state, never worth a retry. */
  'unsupported',
  /** A request named a fleet target that does not exist (the message lists those that do). */
  'unknown-target',
  /** A spawn without a target found no healthy one to pick (the message names each target's state). */
  'no-healthy-target',
] as const;
export type ControlErrorKind = (typeof CONTROL_ERROR_KINDS)[number];

export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly kind: ControlErrorKind,
    message: string,
    readonly details: { exitCode?: number | null; stderr?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  /** Failures worth another attempt: the engine or the command may answer next time. */
  get transient(): boolean {
    return this.kind === 'docker-unavailable' || this.kind === 'timeout';
  }
}

/** HTTP status and wire code per kind. */
export const CONTROL_ERROR_HTTP: Record<ControlErrorKind, { status: number; code: ErrorCode }> = {
  'docker-unavailable': { status: 503, code: 'docker-unavailable' },
  'container-not-running': { status: 503, code: 'container-not-running' },
  'command-failed': { status: 502, code: 'command-failed' },
  'parse-error': { status: 502, code: 'parse-error' },
  'session-not-found': { status: 404, code: 'session-not-found' },
  timeout: { status: 504, code: 'timeout' },
  'circuit-open': { status: 503, code: 'circuit-open' },
  'read-only': { status: 503, code: 'read-only' },
  'rate-limited': { status: 429, code: 'rate-limited' },
  'bad-request': { status: 400, code: 'bad-request' },
  'mcp-unavailable': { status: 503, code: 'mcp-unavailable' },
  'output-too-large': { status: 502, code: 'command-failed' },
  conflict: { status: 409, code: 'conflict' },
  // 422: the request is well-formed and the session exists, but this backend cannot do it (unlike 409, retrying never helps).
  unsupported: { status: 422, code: 'unsupported' },
  'unknown-target': { status: 404, code: 'not-found' },
  'no-healthy-target': { status: 503, code: 'no-healthy-target' },
};

/** Truncates text for error messages and logs (stderr can be large and is shown to people). */
export function clip(s: string, max = 500): string {
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length - max} more characters)`;
}

/** What every command answers when the relay runs with HIVE_DRIVER=none. */
export function readOnlyError(): ControlError {
  return new ControlError('read-only', 'the relay runs with HIVE_DRIVER=none (telemetry only): set HIVE_DRIVER=auto, docker or local to control swarms');
}

export function asControlError(err: unknown): ControlError {
  if (err instanceof ControlError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new ControlError('command-failed', msg);
}
