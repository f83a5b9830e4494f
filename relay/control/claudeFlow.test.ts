import { afterEach, describe, expect, it } from 'vitest';
import { routes, InitializeSwarmResponseSchema, SESSION_UUID_PATTERN } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until } from './testing/harness.js';
import { ClaudeFlowBackend, objectiveArg, uuidForForeignSession } from './backends/claudeFlow.js';
import type { ExecDriver, ExecOptions, ExecResult } from './exec.js';
import type { SessionChange } from './planeEvents.js';
import type { FakeDriver } from './testing/fakeDriver.js';

const SESSIONS = (objective: string, sid = 'session-1795219881169-cq461upx2', status = 'active') => `══════════════════════════════
🟢 bgswarm
Session ID: ${sid}
Status: ${status}
Objective: ${objective}
Progress: 25%
Created: 11/21/2026, 12:11:21 AM
Last Updated: 11/21/2026, 12:11:51 AM

Real Progress:
  Agents: 4
  Tasks: 1/4
══════════════════════════════
`;
const STATUS = (objective: string) => `Swarm: bgswarm
ID: swarm-1795219881166-xfgygyoal
Objective: ${objective}
Queen Type: adaptive
Status: active
Created: 11/21/2026, 12:11:21 AM
Total Agents: 4

Agents:
  👑 Queen: Queen Coordinator (active)
  🐝 Workers:
    - Researcher Worker 1 (researcher) busy
    - Coder Worker 2 (coder) idle
Tasks:
  Total: 4
  Completed: 1
`;

/** claude-flow in a container, as far as the backend can see it through exec. */
class ClaudeFlowContainer implements ExecDriver {
  readonly kind = 'docker' as const;
  readonly container = 'cf-test';
  calls: string[][] = [];
  spawned: { objective: string; uuid: string } | null = null;
  stopped = false;
  /** SIGSTOPped: ps shows its processes in state T (pause is judged by the process table). */
  paused = false;
  signals: string[] = [];
  log: { path: string; text: string } | null = null;
  /** The next spawn gives up as 2.7 does on a locked hive.db. */
  giveUp = false;
  async exec(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
    const a = [...argv];
    this.calls.push(a);
    const ok = (stdout = '', stderr = '') => ({ exitCode: 0, stdout, stderr, durationMs: 1, pid: null });
    const j = a.join(' ');
    if (a[1] === 'hive-mind' && a[2] === 'spawn') {
      expect(o.detached).toBe(true);
      this.spawned = { objective: a[3]!.trim(), uuid: a[a.length - 1]! };
      if (this.giveUp) {
        // What 2.7.47 prints when a spawn collides with another on hive.db: it wrote its swarm, then exits.
        this.log = { path: o.outputFile ?? '', text: '- Spawning Hive Mind swarm...\n✖ Failed to spawn Hive Mind swarm\nError: database is locked\n' };
        this.stopped = true;
        return ok();
      }
      this.log = { path: o.outputFile ?? '', text: `🐝 Swarm Summary:\nSwarm ID: swarm-1795219881166-xfgygyoal\nSession ID: session-1795219881169-cq461upx2\nObjective: ${this.spawned.objective}\n` };
      return ok();
    }
    // The spawn's captured output (its summary), which the start reads before the next spawn may run.
    if (a[0] === 'head' && this.log && a[3] === this.log.path) return ok(this.log.text);
    if (j === 'claude-flow hive-mind sessions') return ok(this.spawned && !this.stopped ? SESSIONS(this.spawned.objective) : 'No active or paused sessions found\n');
    if (j === 'claude-flow hive-mind status') return ok(this.spawned && !this.stopped ? STATUS(this.spawned.objective) : 'No active swarms found\n');
    if (a[0] === 'kill') {
      this.signals.push(`${a[1]} ${a[3]}`);
      if (a[1] === '-TERM') this.stopped = true;
      if (a[1] === '-STOP' || a[1] === '-CONT') this.paused = a[1] === '-STOP';
      return ok();
    }
    if (a[1] === 'hive-mind' && a[2] === 'stop') return ok('🛑 Stopped Session Summary:\n');
    if (a[1] === 'hive-mind' && a[2] === 'resume') return ok('resumed\n');
    // No pgrep in the container (busybox): the backend lists processes with ps. The spawn leads its group (a docker exec does).
    if (j === 'ps -eo pid,ppid,pgid,stat,args') {
      const rows = ['  PID  PPID  PGID STAT COMMAND', '    1     0     1 Ss   init'];
      const st = this.paused ? 'T' : 'S';
      if (this.spawned && !this.stopped) rows.push(` 4321     0  4321 ${st}s   node cli.js hive-mind spawn x --hivescope-session ${this.spawned.uuid}`, ` 4325  4321  4321 ${st}    claude --dangerously-skip-permissions`);
      return ok(rows.join('\n') + '\n');
    }
    return { exitCode: 127, stdout: '', stderr: 'not found', durationMs: 1, pid: null };
  }
  async close() {}
}

