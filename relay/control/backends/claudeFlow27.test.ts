/** claude-flow 2.7 backend bugs from issue 12: agents read by discovery, stop without pgrep, linking within one status read. */
import { describe, expect, it } from 'vitest';
import { StateStore } from '../stateStore.js';
import { tmpStateDir } from '../testing/harness.js';
import type { ExecResult } from '../exec.js';
import { ClaudeFlowBackend, parseSpawnIds } from './claudeFlow.js';
import { spawnLogPath } from '../console/spawnLog.js';
import type { RunFn, SpawnRequest } from './types.js';

const res = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, durationMs: 1, pid: null });
const req: SpawnRequest = { task: 'build a REST API', replaces: null, config: { topology: 'mesh', maxAgents: 3, strategy: 'strategic', priority: 'medium', enableNeural: false, agentTypes: ['coder'] } };
const STATUS = `Swarm: hive-1
ID: swarm-1795219881166-xfgygyoal
Objective: build a REST API
Status: active
Total Agents: 2

Agents:
  👑 Queen: Queen Coordinator (active)
  🐝 Workers:
    - Coder Worker 1 (coder) idle
Tasks:
  Total: 0
`;

/** What 2.7.47 prints into the captured log: its summary, or (two spawns into a fresh hive.db) a lock failure. */
const SUMMARY = '- Spawning Hive Mind swarm...\n✔ Hive Mind swarm spawned successfully!\n\n🐝 Swarm Summary:\nSwarm ID: swarm-1795219881166-xfgygyoal\nSession ID: session-1795219881169-cq461upx2\nObjective: build a REST API\n';
const LOCKED = '- Spawning Hive Mind swarm...\n✖ Failed to spawn Hive Mind swarm\nError: database is locked\n';

/** 2.7 in a container with busybox: no pgrep, a ps that prints the -o table, a spawn that may ignore TERM. */
function container() {
  const st = {
    calls: [] as string[][],
    swarm: false,
    alive: false,
    ignoreTerm: false,
    ignoreKill: false,
    hasPs: true,
    uuid: '',
    /** Holds the spawn's exec until released (a start still in flight). */
    spawnGate: null as Promise<void> | null,
    /** What the next spawn prints into its captured log: 2.7's summary, its lock failure, or nothing. */
    prints: 'summary' as 'summary' | 'locked' | 'nothing',
    logs: new Map<string, string>(),
  };
  const run: RunFn = async (argv, o) => {
    const a = [...argv];
    st.calls.push(a);
    const j = a.join(' ');
    if (a[1] === 'hive-mind' && a[2] === 'spawn') {
      if (st.spawnGate) await st.spawnGate;
      st.uuid = a[a.length - 1]!;
      st.alive = st.prints !== 'locked';
      if (o.outputFile && st.prints !== 'nothing') st.logs.set(o.outputFile, st.prints === 'summary' ? SUMMARY : LOCKED);
      return res('');
    }
    if (a[0] === 'head') return st.logs.has(a[3]!) ? res(st.logs.get(a[3]!)!) : res('', 1, `head: ${a[3]}: No such file or directory`);
    if (j === 'claude-flow hive-mind status') return res(st.swarm ? STATUS : 'No active swarms found\n');
    if (j === 'claude-flow hive-mind sessions') return res('No active or paused sessions found\n');
    if (a[0] === 'pgrep') return res('', 127, 'pgrep: not found');
    if (j === 'ps -eo pid,ppid,pgid,stat,args') {
      if (!st.hasPs) return res('', 127, 'ps: not found');
      const rows = ['PID   PPID  PGID  STAT  COMMAND', '    1     0     1 S     node /app/server.js'];
      if (st.alive) rows.push(`  700     0   700 S     node cli.js hive-mind spawn build --hivescope-session ${st.uuid}`);
      return res(rows.join('\n') + '\n');
    }
    if (a[0] === 'kill') {
      if (a[1] === '-TERM' && !st.ignoreTerm) st.alive = false;
      if (a[1] === '-KILL' && !st.ignoreKill) st.alive = false;
      return res('');
    }
    return res('', 127, `${a[0]}: not found`);
  };
  return { st, run };
}

