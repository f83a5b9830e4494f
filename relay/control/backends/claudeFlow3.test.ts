/** claude-flow 3.x backend against a recording fake container that answers in 3.43.0's recorded formats. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InitializeSwarmResponseSchema, routes } from '../../../shared/api.js';
import type { ExecDriver, ExecOptions, ExecResult } from '../exec.js';
import { StateStore } from '../stateStore.js';
import { startHarness, tmpStateDir, until, validSpawn, type Harness } from '../testing/harness.js';
import * as S from './claudeFlow3.samples.js';
import { AGENT_ID_PATTERN } from './claudeFlow3Parse.js';
import { ClaudeFlow3Backend, POLICY_LOCK_CLEAR, SESSIONS_ROOT, workerPlan } from './claudeFlow3.js';
import { MAX_SESSION_MCP } from './sessionMcp.js';
import type { RunFn, RunOptions, SpawnRequest } from './types.js';

const res = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, durationMs: 1, pid: null });
const STATUS_TEMPLATE = JSON.parse(S.STATUS_JSON_STDOUT) as Record<string, unknown>;
const SPAWN_LINE = S.SPAWN_JSON_STDOUT.split('\n')[0]!; // "[INFO] Spawning 2 worker agent(s)..."
const INIT_TEXT = S.INIT_JSON_STDOUT.slice(0, S.INIT_JSON_STDOUT.indexOf('{'));

interface Hive {
  initialized: boolean;
  ms: number;
  workers: { id: string; type: string }[];
}
interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  args: string;
}

/** One container with claude-flow 3.43.0: a hive per CLAUDE_FLOW_CWD, processes for `--claude` spawns. */
class Cf3Container {
  calls: { argv: string[]; env: Record<string, string>; detached: boolean }[] = [];
  violations: string[] = [];
  /** Lock files the backend asked to clear (POLICY_LOCK_CLEAR). */
  lockClears: string[] = [];
  hives = new Map<string, Hive>();
  procs: Proc[] = [{ pid: 1, ppid: 0, pgid: 1, args: 'node /app/front.js' }];
  claude = false;
  shutdownDoesNothing = false;
  /** shutdowns that fail with 3.x's policy-state-lock-timeout before one works */
  lockTimeouts = 0;
  private clock = 1796422040399;
  private nextPid = 100;

  /** Inits running at once now, and the most seen (3.x's hive id is its init's millisecond). */
  initsInFlight = 0;
  maxInitsInFlight = 0;
  private initMs: number | null = null;

  exec = async (argv: readonly string[], o: { env?: Record<string, string>; detached?: boolean }): Promise<ExecResult> => {
    const a = [...argv];
    if (a[0] === 'claude-flow' && a[1] === 'hive-mind' && a[2] === 'init') {
      this.maxInitsInFlight = Math.max(this.maxInitsInFlight, ++this.initsInFlight);
      // 3.x reads the clock as the init begins; an init takes a while (hundreds of ms for real), so inits
      // that overlap read the same millisecond.
      const ms = this.clock + 1000;
      await new Promise((r) => setTimeout(r, 5));
      this.initsInFlight--;
      this.initMs = ms;
    }
    const env = o.env ?? {};
    this.calls.push({ argv: a, env, detached: !!o.detached });
    if (env.CLAUDE_FLOW_AUTO_UPDATE !== 'false') this.violations.push(`no CLAUDE_FLOW_AUTO_UPDATE=false: ${a.join(' ')}`);
    // The one shell allowed: a constant script with the path as its argument (no text of ours inside it).
    const lockClear = a.length === 4 && a[0] === 'sh' && a[1] === '-c' && a[2] === POLICY_LOCK_CLEAR && a[3]!.startsWith(`${SESSIONS_ROOT}/`);
    if (!lockClear && a.some((x) => x === 'sh' || x === '-c' || x === 'pgrep')) this.violations.push(`shell or pgrep: ${a.join(' ')}`);
    if (lockClear) {
      this.lockClears.push(a[3]!);
      return res('');
    }
    if (a[0] === 'setsid') this.violations.push('setsid orphans the spawn under PID 1 (a zombie when PID 1 does not reap)');
    if (a[0] === 'claude-flow') return this.cf(a.slice(1), env, !!o.detached);
    const j = a.join(' ');
    if (a[0] === 'mkdir') return res('');
    if (j === 'which claude') return this.claude ? res('/usr/local/bin/claude\n') : res('', 1);
    if (j === 'ps -eo pid,ppid,pgid,stat,args') return res(['  PID  PPID  PGID STAT COMMAND', ...this.procs.map((p) => `${p.pid} ${p.ppid} ${p.pgid} S ${p.args}`)].join('\n') + '\n');
    if (a[0] === 'kill') {
      const gone = a[2] === '--' ? (p: Proc) => p.pgid === -Number(a[3]) : (p: Proc) => a.slice(2).includes(String(p.pid));
      if (a[1] !== '-CONT') this.procs = this.procs.filter((p) => !gone(p) || p.pid === 1);
      return res('');
    }
    if (a[0] === 'rm') return res('');
    return res('', 127, `${a[0]}: not found`);
  };

