// The session manager CLI as the control plane sees it: the compiled cli.js run as real child processes
// with HIVE_ROOT in a temp dir. Exact stdout and exit codes of every subcommand, hostile task text,
// 200 concurrent creates, a writer killed mid-write, and start/pause/resume/stop/reap against a real
// hive-engine process (and the claude-flow path with a stand-in binary).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpClient } from '../engine/client.js';
import { CLI, pidAlive, ROOT, runCli, startEngineProcess, tempRoot, waitUntil, type EngineProc } from '../testing/cli.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MISSING = '00000000-0000-4000-8000-000000000000';

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
  it('200 concurrent create processes leave a valid registry holding all 200', async () => {
    const root = tempRoot();
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => runCli(['create', `task ${i} "quoted"`], { HIVE_ROOT: root })));
      const failures = results.filter((r) => r.code !== 0);
      expect(failures.map((f) => f.stderr)).toEqual([]);
      const uuids = results.map((r) => r.stdout.trim());
      expect(new Set(uuids).size).toBe(200);
      const reg = registryOf(root);
      expect(Object.keys(reg.sessions).sort()).toEqual([...uuids].sort());
      const tasks = new Set(Object.values(reg.sessions).map((e) => e.task));
      for (let i = 0; i < 200; i++) expect(tasks.has(`task ${i} "quoted"`)).toBe(true);
      expect(fs.readdirSync(path.join(root, '.swarm/sessions')).filter((n) => n.startsWith('.lock') || n.includes('.tmp-'))).toEqual([]);
    } finally {
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

describe('start/pause/resume/stop/reap with the simulated engine', () => {
  let engine: EngineProc;
  let root = '';
  let env: Record<string, string>;
  beforeAll(async () => {
    root = tempRoot();
    engine = await startEngineProcess({ HIVE_SIM_SPEED: '6', HIVE_SIM_SEED: '11', MCP_AUTH_TOKEN: 'tok-123', HIVE_ORPHAN_GRACE_MS: '300' });
    env = { HIVE_ROOT: root, MCP_PORT: String(engine.port), MCP_AUTH_TOKEN: 'tok-123' };
  });
  afterAll(async () => {
    await engine.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const startDetached = (uuid: string): { pid: number; output: () => string } => {
    const child = spawn(process.execPath, [CLI, 'start', uuid], { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return { pid: child.pid!, output: () => out };
  };
  const status = async (uuid: string): Promise<string> => (await runCli(['status', uuid], env)).stdout.trim();

  it('runs a swarm to completed, recording swarm_id, progress and agent_count; pause really pauses', async () => {
    const uuid = (await runCli(['create', 'Research caching. Implement it, then test and document it', 'high', '{"topology":"hierarchical","maxAgents":6}'], env)).stdout.trim();
    const runner = startDetached(uuid);
    await waitUntil(async () => (await status(uuid)) === 'running');
    const e = registryOf(root).sessions[uuid]!;
    expect(e.swarm_id).toMatch(/^swarm-/);
    expect(e.runner_pid).toBe(runner.pid);
    expect(e.engine).toBe('simulated');
    await waitUntil(() => runner.output().includes(`Swarm ID: ${e.swarm_id}`));
    expect(runner.output()).toMatch(/^\[SESSION-MGR\] Starting session /m);

    expect(await runCli(['pause', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status(uuid)).toBe('paused');
    const c = new McpClient({ host: '127.0.0.1', port: engine.port, authToken: 'tok-123' });
    await c.connect();
    try {
      const a = await c.callTool<{ status: string; swarm_id: string }>('session_status', { session_id: uuid });
      expect(a).toMatchObject({ status: 'paused', swarm_id: e.swarm_id });
      const t1 = await c.callTool<{ tokens_total: number }>('session_metrics', { session_id: uuid });
      await new Promise((r) => setTimeout(r, 400));
      const t2 = await c.callTool<{ tokens_total: number }>('session_metrics', { session_id: uuid });
      expect(t2.tokens_total).toBe(t1.tokens_total);
      expect((await runCli(['pause', uuid], env)).code).toBe(0); // idempotent
      expect(await runCli(['resume', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
      expect(await status(uuid)).toBe('running');
      expect((await c.callTool<{ status: string }>('session_status', { session_id: uuid })).status).toBe('running');
    } finally {
      c.close();
    }
    await waitUntil(async () => (await status(uuid)) === 'completed', 90_000, 200);
    const done = registryOf(root).sessions[uuid]!;
    expect(done.progress).toBe(1);
    expect(done.agent_count).toBe(6);
    await waitUntil(() => !pidAlive(runner.pid));
    expect(fs.readFileSync((await runCli(['log', uuid], env)).stdout.trim(), 'utf8')).toContain(`Swarm ID: ${e.swarm_id}`);
    const r = await runCli(['resume', uuid], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*completed, not paused\n$/);
  }, 120_000);

  it('stop ends the runner and the engine ends the swarm; status stopped', async () => {
    const uuid = (await runCli(['create', 'A very long job. Part two. Part three. Part four. Part five.', 'low', '{"maxAgents":12}'], env)).stdout.trim();
    const runner = startDetached(uuid);
    await waitUntil(async () => (await status(uuid)) === 'running');
    const again = await runCli(['start', uuid], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: session .* is already running \(runner pid \d+\)\n$/);
    expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await status(uuid)).toBe('stopped');
    await waitUntil(() => !pidAlive(runner.pid));
    const c = new McpClient({ host: '127.0.0.1', port: engine.port, authToken: 'tok-123' });
    await c.connect();
    try {
      expect((await c.callTool<{ status: string }>('session_status', { session_id: uuid })).status).toBe('stopped');
    } finally {
      c.close();
    }
    expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' }); // idempotent
  });

  it('reap marks sessions whose runner died as interrupted (and the engine drops the orphaned swarm)', async () => {
    const uuid = (await runCli(['create', 'Doomed runner. With parts. And more parts.', 'medium', '{"maxAgents":10}'], env)).stdout.trim();
    const runner = startDetached(uuid);
    await waitUntil(async () => (await status(uuid)) === 'running');
    expect((await runCli(['reap'], env)).stdout).toBe('reaped 0\n');
    process.kill(runner.pid, 'SIGKILL');
    await waitUntil(() => !pidAlive(runner.pid));
    expect(await runCli(['reap'], env)).toEqual({ code: 0, stdout: `interrupted ${uuid}\nreaped 1\n`, stderr: '' });
    expect(await status(uuid)).toBe('interrupted');
    const c = new McpClient({ host: '127.0.0.1', port: engine.port, authToken: 'tok-123' });
    await c.connect();
    try {
      await waitUntil(async () => ['stopped', 'completed'].includes((await c.callTool<{ status: string }>('session_status', { session_id: uuid })).status), 10_000, 100);
    } finally {
      c.close();
    }
  });

  it('a runner that cannot reach the engine fails the session with a message', async () => {
    const uuid = (await runCli(['create', 'nowhere to run'], env)).stdout.trim();
    const r = await runCli(['start', uuid], { ...env, MCP_PORT: '1', HIVE_ENGINE_WAIT_MS: '500' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\[SESSION-MGR\] hive-engine at 127\.0\.0\.1:1 unreachable/);
    expect(await status(uuid)).toBe('failed');
  });
});

describe('start with claude-flow (HIVE_ENGINE=claude-flow, stand-in binary)', () => {
  it('spawns hive-mind spawn with the objective first (no shell), records the swarm id, pause/resume signal the group, stop kills it', async () => {
    const root = tempRoot();
    const record = path.join(root, 'cf.json');
    const env = { HIVE_ROOT: root, HIVE_ENGINE: 'claude-flow', CLAUDE_FLOW_BIN: path.join(ROOT, 'container/testing/fake-claude-flow.mjs'), FAKE_CF_RECORD: record };
    try {
      const task = 'Build "it" $(whoami) `id` --max-workers 99';
      const uuid = (await runCli(['create', task, 'high', '{"strategy":"tactical","maxAgents":4,"agentTypes":["queen","coder","tester"]}'], env)).stdout.trim();
      const child = spawn(process.execPath, [CLI, 'start', uuid], { env: { ...process.env, ...env }, detached: true, stdio: 'ignore' });
      await waitUntil(() => fs.existsSync(record) && registryOf(root).sessions[uuid]?.status === 'running');
      const rec = JSON.parse(fs.readFileSync(record, 'utf8'));
      expect(rec.argv).toEqual(['hive-mind', 'spawn', task, '--queen-type', 'tactical', '--max-workers', '3', '--workerTypes', 'coder,tester']);
      expect(rec.cwd).toBe(path.join(root, '.swarm/sessions', uuid));
      expect(rec.session).toBe(uuid);
      expect(rec.outputDir).toBe(path.join(root, 'ext/hive-sessions', uuid));
      const e = registryOf(root).sessions[uuid]!;
      expect(e.swarm_id).toMatch(/^swarm-\d+-ukraioo0q$/);
      expect(e.engine).toBe('claude-flow');
      expect(e.runner_pgid).toBe(rec.pid);

      expect((await runCli(['pause', uuid], env)).code).toBe(0);
      expect(fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]![0]).toBe('T');
      expect((await runCli(['resume', uuid], env)).code).toBe(0);
      await waitUntil(() => fs.readFileSync(`/proc/${rec.pid}/stat`, 'utf8').split(') ')[1]![0] !== 'T');

      expect(await runCli(['stop', uuid], env)).toEqual({ code: 0, stdout: '', stderr: '' });
      await waitUntil(() => !pidAlive(rec.pid) && !pidAlive(child.pid!));
      expect(registryOf(root).sessions[uuid]!.status).toBe('stopped');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
