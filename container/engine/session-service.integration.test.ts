// The session manager's fast path: the image's hive-session-manager.sh (run here under busybox sh with
// busybox's nc, as in the image) against a real hive-engine process that serves create/list/status/get
// on its control port. Proven by running without `node` on PATH: a command that would have needed the
// Node CLI fails with 127 there. Every served answer is checked against the CLI's for the same input;
// fallback to the CLI when the engine is gone, killed, or does not know the token; hostile requests.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpClient } from './client.js';
import { encodeAnswer, parseRequest } from './session-service.js';
import { BUSYBOX, runCli, runScript, scriptPath, startEngineProcess, tempRoot, type EngineProc } from '../../testkit/kitProcesses.js';
import { waitUntil } from '../../testkit/wait.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ctlOf = (root: string): string => path.join(root, '.swarm/engine.ctl');
const registryOf = (root: string): { sessions: Record<string, Record<string, unknown>> } =>
  JSON.parse(fs.readFileSync(path.join(root, '.swarm/sessions/index.json'), 'utf8'));

/** One raw request to the control port; resolves with everything it answered. */
function raw(port: number, payload: Buffer, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(payload, () => (halfClose ? s.end() : undefined));
  });
}

describe('framing', () => {
  it('parses NUL-terminated fields, refuses an unterminated request, and encodes one stderr line', () => {
    expect(parseRequest(Buffer.from('tok\0create\0a b\0\0'))).toEqual(['tok', 'create', 'a b', '']);
    expect(parseRequest(Buffer.from('tok\0create'))).toBeNull();
    expect(parseRequest(Buffer.alloc(0))).toBeNull();
    expect(encodeAnswer({ code: 2, out: 'x\ny\n', err: 'error: a\nb' })).toBe('2\nerror: a b\nx\ny\n');
  });
});