  private cf(a: string[], env: Record<string, string>, detached: boolean): ExecResult {
    if (a[0] !== 'hive-mind') return res('', 1, `[ERROR] Unknown command: ${a[0]}`);
    const dir = env.CLAUDE_FLOW_CWD;
    if (!dir?.startsWith(`${SESSIONS_ROOT}/`)) this.violations.push(`claude-flow outside a session directory: ${a.join(' ')}`);
    const hive = this.hives.get(dir ?? '');
    const flag = (f: string) => (a.includes(f) ? a[a.indexOf(f) + 1]! : null);
    for (const bad of ['--queen-type', '--max-workers', '--workerTypes']) if (a.includes(bad) && !a.includes('--claude')) this.violations.push(`2.7 flag ${bad} on 3.x`);
    switch (a[1]) {
      case 'init': {
        const ms = this.initMs ?? this.clock + 1000;
        this.initMs = null;
        this.clock = Math.max(this.clock, ms);
        this.hives.set(dir!, { initialized: true, ms, workers: [] });
        return res(INIT_TEXT + S.INIT_JSON_STDOUT.slice(INIT_TEXT.length).replaceAll('1796422609767', String(ms)));
      }
      case 'spawn': {
        if (!hive?.initialized) return res('[INFO] Spawning 1 worker agent(s)...\n', 1, '[ERROR] Hive-mind not initialized. Run hive-mind/init first.');
        const n = Math.min(20, Math.max(1, Number(flag('-n') ?? 1)));
        const made = Array.from({ length: n }, (_, i) => ({ id: `hive-worker-${(this.clock += 7)}-${i.toString(36)}x`, type: flag('-t') ?? 'worker' }));
        hive.workers.push(...made);
        if (a.includes('--claude') && this.claude) {
          if (!detached) this.violations.push('--claude spawn not detached');
          const pid = this.nextPid++;
          this.procs.push({ pid, ppid: 0, pgid: pid, args: `node /usr/local/bin/claude-flow ${a.join(' ')}` }, { pid: this.nextPid++, ppid: pid, pgid: pid, args: 'claude --dangerously-skip-permissions prompt' });
          return res('');
        }
        const out = { success: true, spawned: n, workers: made.map((w) => ({ agentId: w.id, role: 'worker', joinedAt: new Date(this.clock).toISOString() })), totalWorkers: hive.workers.length, hiveStatus: 'active', message: `Spawned ${n} worker(s) and joined them to the hive-mind` };
        return res(`${SPAWN_LINE.replace('2', String(n))}\n${JSON.stringify(out, null, 2)}\n`);
      }
      case 'status': {
        const h = hive ?? { initialized: false, ms: Date.now(), workers: [] };
        const doc = {
          ...STATUS_TEMPLATE,
          hiveId: `hive-${h.ms}`,
          id: `hive-${h.ms}`,
          status: h.initialized ? 'active' : 'offline',
          initialized: h.initialized,
          queen: h.initialized ? { ...(STATUS_TEMPLATE.queen as object), id: `queen-${h.ms}`, agentId: `queen-${h.ms}` } : null,
          workers: h.workers.map((w) => ({ id: w.id, type: w.type, status: 'idle', currentTask: null, tasksCompleted: 0 })),
          workerCount: h.workers.length,
        };
        return res(JSON.stringify(doc, null, 2) + '\n');
      }
      case 'shutdown':
        if (this.lockTimeouts > 0) {
          this.lockTimeouts--;
          return res('[INFO] Shutting down hive mind...\n', 1, "[ERROR] Shutdown error: Failed to execute MCP tool 'hive-mind_shutdown': policy-state-lock-timeout");
        }
        if (hive && !this.shutdownDoesNothing) Object.assign(hive, { initialized: false, workers: [] });
        return res('[INFO] Shutting down hive mind...\n\nHive mind shutdown complete\n\n  - Agents terminated: undefined\n');
      default:
        this.violations.push(`3.x has no hive-mind ${a[1]}`);
        return res(S.HIVE_USAGE_STDOUT);
    }
  }
}