/** A backend over container() with one session created and, unless `start: false`, started. */
async function setup(o: { ps?: boolean; start?: boolean } = {}) {
  const c = container();
  c.st.hasPs = o.ps ?? true;
  const store = new StateStore(tmpStateDir());
  const b = new ClaudeFlowBackend({ run: c.run, store, driverKind: 'docker', stopTiming: { sleep: async () => undefined, graceMs: 500, pollMs: 250 } });
  const uuid = await b.create(req);
  if (o.start ?? true) await b.start(uuid, req);
  return { ...c, store, b, uuid };
}

/** Holds the spawn's exec until the returned function is called (a start still in flight). */
function holdSpawn(st: ReturnType<typeof container>['st']): () => void {
  let release!: () => void;
  st.spawnGate = new Promise<void>((r) => (release = r));
  return release;
}

describe('claude-flow 2.7 backend (issue 12)', () => {
  it('agents that discovery read first still reach the graph (compared with what was reported, not what was read)', async () => {
    const { st, b, uuid } = await setup();
    st.swarm = true;
    await b.discover([uuid]);
    expect(b.execAgents()).toHaveLength(2);
    expect(await b.refreshAgents()).toBe(true);
    expect(await b.refreshAgents()).toBe(false);
    st.swarm = false;
    expect(await b.refreshAgents()).toBe(true);
  });

  it('one status read links the session to its swarm (no discovery round needed)', async () => {
    const { st, b, uuid, store } = await setup();
    st.swarm = true;
    await b.refreshAgents();
    expect(store.get(uuid)!.swarmId).toBe('swarm-1795219881166-xfgygyoal');
    expect(b.execAgents().every((a) => a.sessionUuid === uuid)).toBe(true);
    expect((await b.get(uuid)).status).toBe('running');
  });

  it('stop finds the spawn without pgrep, TERMs it and verifies it is gone', async () => {
    const { st, b, uuid } = await setup();
    expect(await b.stop(uuid)).toBe('stopped');
    expect(st.alive).toBe(false);
    expect(st.calls.some((c) => c[0] === 'pgrep')).toBe(false);
    expect(st.calls.map((c) => c.join(' '))).toContain('kill -TERM 700');
  });

  it('stop escalates to KILL when TERM is ignored', async () => {
    const { st, b, uuid } = await setup();
    st.ignoreTerm = true;
    expect(await b.stop(uuid)).toBe('stopped');
    expect(st.calls.map((c) => c.join(' '))).toContain('kill -KILL 700');
  });

  it('stop reports an error, not stopped, when the process survives KILL', async () => {
    const { st, b, uuid } = await setup();
    st.ignoreTerm = true;
    st.ignoreKill = true;
    await expect(b.stop(uuid)).rejects.toThrow(/1 process\(es\) still running after TERM and KILL \(pids 700\)/);
    expect((await b.get(uuid)).status).not.toBe('stopped');
  });

  it('a stop that comes while the spawn is being launched waits for it, ends what it launched, and the session stays stopped', async () => {
    const { st, b, uuid } = await setup({ start: false });
    const release = holdSpawn(st);
    const starting = b.start(uuid, req);
    await new Promise((r) => setTimeout(r, 5));
    const stopping = b.stop(uuid);
    await new Promise((r) => setTimeout(r, 5));
    // The stop has not looked at the process table yet: it waits for the launch to settle.
    expect(st.calls.some((x) => x[0] === 'ps')).toBe(false);
    release();
    await starting;
    expect(await stopping).toBe('stopped');
    expect(st.alive).toBe(false);
    expect(st.calls.map((x) => x.join(' '))).toContain('kill -TERM 700');
    expect((await b.get(uuid)).status).toBe('stopped');
  });

  it('a stop before the start ran launches nothing', async () => {
    const { st, b, uuid } = await setup({ start: false });
    const release = holdSpawn(st);
    const stopping = b.stop(uuid);
    const starting = b.start(uuid, req);
    release();
    await Promise.all([stopping, starting]);
    expect(st.calls.some((x) => x[2] === 'spawn')).toBe(false);
    expect((await b.get(uuid)).status).toBe('stopped');
  });

  it("an ended session's swarm leaves the graph although 2.7's database still lists it active", async () => {
    const { st, b, uuid } = await setup();
    st.swarm = true;
    expect(await b.refreshAgents()).toBe(true);
    expect(b.execAgents()).toHaveLength(2);
    st.alive = false; // the spawn died (killed, or with the container); `hive-mind status` still lists the swarm
    expect(await b.reap()).toEqual([uuid]);
    expect(b.execAgents()).toEqual([]);
    expect(await b.refreshAgents()).toBe(true);
  });

  it('reap does not call dead a session whose spawn started while ps was listing (a restore right after a restart)', async () => {
    const c = container();
    const store = new StateStore(tmpStateDir());
    const b = new ClaudeFlowBackend({ run: (argv, o) => c.run(argv, o), store, driverKind: 'docker' });
    const uuid = await b.create(req);
    const listing = c.run;
    // The spawn is started (and marked starting) while the listing is being taken, which does not show it yet.
    c.run = async (argv, o) => {
      if (argv[0] === 'ps') {
        const r = await listing(argv, o);
        await b.start(uuid, req);
        return r;
      }
      return listing(argv, o);
    };
    expect(await b.reap()).toEqual([]);
    expect((await b.get(uuid)).status).toBe('starting');
  });

  it('reap judges nothing when no process list can be read (never marks everything interrupted)', async () => {
    const { b } = await setup({ ps: false });
    expect(await b.reap()).toEqual([]);
  });

  it('describes itself: kind, version, what it supports', () => {
    const b = new ClaudeFlowBackend({ run: async () => res(''), store: new StateStore(tmpStateDir()), driverKind: 'docker', version: '2.7.47' });
    expect(b.describe()).toMatchObject({ kind: 'claude-flow-2', version: '2.7.47', operations: { pause: true, stop: true } });
  });
});

