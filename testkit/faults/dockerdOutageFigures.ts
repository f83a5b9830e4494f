/**
 * What the dockerd-stopped scenario (dockerdOutage.ts) records: the figures of one round, what the relay
 * said and served while the daemon was down and after it came back, the setup's own figures, and the
 * `FAULT dockerd-stopped` line the test and the bench print.
 */
import type { Health } from '../../shared/model/health.js';
import type { Session } from '../../shared/model/session.js';

export type StopSignal = 'SIGTERM' | 'SIGKILL';

/** The figures of one round, as printed on the `FAULT dockerd-stopped` line. */
export interface DockerdStoppedFigures {
  signal: StopSignal;
  /** Signal sent -> /api/hybrid/status reports control unavailable with the docker-unavailable mode. */
  detectMs: number;
  /** Signal sent -> the daemon process exited (SIGTERM with live-restore stops its containerd first). */
  daemonExitMs: number;
  /** Answer time of the first refused spawn while Docker is down. */
  spawnErrorMs: number;
  /** Largest telemetry age (ms since the last MCP update) sampled while Docker was down. */
  telemetryMaxAgeMs: number;
  /** How long the daemon was down (signal -> its API answered again). */
  downMs: number;
  /** dockerd started again -> its API answers. */
  restartMs: number;
  /** The daemon's API answers again -> the relay reports healthy (control and overall). */
  recoverMs: number;
  /** A spawn after recovery: request -> its swarm id is listed. */
  spawnSwarmIdMs: number;
}

export interface OutageRound {
  figures: DockerdStoppedFigures;
  /** What the relay said and served while the daemon was down. */
  down: {
    health: { status: number; body: unknown };
    hybrid: Health;
    /** The first report of the outage (the breaker state there shows what failed before any spawn). */
    firstReport: Health;
    /** Spawns while the daemon is down, one after the other (a user retrying): each should be refused alike. */
    spawns: { status: number; body: unknown; retryAfter: string | null; ms: number }[];
    /** Exec failures by kind since the relay started, just before and just after the refused spawns. */
    execFailures: { beforeSpawn: Record<string, number>; afterSpawn: Record<string, number> };
    sessions: { status: number; stale: boolean | null; hasRunningSession: boolean };
    /** One sample per poll: telemetry plane state and age, agents of the pre-outage swarm on /api/bots/status. */
    telemetry: { state: string; ageMs: number | null; connected: boolean; swarmAgents: number }[];
  };
  /** After the daemon came back. */
  up: {
    health: { status: number; body: unknown };
    hybrid: Health;
    spawn: { status: number; uuid: string; swarmId: string | null };
    /** The session that ran before the outage, re-read after it. */
    runningSession: Session;
    /** Sessions the relay created to replace it (expected none: the container never stopped). */
    replacements: string[];
    /** The container's StartedAt before and after: equal when live-restore kept it running. */
    containerStartedAt: { before: string; after: string };
    /** The relay process is the one started in setup and still runs. */
    relaySamePid: boolean;
  };
}

export interface SetupFigures {
  daemonStartMs: number;
  imageLoadMs: number;
  /** `node scripts/container.mjs build` (a no-op when the image is current). */
  imageBuildMs: number;
  /** Where the image came from. */
  imageSource: 'loaded-from-main-daemon' | 'built-in-private-daemon';
  relayReadyMs: number;
  firstSwarmIdMs: number;
}

export interface ScenarioOptions {
  /** How long to keep the daemon down while sampling telemetry. Default 2000 ms. */
  holdMs?: number;
  /** Spawn requests sent one after another while the daemon is down. Default 3. */
  spawnsWhileDown?: number;
  /** The relay entry point to run. Default <repo>/dist/relay/main.js. */
  relayMain?: string;
  log?: (msg: string) => void;
}

/** `FAULT dockerd-stopped key=value ...`, one line per round, for the test output and the bench report. */
export function faultLine(f: DockerdStoppedFigures): string {
  const r = (n: number) => Math.round(n);
  return (
    `FAULT dockerd-stopped signal=${f.signal} live_restore=1 detect_ms=${r(f.detectMs)} daemon_exit_ms=${r(f.daemonExitMs)} ` +
    `spawn_503_ms=${r(f.spawnErrorMs)} telemetry_max_age_ms=${r(f.telemetryMaxAgeMs)} down_ms=${r(f.downMs)} ` +
    `restart_ms=${r(f.restartMs)} recover_ms=${r(f.recoverMs)} spawn_swarm_id_ms=${r(f.spawnSwarmIdMs)}`
  );
}