const req = (types = ['coordinator', 'coder'], maxAgents = 8): SpawnRequest => ({ task: 'build a REST API', replaces: null, config: { topology: 'mesh', maxAgents, strategy: 'tactical', priority: 'medium', enableNeural: true, agentTypes: types } });

function backend(c = new Cf3Container()) {
  const run: RunFn = (argv, o: RunOptions) => c.exec(argv, o);
  const store = new StateStore(tmpStateDir());
  const b = new ClaudeFlow3Backend({ run, store, driverKind: 'docker', version: '3.43.0', stopTiming: { sleep: async () => undefined, graceMs: 500, pollMs: 250 } });
  return { c, b, store };
}

describe('ClaudeFlow3Backend', () => {
  it('spreads the requested workers over the agent types, at most 20 per call', () => {
    expect(workerPlan(['coordinator', 'coder'], 8)).toEqual([{ type: 'coordinator', count: 4 }, { type: 'coder', count: 4 }]);
    expect(workerPlan(['a_', 'b_', 'c_'], 2)).toEqual([{ type: 'a_', count: 1 }, { type: 'b_', count: 1 }, { type: 'c_', count: 1 }]);
    expect(workerPlan([], 100)).toEqual([{ type: null, count: 20 }]);
  });

  it('spawns in its own directory with the flags 3.x reads, reads state as JSON, links agents to the session', async () => {
    const { c, b, store } = backend();
    const uuid = await b.create(req());
    await b.start(uuid, req());
    const dir = `${SESSIONS_ROOT}/${uuid}`;
    expect(c.calls.map((x) => x.argv.join(' '))).toEqual([
      `mkdir -p ${dir}`,
      'claude-flow hive-mind init -t mesh --format json',
      'which claude',
      'claude-flow hive-mind spawn -n 4 -t coordinator --format json',
      'claude-flow hive-mind spawn -n 4 -t coder --format json',
    ]);
    expect(c.calls.filter((x) => x.argv[0] === 'claude-flow').every((x) => x.env.CLAUDE_FLOW_CWD === dir)).toBe(true);
    const s = await b.get(uuid);
    expect(s).toMatchObject({ status: 'running', swarmId: 'hive-1796422041399', agentCount: 9, backend: 'claude-flow' });
    expect(store.get(uuid)!.swarmId).toBe('hive-1796422041399');
    expect(b.sessionNotes(uuid)).toEqual([expect.stringMatching(/No `claude` binary/)]);
    expect(await b.refreshAgents()).toBe(true);
    const agents = b.execAgents();
    expect(agents).toHaveLength(9);
    expect(agents.every((a) => a.sessionUuid === uuid && a.swarmId === 'hive-1796422041399' && AGENT_ID_PATTERN.test(a.id))).toBe(true);
    expect(agents.filter((a) => a.type === 'coder')).toHaveLength(4);
    expect(agents[1]).toMatchObject({ parentQueenId: 'queen-1796422041399', statusObserved: false, health: null, cpuUsage: null });
    expect(await b.refreshAgents()).toBe(false);
    expect(c.violations).toEqual([]);
  });

  it('with claude present, the last spawn launches Claude Code detached (no setsid), tagged; reap keeps it while it lives', async () => {
    const { c, b } = backend();
    c.claude = true;
    const uuid = await b.create(req(['coder'], 3));
    await b.start(uuid, req(['coder'], 3));
    const spawn = c.calls.find((x) => x.argv.includes('--claude'))!;
    expect(spawn.detached).toBe(true);
    expect(spawn.argv).toEqual(['claude-flow', 'hive-mind', 'spawn', '-n', '3', '-t', 'coder', '--claude', '--queen-type', 'tactical', '-o', 'build a REST API', '--hivescope-session', uuid]);
    expect(b.sessionNotes(uuid)).toEqual([]);
    expect(await b.reap()).toEqual([]);
    c.procs = c.procs.filter((p) => p.pid === 1); // Claude Code exited (or was killed) by itself
    expect(await b.reap()).toEqual([uuid]);
    expect((await b.get(uuid)).status).toBe('interrupted');
    expect(c.violations).toEqual([]);
  });

  it('two sessions keep separate hives; stop ends exactly its own processes and hive and drops its agents', async () => {
    const { c, b } = backend();
    c.claude = true;
    const one = await b.create(req(['coder'], 2));
    await b.start(one, req(['coder'], 2));
    const two = await b.create(req(['tester'], 2));
    await b.start(two, req(['tester'], 2));
    await b.refreshAgents();
    expect(new Set(b.execAgents().map((a) => a.sessionUuid))).toEqual(new Set([one, two]));
    expect(c.procs.filter((p) => p.args.includes(one) || p.args.startsWith('claude'))).toHaveLength(3);
    expect(await b.stop(one)).toBe('stopped');
    expect(c.procs.some((p) => p.args.includes(one))).toBe(false);
    expect(c.procs.some((p) => p.args.includes(two))).toBe(true);
    expect(c.hives.get(`${SESSIONS_ROOT}/${one}`)).toMatchObject({ initialized: false, workers: [] });
    expect(c.hives.get(`${SESSIONS_ROOT}/${two}`)!.workers).toHaveLength(2);
    expect(c.calls.find((x) => x.argv.includes('shutdown'))!.env.CLAUDE_FLOW_CWD).toBe(`${SESSIONS_ROOT}/${one}`);
    // Its processes ended, a policy lock one of them held is checked (its own directory only) before shutdown.
    expect(c.lockClears).toEqual([`${SESSIONS_ROOT}/${one}/.claude-flow/policy/state.lock`]);
    expect(new Set(b.execAgents().map((a) => a.sessionUuid))).toEqual(new Set([two]));
    expect(await b.refreshAgents()).toBe(true);
    expect(c.violations).toEqual([]);
  });

  it('spawns at once never init two hives in the same millisecond: inits run one at a time, hive ids differ', async () => {
    const { c, b } = backend();
    const uuids = await Promise.all([1, 2, 3].map(() => b.create(req(['coder'], 2))));
    await Promise.all(uuids.map((u) => b.start(u, req(['coder'], 2))));
    expect(c.maxInitsInFlight).toBe(1);
    const hiveIds = await Promise.all(uuids.map(async (u) => (await b.get(u)).swarmId));
    expect(new Set(hiveIds).size).toBe(3);
    expect(c.violations).toEqual([]);
  });

  it('stop believes the status, not shutdown\'s "complete": a hive left behind is an error', async () => {
    const { c, b } = backend();
    const uuid = await b.create(req());
    await b.start(uuid, req());
    c.shutdownDoesNothing = true;
    await expect(b.stop(uuid)).rejects.toThrow(/left the hive initialised with 8 worker\(s\); not marked stopped/);
    expect((await b.get(uuid)).status).toBe('running');
  });

  it("stop waits out 3.x's policy-state lock (a few retries), and still reports an error when it never frees", async () => {
    const { c, b } = backend();
    const uuid = await b.create(req());
    await b.start(uuid, req());
    c.lockTimeouts = 2;
    expect(await b.stop(uuid)).toBe('stopped');
    expect(c.calls.filter((x) => x.argv.join(' ') === 'claude-flow hive-mind shutdown --force')).toHaveLength(3);
    const u2 = await b.create(req());
    await b.start(u2, req());
    c.lockTimeouts = 100;
    await expect(b.stop(u2)).rejects.toMatchObject({ kind: 'command-failed', message: expect.stringContaining('policy-state-lock-timeout') });
  });

  it('a hive that vanished (shutdown elsewhere, container lost it) interrupts its session', async () => {
    const { c, b } = backend();
    const uuid = await b.create(req());
    await b.start(uuid, req());
    c.hives.get(`${SESSIONS_ROOT}/${uuid}`)!.initialized = false;
    await b.refreshAgents();
    expect((await b.get(uuid)).status).toBe('interrupted');
    expect(b.execAgents()).toEqual([]);
  });

  it('states what it supports; pause and resume are refused, never faked', async () => {
    const { b } = backend();
    expect(b.describe()).toMatchObject({ kind: 'claude-flow-3', version: '3.43.0', operations: { pause: false, resume: false, stop: true, metrics: false } });
    await expect(b.pause()).rejects.toMatchObject({ kind: 'unsupported', message: expect.stringMatching(/cannot pause/) });
    await expect(b.resume()).rejects.toMatchObject({ kind: 'unsupported' });
  });
});

