/**
 * Health to every client: on change (telemetry's health event) and at least every HEALTH_INTERVAL_MS.
 * The relay passes its combined health; without it (tests, tools) the stream combines the same way
 * over what it has, counting active sessions with the relay's one countActiveSessions.
 */
import type { Logger } from 'pino';
import type { DegradedMode, Health } from '../../shared/model/index.js';
import { combineHealth, countActiveSessions } from '../health.js';
import type { Telemetry } from '../telemetry/index.js';
import type { Outbound } from './outbound.js';
import type { StreamClient } from './streamClient.js';

/** Health is sent on change and at least this often. */
export const HEALTH_INTERVAL_MS = 2_000;

export interface StreamControlView {
  health?(): Health['control'];
  degraded?(): DegradedMode[];
}

const NO_CONTROL: Health['control'] = {
  state: 'unavailable',
  driver: 'none',
  backend: 'none',
  container: null,
  execLatencyMs: null,
  breaker: 'closed',
  lastError: null,
  containerCpuPercent: null,
  containerMemoryBytes: null,
};

export class HealthFeed {
  private lastKey = '';

  constructor(
    private readonly clients: ReadonlyMap<string, StreamClient>,
    private readonly out: Outbound,
    private readonly log: Logger,
    private readonly telemetry: Telemetry,
    private readonly control: StreamControlView | null,
    private readonly combined?: () => Health,
  ) {}

  current(): Health {
    if (this.combined) return this.combined();
    const control = this.control?.health?.() ?? NO_CONTROL;
    const active = countActiveSessions(this.telemetry.snapshot({ includeMock: true }).sessions);
    return combineHealth(control, this.control?.degraded?.() ?? [], this.telemetry.health(), this.clients.size, active);
  }

  /** Broadcasts health; with `onChange`, only when it differs from the last one sent (times aside). */
  send(onChange: boolean): void {
    if (this.clients.size === 0) return;
    let h: Health;
    try {
      h = this.current();
    } catch (e) {
      this.log.warn({ err: String(e) }, 'health() failed');
      return;
    }
    const key = JSON.stringify({ ...h, serverTime: 0, telemetry: { ...h.telemetry, ageMs: null, latencyMs: null } });
    if (onChange && key === this.lastKey) return;
    this.lastKey = key;
    this.out.broadcast(this.clients.values(), { type: 'health', health: h });
  }
}
