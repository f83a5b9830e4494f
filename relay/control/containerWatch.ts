/**
 * Watching the Docker container the plane execs into: its lifecycle events (seen within a second of
 * Docker), a periodic probe (state, one exec's latency, stats) that also catches a restart the event
 * stream missed (a new StartedAt), resubscription when dockerd goes away, and what failed execs say
 * about Docker and the container. Only the Docker driver creates one (`DockerDriver.watch`); the plane
 * holds it as an optional part and is told, through WatchHost, when the container went down (note
 * restore candidates, mark the list stale) and when it is back (recover: backend, reap, list, restore).
 */
import type { Logger } from 'pino';
import type { DegradedMode } from '../../shared/model/health.js';
import { asControlError, type ControlError } from './errors.js';
import type { ExecResult } from './exec.js';
import type { ContainerState, ContainerStatsSample, DockerEvent } from './drivers/docker.js';
import type { PlaneStatus, TargetHealth } from './planeHealth.js';
import type { ControlActivity } from './planeEvents.js';

/** What the watch needs of the Docker side (DockerDriver implements it; so does the tests' fake). */
export interface ContainerApi {
  readonly container: string;
  inspectState(): Promise<ContainerState>;
  stats(): Promise<ContainerStatsSample>;
  subscribeEvents(onEvent: (e: DockerEvent) => void, onEnd: (err: Error | null) => void): Promise<() => void>;
  /** Optional: enables killing commands we gave up on, checked once per container start. */
  probeTimeoutWrapper?(): Promise<boolean>;
}

/** What the watch needs of the plane. */
export interface WatchHost {
  readonly logger: Logger;
  readonly status: PlaneStatus;
  readonly eventsRetryMs: number;
  activity(kind: ControlActivity['kind'], level: ControlActivity['level'], message: string): void;
  /** One cheap exec through the pipeline, for the probe's latency figure. */
  ping(): Promise<ExecResult>;
  /** The plane's whole probe (run when the event stream ends). */
  probe(): Promise<void>;
  /** The container went down (`first`: it was up before); returns how many running sessions that affects. */
  down(certain: boolean, first: boolean): number;
  /** The container runs again: close the breaker at once. */
  up(): void;
  /** After `up`: re-detect the backend, reap, re-read the list, restore. */
  recover(): Promise<void>;
  /** After a good probe: re-read the list when the cached one expired. */
  refreshIfExpired(): Promise<void>;
}