describe('ClaudeFlow3Backend behind the control plane', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('spawn answers at once with the uuid; the session gets its hive id; pause answers 422 unsupported saying why', async () => {
    const c = new Cf3Container();
    const driver: ExecDriver = { kind: 'docker', container: 'cf3', exec: (argv: readonly string[], o: ExecOptions) => c.exec(argv, o), close: async () => {} };
    h = await startHarness({ driver, env: { HIVE_CONTAINER: 'cf3' }, deps: { backend: (run, store) => new ClaudeFlow3Backend({ run, store, driverKind: 'docker' }), timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000, listTtlMs: -1, agentsMs: 3_600_000 } } });
    const r = await h.call('POST', routes.initializeSwarm.path, validSpawn);
    expect(r.status).toBe(202);
    const { uuid } = InitializeSwarmResponseSchema.parse(r.body);
    await until(async () => (await h!.cp.getSession(uuid)).swarmId !== null);
    const p = await h.call('POST', `/api/bots/pause-task/${uuid}`);
    expect(p.status).toBe(422);
    expect(p.body).toMatchObject({ error: { code: 'unsupported', message: expect.stringMatching(/claude-flow 3.x cannot pause/) } });
    expect(c.violations).toEqual([]);
  });
});

describe('ClaudeFlow3Backend records', () => {
  it('lists a session from create on (before its hive exists), and a start that failed stays listed as failed', async () => {
    const c = new Cf3Container();
    const { b } = backend(c);
    const uuid = await b.create(req());
    expect((await b.list()).sessions.map((s) => [s.uuid, s.status])).toEqual([[uuid, 'created']]);
    c.exec = async () => ({ exitCode: 1, stdout: '', stderr: 'mkdir: permission denied', durationMs: 1, pid: null });
    await expect(b.start(uuid, req())).rejects.toThrow(/mkdir of the session directory exited with 1: mkdir: permission denied/);
    expect((await b.list()).sessions.map((s) => s.status)).toEqual(['failed']);
    expect(await b.stop(uuid)).toBe('stopped');
  });
});