describe.skipIf(!BUSYBOX)('hive-session-manager.sh served by hive-engine', () => {
  let root = '';
  let engine: EngineProc;
  let noNode = '';
  let withNode = '';
  let env: Record<string, string> = {};

  beforeAll(async () => {
    root = tempRoot();
    engine = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SEED: '3' });
    env = { HIVE_ROOT: root, MCP_PORT: String(engine.port) };
    noNode = scriptPath(false);
    withNode = scriptPath(true);
    await waitUntil(() => fs.existsSync(ctlOf(root)));
  });
  afterAll(async () => {
    await engine?.stop();
    for (const d of [root, noNode, withNode]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('publishes its port and token only to the owner (0600)', () => {
    const st = fs.statSync(ctlOf(root));
    expect(st.mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(ctlOf(root), 'utf8')).toMatch(/^\d+ [0-9a-f]{48}\n$/);
  });

  it('answers capabilities and the empty list exactly as the CLI does, without Node', async () => {
    for (const args of [['capabilities'], ['list'], ['capabilities', 'extra']]) {
      const fast = await runScript(args, env, noNode);
      const cli = await runCli(args, env);
      expect(fast).toEqual(cli);
    }
  });

  it('create --start: one uuid, the session born running with its swarm id, owned by the engine', async () => {
    const task = `review $(touch ${root}/pwned); rm -rf / \`id\` "quoted" 'single'\nline two\t\\ end`;
    const r = await runScript(['create', '--start', '--', task, 'critical', JSON.stringify({ topology: 'mesh', maxAgents: 4 })], env, noNode);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${UUID.source.slice(1, -1)}\\n$`));
    const uuid = r.stdout.trim();
    expect(fs.existsSync(path.join(root, 'pwned'))).toBe(false);
    const e = registryOf(root).sessions[uuid]!;
    expect(e).toMatchObject({ task, priority: 'high', status: 'running', engine: 'simulated', runner_pid: null, metadata: { topology: 'mesh', maxAgents: 4 } });
    expect(e.swarm_id).toMatch(/^swarm-/);
    const sf = JSON.parse(fs.readFileSync(path.join(root, '.swarm/sessions', uuid, 'session.json'), 'utf8'));
    expect(sf).toMatchObject({ session_id: uuid, status: 'running', swarm_id: e.swarm_id });
    expect(fs.realpathSync(path.join(root, '.swarm/sessions', uuid, 'output'))).toBe(fs.realpathSync(path.join(root, 'ext/hive-sessions', uuid)));
    const c = new McpClient({ host: '127.0.0.1', port: engine.port });
    await c.connect();
    try {
      const known = await c.callTool<{ sessions: Array<{ session_id: string; swarm_id: string; owned: boolean }> }>('session_list');
      expect(known.sessions.find((s) => s.session_id === uuid)).toMatchObject({ swarm_id: e.swarm_id, owned: true });
    } finally {
      c.close();
    }
    // status, get and list agree with the CLI reading the same registry.
    for (const args of [['status', uuid], ['get', uuid], ['list']]) expect(await runScript(args, env, noNode)).toEqual(await runCli(args, env));
  });

  it('create without --start makes a `created` session; the CLI can start it', async () => {
    const r = await runScript(['create', 'plain task'], env, noNode);
    expect(r.code).toBe(0);
    const uuid = r.stdout.trim();
    expect(registryOf(root).sessions[uuid]).toMatchObject({ status: 'created', engine: null, swarm_id: null, priority: 'medium' });
    expect((await runCli(['start', uuid], env)).code).toBe(0);
    await waitUntil(() => registryOf(root).sessions[uuid]?.status === 'running');
  });

  it('refuses what the CLI refuses, with the same exit code and message, and records nothing', async () => {
    const before = Object.keys(registryOf(root).sessions).length;
    const cases = [
      ['create'],
      ['create', '--start', '--', '   '],
      ['create', '--start', '--', 'x'.repeat(8193)],
      ['create', '--start', '--', 'task', 'urgent'],
      ['create', '--start', '--', 'task', 'low', '{not json'],
      ['create', '--start', '--', 'task', 'low', '{"topology":"blob"}'],
      ['create', '--bogus', 'task'],
      ['create', 'a', 'low', '{}', 'extra'],
      ['status', 'not-a-uuid'],
      ['status', '00000000-0000-4000-8000-000000000000'],
      ['get', '00000000-0000-4000-8000-000000000000'],
      ['get'],
    ];
    for (const args of cases) {
      const fast = await runScript(args, env, noNode);
      const cli = await runCli(args, env);
      expect({ args, ...fast }).toEqual({ args, ...cli });
      expect(fast.code).not.toBe(0);
    }
    expect(Object.keys(registryOf(root).sessions)).toHaveLength(before);
  });

  it('leaves every other command to the Node CLI (exit 127 without node; works with it)', async () => {
    const uuid = (await runScript(['create', '--start', '--', 'to stop'], env, noNode)).stdout.trim();
    expect((await runScript(['stop', uuid], env, noNode)).code).toBe(127);
    expect(await runScript(['stop', uuid], env, withNode)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(registryOf(root).sessions[uuid]).toMatchObject({ status: 'stopped' });
    // HIVE_SM_DIRECT=1 skips the engine even for served commands.
    expect((await runScript(['list'], { ...env, HIVE_SM_DIRECT: '1' }, noNode)).code).toBe(127);
  });

  it('100 concurrent creates through the script: 100 sessions, a valid registry, no lock left', async () => {
    const before = new Set(Object.keys(registryOf(root).sessions));
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => runScript(['create', '--start', '--', `burst ${i}`], env, noNode)));
    expect(rs.filter((r) => r.code !== 0)).toEqual([]);
    const uuids = rs.map((r) => r.stdout.trim());
    expect(new Set(uuids).size).toBe(100);
    const reg = registryOf(root);
    for (const u of uuids) expect(before.has(u)).toBe(false);
    for (const u of uuids) expect(reg.sessions[u]).toMatchObject({ status: 'running', engine: 'simulated' });
    expect(fs.existsSync(path.join(root, '.swarm/sessions/.lock'))).toBe(false);
  });

  it('hostile requests get "not served" or a usage error and leave the engine serving', async () => {
    const port = Number(fs.readFileSync(ctlOf(root), 'utf8').split(' ')[0]);
    const notServed = /^255\n/;
    expect(await raw(port, Buffer.from('wrong-token\0list\0'))).toMatch(notServed);
    expect(await raw(port, Buffer.from('no terminator'))).toMatch(notServed);
    expect(await raw(port, Buffer.alloc(0))).toMatch(notServed);
    expect(await raw(port, Buffer.from('\0\0\0'))).toMatch(notServed);
    expect(await raw(port, Buffer.alloc(100_000, 0x41))).toMatch(/^2\nerror: request exceeds 65536 bytes\n$/);
    // Still serving.
    expect((await runScript(['list'], env, noNode)).code).toBe(0);
  });

  it('a wrong token in engine.ctl, a killed engine (stale file) and a stopped engine all fall back to the CLI', async () => {
    const file = ctlOf(root);
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace(/ [0-9a-f]+\n$/, ` ${'0'.repeat(48)}\n`), { mode: 0o600 });
    expect((await runScript(['list'], env, noNode)).code).toBe(127);
    expect((await runScript(['list'], env, withNode)).code).toBe(0);
    fs.writeFileSync(file, good, { mode: 0o600 });

    engine.proc.kill('SIGKILL');
    await new Promise((r) => engine.proc.once('exit', r));
    expect(fs.existsSync(file)).toBe(true); // stale: its port refuses now
    const r = await runScript(['create', 'after a crash'], env, withNode);
    expect(r.code).toBe(0);
    expect(registryOf(root).sessions[r.stdout.trim()]).toMatchObject({ status: 'created' });

    // A new engine replaces the file; SIGTERM removes it.
    engine = await startEngineProcess({ HIVE_ROOT: root, HIVE_SIM_SEED: '4' });
    env = { ...env, MCP_PORT: String(engine.port) };
    await waitUntil(() => fs.readFileSync(file, 'utf8') !== good);
    expect((await runScript(['list'], env, noNode)).code).toBe(0);
    await engine.stop();
    expect(fs.existsSync(file)).toBe(false);
    expect((await runScript(['list'], env, withNode)).code).toBe(0);
  });
});