describe('claude-flow 2.7: two sessions with the same objective (issue 12, found by the bench)', () => {
  const ids = [
    { swarm: 'swarm-1796437679829-nowf7960x', session: 'session-1796437679831-m95hopmt6' },
    { swarm: 'swarm-1796437679901-abcdefghi', session: 'session-1796437679903-jklmnopqr' },
  ];
  /** Both spawns running, listed in the order 2.7 happened to start them (the second first). */
  function twins(o: { logs: boolean }) {
    const calls: string[] = [];
    const logs = new Map<string, string>();
    let n = 0;
    const run: RunFn = async (argv, ro) => {
      const a = [...argv];
      calls.push(a.join(' '));
      if (a[2] === 'spawn') {
        const i = n++;
        // What 2.7 prints (colours, a spinner line, then the summary); logged only when the relay captures output.
        if (o.logs && ro.outputFile) logs.set(ro.outputFile, `\u001b[33m⚠️  Running 'hive-mind spawn' in non-interactive mode\u001b[0m\n- Spawning Hive Mind swarm...\n\u001b[1mSwarm ID:\u001b[0m ${ids[i]!.swarm}\nSession ID: ${ids[i]!.session}\nObjective: build a REST API\n`);
        return res('');
      }
      if (a[0] === 'head') return logs.has(a[3]!) ? res(logs.get(a[3]!)!) : res('', 1, `head: ${a[3]}: No such file or directory`);
      if (a.join(' ') === 'claude-flow hive-mind status') return res([...ids].reverse().map((x) => STATUS.replace('swarm-1795219881166-xfgygyoal', x.swarm)).join('\n'));
      if (a.join(' ') === 'claude-flow hive-mind sessions') {
        const block = (x: (typeof ids)[0]) => `🟢 hive\nSession ID: ${x.session}\nStatus: active\nObjective: build a REST API\nProgress: 0%\nCreated: 12/5/2026, 2:00:00 AM\nLast Updated: 12/5/2026, 2:00:01 AM\n`;
        return res(`${'═'.repeat(40)}\n${[...ids].reverse().map(block).join(`${'═'.repeat(40)}\n`)}${'═'.repeat(40)}\n`);
      }
      return res('', 127, `${a[0]}: not found`);
    };
    const store = new StateStore(tmpStateDir());
    // Without logs a start waits out the settle time for a summary that never comes: short here.
    const b = new ClaudeFlowBackend({ run, store, driverKind: 'docker', spawnSettle: { timeoutMs: o.logs ? 15_000 : 20, pollMs: 5 } });
    return { b, store, calls };
  }

  it('each is linked to the swarm and session its own spawn printed, not the first with that objective', async () => {
    const { b, store } = twins({ logs: true });
    const u1 = await b.create(req);
    await b.start(u1, req);
    const u2 = await b.create(req);
    await b.start(u2, req);
    await b.refreshAgents();
    await b.list();
    expect([store.get(u1)!.swarmId, store.get(u1)!.cf!.sessionId]).toEqual([ids[0]!.swarm, ids[0]!.session]);
    expect([store.get(u2)!.swarmId, store.get(u2)!.cf!.sessionId]).toEqual([ids[1]!.swarm, ids[1]!.session]);
    expect(new Set(b.execAgents().filter((a) => a.swarmId === ids[0]!.swarm).map((a) => a.sessionUuid))).toEqual(new Set([u1]));
  });

  it('without the printed ids the objective names two of each: neither is linked (no guess), and nothing is stopped for it', async () => {
    const { b, store } = twins({ logs: false });
    const u1 = await b.create(req);
    await b.start(u1, req);
    const u2 = await b.create(req);
    await b.start(u2, req);
    await b.refreshAgents();
    const { sessions } = await b.list();
    expect([store.get(u1)!.swarmId, store.get(u2)!.swarmId, store.get(u1)!.cf!.sessionId, store.get(u2)!.cf!.sessionId]).toEqual([null, null, null, null]);
    expect(sessions.filter((s) => s.uuid === u1 || s.uuid === u2).map((s) => s.status)).toEqual(['starting', 'starting']);
  });

  it('hostile logs: ids of the wrong shape, or none, link nothing', async () => {
    const { parseSpawnIds } = await import('./claudeFlow.js');
    expect(parseSpawnIds('Swarm ID: swarm-1; rm -rf /\nSession ID: session-x\n')).toEqual({ swarmId: null, sessionId: null, complete: false, failure: null });
    expect(parseSpawnIds(`Swarm ID: ${ids[0]!.swarm}\n`)).toEqual({ swarmId: ids[0]!.swarm, sessionId: null, complete: false, failure: null });
    expect(parseSpawnIds('x'.repeat(20_000) + `\nSwarm ID: ${ids[0]!.swarm}\n`).swarmId).toBeNull();
  });
});