/** A session's MCP server as 3.43.0 answers in that directory (claude-flow-3.md 3.2), over the fake container's hives. */
class FakeSessionMcp {
  state = 'ready';
  reconnects = 0;
  closed = false;
  calls: { name: string; args: Record<string, unknown> }[] = [];
  spawned: { agentId: string; agentType: string }[] = [];
  tasks: Record<string, unknown>[] = [];
  /** Set to answer agent_spawn with this instead. */
  spawnAnswer: unknown = null;
  constructor(
    readonly spec: { argv: readonly string[]; cwd: string; env: Record<string, string> },
    private readonly c: Cf3Container,
  ) {}
  async callTool(name: string, args: Record<string, unknown> = {}): Promise<unknown> {
    this.calls.push({ name, args });
    const h = this.c.hives.get(this.spec.cwd);
    switch (name) {
      case 'hive-mind_status': {
        const st = JSON.parse(this.c['cf'](['hive-mind', 'status'], { CLAUDE_FLOW_CWD: this.spec.cwd, CLAUDE_FLOW_AUTO_UPDATE: 'false' }, false).stdout) as object;
        return st;
      }
      case 'agent_list':
        return { agents: [...(h?.workers ?? []).map((w) => ({ agentId: w.id, agentType: w.type, status: 'idle', health: 1, taskCount: 0, domain: 'hive-mind' })), ...this.spawned.map((a) => ({ ...a, status: 'idle', health: 1, taskCount: 0 }))], total: 0, filters: {} };
      case 'agent_spawn': {
        if (this.spawnAnswer) return this.spawnAnswer;
        if (!/^[a-z-]+$/.test(String(args.agentType))) return { success: false, error: 'Input validation failed: agentType contains disallowed characters' };
        const a = { agentId: `agent-${1796434554847 + this.spawned.length}-m2vyza`, agentType: String(args.agentType) };
        this.spawned.push(a);
        return { success: true, ...a, model: 'sonnet', status: 'registered', createdAt: '2026-12-05T01:35:54.847Z' };
      }
      case 'task_create': {
        const t = { taskId: `task-${1796434554870 + this.tasks.length}-j6yghh`, type: args.type, description: args.description, priority: args.priority, status: 'pending', createdAt: '2026-12-05T01:35:54.870Z', assignedTo: [], tags: [] };
        this.tasks.push(t);
        return t;
      }
      case 'task_list':
        return { tasks: this.tasks, total: this.tasks.length, filters: {} };
      default:
        throw new Error(`Tool not found: ${name}`);
    }
  }
  async close(): Promise<void> {
    this.closed = true;
    this.state = 'closed';
  }
}

