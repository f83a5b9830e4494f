/**
 * Fault scenario b (issue 7): the relay killed with SIGKILL and restarted on the same state dir and port
 * (reserved for the whole scenario, so nothing else takes it while the relay is down). Sessions are listed
 * again with the same uuid -> swarm id, and a browser resuming from its event cursor gets no gap and no
 * duplicate.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../ports.js';
import { killGroup } from '../processes.js';
import { startRelayProcess } from '../relayProcess.js';
import { scenario, stateDir, until, wsClient, type FaultResources } from './resources.js';

export interface RelaySigkillFigures {
  /** Sessions spawned before the kill. */
  sessions: number;
  /** uuid -> swarm id before the kill and as listed after the restart. */
  before: Map<string, string>;
  after: Map<string, string | null>;
  /** Sessions listed after the restart with the same swarm id. */
  sessionsIntact: number;
  /** Relay child started -> listening, first start (the cold-start floor for the restart). */
  firstStartMs: number;
  /** SIGKILL -> restarted relay listening. */
  restartToListeningMs: number;
  /** SIGKILL -> every session listed again with its swarm id. */
  restartToSessionsMs: number;
  /** The browser's event cursor when the relay died, and the last event the relay had persisted. */
  cursor: number;
  lastPersisted: number;
  /** The first event message after resuming (replay true, gap false expected). */
  firstResume: { replay: boolean; gap: boolean };
  /** Every event seq the resuming browser got, in order. */
  seqs: number[];
  /** Any event message flagged `gap`. */
  anyGap: boolean;
  /** Events replayed (written before the kill, after the cursor). */
  replayed: number;
  /** Events the browser got twice: more than once after resuming, or at or below its cursor (it had those). */
  duplicates: number;
  /** Seqs in (cursor, lastPersisted] never received. */
  missing: number;
  /** First seq is cursor + 1 and every next one is the previous + 1. */
  contiguous: boolean;
}

/**
 * The relay (a child process, local driver, embedded engine) killed with SIGKILL and restarted on the
 * same state dir: sessions listed with the same uuid -> swarm id, and a browser resuming from its event
 * cursor gets no gap and no duplicate.
 */
export function relaySigkill(opts: { resources?: FaultResources; sessions?: number } = {}): Promise<RelaySigkillFigures> {
  const n = opts.sessions ?? 3;
  return scenario(opts.resources, async (res) => {
    const dir = stateDir(res);
    const port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      HIVE_DRIVER: 'local',
      HIVE_STATE_DIR: dir,
      MCP_PORT: String(await freePort()),
      HIVE_DEMO: '0',
      HIVE_SIM_SPEED: '10',
      LOG_LEVEL: 'silent',
    };
    const base = `http://127.0.0.1:${port}`;
    const startChild = async (): Promise<ChildProcess> => {
      // Its own process group, so a stop ends it and its embedded engine together.
      const relay = await startRelayProcess(env, { detached: true });
      res.add(async () => {
        await relay.stop(3000);
        killGroup(relay.child.pid, 'SIGKILL');
      });
      return relay.child;
    };
    const sessions = async () => {
      const r = await fetch(`${base}/api/sessions`);
      if (r.status !== 200) throw new Error(`GET /api/sessions answered ${r.status}`);
      return ((await r.json()) as { sessions: { uuid: string; swarmId: string | null }[] }).sessions;
    };

    const t0 = Date.now();
    const first = await startChild();
    const firstStartMs = Date.now() - t0;
    const uuids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await fetch(`${base}/api/bots/initialize-swarm`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ topology: 'mesh', maxAgents: 3, agentTypes: ['coder'], customPrompt: `fault suite session ${i}` }),
      });
      if (r.status !== 202) throw new Error(`spawn ${i} answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
      uuids.push(((await r.json()) as { uuid: string }).uuid);
    }
    const before = new Map<string, string>();
    await until(
      async () => {
        for (const s of await sessions()) if (uuids.includes(s.uuid) && s.swarmId) before.set(s.uuid, s.swarmId);
        return before.size === uuids.length;
      },
      40_000,
      'swarm ids of every session',
    );

    const c1 = await wsClient(res, `ws://127.0.0.1:${port}/wss`);
    c1.hello({ resumeFrom: null });
    const seen = () => c1.of('event').flatMap((e) => e.events);
    await c1.waitFor(() => seen().length > 0, 'events before the kill', 20_000);
    const cursor = Math.max(...seen().map((e) => e.seq));
    // Let the relay log a few events this browser has not seen yet (the swarms keep working): they must
    // be replayed after the restart, since they were written before the kill.
    const persisted = () =>
      fs
        .readFileSync(path.join(dir, 'events.jsonl'), 'utf8')
        .split('\n')
        .flatMap((l) => {
          try {
            return [(JSON.parse(l) as { seq: number }).seq];
          } catch {
            return [];
          }
        });
    await until(() => Math.max(...persisted()) > cursor, 15_000, 'events after the browser cursor');

    const tKill = Date.now();
    first.kill('SIGKILL');
    await new Promise((r) => (first.exitCode !== null || first.signalCode !== null ? r(null) : first.once('exit', r)));
    const lastPersisted = Math.max(...persisted());
    await c1.waitFor((x) => x.closed !== null, 'browser saw the relay go');

    await startChild();
    const tUp = Date.now();
    const after = new Map<string, string | null>();
    const intact = () => uuids.filter((u) => after.get(u) === before.get(u)).length;
    await until(
      async () => {
        after.clear();
        for (const s of await sessions().catch(() => [])) after.set(s.uuid, s.swarmId);
        return intact() === uuids.length;
      },
      20_000,
      'sessions listed with the same swarm ids after the restart',
    ).catch(() => undefined);
    const tSessions = Date.now();

    const c2 = await wsClient(res, `ws://127.0.0.1:${port}/wss`);
    c2.hello({ resumeFrom: cursor });
    await c2.waitFor((x) => x.of('event').length > 0, 'events after resuming', 20_000);
    const firstMsg = c2.of('event')[0]!;
    const seqs = c2.of('event').flatMap((e) => e.events.map((x) => x.seq));
    const got = new Set(seqs);
    let missing = 0;
    for (let s = cursor + 1; s <= lastPersisted; s++) if (!got.has(s)) missing++;
    return {
      sessions: uuids.length,
      before,
      after: new Map(after),
      sessionsIntact: intact(),
      firstStartMs,
      restartToListeningMs: tUp - tKill,
      restartToSessionsMs: tSessions - tKill,
      cursor,
      lastPersisted,
      firstResume: { replay: firstMsg.replay, gap: firstMsg.gap },
      seqs,
      anyGap: c2.of('event').some((e) => e.gap),
      replayed: c2.of('event').filter((e) => e.replay).reduce((k, e) => k + e.events.length, 0),
      duplicates: seqs.length - got.size + seqs.filter((x) => x <= cursor).length,
      missing,
      contiguous: seqs[0] === cursor + 1 && seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1),
    };
  });
}

