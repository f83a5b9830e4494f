// The session manager CLI as the control plane sees it: the compiled cli.js run as real child processes
// with HIVE_ROOT in a temp dir. Exact stdout and exit codes of every subcommand, hostile task text and
// flags, 200 concurrent `create --start`, a writer killed mid-write, and start (which hands the session
// to the engine and exits) / pause / resume / stop / reap against real hive-engine processes (and the
// claude-flow path with a stand-in binary).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpClient } from '../engine/client.js';
import { CLI, ROOT, runCli, startEngineProcess, tempRoot, type EngineProc } from '../../testkit/kitProcesses.js';
import { pidAlive } from '../../testkit/processes.js';
import { waitUntil } from '../../testkit/wait.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING = '00000000-0000-4000-8000-000000000000';

/** pids of live processes whose environment carries HIVE_ROOT=<root> (ours: same user, /proc readable). */
function processesWithRoot(root: string): number[] {
  const found: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/environ`, 'utf8').includes(`HIVE_ROOT=${root}\0`)) found.push(Number(d));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

function registryOf(root: string): { sessions: Record<string, Record<string, unknown>> } {
  return JSON.parse(fs.readFileSync(path.join(root, '.swarm/sessions/index.json'), 'utf8'));
}

describe('session manager contract', () => {
  let root = '';
  let env: Record<string, string> = {};
  beforeAll(() => {
    root = tempRoot();
    env = { HIVE_ROOT: root };
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('capabilities prints one JSON line naming the kit and what it supports', async () => {
    const r = await runCli(['capabilities'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toEqual({ kit: 'hivescope', version: '0.1.0', createStart: true, pauseResume: true, reap: true, detachedStart: true, follow: true });
    expect((await runCli(['capabilities', 'extra'], env)).code).toBe(2);
  });

  it('list before anything exists prints the upstream empty registry', async () => {
    expect(await runCli(['list'], env)).toEqual({ code: 0, stdout: '{"sessions": {}}\n', stderr: '' });
  });

  it('init prints nothing and makes the registry', async () => {
    expect(await runCli(['init'], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(registryOf(root).sessions).toEqual({});
  });

  it('create prints the uuid alone; status, get, list, output-dir, log answer per contract', async () => {
    const r = await runCli(['create', 'Build a REST API', 'critical', '{"topology":"ring","maxAgents":5,"strategy":"tactical","agentTypes":["coder","tester"]}'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const uuid = r.stdout.trim();
    expect(uuid).toMatch(UUID);

    expect(await runCli(['status', uuid], env)).toEqual({ code: 0, stdout: 'created\n', stderr: '' });
    const get = await runCli(['get', uuid], env);
    expect(get.code).toBe(0);
    const s = JSON.parse(get.stdout);
    expect(s).toMatchObject({
      session_id: uuid,
      task: 'Build a REST API',
      priority: 'high',
      status: 'created',
      working_dir: path.join(root, '.swarm/sessions', uuid),
      output_dir: path.join(root, 'ext/hive-sessions', uuid),
      metadata: { topology: 'ring', maxAgents: 5, strategy: 'tactical', agentTypes: ['coder', 'tester'] },
      swarm_id: null,
      runner_pid: null,
      replaces: null,
      progress: null,
      agent_count: null,
    });
    for (const k of ['created', 'updated', 'last_activity', 'database', 'log_file']) expect(s).toHaveProperty(k);
    expect(fs.readlinkSync(path.join(root, '.swarm/sessions', uuid, 'output'))).toBe(path.join(root, 'ext/hive-sessions', uuid));

    const list = JSON.parse((await runCli(['list'], env)).stdout);
    expect(list.sessions[uuid]).toMatchObject({ task: 'Build a REST API', status: 'created', dir: s.working_dir, priority: 'high', metadata: s.metadata, swarm_id: null });
    expect(list).toHaveProperty('created');

    expect(await runCli(['output-dir', uuid], env)).toEqual({ code: 0, stdout: `${s.output_dir}\n`, stderr: '' });
    expect(await runCli(['log', uuid], env)).toEqual({ code: 0, stdout: `${s.log_file}\n`, stderr: '' });
    expect(await runCli(['update-status', uuid, 'failed'], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await runCli(['status', uuid], env)).stdout).toBe('failed\n');
    expect(JSON.parse((await runCli(['get', uuid], env)).stdout).status).toBe('failed');
  });

  it('unknown sessions: status prints not_found, get prints the upstream error object, both exit 1', async () => {
    expect(await runCli(['status', MISSING], env)).toEqual({ code: 1, stdout: 'not_found\n', stderr: '' });
    expect(await runCli(['get', MISSING], env)).toEqual({ code: 1, stdout: '{"error": "Session not found"}\n', stderr: '' });
    for (const cmd of ['output-dir', 'log', 'stop', 'pause', 'resume']) {
      const r = await runCli([cmd, MISSING], env);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: .*not found\n$/);
    }
  });

  it('metadata may carry replaces; priority defaults to medium', async () => {
    const r = await runCli(['create', 'respawn', '', `{"replaces":"${MISSING}"}`], env);
    const uuid = r.stdout.trim();
    expect(JSON.parse((await runCli(['get', uuid], env)).stdout)).toMatchObject({ priority: 'medium', replaces: MISSING });
  });

  it('invalid or oversized arguments: one stderr line, exit 2, nothing on stdout, registry unchanged', async () => {
    const before = fs.readFileSync(path.join(root, '.swarm/sessions/index.json'));
    const cases: string[][] = [
      [],
      ['bogus'],
      ['create'],
      ['create', ''],
      ['create', '   \n\t'],
      ['create', 'x'.repeat(8193)],
      ['create', 'é'.repeat(4097)],
      ['create', 'ok', 'urgent'],
      ['create', 'ok', 'low', '{not json'],
      ['create', 'ok', 'low', '[1,2]'],
      ['create', 'ok', 'low', '{"topology":"blob"}'],
      ['create', 'ok', 'low', '{"maxAgents":100000}'],
      ['create', 'ok', 'low', '{"replaces":"../../etc"}'],
      ['create', 'ok', 'low', JSON.stringify({ pad: 'x'.repeat(20_000) })],
      ['create', 'ok', 'low', '{}', 'extra'],
      ['status'],
      ['status', '../../etc/passwd'],
      ['get', 'not-a-uuid'],
      ['update-status', MISSING, 'exploded'],
      ['cleanup', '-1'],
      ['cleanup', 'abc'],
      ['start', '$(reboot)'],
      // The --start / --follow flags: unknown, mis-spelled, valued or misplaced options change nothing.
      ['create', '--start'],
      ['create', '--start', '--'],
      ['create', '--bogus', 'task'],
      ['create', '--start=1', 'task'],
      ['create', 'task', '--START'],
      ['create', '-s', 'task'],
      ['create', '--start', 'task', 'high', '{}', 'extra'],
      ['create', '--start', 'task', 'urgent'],
      ['create', '--start', 'x'.repeat(8193)],
      ['create', '--start', '--', 'ok', 'low', '{"maxAgents":100000}'],
      ['create', '--follow', 'task'],
      ['start', '--start', MISSING],
      ['start', '--follow'],
      ['start', MISSING, '--follow=1'],
      ['start', MISSING, '--follow', 'extra'],
      ['capabilities', '--start'],
    ];
    for (const args of cases) {
      const r = await runCli(args, env);
      expect(r.code, JSON.stringify(args).slice(0, 80)).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
    }
    expect(fs.readFileSync(path.join(root, '.swarm/sessions/index.json')).equals(before)).toBe(true);
  });

  it('stores hostile task text verbatim (quotes, newlines, $(...), backticks, control chars, any Unicode up to 8 KB)', async () => {
    const hostile = [
      `"'"; rm -rf / #`,
      'line1\nline2\r\nline3',
      '$(touch /tmp/pwned) `touch /tmp/pwned2` ${HOME}',
      '\u0001\u0007\u001b[31mred\u001b[0m\u007f\t',
      '{"sessions": {}} \\"',
      '🐝 蜂群 مرحبا 𝕏 \u202e reversed',
      'é'.repeat(4096),
      'a'.repeat(8192),
    ];
    for (const task of hostile) {
      const r = await runCli(['create', task], env);
      expect(r.code).toBe(0);
      const uuid = r.stdout.trim();
      expect(uuid).toMatch(UUID);
      expect(JSON.parse((await runCli(['get', uuid], env)).stdout).task).toBe(task);
      expect(JSON.parse((await runCli(['list'], env)).stdout).sessions[uuid].task).toBe(task);
    }
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  it('a task that looks like a flag is taken verbatim after --; dash text that is not option-shaped needs no --', async () => {
    for (const [args, task] of [
      [['create', '--', '--start'], '--start'],
      [['create', '--', '-rf', 'low'], '-rf'],
      [['create', '--', '--', 'high'], '--'],
      [['create', '- item one\n- item two'], '- item one\n- item two'],
      [['create', '-5 degrees outside', 'low'], '-5 degrees outside'],
    ] as Array<[string[], string]>) {
      const r = await runCli(args, env);
      expect(r, JSON.stringify(args)).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      const s = JSON.parse((await runCli(['get', r.stdout.trim()], env)).stdout);
      expect(s.task).toBe(task);
      expect(s.status).toBe('created'); // none of these started anything
    }
  });

  it('create --start without a reachable engine: the uuid alone on stdout, exit 4, the session failed, one stderr line', async () => {
    const r = await runCli(['create', 'no engine here', 'low', '--start'], { ...env, MCP_PORT: '1', HIVE_ENGINE_WAIT_MS: '300' });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(r.stderr).toMatch(/^error: hive-engine at 127\.0\.0\.1:1 unreachable[^\n]*\n$/);
    const uuid = r.stdout.trim();
    expect(await runCli(['status', uuid], env)).toEqual({ code: 0, stdout: 'failed\n', stderr: '' });
    expect(fs.readFileSync((await runCli(['log', uuid], env)).stdout.trim(), 'utf8')).toMatch(/\[SESSION-MGR\] hive-engine at 127\.0\.0\.1:1 unreachable/);
  });

  it('cleanup removes only finished sessions older than the age, keeps output dirs, reports the count', async () => {
    const done = (await runCli(['create', 'old done'], env)).stdout.trim();
    const live = (await runCli(['create', 'still created'], env)).stdout.trim();
    await runCli(['update-status', done, 'completed'], env);
    expect(await runCli(['cleanup', '1'], env)).toEqual({ code: 0, stdout: 'cleaned 0\n', stderr: '' });
    const reg = registryOf(root);
    const finished = Object.entries(reg.sessions).filter(([, e]) => ['completed', 'failed', 'stopped', 'interrupted'].includes(e.status as string)).map(([u]) => u);
    const r = await runCli(['cleanup', '0'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[lines.length - 1]).toBe(`cleaned ${finished.length}`);
    expect(lines.slice(0, -1).sort()).toEqual(finished.map((u) => `removed ${u}`).sort());
    expect(registryOf(root).sessions[done]).toBeUndefined();
    expect(registryOf(root).sessions[live]).toBeDefined();
    expect(fs.existsSync(path.join(root, '.swarm/sessions', done))).toBe(false);
    expect(fs.existsSync(path.join(root, 'ext/hive-sessions', done))).toBe(true);
  });

  it('never creates <root>/.swarm/memory.db', () => {
    expect(fs.existsSync(path.join(root, '.swarm/memory.db'))).toBe(false);
  });
});