let h: (Harness & { fake: FakeDriver }) | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

async function cfHarness(timing: { agentsMs?: number } = {}) {
  const drv = new ClaudeFlowContainer();
  h = await startHarness({
    driver: drv,
    env: { HIVE_CONTAINER: 'cf-test' },
    deps: { backend: (run, store) => new ClaudeFlowBackend({ run, store, driverKind: 'docker' }), timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000, listTtlMs: -1, agentsMs: 3_600_000, ...timing } },
  });
  return drv;
}

describe('bare claude-flow backend', () => {
  it('spawns detached (a docker exec leads its own process group: no setsid) tagged with the uuid, then learns session and swarm ids from the text', async () => {
    const drv = await cfHarness();
    const changes: SessionChange[] = [];
    h!.cp.on('session', (c) => changes.push(c));
    const r = await h!.call('POST', routes.initializeSwarm.path, { ...validSpawn, strategy: 'tactical', maxAgents: 4 });
    expect(r.status).toBe(202);
    const { uuid } = InitializeSwarmResponseSchema.parse(r.body);
    await until(() => drv.spawned !== null);
    const spawn = drv.calls.find((c) => c[1] === 'hive-mind' && c[2] === 'spawn')!;
    expect(spawn).toEqual(['claude-flow', 'hive-mind', 'spawn', 'build a REST API', '--queen-type', 'tactical', '--max-workers', '4', '--workerTypes', 'coordinator,coder', '--hivescope-session', uuid]);
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId === 'swarm-1795219881166-xfgygyoal'));
    const s = await h!.cp.getSession(uuid);
    expect(s).toMatchObject({ backend: 'claude-flow', status: 'running', progress: 0.25, agentCount: 4 });
    expect(h!.cp.store.get(uuid)!.cf!.sessionId).toBe('session-1795219881169-cq461upx2');
  });

  it('stop runs hive-mind stop and then ends the spawn\'s process group, which that command does not', async () => {
    const drv = await cfHarness();
    const changes: SessionChange[] = [];
    h!.cp.on('session', (c) => changes.push(c));
    const { uuid } = InitializeSwarmResponseSchema.parse((await h!.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null));
    expect((await h!.call('POST', `/api/bots/pause-task/${uuid}`)).body).toEqual({ uuid, status: 'paused' });
    expect(drv.signals).toEqual(['-STOP -4321']);
    expect((await h!.call('POST', `/api/bots/resume-task/${uuid}`)).body).toEqual({ uuid, status: 'running' });
    expect((await h!.call('DELETE', `/api/bots/remove-task/${uuid}`)).body).toEqual({ uuid, status: 'stopped' });
    const order = drv.calls.map((c) => c.join(' '));
    const stopAt = order.indexOf('claude-flow hive-mind stop session-1795219881169-cq461upx2');
    // endProcesses freezes the spawn's tree, then TERMs its leaves (Claude Code first) while frozen.
    const killAt = order.findIndex((c) => /^kill -TERM (-- -4321|.*\b4325\b)/.test(c));
    expect(stopAt).toBeGreaterThan(-1);
    expect(killAt).toBeGreaterThan(stopAt);
  });

  it("reads the swarm's agents from hive-mind status (MCP never sees them), linked to the session, without metrics", async () => {
    const drv = await cfHarness({ agentsMs: 50 });
    const changes: SessionChange[] = [];
    h!.cp.on('session', (c) => changes.push(c));
    let agentEvents = 0;
    h!.cp.on('agents', () => agentEvents++);
    const { uuid } = InitializeSwarmResponseSchema.parse((await h!.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null));
    await until(() => h!.cp.execAgents().length === 3);
    expect(h!.cp.execAgents()).toEqual([
      { id: 'swarm-1795219881166-xfgygyoal/Queen Coordinator', swarmId: 'swarm-1795219881166-xfgygyoal', sessionUuid: uuid, name: 'Queen Coordinator', type: 'queen', status: 'active', parentQueenId: null },
      { id: 'swarm-1795219881166-xfgygyoal/Researcher Worker 1', swarmId: 'swarm-1795219881166-xfgygyoal', sessionUuid: uuid, name: 'Researcher Worker 1', type: 'researcher', status: 'busy', parentQueenId: 'swarm-1795219881166-xfgygyoal/Queen Coordinator' },
      { id: 'swarm-1795219881166-xfgygyoal/Coder Worker 2', swarmId: 'swarm-1795219881166-xfgygyoal', sessionUuid: uuid, name: 'Coder Worker 2', type: 'coder', status: 'idle', parentQueenId: 'swarm-1795219881166-xfgygyoal/Queen Coordinator' },
    ]);
    drv.stopped = true;
    await until(() => h!.cp.execAgents().length === 0);
    expect(agentEvents).toBeGreaterThanOrEqual(1);
  });

  it('the reaper marks a session whose tagged process is gone as interrupted', async () => {
    const drv = await cfHarness();
    const changes: SessionChange[] = [];
    h!.cp.on('session', (c) => changes.push(c));
    const { uuid } = InitializeSwarmResponseSchema.parse((await h!.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null));
    expect(await h!.cp.reap()).toEqual([]);
    drv.stopped = true; // killed with SIGKILL: claude-flow would still say "active"
    expect(await h!.cp.reap()).toEqual([uuid]);
  });

  it('a spawn that gives up ("database is locked") shows its session failed, and the activity feed says why', async () => {
    const drv = await cfHarness();
    drv.giveUp = true;
    const activity: string[] = [];
    h!.cp.on('activity', (a) => activity.push(a.message));
    const { uuid } = InitializeSwarmResponseSchema.parse((await h!.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(async () => (await h!.cp.getSession(uuid)).status === 'failed');
    expect(activity.find((m) => m.includes(uuid) && m.includes('failed to start'))).toMatch(/hive-mind spawn failed: database is locked \(its log: .+\.log\)/);
  });

  it('shows sessions started outside the relay under a stable uuid', async () => {
    const drv = await cfHarness();
    drv.spawned = { objective: 'someone else', uuid: 'x' };
    const { sessions } = await h!.cp.listSessions();
    const u = uuidForForeignSession('session-1795219881169-cq461upx2');
    expect(u).toMatch(SESSION_UUID_PATTERN);
    expect(sessions).toEqual([expect.objectContaining({ uuid: u, task: 'someone else', status: 'running', backend: 'claude-flow', config: null })]);
  });

  it('keeps an objective that starts with a dash positional', () => {
    expect(objectiveArg('--help me')).toBe(' --help me');
    expect(objectiveArg('build')).toBe('build');
  });
});