function mcpBackend(o: { opener?: boolean } = {}) {
  const c = new Cf3Container();
  const servers: FakeSessionMcp[] = [];
  const run: RunFn = (argv, ro: RunOptions) => c.exec(argv, ro);
  const store = new StateStore(tmpStateDir());
  const opener = (spec: { argv: readonly string[]; cwd: string; env: Record<string, string> }) => {
    const m = new FakeSessionMcp(spec, c);
    servers.push(m);
    return m;
  };
  const b = new ClaudeFlow3Backend({ run, store, driverKind: 'docker', version: '3.43.0', stopTiming: { sleep: async () => undefined, graceMs: 500, pollMs: 250 }, sessionMcp: () => (o.opener === false ? null : opener) });
  return { c, b, store, servers };
}

describe('ClaudeFlow3Backend: one MCP server per running session, in its directory', () => {
  it('opens it with argv only in the session directory; agents spawned through it join the graph linked to the session', async () => {
    const { b, servers } = mcpBackend();
    const uuid = await b.create(req(['coder']));
    await b.start(uuid, req(['coder'], 3));
    await b.refreshAgents();
    expect(servers).toHaveLength(1);
    const dir = `${SESSIONS_ROOT}/${uuid}`;
    expect(servers[0]!.spec).toEqual({ argv: ['claude-flow', 'mcp', 'start'], cwd: dir, env: { CLAUDE_FLOW_AUTO_UPDATE: 'false', CLAUDE_FLOW_CWD: dir } });
    const r = await b.spawnAgentIn(uuid, 'tester');
    expect(r.agentId).toMatch(AGENT_ID_PATTERN);
    expect(servers[0]!.calls.find((c) => c.name === 'agent_spawn')!.args).toEqual({ agentType: 'tester' });
    const agents = b.execAgents();
    const hiveId = agents.find((a) => a.type === 'queen')!.swarmId;
    const spawned = agents.find((a) => a.id === r.agentId)!;
    // In the session's swarm (the hive), linked to the session, metrics unknown (3.x measures none).
    expect(spawned).toMatchObject({ type: 'tester', swarmId: hiveId, sessionUuid: uuid, cpuUsage: null, memoryUsage: null, health: 100 });
    expect(agents.every((a) => a.sessionUuid === uuid && a.swarmId === hiveId)).toBe(true);
    // Still one server after more reads.
    await b.refreshAgents();
    expect(servers).toHaveLength(1);
  });

  it('tasks: task_create in the session (priority in 3.x terms), task_list as 3.x answered it', async () => {
    const { b, servers } = mcpBackend();
    const uuid = await b.create(req(['coder']));
    await b.start(uuid, req(['coder'], 2));
    const t = await b.createTaskIn(uuid, { description: 'write the guide', priority: 'medium' });
    expect(t.taskId).toMatch(/^task-\d{13}-[a-z0-9]{1,6}$/);
    expect(servers[0]!.calls.find((c) => c.name === 'task_create')!.args).toEqual({ type: 'task', description: 'write the guide', priority: 'normal' });
    expect(await b.taskList(uuid)).toMatchObject({ tasks: [{ taskId: t.taskId, description: 'write the guide', status: 'pending' }], total: 1 });
  });

  it("refusals are 4xx that say why, never a claimed success: 3.x's success:false, an id of the wrong shape, no server, a stopped session", async () => {
    const { b, servers } = mcpBackend();
    const uuid = await b.create(req(['coder']));
    await b.start(uuid, req(['coder'], 2));
    await expect(b.spawnAgentIn(uuid, 'bad type!')).rejects.toMatchObject({ kind: 'bad-request', message: expect.stringContaining('disallowed characters') });
    servers[0]!.spawnAnswer = { success: true, agentId: '--rm -rf /' };
    await expect(b.spawnAgentIn(uuid, 'coder')).rejects.toMatchObject({ kind: 'parse-error' });
    servers[0]!.spawnAnswer = 'Tool agent_spawn executed successfully';
    await expect(b.spawnAgentIn(uuid, 'coder')).rejects.toMatchObject({ kind: 'parse-error' });
    expect(await b.stop(uuid)).toBe('stopped');
    expect(servers[0]!.closed).toBe(true);
    await expect(b.spawnAgentIn(uuid, 'coder')).rejects.toMatchObject({ kind: 'conflict', message: expect.stringContaining('stopped') });
    const none = mcpBackend({ opener: false });
    const u2 = await none.b.create(req(['coder']));
    await none.b.start(u2, req(['coder'], 2));
    await expect(none.b.createTaskIn(u2, { description: 'x', priority: 'low' })).rejects.toMatchObject({ kind: 'mcp-unavailable', message: expect.stringContaining("session's directory") });
  });

  it(`at most ${MAX_SESSION_MCP} servers per container; a session that ended has its server closed`, async () => {
    const { b, servers } = mcpBackend();
    const uuids: string[] = [];
    for (let i = 0; i < MAX_SESSION_MCP + 2; i++) {
      const u = await b.create(req(['coder']));
      await b.start(u, req(['coder'], 1));
      uuids.push(u);
    }
    await b.refreshAgents();
    expect(servers).toHaveLength(MAX_SESSION_MCP);
    expect(b.mcp.size).toBe(MAX_SESSION_MCP);
    // Sessions past the cap are still read (by exec): every session's queen is in the graph.
    expect(new Set(b.execAgents().filter((a) => a.type === 'queen').map((a) => a.sessionUuid))).toEqual(new Set(uuids));
    await expect(b.spawnAgentIn(uuids[MAX_SESSION_MCP]!, 'coder')).rejects.toMatchObject({ kind: 'mcp-unavailable', message: expect.stringContaining(`at most ${MAX_SESSION_MCP}`) });
    await b.stop(uuids[0]!);
    expect(servers[0]!.closed).toBe(true);
    await b.refreshAgents();
    expect(b.mcp.size).toBe(MAX_SESSION_MCP);
    expect(servers.filter((s) => !s.closed)).toHaveLength(MAX_SESSION_MCP);
  });
});

