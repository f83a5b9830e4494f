/**
 * Control plane against the physical floor of this machine's Docker: a bare exec of `true` in the same
 * container, measured in the same run. Rows: spawn answer latency (create through the kit's session
 * manager; start runs detached afterwards), listing 1000 sessions (one exec + parse), and 1000 concurrent
 * spawns all present afterwards with the relay's memory, restore after `docker restart`, and `docker
 * pause`/`unpause` detected and recovered from beside Docker's own events. Needs
 * Docker; rows say so when it is missing.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { pino } from 'pino';
import { loadConfig } from '../relay/config.js';
import { ControlPlane } from '../relay/control/controlPlane.js';
import { DockerDriver } from '../relay/control/drivers/docker.js';
import { SessionManagerBackend, SESSION_MANAGER_PATH } from '../relay/control/backends/sessionManager.js';
import { removeContainer, startKitContainer } from '../testkit/kitContainer.js';
import { containerId, noExecStarting, unpauseContainer } from '../testkit/docker.js';
import { marginRow, percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';

const body = {
  topology: 'mesh' as const,
  maxAgents: 5,
  strategy: 'adaptive' as const,
  priority: 'medium' as const,
  enableNeural: true,
  agentTypes: ['coordinator', 'coder'],
  customPrompt: 'bench: build a REST API',
};

function notRun(id: string, what: string, note: string): BenchRow {
  return { id, what, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: 'docker exec true' }, ratio: null, goal: 'ratio <= 1.5', met: null, notes: note };
}

const cliExec = (name: string) =>
  new Promise<number>((resolve, reject) => {
    const t = performance.now();
    execFile('docker', ['exec', name, 'true'], (err) => (err ? reject(err) : resolve(performance.now() - t)));
  });

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  if (!ctx.docker) {
    const note = 'not run: needs a Docker engine (ctx.docker false)';
    return [
      notRun('control.spawn.p50', 'spawn answer latency p50 (create through the session manager)', note),
      notRun('control.list.1000', 'list 1000 sessions (one exec + parse)', note),
      { ...notRun('control.spawn.concurrent', '1000 concurrent spawns all present afterwards', note), goal: 'ratio >= 1 (all present)' },
    ];
  }
  const name = `hivescope-bench-control-${process.pid}`;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-bench-control-'));
  await startKitContainer(name);
  const driver = new DockerDriver(name);
  const config = loadConfig({ HIVE_STATE_DIR: stateDir, HIVE_DRIVER: 'docker', HIVE_CONTAINER: name, SPAWN_RATE_PER_MIN: '100000', EXEC_TIMEOUT_MS: '120000', LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'silent' });
  const quiet = { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000, listTtlMs: 3_600_000, discoverMaxMs: 1 };
  const rows: BenchRow[] = [];
  try {
    const o = { timeoutMs: 30_000, maxOutputBytes: 1 << 20 };
    for (let i = 0; i < 60 && (await driver.exec(['test', '-x', SESSION_MANAGER_PATH], o).catch(() => ({ exitCode: 1 }))).exitCode !== 0; i++) await new Promise((r) => setTimeout(r, 250));

    const floorReps = ctx.quick ? 15 : 40;
    const floorXs: number[] = [];
    const cliXs: number[] = [];
    for (let i = 0; i < 3; i++) await driver.exec(['true'], o); // warm
    const floorSample = async () => {
      for (let i = 0; i < floorReps; i++) {
        floorXs.push((await driver.exec(['true'], o)).durationMs);
        if (i % 4 === 0) cliXs.push(await cliExec(name));
      }
    };

    // 1. Spawn answer latency, interleaved with the floor so both see the same machine load.
    const cp = new ControlPlane(config, logger, new DockerDriver(name), { config, logger, timing: quiet, embedded: false });
    await cp.start();
    const spawnXs: number[] = [];
    const reps = ctx.quick ? 10 : 30;
    await floorSample();
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await cp.spawnSwarm(body);
      spawnXs.push(performance.now() - t);
      floorXs.push((await driver.exec(['true'], o)).durationMs);
    }
    const floorP50 = percentile(floorXs, 0.5);
    rows.push(
      ratioRow(
        {
          id: 'control.spawn.p50',
          what: 'spawn answer latency p50 (initialize-swarm: create through the kit session manager; start detached after)',
          ours: { value: percentile(spawnXs, 0.5), unit: 'ms' },
          floor: { value: floorP50, unit: 'ms', name: 'docker exec true (Engine API)' },
          goal: 'ratio <= 1.5',
          notes: `spawn p95 ${percentile(spawnXs, 0.95).toFixed(1)} ms over ${reps}; floor p95 ${percentile(floorXs, 0.95).toFixed(1)} ms; the docker CLI's \`docker exec ${name} true\` p50 ${percentile(cliXs, 0.5).toFixed(1)} ms. One exec of \`hive-session-manager.sh create --start\`, answered by the running hive-engine over its loopback control port (busybox sh + nc in the container, no Node start-up; the Node CLI answers only when the engine is down).`,
        },
        'lower-is-better',
        1.5,
      ),
    );
    await cp.close();

    // 2. Restore after `docker restart` (before the registry grows large): from the container being back
    //    (its start event) until every session that was running has a replacement answered by the session
    //    manager. The issue's limit is 5 s. Row 1's sessions are running too, so several are restored at once.
    const cp4 = new ControlPlane(config, logger, new DockerDriver(name), { config, logger, timing: { ...quiet, discoverMaxMs: 60_000 }, embedded: false });
    await cp4.start();
    let tBack = 0;
    let tFirst = 0;
    let tAll = 0;
    const replaced = new Set<string>();
    let expected = -1;
    cp4.on('activity', (a) => {
      if (a.kind === 'health' && a.message.endsWith('is running') && tBack === 0) tBack = performance.now();
    });
    cp4.on('session', (c) => {
      if (!c.replaces || expected < 0) return;
      replaced.add(c.replaces);
      if (tFirst === 0) tFirst = performance.now();
      if (replaced.size === expected && tAll === 0) tAll = performance.now();
    });
    const { uuid } = await cp4.spawnSwarm(body);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && cp4.sessions().sessions.find((x) => x.uuid === uuid)?.status !== 'running') {
      await new Promise((r) => setTimeout(r, 100));
      await cp4.refresh().catch(() => undefined);
    }
    expected = cp4.sessions().sessions.filter((x) => x.status === 'running' || x.status === 'starting').length;
    await new Docker().getContainer(name).restart({ t: 1 });
    while (Date.now() < deadline + 30_000 && tAll === 0) await new Promise((r) => setTimeout(r, 20));
    rows.push(
      ratioRow(
        {
          id: 'control.restore.after-restart',
          what: `docker restart: container back (start event) -> all ${expected} running sessions re-spawned (replaces = old uuid)`,
          ours: { value: tAll && tBack ? tAll - tBack : null, unit: 'ms' },
          floor: { value: 5000, unit: 'ms', name: 'issue limit' },
          goal: 'ratio <= 1 (within 5 s)',
          notes: tAll
            ? `first replacement after ${(tFirst - tBack).toFixed(0)} ms; one create --start exec each (answered by the restarted engine), at most 8 at once, beside reap + registry re-read`
            : `${replaced.size} of ${expected} replaced within the deadline`,
        },
        'lower-is-better',
        1,
      ),
    );
    // 2b. `docker pause` (a partition: the container is there but answers nothing) and `docker unpause`,
    //     on the same control plane, no restart: pause -> unavailable with the container-down mode that
    //     names `docker unpause`; unpause -> healthy and a spawn answered. Docker's own event for each is
    //     the floor: the relay cannot know earlier than Docker tells it. Only once the restore above has
    //     finished: an exec in flight when the container freezes hangs until its timeout and holds a slot.
    if (tAll === 0) {
      for (const [id, what] of [
        ['control.pause.detect', 'docker pause -> relay reports unavailable with the container-down mode naming `docker unpause`'],
        ['control.pause.recover', 'docker unpause -> relay healthy, container-down mode gone, same control plane (no relay restart)'],
      ] as const) {
        rows.push({ id, what, ours: { value: null, unit: 'ms' }, floor: { value: null, unit: 'ms', name: "Docker's own event" }, ratio: null, goal: 'ours - floor <= 1000 ms', met: null, notes: 'not run: the restore above had not finished, and pausing would freeze its execs' });
      }
    } else {
      const dockerode = new Docker();
      const c = dockerode.getContainer(name);
      const until = async (pred: () => boolean, ms: number): Promise<number | null> => {
        const t = performance.now();
        while (!pred()) {
          if (performance.now() - t > ms) return null;
          await new Promise((r) => setTimeout(r, 5));
        }
        return performance.now();
      };
      const events = (await dockerode.getEvents({ filters: { container: [name], event: ['pause', 'unpause'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
      const seen: Record<string, number> = {};
      events.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          const status = /"status":"(pause|unpause)"/.exec(line)?.[1];
          if (status && seen[status] === undefined) seen[status] = performance.now();
        }
      });
      await until(() => cp4.health().state === 'healthy', 30_000);
      // Paused when no exec is starting: one frozen mid-start deadlocks dockerd 20.10's unpause (testkit/docker.ts).
      const cid = await containerId(name);
      await noExecStarting(cid);
      const tPause = performance.now();
      await c.pause();
      const tDown = await until(() => cp4.health().state === 'unavailable' && cp4.degraded().some((m) => m.code === 'container-down' && m.action === `docker unpause ${name}`), 10_000);
      const downSpawn = await cp4.spawnSwarm(body).then(
        () => 'answered',
        (e: unknown) => (e as { kind?: string }).kind ?? 'error',
      );
      const tUnpause = performance.now();
      // Through the test kit: if an exec froze mid-start anyway, a bare unpause would hang this bench for
      // good; the kit thaws it (after 15 s), and the row says so. Docker's event is late by as much then.
      const how = await unpauseContainer(name, cid);
      const tUp = await until(() => cp4.health().state === 'healthy' && !cp4.degraded().some((m) => m.code === 'container-down'), 15_000);
      const modesAfter = cp4.degraded().map((m) => m.code);
      const stateAfter = cp4.health().state;
      const t0 = performance.now();
      const after = await cp4.spawnSwarm(body).then(
        () => performance.now() - t0,
        () => null,
      );
      events.destroy?.();
      const evPause = seen.pause !== undefined ? seen.pause - tPause : null;
      const evUnpause = seen.unpause !== undefined ? seen.unpause - tUnpause : null;
      const recover = marginRow(
        {
          id: 'control.pause.recover',
          what: 'docker unpause -> relay healthy, container-down mode gone, same control plane (no relay restart)',
          ours: { value: tUp === null ? null : tUp - tUnpause, unit: 'ms' },
          floor: { value: evUnpause, unit: 'ms', name: "Docker's unpause event reaching this process" },
          notes: `${how === 'thawed' ? 'docker unpause hung (an exec frozen mid-start, dockerd 20.10) and the cgroup was thawed by hand; ' : ''}${after === null ? 'a spawn after unpause failed' : `a spawn after unpause answered in ${after.toFixed(0)} ms`}; control ${stateAfter}, degraded modes [${modesAfter.join(', ')}]`,
        },
        1000,
      );
      rows.push(
        marginRow(
          {
            id: 'control.pause.detect',
            what: 'docker pause -> relay reports unavailable with the container-down mode naming `docker unpause`',
            ours: { value: tDown === null ? null : tDown - tPause, unit: 'ms' },
            floor: { value: evPause, unit: 'ms', name: "Docker's pause event reaching this process" },
            notes: `a spawn while paused: ${downSpawn}`,
          },
          1000,
          'issue 4: detected within a second',
        ),
        // Recovered means a spawn works again too.
        { ...recover, met: recover.met === true && after !== null },
      );
    }
    await cp4.close();

    // 3. 1000 concurrent spawns (one `create --start` exec each: the swarms run in the engine; a kit without
    //    create --start would need a second exec per spawn, which this row skips).
    const n = ctx.quick ? 200 : 1000;
    const cp2 = new ControlPlane(config, logger, new DockerDriver(name), {
      config,
      logger,
      timing: quiet,
      embedded: false,
      backend: (runFn) => {
        const b = new SessionManagerBackend(runFn, [SESSION_MANAGER_PATH]);
        b.start = async () => {};
        return b;
      },
    });
    await cp2.start();
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    // Deadline so a loaded machine still yields rows (the runner kills a bench file after 7 minutes).
    const budgetMs = ctx.quick ? 90_000 : 300_000;
    const ok = new Set<string>();
    let failed = 0;
    const all = Promise.allSettled(
      Array.from({ length: n }, () =>
        cp2.spawnSwarm(body).then(
          (r) => void ok.add(r.uuid),
          () => void failed++,
        ),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), budgetMs)))]);
    clearTimeout(timer);
    const wall = performance.now() - t0;
    const rss1 = process.memoryUsage().rss;
    // Spawns still queued at a deadline fail here (driver closed) instead of holding the exec slots.
    await cp2.close();
    const cp3 = new ControlPlane(config, logger, new DockerDriver(name), { config, logger, timing: quiet, embedded: false });
    await cp3.start();
    // The kit's CLI currently cuts piped output at the pipe buffer when it exits (see notes): say so.
    const listError = await cp3.refresh().then(
      () => null,
      (err: unknown) => (err as Error).message.slice(0, 160),
    );
    const listed = new Set(cp3.sessions().sessions.map((s) => s.uuid));
    const present = listError ? null : [...ok].filter((u) => listed.has(u)).length;
    rows.push(
      ratioRow(
        {
          id: 'control.spawn.concurrent',
          what: `${n} concurrent spawns all present in the registry afterwards`,
          ours: { value: present, unit: 'sessions' },
          floor: { value: n, unit: 'sessions', name: 'spawns requested' },
          goal: 'ratio >= 1 (all present)',
          notes: `${listError ? `presence not measurable: list failed (${listError}); the kit's session manager truncates piped output over the pipe buffer (process.exit after write). ` : ''}${ok.size} answered 202, ${failed} failed${timedOut ? `, ${n - ok.size - failed} still queued at the ${budgetMs / 1000} s deadline` : ''}; wall ${(wall / 1000).toFixed(1)} s (execs bounded to 8 at once); relay RSS ${(rss1 / 2 ** 20).toFixed(0)} MiB (+${((rss1 - rss0) / 2 ** 20).toFixed(1)} MiB). Each is one \`create --start\` exec, so every swarm also runs in the engine afterwards.`,
        },
        'higher-is-better',
        1,
      ),
    );


    // 4. Listing with >= 1000 sessions: one exec + parse, beside the same floor.
    const listXs: number[] = [];
    const floor2: number[] = [];
    let listFailure: string | null = null;
    for (let i = 0; i < (ctx.quick ? 5 : 15) && listFailure === null; i++) {
      const t = performance.now();
      listFailure = await cp3.refresh().then(
        () => null,
        (err: unknown) => (err as Error).message.slice(0, 160),
      );
      listXs.push(performance.now() - t);
      floor2.push((await driver.exec(['true'], o)).durationMs);
    }
    rows.push(
      ratioRow(
        {
          id: 'control.list.1000',
          what: `list ${listFailure ? 'all' : cp3.sessions().sessions.length} sessions (one exec of the session manager + parse)`,
          ours: { value: listFailure ? null : percentile(listXs, 0.5), unit: 'ms' },
          floor: { value: percentile(floor2, 0.5), unit: 'ms', name: 'docker exec true (Engine API)' },
          goal: 'ratio <= 2',
          notes: listFailure ? `list failed: ${listFailure} (the kit's session manager truncates piped output over the pipe buffer: process.exit after write)` : `p95 ${percentile(listXs, 0.95).toFixed(1)} ms; HTTP GET /api/sessions serves the cache (no exec) between refreshes.`,
        },
        'lower-is-better',
        2,
      ),
    );
    await cp3.close();

  } finally {
    await driver.close();
    await removeContainer(name);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  return rows;
}
