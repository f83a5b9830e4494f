/**
 * Fault scenario: N spawns sent at once to an in-process relay with the embedded hive. Every one is
 * answered, present in the kit's registry exactly once with its own task and listed by the relay, and the
 * registry file stays valid.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../ports.js';
import { inProcessRelay, scenario, stateDir, type FaultResources } from './resources.js';

export interface ConcurrentSpawnFigures {
  requested: number;
  /** Spawns answered 202, and the other answers (status: count). */
  accepted: number;
  refused: Record<string, number>;
  /** First request sent -> last answer. */
  wallMs: number;
  /** Accepted uuids present in the kit's registry file, each once, with its own task text. */
  inRegistry: number;
  /** Accepted uuids the relay lists (GET /api/sessions after the spawns). */
  listed: number;
  /** What is wrong with the registry file (unparseable, bad uuid keys, malformed entries); empty: valid. */
  registryProblems: string[];
  /** This process's RSS growth over the spawns (the relay runs in-process). */
  rssGrowthMb: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATUSES = new Set(['created', 'starting', 'running', 'paused', 'stopped', 'completed', 'failed', 'interrupted']);

/** The kit's registry file checked the way its session manager reads it: parseable, uuid keys, whole entries. */
function registryProblems(file: string): { problems: string[]; entries: Map<string, { task: string }> } {
  const entries = new Map<string, { task: string }>();
  let reg: unknown;
  try {
    reg = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { problems: [`unreadable: ${(e as Error).message.slice(0, 120)}`], entries };
  }
  const sessions = (reg as { sessions?: unknown }).sessions;
  if (typeof sessions !== 'object' || sessions === null) return { problems: ['no sessions object'], entries };
  const problems: string[] = [];
  for (const [uuid, e] of Object.entries(sessions as Record<string, Record<string, unknown>>)) {
    if (!UUID.test(uuid)) problems.push(`key ${uuid.slice(0, 40)} is not a uuid`);
    const ok = typeof e.task === 'string' && typeof e.status === 'string' && STATUSES.has(e.status) && typeof e.created === 'string' && typeof e.dir === 'string';
    if (!ok) problems.push(`entry ${uuid.slice(0, 40)} malformed`);
    else entries.set(uuid, { task: e.task as string });
  }
  return { problems: problems.slice(0, 5), entries };
}

/**
 * N spawns sent at once to an in-process relay with the local driver (the embedded hive): every one
 * answered, present in the kit's registry exactly once with its own task, listed by the relay, and the
 * registry file still valid. The spawn rate limit is lifted for the run (it would refuse most).
 */
export function concurrentSpawns(opts: { resources?: FaultResources; n?: number } = {}): Promise<ConcurrentSpawnFigures> {
  const n = opts.n ?? 200;
  return scenario(opts.resources, async (res) => {
    const dir = stateDir(res);
    const relay = await inProcessRelay(res, { HIVE_DRIVER: 'local', HIVE_STATE_DIR: dir, MCP_PORT: String(await freePort()), HIVE_DEMO: '0', SPAWN_RATE_PER_MIN: String(n * 100) });
    await relay.control.engine?.ready();
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const task = `concurrent spawn ${i} of ${n}`;
        try {
          const r = await fetch(`${relay.url}/api/bots/initialize-swarm`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ topology: 'mesh', maxAgents: 3, agentTypes: ['coder'], customPrompt: task }),
          });
          return { status: String(r.status), uuid: r.status === 202 ? ((await r.json()) as { uuid: string }).uuid : null, task };
        } catch (e) {
          return { status: (e as Error).message.slice(0, 60), uuid: null, task };
        }
      }),
    );
    const wallMs = Date.now() - t0;
    const rssGrowthMb = (process.memoryUsage().rss - rss0) / 1e6;
    const accepted = answers.filter((a) => a.uuid !== null);
    const refused: Record<string, number> = {};
    for (const a of answers) if (a.uuid === null) refused[a.status] = (refused[a.status] ?? 0) + 1;
    const reg = registryProblems(path.join(dir, 'hive/.swarm/sessions/index.json'));
    const inRegistry = new Set(accepted.filter((a) => reg.entries.get(a.uuid!)?.task.includes(a.task)).map((a) => a.uuid)).size;
    const r = await fetch(`${relay.url}/api/sessions`);
    const listedUuids = new Set(r.status === 200 ? ((await r.json()) as { sessions: { uuid: string }[] }).sessions.map((s) => s.uuid) : []);
    return {
      requested: n,
      accepted: accepted.length,
      refused,
      wallMs,
      inRegistry,
      listed: accepted.filter((a) => listedUuids.has(a.uuid!)).length,
      registryProblems: reg.problems,
      rssGrowthMb,
    };
  });
}