describe("3.x's policy-state lock left by a process the stop ended (POLICY_LOCK_CLEAR, run by this machine's sh)", () => {
  const clear = (file: string) => spawnSync('sh', ['-c', POLICY_LOCK_CLEAR, file], { encoding: 'utf8' }).status;
  const dir = () => fs.mkdtempSync(path.join(tmpStateDir(), 'lock-'));

  it("removes a lock whose holder is gone, keeps a live holder's, and one that names no holder yet", () => {
    const d = dir();
    const lock = path.join(d, 'state.lock');
    // A pid that is not running: a child that has exited and been reaped.
    const gone = spawnSync('true').pid!;
    fs.writeFileSync(lock, JSON.stringify({ pid: gone, acquiredAt: Date.now() }));
    expect(clear(lock)).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, acquiredAt: Date.now() }));
    expect(clear(lock)).toBe(3);
    expect(fs.existsSync(lock)).toBe(true);
    fs.writeFileSync(lock, '');
    expect(clear(lock)).toBe(4);
    expect(fs.existsSync(lock)).toBe(true);
    // No lock: nothing to do.
    fs.rmSync(lock);
    expect(clear(lock)).toBe(0);
  });

  it('a hostile path is an argument, never script text', () => {
    const d = dir();
    const odd = path.join(d, 'x"; touch pwned; ".lock');
    fs.writeFileSync(odd, JSON.stringify({ pid: spawnSync('true').pid!, acquiredAt: 0 }));
    expect(spawnSync('sh', ['-c', POLICY_LOCK_CLEAR, odd], { cwd: d }).status).toBe(0);
    expect(fs.existsSync(odd)).toBe(false);
    expect(fs.existsSync(path.join(d, 'pwned'))).toBe(false);
  });
});