describe('registry under concurrency and crashes', () => {
  it('200 concurrent `create --start` leave a valid registry holding all 200, each handed to the engine, and no process but the engine', async () => {
    const root = tempRoot();
    const engine = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '1', HIVE_SIM_SEED: '5' });
    try {
      const env = { HIVE_ROOT: root, MCP_PORT: String(engine.port), HIVE_ENGINE_WAIT_MS: '120000' };
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => runCli(['create', '--start', '--', `task ${i} "quoted"`], env)));
      const failures = results.filter((r) => r.code !== 0);
      expect(failures.map((f) => f.stderr)).toEqual([]);
      for (const r of results) expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
      const uuids = results.map((r) => r.stdout.trim());
      expect(new Set(uuids).size).toBe(200);
      const reg = registryOf(root);
      expect(Object.keys(reg.sessions).sort()).toEqual([...uuids].sort());
      const tasks = new Set(Object.values(reg.sessions).map((e) => e.task));
      for (let i = 0; i < 200; i++) expect(tasks.has(`task ${i} "quoted"`)).toBe(true);
      for (const e of Object.values(reg.sessions)) {
        expect(['running', 'completed']).toContain(e.status);
        expect(e.swarm_id).toMatch(/^swarm-/);
        expect(e).toMatchObject({ engine: 'simulated', runner_pid: null });
      }
      // No session costs a process: the only one left with this HIVE_ROOT is the engine.
      expect(processesWithRoot(root).filter((pid) => pid !== engine.proc.pid)).toEqual([]);
      const c = new McpClient({ host: '127.0.0.1', port: engine.port });
      await c.connect();
      try {
        const known = await c.callTool<{ sessions: Array<{ session_id: string; owned: boolean; swarm_id: string }> }>('session_list');
        expect(known.sessions.map((x) => x.session_id).sort()).toEqual([...uuids].sort());
        for (const x of known.sessions) expect(x.swarm_id).toBe(reg.sessions[x.session_id]!.swarm_id);
      } finally {
        c.close();
      }
      // The engine writes progress meanwhile (it may hold the lock right now); once it is gone, no lock or temp file is left.
      await engine.stop();
      expect(fs.readdirSync(path.join(root, '.swarm/sessions')).filter((n) => n.startsWith('.lock') || n.includes('.tmp-'))).toEqual([]);
      expect(Object.keys(registryOf(root).sessions)).toHaveLength(200);
    } finally {
      await engine.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);

  it('a writer killed between temp write and rename leaves the old registry intact; the stale lock is broken', async () => {
    const root = tempRoot();
    try {
      const env = { HIVE_ROOT: root };
      const first = (await runCli(['create', 'before the crash'], env)).stdout.trim();
      const before = fs.readFileSync(path.join(root, '.swarm/sessions/index.json'), 'utf8');
      const child = spawn(process.execPath, [CLI, 'create', 'dies mid-write'], {
        env: { ...process.env, ...env, HIVE_TEST_PAUSE_BEFORE_RENAME_MS: '30000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      await waitUntil(() => err.includes('paused before rename of index.json'));
      expect(fs.existsSync(path.join(root, '.swarm/sessions/.lock'))).toBe(true);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      // Readers see the complete old registry (the temp file is a separate file).
      expect(fs.readFileSync(path.join(root, '.swarm/sessions/index.json'), 'utf8')).toBe(before);
      expect((await runCli(['list'], env)).code).toBe(0);
      // The next writer breaks the dead writer's lock and succeeds.
      const next = await runCli(['create', 'after the crash'], env);
      expect(next.code).toBe(0);
      const reg = registryOf(root);
      expect(Object.keys(reg.sessions).sort()).toEqual([first, next.stdout.trim()].sort());
      expect(fs.readdirSync(path.join(root, '.swarm/sessions')).filter((n) => n.includes('.tmp-') || n.startsWith('.lock'))).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('start/pause/resume/stop with the simulated engine (the engine owns the lifecycle)', () => {
  let engine: EngineProc;
  let root = '';
  let env: Record<string, string>;
  let mcp: McpClient;
  beforeAll(async () => {
    root = tempRoot();
    engine = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '12', HIVE_SIM_SEED: '11', MCP_AUTH_TOKEN: 'tok-123' });
    env = { HIVE_ROOT: root, MCP_PORT: String(engine.port), MCP_AUTH_TOKEN: 'tok-123' };
    mcp = new McpClient({ host: '127.0.0.1', port: engine.port, authToken: 'tok-123' });
    await mcp.connect();
  });
  afterAll(async () => {
    mcp.close();
    await engine.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const status = async (uuid: string): Promise<string> => (await runCli(['status', uuid], env)).stdout.trim();
  const engineStatus = async (uuid: string): Promise<string> => (await mcp.callTool<{ status: string }>('session_status', { session_id: uuid })).status;

  it('start hands the session over and exits 0; the swarm runs on, pause/resume reach it, the engine records completed', async () => {
    const uuid = (await runCli(['create', 'Research caching. Implement it, then test and document it', 'high', '{"topology":"hierarchical","maxAgents":6}'], env)).stdout.trim();
    const r = await runCli(['start', uuid], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const e = registryOf(root).sessions[uuid]!;
    expect(e).toMatchObject({ status: 'running', engine: 'simulated', runner_pid: null, agent_count: 6 });
    expect(e.swarm_id).toMatch(/^swarm-/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`[SESSION-MGR] Starting session ${uuid}`);
    expect(lines).toContain(`Swarm ID: ${e.swarm_id}`);
    expect(fs.readFileSync((await runCli(['log', uuid], env)).stdout.trim(), 'utf8')).toContain(`Swarm ID: ${e.swarm_id}`);
    // The start process is gone; the engine runs the swarm.
    expect(['initializing', 'running']).toContain(await engineStatus(uuid));

    expect(await runCli(['pause', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status(uuid)).toBe('paused');
    expect(await engineStatus(uuid)).toBe('paused');
    const t1 = await mcp.callTool<{ tokens_total: number }>('session_metrics', { session_id: uuid });
    await new Promise((res) => setTimeout(res, 400));
    const t2 = await mcp.callTool<{ tokens_total: number }>('session_metrics', { session_id: uuid });
    expect(t2.tokens_total).toBe(t1.tokens_total);
    expect((await runCli(['pause', uuid], env)).code).toBe(0); // idempotent
    expect(await runCli(['resume', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status(uuid)).toBe('running');
    // Resume gives the swarm back the phase it was paused in: on a busy machine the pause can land while
    // the queen is still initializing (as the check after start allows).
    expect(['initializing', 'running']).toContain(await engineStatus(uuid));

    // Nobody but the engine is left to write this.
    await waitUntil(async () => (await status(uuid)) === 'completed', 90_000, 200);
    const done = registryOf(root).sessions[uuid]!;
    expect(done).toMatchObject({ progress: 1, agent_count: 6, swarm_id: e.swarm_id });
    expect(JSON.parse((await runCli(['get', uuid], env)).stdout)).toMatchObject({ status: 'completed', progress: 1 });
    const again = await runCli(['resume', uuid], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*completed, not paused\n$/);
  }, 120_000);

  it('create --start prints only the uuid; the session runs and completes', async () => {
    const r = await runCli(['create', '--start', 'Quick job. Then a check.', 'low', '{"maxAgents":3,"topology":"ring"}'], env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const uuid = r.stdout.trim();
    expect(registryOf(root).sessions[uuid]!.swarm_id).toMatch(/^swarm-/);
    expect(fs.readFileSync((await runCli(['log', uuid], env)).stdout.trim(), 'utf8')).toMatch(/^\[SESSION-MGR\] Starting session /);
    await waitUntil(async () => (await status(uuid)) === 'completed', 90_000, 200);
  }, 120_000);

  it('start --follow stays attached, streams the swarm log, and exits 0 when it completes', async () => {
    const uuid = (await runCli(['create', 'Follow me. Step two.', 'medium', '{"maxAgents":3}'], env)).stdout.trim();
    const r = await runCli(['start', '--follow', uuid], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Swarm ID: swarm-/m);
    expect(r.stdout).toMatch(/^\[HIVE\] /m);
    expect(r.stdout).toMatch(/\[SESSION-MGR\] Swarm swarm-\S+ completed\n$/);
    expect(await status(uuid)).toBe('completed');
  }, 120_000);

  it('stop goes through the engine (status stopped there and here); start of a running session is refused', async () => {
    const uuid = (await runCli(['create', '--start', 'A very long job. Part two. Part three. Part four. Part five.', 'low', '{"maxAgents":12}'], env)).stdout.trim();
    expect(await status(uuid)).toBe('running');
    const again = await runCli(['start', uuid], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: session .* is already running\n$/);
    expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status(uuid)).toBe('stopped');
    expect(await engineStatus(uuid)).toBe('stopped');
    expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' }); // idempotent
    // A stopped session can be started again (a fresh swarm).
    expect((await runCli(['start', uuid], env)).code).toBe(0);
    expect(await status(uuid)).toBe('running');
    expect((await runCli(['stop', uuid], env)).code).toBe(0);
  });

  it('reap leaves sessions the engine runs alone', async () => {
    const uuid = (await runCli(['create', '--start', 'Reap me not. Part two. Part three.', 'low', '{"maxAgents":10}'], env)).stdout.trim();
    expect(await runCli(['reap'], env)).toEqual({ code: 0, stdout: 'reaped 0\n', stderr: '' });
    expect(await status(uuid)).toBe('running');
    await runCli(['stop', uuid], env);
  });
});

describe('reap after an engine restart', () => {
  it('marks interrupted what the new engine does not know; leaves everything (and says so) while no engine answers; a fresh engine on the same root reaps at start', async () => {
    const root = tempRoot();
    const other = tempRoot();
    const engines: EngineProc[] = [];
    try {
      const a = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '1' });
      engines.push(a);
      const envA = { HIVE_ROOT: root, MCP_PORT: String(a.port) };
      const long = '{"maxAgents":10}';
      const u1 = (await runCli(['create', '--start', 'Lost one. Part two. Part three.', 'low', long], envA)).stdout.trim();
      const u2 = (await runCli(['create', '--start', 'Lost two. Part two. Part three.', 'low', long], envA)).stdout.trim();
      const idle = (await runCli(['create', 'never started'], envA)).stdout.trim();
      expect(registryOf(root).sessions[u1]!.status).toBe('running');
      a.proc.kill('SIGKILL'); // dies without writing anything
      await waitUntil(() => a.proc.exitCode !== null || a.proc.signalCode !== null);

      const down = await runCli(['reap'], envA);
      expect(down.code).toBe(0);
      expect(down.stdout).toBe('reaped 0\n');
      expect(down.stderr).toMatch(/^warning: hive-engine at 127\.0\.0\.1:\d+ unreachable .*2 simulated session\(s\) left as they are\n$/);
      expect(registryOf(root).sessions[u1]!.status).toBe('running');

      // An engine keeping another root's registry knows neither session: reap marks both.
      const b = await startEngineProcess({ HIVE_ROOT: other, HIVE_SIM_SPEED: '1' });
      engines.push(b);
      const envB = { HIVE_ROOT: root, MCP_PORT: String(b.port) };
      expect(await runCli(['reap'], envB)).toEqual({ code: 0, stdout: `interrupted ${u1}\ninterrupted ${u2}\nreaped 2\n`, stderr: '' });
      expect(registryOf(root).sessions[u1]).toMatchObject({ status: 'interrupted', runner_pid: null });
      expect(registryOf(root).sessions[idle]!.status).toBe('created');
      expect(await runCli(['reap'], envB)).toEqual({ code: 0, stdout: 'reaped 0\n', stderr: '' });
      // ...and refuses to run a session it could not record.
      const wrong = await runCli(['start', u1], envB);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/records sessions under HIVE_ROOT=/);
      expect(registryOf(root).sessions[u1]!.status).toBe('failed');

      // A fresh engine on the same root marks what the killed one ran, at start.
      const c = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '1' });
      engines.push(c);
      const envC = { HIVE_ROOT: root, MCP_PORT: String(c.port) };
      const u3 = (await runCli(['create', '--start', 'Third. Part two. Part three.', 'low', long], envC)).stdout.trim();
      c.proc.kill('SIGKILL');
      await waitUntil(() => c.proc.exitCode !== null || c.proc.signalCode !== null);
      const d = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SPEED: '1' });
      engines.push(d);
      expect(registryOf(root).sessions[u3]!.status).toBe('interrupted');
    } finally {
      for (const e of engines) await e.stop();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(other, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('start with claude-flow (HIVE_ENGINE=claude-flow, stand-in binary)', () => {
  it('spawns hive-mind spawn detached (objective first, no shell), records ids and the group, exits; pause/resume signal the group, stop runs hive-mind stop and kills it; reap marks a dead group interrupted', async () => {
    const root = tempRoot();
    const record = path.join(root, 'cf.json');
    const env = { HIVE_ROOT: root, HIVE_ENGINE: 'claude-flow', CLAUDE_FLOW_BIN: path.join(ROOT, 'container/testing/fake-claude-flow.mjs'), FAKE_CF_RECORD: record };
    const pids: number[] = [];
    try {
      const task = 'Build "it" $(whoami) `id` --max-workers 99';
      const uuid = (await runCli(['create', task, 'high', '{"strategy":"tactical","maxAgents":4,"agentTypes":["queen","coder","tester"]}'], env)).stdout.trim();
      const r = await runCli(['start', uuid], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Swarm ID: swarm-\d+-ukraioo0q$/m);
      const rec = JSON.parse(fs.readFileSync(record, 'utf8'));
      pids.push(rec.pid);
      expect(rec.argv).toEqual(['hive-mind', 'spawn', task, '--queen-type', 'tactical', '--max-workers', '3', '--workerTypes', 'coder,tester']);
      expect(rec.cwd).toBe(path.join(root, '.swarm/sessions', uuid));
      expect(rec.session).toBe(uuid);
      expect(rec.outputDir).toBe(path.join(root, 'ext/hive-sessions', uuid));
      const e = registryOf(root).sessions[uuid]!;
      expect(e).toMatchObject({ status: 'running', engine: 'claude-flow', runner_pgid: rec.pid, runner_pid: rec.pid });
      expect(e.swarm_id).toMatch(/^swarm-\d+-ukraioo0q$/);
      expect(e.cf_session_id).toMatch(/^session-\d+-ylz7dsrf6$/);
      // Its own process group, output in the session log.
      expect(Number(fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2])).toBe(rec.pid);
      expect(fs.readFileSync((await runCli(['log', uuid], env)).stdout.trim(), 'utf8')).toContain('Swarm is ready for coordination');
      expect(await runCli(['reap'], env)).toEqual({ code: 0, stdout: 'reaped 0\n', stderr: '' });

      expect((await runCli(['pause', uuid], env)).code).toBe(0);
      expect(fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]![0]).toBe('T');
      expect((await runCli(['resume', uuid], env)).code).toBe(0);
      await waitUntil(() => fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]![0] !== 'T');

      expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(JSON.parse(fs.readFileSync(`${record}.stop`, 'utf8')).argv).toEqual(['hive-mind', 'stop', e.cf_session_id]);
      await waitUntil(() => !pidAlive(rec.pid));
      expect(registryOf(root).sessions[uuid]!.status).toBe('stopped');

      // A second one whose group dies behind our back.
      const u2 = (await runCli(['create', '--start', 'second'], env)).stdout.trim();
      const pid2 = registryOf(root).sessions[u2]!.runner_pgid as number;
      pids.push(pid2);
      process.kill(-pid2, 'SIGKILL');
      await waitUntil(() => !pidAlive(pid2));
      expect(await runCli(['reap'], env)).toEqual({ code: 0, stdout: `interrupted ${u2}\nreaped 1\n`, stderr: '' });
    } finally {
      for (const pid of pids) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