describe('claude-flow 2.7: the relay\'s spawns run one at a time (two into one hive.db can collide)', () => {
  /** A backend over container() whose starts read the log every few ms, waiting up to `timeoutMs`. */
  function backend(timeoutMs: number) {
    const c = container();
    const store = new StateStore(tmpStateDir());
    const b = new ClaudeFlowBackend({ run: c.run, store, driverKind: 'docker', stopTiming: { sleep: async () => undefined, graceMs: 500, pollMs: 250 }, spawnSettle: { timeoutMs, pollMs: 2 } });
    return { ...c, store, b };
  }
  const spawns = (calls: string[][]) => calls.filter((x) => x[2] === 'spawn').map((x) => x[x.length - 1]);

  it('a second start launches its spawn only once the first printed its summary', async () => {
    const { st, b } = backend(600_000);
    const u1 = await b.create(req);
    const u2 = await b.create(req);
    st.prints = 'nothing';
    const first = b.start(u1, req);
    const second = b.start(u2, req);
    await new Promise((r) => setTimeout(r, 30));
    expect(spawns(st.calls)).toEqual([u1]);
    // The first spawn's summary arrives; only then does the second spawn run.
    st.prints = 'summary';
    st.logs.set(spawnLogPath(u1), SUMMARY);
    await Promise.all([first, second]);
    expect(spawns(st.calls)).toEqual([u1, u2]);
  });

  it('a spawn that gives up ("database is locked") fails its session, saying why and where its log is; the next spawn still runs', async () => {
    const { st, b, store } = backend(600_000);
    const u1 = await b.create(req);
    const u2 = await b.create(req);
    st.prints = 'locked';
    const first = b.start(u1, req);
    await expect(first).rejects.toMatchObject({ kind: 'command-failed', message: `claude-flow hive-mind spawn failed: database is locked (its log: ${spawnLogPath(u1)})` });
    expect(store.get(u1)!.cf!.status).toBe('failed');
    st.prints = 'summary';
    await b.start(u2, req);
    expect(spawns(st.calls)).toEqual([u1, u2]);
    expect(store.get(u2)!.cf!.status).toBe('starting');
  });

  it('a spawn that prints nothing in the settle time is left starting, and the next one runs', async () => {
    const { st, b, store } = backend(20);
    const u1 = await b.create(req);
    const u2 = await b.create(req);
    st.prints = 'nothing';
    await Promise.all([b.start(u1, req), b.start(u2, req)]);
    expect(spawns(st.calls)).toEqual([u1, u2]);
    expect([store.get(u1)!.cf!.status, store.get(u2)!.cf!.status]).toEqual(['starting', 'starting']);
  });

  it('a failure the spawn prints after its start stopped waiting marks the session failed on the next read', async () => {
    const { st, b, store } = backend(20);
    const u1 = await b.create(req);
    st.prints = 'nothing';
    await b.start(u1, req);
    st.logs.set(spawnLogPath(u1), LOCKED);
    st.alive = false;
    const { sessions } = await b.list();
    expect(sessions.find((x) => x.uuid === u1)?.status).toBe('failed');
    expect(store.get(u1)!.swarmId).toBeNull();
  });

  it('a stop while its start waits for the summary ends the wait (it does not sit out the settle time)', async () => {
    // Ten minutes of settle time: were the wait not ended by the stop, this test would time out.
    const { st, b, uuid } = await (async () => {
      const x = backend(600_000);
      const u = await x.b.create(req);
      return { ...x, uuid: u };
    })();
    st.prints = 'nothing';
    const starting = b.start(uuid, req);
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.stop(uuid)).toBe('stopped');
    await starting;
    expect((await b.get(uuid)).status).toBe('stopped');
  });

  it('parses the failure 2.7 prints, and nothing else as one', () => {
    expect(parseSpawnIds(LOCKED)).toEqual({ swarmId: null, sessionId: null, complete: false, failure: 'database is locked' });
    // Coloured (a TTY), with the reason further down.
    expect(parseSpawnIds('\u001b[31m✖\u001b[39m Failed to spawn Hive Mind swarm\n\u001b[31mError:\u001b[39m SQLITE_BUSY: database is locked\n').failure).toBe('SQLITE_BUSY: database is locked');
    // An `Error:` line before the marker is not its reason; a marker without one says so.
    expect(parseSpawnIds('Error: earlier noise\n✖ Failed to spawn Hive Mind swarm\n').failure).toBe('no reason printed');
    // Long reasons are clipped; a summary without the marker is no failure, whatever else it says.
    expect(parseSpawnIds(`✖ Failed to spawn Hive Mind swarm\nError: ${'x'.repeat(5000)}\n`).failure).toBe(`${'x'.repeat(300)}... (4700 more characters)`);
    expect(parseSpawnIds(SUMMARY + 'Error: a task failed later\n')).toMatchObject({ complete: true, failure: null });
    expect(parseSpawnIds('Failed to spawn Hive Mind swarm (quoted in an objective)\n').failure).toBeNull();
  });
});
