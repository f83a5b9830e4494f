/**
 * Test and bench scenario (issues 4 and 7): the real Docker daemon stops under a running relay, then
 * comes back. A private dockerd (container/testing/privateDockerd.ts, live-restore on) runs the kit's
 * image with host networking; the relay runs as `node dist/relay/main.js` with DOCKER_HOST pointing at
 * that daemon's socket, exactly as a user would run it. Each round stops the daemon (SIGTERM, or SIGKILL
 * as in a crash), records what the relay reports and serves meanwhile, starts the daemon again and
 * records how control comes back, with no relay restart.
 *
 * The scenario records and measures; the test asserts on what it recorded. Waits are bounded and throw
 * naming what did not happen. `runDockerdStoppedScenario` is the one-call form for benchmarks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
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
} from '../../../shared/api.js';
import type { Health } from '../../../shared/model/health.js';
import type { Session } from '../../../shared/model/session.js';
import { PrivateDockerd, pingSocket, privateDockerdUnavailableReason, sweepStalePrivateDockerds, type TeardownReport } from '../../../container/testing/privateDockerd.js';
import { repoRoot } from '../paths.js';
import { freePort } from '../../../container/testing/tcp.js';

export const KIT_IMAGE = 'hivescope/multi-agent:latest';
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

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setTimeout(1000, () => s.destroy());
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('close', () => resolve(false));
  });
}

/** Polls `probe` every `everyMs` until it returns a value other than undefined; throws naming `what` after `ms`. */
async function until<T>(probe: () => Promise<T | undefined>, ms: number, what: string, everyMs = 25): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(everyMs);
  }
}

function nodeScript(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: repoRoot(), env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
  });
}

function mainDockerAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 }, (err) => resolve(!err));
  });
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
  private relay: ChildProcess | null = null;
  private relayPid: number | null = null;
  private relayExit: Promise<void> = Promise.resolve();
  private readonly relayLog: string[] = [];
  private stateDir: string | null = null;
  private startedAt = '';
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

  private async get(p: string): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(this.url + p, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  private async post(p: string, json: unknown): Promise<{ status: number; body: unknown; headers: Headers }> {
    const res = await fetch(this.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json), signal: AbortSignal.timeout(30_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }

  private async hybrid(): Promise<Health> {
    return HybridStatusResponseSchema.parse((await this.get(routes.hybridStatus.path)).body);
  }

  private relayTail(): string {
    return this.relayLog.slice(-40).join('\n');
  }

  /** Spawns through HTTP and waits for the swarm id; returns the uuid, swarm id and the time it took. */
  private async spawnAndWait(prompt: string, ms: number): Promise<{ status: number; uuid: string; swarmId: string; ms: number }> {
    const t0 = performance.now();
    const r = await this.post(routes.initializeSwarm.path, spawnBody(prompt));
    if (r.status !== routes.initializeSwarm.status) throw new Error(`spawn answered ${r.status}: ${JSON.stringify(r.body)}`);
    const { uuid } = InitializeSwarmResponseSchema.parse(r.body);
    const swarmId = await until(
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
    let imageBuildMs = 0;
    let imageLoadMs = 0;
    let imageSource: SetupFigures['imageSource'];
    const build = async (env: NodeJS.ProcessEnv) => {
      const t0 = performance.now();
      const r = await nodeScript(['scripts/container.mjs', 'build'], env, 300_000);
      if (r.code !== 0) throw new Error(`node scripts/container.mjs build failed: ${r.out.slice(-2000)}`);
      imageBuildMs += performance.now() - t0;
    };
    if (await mainDockerAnswers()) {
      imageSource = 'loaded-from-main-daemon';
      await build(process.env);
      // Another run may retag the image between build and save: one more try covers it.
      const loaded = await d.loadImageFrom(KIT_IMAGE).catch(async (err: unknown) => {
        this.log(`image load failed once (${(err as Error).message.split('\n')[0]}); rebuilding and retrying`);
        await build(process.env);
        return d.loadImageFrom(KIT_IMAGE);
      });
      imageLoadMs = loaded.ms;
    } else {
      imageSource = 'built-in-private-daemon';
      await build({ ...process.env, DOCKER_HOST: d.host });
    }

    this.mcpPort = await freePort();
    this.container = `hivescope-dockerd-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
    const run = await d.cli(['run', '-d', '--name', this.container, '--network', 'host', '-e', `MCP_PORT=${this.mcpPort}`, '-e', 'HIVE_SIM_SPEED=1', KIT_IMAGE], 60_000);
    if (run.code !== 0) throw new Error(`docker run in the private daemon failed: ${run.stderr.trim()}`);
    await until(async () => ((await tcpOpen(this.mcpPort)) ? true : undefined), 30_000, `kit MCP server on 127.0.0.1:${this.mcpPort}`, 100);
    this.startedAt = await this.containerStartedAt();

    // The relay as users run it: its own process, DOCKER_HOST naming our daemon.
    this.stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-outage-relay-'));
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
    const relay = spawn(process.execPath, [this.relayMain], { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.relay = relay;
    this.relayPid = relay.pid ?? null;
    this.relayExit = new Promise((resolve) => relay.once('exit', () => resolve()));
    relay.once('exit', () => {
      if (this.relay === relay) this.relay = null;
    });
    let listening: ((url: string) => void) | null = null;
    const urlSeen = new Promise<string>((resolve) => (listening = resolve));
    const onLine = (line: string) => {
      this.relayLog.push(line.slice(0, 2000));
      if (this.relayLog.length > 400) this.relayLog.splice(0, 100);
      const m = /hivescope relay listening on (http:\/\/\S+)/.exec(line);
      if (m) listening?.(m[1]!);
    };
    for (const s of [relay.stdout, relay.stderr]) {
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    this.url = await Promise.race([
      urlSeen,
      this.relayExit.then(() => Promise.reject(new Error(`relay exited while starting:\n${this.relayTail()}`))),
      sleep(30_000).then(() => Promise.reject(new Error(`relay did not listen within 30 s:\n${this.relayTail()}`))),
    ]);
    await until(
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
    await until(async () => ((await this.swarmAgents(first.swarmId)) > 0 ? true : undefined), 15_000, `agents of ${first.swarmId} in telemetry`, 100);
    this.setupFigures = { daemonStartMs, imageLoadMs, imageBuildMs, imageSource, relayReadyMs, firstSwarmIdMs: first.ms };
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
    await until(async () => ((await this.hybrid()).status === 'healthy' ? true : undefined), 30_000, 'relay healthy before the outage');

    const tSignal = performance.now();
    const stopped = d.stop(signal);
    const hybridDown = await until(
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
    const hybridUp = await until(
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
        relaySamePid: this.relay !== null && this.relay.pid === this.relayPid && this.relay.exitCode === null,
      },
    };
  }

  /** Stops the relay and tears the daemon down (idempotent, safe after any failure). */
  close(): Promise<{ daemon: TeardownReport | null; relayStopped: boolean }> {
    this.closing ??= (async () => {
      let relayStopped = true;
      const relay = this.relay;
      if (relay && relay.exitCode === null && relay.signalCode === null) {
        relay.kill('SIGTERM');
        const exited = await Promise.race([this.relayExit.then(() => true), sleep(5000).then(() => false)]);
        if (!exited) {
          relay.kill('SIGKILL');
          relayStopped = await Promise.race([this.relayExit.then(() => true), sleep(5000).then(() => false)]);
        }
      }
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
