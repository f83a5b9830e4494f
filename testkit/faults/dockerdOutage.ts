/**
 * Test and bench scenario (issues 4 and 7): the real Docker daemon stops under a running relay, then
 * comes back. A private dockerd (testkit/privateDockerd.ts, live-restore on) runs the kit's image with
 * host networking; the relay runs as `node dist/relay/main.js` with DOCKER_HOST pointing at that
 * daemon's socket, exactly as a user would run it. Each round stops the daemon (SIGTERM, or SIGKILL as
 * in a crash), records what the relay reports and serves meanwhile, starts the daemon again and records
 * how control comes back, with no relay restart.
 *
 * The scenario records and measures (dockerdOutageFigures.ts); the test asserts on what it recorded.
 * Waits are bounded and throw naming what did not happen. `runDockerdStoppedScenario` is the one-call
 * form for benchmarks.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BotsStatusResponseSchema,
  HybridPerformanceResponseSchema,
  HybridStatusResponseSchema,
  InitializeSwarmResponseSchema,
  SessionResponseSchema,
  SessionsResponseSchema,
  routePath,
  routes,
} from '../../shared/api.js';
import type { Health } from '../../shared/model/health.js';
import { repoRoot } from '../../relay/control/paths.js';
import { loadKitImageInto } from '../kitImage.js';
import { freePort, portAccepts } from '../ports.js';
import { PrivateDockerd, pingSocket, privateDockerdUnavailableReason, sweepStalePrivateDockerds, type TeardownReport } from '../privateDockerd.js';
import { startRelayProcess, type RelayProcess } from '../relayProcess.js';
import { makeTempDir } from '../tempDirs.js';
import { pollFor } from '../wait.js';
import type { DockerdStoppedFigures, OutageRound, ScenarioOptions, SetupFigures, StopSignal } from './dockerdOutageFigures.js';

export { faultLine, type DockerdStoppedFigures, type OutageRound, type ScenarioOptions, type SetupFigures, type StopSignal } from './dockerdOutageFigures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const spawnBody = (prompt: string) => ({
  topology: 'mesh',
  maxAgents: 3,
  strategy: 'adaptive',
  priority: 'medium',
  enableNeural: true,
  agentTypes: ['coordinator', 'coder'],
  customPrompt: prompt,
});

export class DockerdOutageScenario {
  readonly holdMs: number;
  readonly relayMain: string;
  readonly spawnsWhileDown: number;
  daemon: PrivateDockerd | null = null;
  setupFigures: SetupFigures | null = null;
  container = '';
  mcpPort = 0;
  url = '';
  /** The session spawned in setup, running through every round. */
  running: { uuid: string; swarmId: string } | null = null;
  private relay: RelayProcess | null = null;
  private relayPid: number | null = null;
  private stateDir: string | null = null;
  private startedAt = '';
  /** The relay's last lines once it has exited. */
  private lastTail = '';
  private closing: Promise<{ daemon: TeardownReport | null; relayStopped: boolean }> | null = null;
  private readonly log: (msg: string) => void;

  constructor(o: ScenarioOptions = {}) {
    this.holdMs = o.holdMs ?? 2000;
    this.spawnsWhileDown = Math.max(1, o.spawnsWhileDown ?? 3);
    this.relayMain = o.relayMain ?? path.join(repoRoot(), 'dist/relay/main.js');
    this.log = o.log ?? (() => undefined);
  }

  /** Why the scenario cannot run here, or null. */
  static unavailableReason(): string | null {
    return privateDockerdUnavailableReason();
  }

  /** GET (10 s bound) or, with a body, POST as JSON (30 s bound); the body parsed when it is JSON. */
  private async request(p: string, json?: unknown): Promise<{ status: number; body: unknown; headers: Headers }> {
    const init: RequestInit =
      json === undefined
        ? { signal: AbortSignal.timeout(10_000) }
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json), signal: AbortSignal.timeout(30_000) };
    const res = await fetch(this.url + p, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  private get(p: string) {
    return this.request(p);
  }

  private post(p: string, json: unknown) {
    return this.request(p, json);
  }

  private async hybrid(): Promise<Health> {
    return HybridStatusResponseSchema.parse((await this.get(routes.hybridStatus.path)).body);
  }

  private relayTail(): string {
    return this.relay?.tail.text() ?? this.lastTail;
  }

  /** Spawns through HTTP and waits for the swarm id; returns the uuid, swarm id and the time it took. */
  private async spawnAndWait(prompt: string, ms: number): Promise<{ status: number; uuid: string; swarmId: string; ms: number }> {
    const t0 = performance.now();
    const r = await this.post(routes.initializeSwarm.path, spawnBody(prompt));
    if (r.status !== routes.initializeSwarm.status) throw new Error(`spawn answered ${r.status}: ${JSON.stringify(r.body)}`);
    const { uuid } = InitializeSwarmResponseSchema.parse(r.body);
    const swarmId = await pollFor(
      async () => {
        const s = await this.get(routePath(routes.session.path, { uuid }));
        if (s.status !== 200) return undefined;
        const session = SessionResponseSchema.parse(s.body).session;
        return session.status === 'running' && session.swarmId ? session.swarmId : undefined;
      },
      ms,
      `swarm id of session ${uuid}`,
      100,
    );
    return { status: r.status, uuid, swarmId, ms: performance.now() - t0 };
  }

  private async containerStartedAt(): Promise<string> {
    const r = await this.daemon!.cli(['inspect', '--format', '{{.State.Running}} {{.State.StartedAt}}', this.container], 20_000);
    if (r.code !== 0) throw new Error(`docker inspect ${this.container}: ${r.stderr.trim()}`);
    const [running, startedAt] = r.stdout.trim().split(' ');
    if (running !== 'true') throw new Error(`container ${this.container} is not running`);
    return startedAt!;
  }

  /** Private daemon, kit image, kit container, relay; one running swarm. */
  async setup(): Promise<SetupFigures> {
    const why = privateDockerdUnavailableReason();
    if (why) throw new Error(why);
    await sweepStalePrivateDockerds(this.log);
    const d = new PrivateDockerd({ liveRestore: true, log: this.log });
    this.daemon = d;
    const { readyMs: daemonStartMs } = await d.start();

    // The kit's image: loaded from the machine's daemon (built there first when missing or stale), or,
    // when that daemon does not answer, built straight into ours.
    const image = await loadKitImageInto(d, this.log);
    this.mcpPort = await freePort();
    this.container = `hivescope-dockerd-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
    const run = await d.cli(['run', '-d', '--name', this.container, '--network', 'host', '-e', `MCP_PORT=${this.mcpPort}`, '-e', 'HIVE_SIM_SPEED=1', image.image], 60_000);
    if (run.code !== 0) throw new Error(`docker run in the private daemon failed: ${run.stderr.trim()}`);
    await pollFor(async () => ((await portAccepts(this.mcpPort)) ? true : undefined), 30_000, `kit MCP server on 127.0.0.1:${this.mcpPort}`, 100);
    this.startedAt = await this.containerStartedAt();

    // The relay as users run it: its own process, DOCKER_HOST naming our daemon.
    this.stateDir = makeTempDir('hivescope-outage-relay-');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOCKER_HOST: d.host,
      HOST: '127.0.0.1',
      PORT: '0',
      HIVE_DRIVER: 'docker',
      HIVE_CONTAINER: this.container,
      HIVE_STATE_DIR: this.stateDir,
      HIVE_DEMO: '0',
      MCP_HOST: '127.0.0.1',
      MCP_PORT: String(this.mcpPort),
      LOG_LEVEL: 'warn',
    };
    for (const k of ['RELAY_TOKEN', 'ALLOWED_ORIGINS', 'MCP_AUTH_TOKEN', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];
    const t0 = performance.now();
    const relay = await startRelayProcess(env, { main: this.relayMain });
    this.relay = relay;
    this.relayPid = relay.child.pid ?? null;
    void relay.exited.then(() => {
      this.lastTail = relay.tail.text();
      if (this.relay === relay) this.relay = null;
    });
    this.url = relay.url;
    await pollFor(
      async () => {
        const h = await this.hybrid();
        return h.status === 'healthy' && h.control.state === 'healthy' && h.control.backend === 'session-manager' && h.telemetry.state === 'connected' ? true : undefined;
      },
      30_000,
      'relay healthy against the private daemon',
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${this.relayTail()}`);
    });
    const relayReadyMs = performance.now() - t0;
    const first = await this.spawnAndWait('dockerd outage: a swarm that runs through it', 30_000);
    this.running = { uuid: first.uuid, swarmId: first.swarmId };
    await pollFor(async () => ((await this.swarmAgents(first.swarmId)) > 0 ? true : undefined), 15_000, `agents of ${first.swarmId} in telemetry`, 100);
    this.setupFigures = { daemonStartMs, imageLoadMs: image.loadMs, imageBuildMs: image.buildMs, imageSource: image.source, relayReadyMs, firstSwarmIdMs: first.ms };
    return this.setupFigures;
  }

  private async execFailures(): Promise<Record<string, number>> {
    return HybridPerformanceResponseSchema.parse((await this.get(routes.hybridPerformance.path)).body).execFailures;
  }

  private async swarmAgents(swarmId: string): Promise<number> {
    const s = BotsStatusResponseSchema.parse((await this.get(routes.botsStatus.path)).body);
    return s.connected ? s.agents.filter((a) => a.swarmId === swarmId).length : 0;
  }

  /** One round: stop the daemon with `signal`, observe, start it again, observe recovery. */
  async outage(signal: StopSignal): Promise<OutageRound> {
    const d = this.daemon;
    const pre = this.running;
    if (!d || !pre || !this.url) throw new Error('setup() has not completed');
    if (!this.relay) throw new Error(`the relay exited:\n${this.relayTail()}`);
    // A previous round that failed half-way may have left the daemon down.
    if (!d.running) await d.start();
    await pollFor(async () => ((await this.hybrid()).status === 'healthy' ? true : undefined), 30_000, 'relay healthy before the outage');

    const tSignal = performance.now();
    const stopped = d.stop(signal);
    const hybridDown = await pollFor(
      async () => {
        const h = await this.hybrid();
        return h.control.state === 'unavailable' && h.degraded.some((m) => m.code === 'docker-unavailable') ? h : undefined;
      },
      15_000,
      `relay reports docker-unavailable after ${signal}`,
    );
    const detectMs = performance.now() - tSignal;
    const { exitMs: daemonExitMs } = await stopped;
    // The socket stays gone (SIGTERM) or refuses (SIGKILL) from here on.
    if (await pingSocket(d.socket, 500)) throw new Error('the private daemon still answers after it exited');

    const health = await this.get(routes.health.path);
    const failuresBefore = await this.execFailures();
    const spawns: OutageRound['down']['spawns'] = [];
    for (let i = 0; i < this.spawnsWhileDown; i++) {
      const t = performance.now();
      const r = await this.post(routes.initializeSwarm.path, spawnBody(`dockerd outage: refused while Docker is down (${i + 1})`));
      spawns.push({ status: r.status, body: r.body, retryAfter: r.headers.get('retry-after'), ms: performance.now() - t });
    }
    const failuresAfter = await this.execFailures();
    const sessionsRes = await this.get(routes.sessions.path);
    const sessions = SessionsResponseSchema.safeParse(sessionsRes.body);

    const telemetry: OutageRound['down']['telemetry'] = [];
    const holdUntil = performance.now() + this.holdMs;
    while (performance.now() < holdUntil) {
      const h = await this.hybrid();
      const s = BotsStatusResponseSchema.parse((await this.get(routes.botsStatus.path)).body);
      telemetry.push({ state: h.telemetry.state, ageMs: h.telemetry.ageMs, connected: s.connected, swarmAgents: s.agents.filter((a) => a.swarmId === pre.swarmId).length });
      await sleep(250);
    }
    const hybridLate = await this.hybrid();

    const tStart = performance.now();
    const { readyMs: restartMs } = await d.start();
    const downMs = performance.now() - tSignal;
    const tReady = performance.now();
    const hybridUp = await pollFor(
      async () => {
        const h = await this.hybrid();
        return h.status === 'healthy' && h.control.state === 'healthy' ? h : undefined;
      },
      30_000,
      `relay healthy again after the daemon came back (${signal})`,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${this.relayTail()}`);
    });
    const recoverMs = performance.now() - tReady;
    this.log(`${signal}: daemon back after ${(tReady - tStart).toFixed(0)} ms, relay healthy ${recoverMs.toFixed(0)} ms later`);
    const healthUp = await this.get(routes.health.path);
    const after = await this.spawnAndWait(`dockerd outage: spawned after ${signal}`, 30_000);

    const runningSession = SessionResponseSchema.parse((await this.get(routePath(routes.session.path, { uuid: pre.uuid }))).body).session;
    const list = SessionsResponseSchema.parse((await this.get(routes.sessions.path)).body);
    const replacements = list.sessions.filter((s) => s.replaces === pre.uuid).map((s) => s.uuid);
    const startedAfter = await this.containerStartedAt();

    return {
      figures: {
        signal,
        detectMs,
        daemonExitMs,
        spawnErrorMs: spawns[0]?.ms ?? NaN,
        telemetryMaxAgeMs: Math.max(0, ...telemetry.map((t) => t.ageMs ?? Infinity)),
        downMs,
        restartMs,
        recoverMs,
        spawnSwarmIdMs: after.ms,
      },
      down: {
        health: { status: health.status, body: health.body },
        // The late sample: what the relay settled on while Docker stayed down (the first may race the daemon's exit).
        hybrid: hybridLate.control.state === 'unavailable' ? hybridLate : hybridDown,
        firstReport: hybridDown,
        spawns,
        execFailures: { beforeSpawn: failuresBefore, afterSpawn: failuresAfter },
        sessions: {
          status: sessionsRes.status,
          stale: sessions.success ? sessions.data.stale : null,
          hasRunningSession: sessions.success && sessions.data.sessions.some((s) => s.uuid === pre.uuid),
        },
        telemetry,
      },
      up: {
        health: { status: healthUp.status, body: healthUp.body },
        hybrid: hybridUp,
        spawn: { status: after.status, uuid: after.uuid, swarmId: after.swarmId },
        runningSession,
        replacements,
        containerStartedAt: { before: this.startedAt, after: startedAfter },
        relaySamePid: this.relay !== null && this.relay.child.pid === this.relayPid && this.relay.child.exitCode === null,
      },
    };
  }

  /** Stops the relay and tears the daemon down (idempotent, safe after any failure). */
  close(): Promise<{ daemon: TeardownReport | null; relayStopped: boolean }> {
    this.closing ??= (async () => {
      const relayStopped = this.relay ? await this.relay.stop(5000) : true;
      const daemon = this.daemon ? await this.daemon.close() : null;
      if (this.stateDir) fs.rmSync(this.stateDir, { recursive: true, force: true });
      return { daemon, relayStopped };
    })();
    return this.closing;
  }
}

/** One call for benchmarks: setup, one round per signal, teardown; the figures of each round. */
export async function runDockerdStoppedScenario(o: ScenarioOptions & { signals?: StopSignal[] } = {}): Promise<{
  setup: SetupFigures;
  rounds: DockerdStoppedFigures[];
  teardown: TeardownReport | null;
}> {
  const s = new DockerdOutageScenario(o);
  try {
    const setup = await s.setup();
    const rounds: DockerdStoppedFigures[] = [];
    for (const signal of o.signals ?? (['SIGTERM', 'SIGKILL'] as const)) rounds.push((await s.outage(signal)).figures);
    const { daemon } = await s.close();
    return { setup, rounds, teardown: daemon };
  } finally {
    await s.close();
  }
}
