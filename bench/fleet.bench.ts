/**
 * The fleet (issue 14) against a fleet of one, measured in the same run: relays in this process over kit
 * targets, each target the kit's real session manager as local processes and its own real kit engine on
 * its own MCP port (the test seam `targetDriver`; no Docker needed, so the rows always run).
 * - spawn answer latency (POST initialize-swarm, target picked) with 4 targets, beside the same with one
 *   target, interleaved so both see the same machine load;
 * - relay memory per target: the V8 heap a 4-target relay holds over a 1-target one, per added target,
 *   beside the 1-target relay's whole heap.
 * These two run without Docker, so a machine without it still measures the fleet. Their Docker
 * counterparts (spawn through docker exec in kit containers, memory with 2000-agent graphs read after a
 * full collection) and the rows only Docker can give (listing 4 x 250 sessions, fan-out of 4 x 2000
 * agents) are in fleet-docker.bench.ts: same questions, the real transport.
 */
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../relay/config.js';
import { startRelay, type RelayHandle } from '../relay/app.js';
import { LocalDriver } from '../relay/control/drivers/local.js';
import { repoRoot } from '../relay/control/paths.js';
import { validSpawn } from '../relay/control/testing/harness.js';
import { HealthSchema } from '../shared/model/health.js';
import { routes } from '../shared/api.js';
import { startEngineProcess, tempRoot, type EngineProc } from '../testkit/kitProcesses.js';
import { makeTempDir } from '../testkit/tempDirs.js';
import { waitUntil } from '../testkit/wait.js';
import { percentile, ratioRow, type BenchContext, type BenchRow } from './types.js';

interface Kit {
  name: string;
  root: string;
  engine: EngineProc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fleetRelay(kits: Kit[]): Promise<RelayHandle> {
  const config = loadConfig({
    PORT: '0',
    HIVE_DRIVER: 'docker',
    HIVE_TARGETS: JSON.stringify(kits.map((k) => ({ name: k.name, container: `hive-${k.name}`, mcp: `127.0.0.1:${k.engine.port}` }))),
    HIVE_STATE_DIR: makeTempDir('hivescope-bench-fleet-'),
    HIVE_DEMO: '0',
    SPAWN_RATE_PER_MIN: '100000',
    LOG_LEVEL: 'silent',
  });
  const relay = await startRelay(config, pino({ level: 'silent' }), {
    control: { embedded: false },
    targetDriver: (t) => {
      const k = kits.find((x) => x.name === t.name)!;
      return new LocalDriver({ env: { HIVE_ROOT: k.root, MCP_HOST: '127.0.0.1', MCP_PORT: String(k.engine.port), MCP_TCP_PORT: String(k.engine.port) }, cwd: repoRoot() });
    },
  });
  await waitUntil(
    async () => {
      const h = HealthSchema.parse(await (await fetch(`${relay.url}${routes.hybridStatus.path}`)).json());
      return (h.targets ?? []).every((t) => t.status === 'healthy');
    },
    30_000,
    100,
    `${kits.length} targets healthy`,
  );
  return relay;
}

async function spawnMs(relay: RelayHandle, i: number): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...validSpawn, customPrompt: `bench fleet ${i}` }) });
  await r.json();
  if (r.status !== 202) throw new Error(`spawn answered ${r.status}`);
  return performance.now() - t;
}

/** V8 heap after a collection when this process may ask for one (node --expose-gc), else after settling. */
async function heapUsed(): Promise<number> {
  await sleep(1500);
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

export default async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const kits: Kit[] = [];
  const relays: RelayHandle[] = [];
  try {
    for (const name of ['t1', 't2', 't3', 't4']) {
      const root = tempRoot(`hive-bench-fleet-${name}-`);
      kits.push({ name, root, engine: await startEngineProcess({ HIVE_ROOT: root }) });
    }
    // Memory first, one relay at a time (a heap cannot be split between two relays in one process).
    const solo = await fleetRelay(kits.slice(0, 1));
    const heap1 = await heapUsed();
    await solo.close();
    const four = await fleetRelay(kits);
    relays.push(four);
    const heap4 = await heapUsed();
    const one = await fleetRelay(kits.slice(0, 1));
    relays.push(one);
    ctx.log(`heap: one target ${(heap1 / 2 ** 20).toFixed(1)} MiB, four ${(heap4 / 2 ** 20).toFixed(1)} MiB`);

    const reps = ctx.quick ? 8 : 24;
    const xs1: number[] = [];
    const xs4: number[] = [];
    for (let i = 0; i < 2; i++) {
      await spawnMs(one, -1);
      await spawnMs(four, -1);
    }
    for (let i = 0; i < reps; i++) {
      xs1.push(await spawnMs(one, i));
      xs4.push(await spawnMs(four, i));
    }
    const gc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    return [
      ratioRow(
        {
          id: 'fleet.spawn.4targets.p50',
          what: `spawn answer latency p50 with 4 targets (picked), ${reps} spawns`,
          ours: { value: percentile(xs4, 0.5), unit: 'ms' },
          floor: { value: percentile(xs1, 0.5), unit: 'ms', name: 'the same with 1 target' },
          goal: 'ratio <= 1.5',
          notes: `p95 ${percentile(xs4, 0.95).toFixed(0)} ms vs ${percentile(xs1, 0.95).toFixed(0)} ms; the kit's session manager as local processes, one kit engine per target`,
        },
        'lower-is-better',
        1.5,
      ),
      ratioRow(
        {
          id: 'fleet.memory.per-target',
          what: 'relay V8 heap per added target (4-target relay minus 1-target relay, / 3)',
          ours: { value: (heap4 - heap1) / 3 / 2 ** 20, unit: 'MiB' },
          floor: { value: heap1 / 2 ** 20, unit: 'MiB', name: 'a 1-target relay\'s whole heap' },
          goal: 'ratio <= 0.5',
          notes: gc ? 'after a forced collection' : 'after 1.5 s of settling (no --expose-gc: includes uncollected garbage)',
        },
        'lower-is-better',
        0.5,
      ),
    ];
  } finally {
    for (const r of relays) await r.close().catch(() => undefined);
    for (const k of kits) await k.engine.stop().catch(() => undefined);
  }
}