export class ContainerWatch implements TargetHealth {
  private reachable = true;
  private running: boolean | null = null;
  private paused = false;
  private startedAt: string | null = null;
  cpuPercent: number | null = null;
  memoryBytes: number | null = null;
  private statsBusy = false;
  private unsubscribe: (() => void) | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private backInFlight: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly api: ContainerApi,
    private readonly host: WatchHost,
  ) {}

  get down(): boolean {
    return !this.reachable || this.running === false || this.paused;
  }

  get key(): string {
    return `${this.running}|${this.paused}|${this.reachable}`;
  }

  /** Known not to run (not merely unknown). */
  get stopped(): boolean {
    return this.running === false;
  }

  degraded(): DegradedMode[] {
    const c = this.api.container;
    if (!this.reachable) {
      return [{ code: 'docker-unavailable', message: 'The Docker engine does not answer.', stillWorks: 'Telemetry from MCP, and the last known session list (stale).', action: 'Start Docker (or check DOCKER_HOST / permissions on /var/run/docker.sock).' }];
    }
    if (this.running === false || this.paused) {
      return [
        {
          code: 'container-down',
          message: `Container ${c} is ${this.paused ? 'paused' : 'not running'}.`,
          stillWorks: 'Cached sessions (stale); telemetry if MCP answers.',
          action: this.paused ? `docker unpause ${c}` : `Start it: docker start ${c} (or npm run container:up).`,
        },
      ];
    }
    return [];
  }

  /** First probe, then the event subscription. */
  async start(): Promise<void> {
    await this.host.probe();
    await this.subscribe();
  }

  /** A failed exec: Docker gone, or the container stopped or paused under us. */
  execFailed(ce: ControlError): void {
    if (ce.kind === 'docker-unavailable') this.reachable = false;
    if (ce.kind === 'container-not-running') {
      // Docker refuses an exec in a paused container with 409 "... is paused": that container is still
      // running, and only `unpause` (which clears `paused`) brings it back. Marking it not running would
      // keep control unavailable after the unpause until the next probe.
      if (this.paused || /\bis paused\b/i.test(ce.message)) this.paused = true;
      else this.running = false;
    }
  }

  /** Called with each Docker event for our container (within a second of it happening). */
  handleEvent(e: DockerEvent): void {
    const c = this.api.container;
    // `kill` fires for any signal and `oom` may not end the container: only `die`/`destroy` mean down.
    const down = e.action === 'die' || e.action === 'destroy';
    this.host.logger.info({ action: e.action }, 'container event');
    if (e.action === 'oom') this.host.activity('health', 'error', `container ${c} ran out of memory`);
    if (down) {
      if (this.running !== false) this.markDown(`container ${e.action}`, true);
    } else if (e.action === 'pause') {
      this.paused = true;
      this.host.status.lastError = `container ${c} is paused`;
      this.host.activity('health', 'warn', `container ${c} paused`);
      this.host.status.changed();
    } else if (e.action === 'unpause') {
      this.paused = false;
      this.host.activity('health', 'info', `container ${c} unpaused`);
      this.host.status.changed();
    } else if (e.action === 'start' || e.action === 'restart') {
      if (e.action === 'start' || this.running !== true) void this.back();
    }
  }

  /** The Docker part of the plane's probe; the plane records a throw as a failed probe. */
  async probe(): Promise<void> {
    const { status } = this.host;
    let st: ContainerState;
    try {
      st = await this.api.inspectState();
      this.reachable = true;
    } catch (err) {
      const ce = asControlError(err);
      if (ce.kind === 'docker-unavailable') {
        if (this.reachable) this.host.activity('health', 'error', ce.message);
        this.reachable = false;
        if (this.running !== false) this.markDown('Docker engine unreachable', false);
      }
      status.lastError = ce.message;
      status.probeFailed = true;
      return;
    }
    if (!st.running || st.paused) {
      if (st.paused) {
        this.paused = true;
        status.lastError = `container ${this.api.container} is paused`;
      } else if (this.running !== false) this.markDown(`container ${st.exists ? 'not running' : 'does not exist'}`, true);
      return;
    }
    this.paused = false;
    // A restart the event stream missed shows as a new StartedAt.
    const restarted = this.startedAt !== null && st.startedAt !== this.startedAt;
    if (this.running !== true || restarted) {
      if (restarted && this.running === true) this.markDown('container restarted', true);
      this.startedAt = st.startedAt;
      await this.back();
    }
    const r = await this.host.ping();
    status.execLatencyMs = Math.round(r.durationMs * 10) / 10;
    status.probeFailed = false;
    this.readStats();
    await this.host.refreshIfExpired();
  }

  private markDown(why: string, certain: boolean): void {
    const affected = this.host.down(certain, this.running !== false);
    this.running = false;
    this.paused = false;
    this.host.status.lastError = `${why}: container ${this.api.container} is not running`;
    this.host.activity('health', 'error', `${why}: control unavailable (${affected} running session(s) affected)`);
    this.host.status.changed();
  }

  /** The container is back: single-flight, so an event and a probe seeing it together recover once. */
  private back(): Promise<void> {
    if (this.backInFlight) return this.backInFlight;
    this.backInFlight = this.backOnce().finally(() => (this.backInFlight = null));
    return this.backInFlight;
  }

  private async backOnce(): Promise<void> {
    this.running = true;
    this.paused = false;
    this.reachable = true;
    this.host.up();
    this.host.activity('health', 'info', `container ${this.api.container} is running`);
    this.host.status.changed();
    try {
      const st = await this.api.inspectState().catch(() => null);
      if (st) this.startedAt = st.startedAt;
      const recovering = this.host.recover();
      const wrapper = this.api.probeTimeoutWrapper?.() ?? null;
      await recovering;
      await wrapper;
    } catch (err) {
      this.host.logger.warn({ err }, 'after container start');
    }
  }

  private readStats(): void {
    if (this.statsBusy) return;
    this.statsBusy = true;
    this.api
      .stats()
      .then((s) => {
        this.cpuPercent = s.cpuPercent === null ? null : Math.round(s.cpuPercent * 10) / 10;
        this.memoryBytes = s.memoryBytes;
      })
      .catch(() => {
        this.cpuPercent = null;
        this.memoryBytes = null;
      })
      .finally(() => (this.statsBusy = false));
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    const retry = () => (this.retryTimer = setTimeout(() => void this.subscribe(), this.host.eventsRetryMs));
    try {
      const unsubscribe = await this.api.subscribeEvents(
        (e) => this.handleEvent(e),
        () => {
          this.unsubscribe = null;
          if (this.closed) return;
          // The stream ends when dockerd goes away: probe now (marks it unavailable) and resubscribe.
          void this.host.probe();
          retry();
        },
      );
      if (this.closed) return unsubscribe();
      this.unsubscribe = unsubscribe;
      if (!this.reachable) void this.host.probe();
    } catch {
      retry();
    }
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
