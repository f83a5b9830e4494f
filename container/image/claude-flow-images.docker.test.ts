// The images that hold the REAL claude-flow packages (issue 12's proof), on a real dockerd: built offline
// (or reused by their input-hash label) by scripts/claude-flow-images.mjs, each run with --network host on
// a free loopback port. Checks the upstream-style TCP front (initialize answered by the front, tools/list,
// tool calls, invalid lines), the version each CLI prints, that no hivescope code is inside, that PID 1 is
// node and leaves orphans as zombies (the users' containers issue 12 must measure; with --init they are reaped), `hive-mind spawn` in a
// fresh directory (3.x, --format json), and a `--claude` spawn whose stand-in claude drives the real MCP.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildClaudeFlowImages, CF_HASH_LABEL, cfImage, imageHash, type ClaudeFlowImageResult } from '../../scripts/claude-flow-images.mjs';
import { dockerCli, dockerExec, uniqueName } from '../../testkit/docker.js';
import { byId, RawLineClient, toolResult } from '../../testkit/lineClient.js';
import { freePort } from '../../testkit/ports.js';
import { waitUntil } from '../../testkit/wait.js';

let images: Promise<ClaudeFlowImageResult[]> | null = null;
/** The images, built once per test process (the npm trees in parallel). HIVESCOPE_CF_VERSIONS=3.43.0 limits the run to some. */
const ensureImages = () => (images ??= buildClaudeFlowImages({ versions: CASES.map((c) => c.version), log: (m) => console.log(`[claude-flow-images] ${m}`) }));

/** Runs `claude-flow mcp start` through `docker exec -i` in `cwd`, sends `requests`, returns the answers by id. */
function execMcp(container: string, cwd: string, requests: Array<{ id: number; method: string; params?: unknown }>, timeoutMs = 20_000): Promise<Map<number, Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['exec', '-i', '-w', cwd, '-e', 'CLAUDE_FLOW_AUTO_UPDATE=false', container, 'claude-flow', 'mcp', 'start'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const answers = new Map<number, Record<string, unknown>>();
    let buf = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcp over docker exec: ${answers.size}/${requests.length} answers within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const msg = JSON.parse(line) as Record<string, unknown>;
          if (typeof msg.id === 'number') answers.set(msg.id, msg);
        } catch {
          /* 2.7 prints a non-JSON-RPC line at start */
        }
      }
      if (requests.every((r) => answers.has(r.id))) {
        clearTimeout(timer);
        child.stdin.end();
        resolve(answers);
      }
    });
    for (const r of requests) child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...r })}\n`);
  });
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ id, method: 'tools/call', params: { name, arguments: args } });

/** The JSON object a 3.x `--format json` command prints after its text lines. */
const jsonAfterText = <T>(stdout: string): T => JSON.parse(stdout.slice(stdout.search(/^\{/m))) as T;

interface Case {
  version: string;
  versionLine: RegExp;
  toolCount: number;
}

const ONLY = process.env.HIVESCOPE_CF_VERSIONS?.split(',').filter(Boolean) ?? null;
const CASES: Case[] = [
  { version: '3.43.0', versionLine: /^ruflo v3\.43\.0$/m, toolCount: 353 },
  { version: '2.7.47', versionLine: /^v2\.7\.47$/m, toolCount: 90 },
].filter((c) => ONLY === null || ONLY.includes(c.version));

describe.each(CASES)('hivescope/claude-flow:$version', ({ version, versionLine, toolCount }) => {
  const name = uniqueName(`cf-${version.replace(/\./g, '')}`);
  let port = 0;
  let built: ClaudeFlowImageResult | undefined;
  const image = cfImage(version);
  const frontReady = async () => {
    const c = await RawLineClient.connect(port).catch(() => null);
    if (!c) return false;
    try {
      await c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'agent_list', arguments: {} } });
      const line = await c.waitFor((l) => l.id === 1 || 'error' in l, 5_000).catch(() => null);
      return line !== null && line.id === 1;
    } finally {
      c.close();
    }
  };

  beforeAll(async () => {
    built = (await ensureImages()).find((r) => r.version === version);
    port = await freePort();
    const r = await dockerCli(['run', '-d', '--name', name, '--network', 'host', '-e', `MCP_TCP_PORT=${port}`, '-e', 'MCP_TCP_HOST=127.0.0.1', image]);
    expect(r.code, r.stderr).toBe(0);
    await waitUntil(frontReady, 60_000, 250, `the TCP front of ${image} on 127.0.0.1:${port}`);
  }, 1_200_000);

  afterAll(async () => {
    await dockerCli(['rm', '-f', '-v', name]);
  });

  it('is labelled with its input hash and holds the real package, no hivescope code', async () => {
    console.log(`[claude-flow-images] ${image}: ${built?.built ? `built in ${built.seconds.toFixed(1)} s` : 'reused'}, ${((built?.sizeBytes ?? 0) / 1e6).toFixed(0)} MB`);
    const label = await dockerCli(['image', 'inspect', '--format', `{{ index .Config.Labels "${CF_HASH_LABEL}" }}`, image]);
    expect(label.stdout.trim()).toBe(imageHash(version));
    const v = await dockerExec(name, ['claude-flow', '--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(versionLine);
    const pkg = await dockerExec(name, ['node', '-p', 'require("/opt/claude-flow/node_modules/claude-flow/package.json").version']);
    expect(pkg.stdout.trim()).toBe(version);
    // Only the package, the front and the stand-in: no kit (/app), no compiled hivescope modules.
    expect((await dockerExec(name, ['ls', '/opt'])).stdout.split('\n').filter(Boolean)).toEqual(['claude-flow', 'claude-standin', 'upstream']);
    expect((await dockerExec(name, ['ls', '/app'])).code).not.toBe(0);
    expect((await dockerExec(name, ['sh', '-c', 'command -v claude && claude --version'])).stdout).toBe('/usr/local/bin/claude\n0.0.0 (Claude Code stand-in)\n');
  });

  it('answers through the upstream-style TCP front: initialize (by the front), tools/list, tool calls, invalid lines', async () => {
    const c = await RawLineClient.connect(port);
    try {
      await c.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'test', version: '1' } } });
      expect(await c.waitFor(byId(1))).toEqual({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2024-11-05', serverInfo: { name: 'claude-flow', version: '2.0.0-alpha.101' } } });
      await c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
      const tools = ((await c.waitFor<{ result: { tools: Array<{ name: string }> } }>(byId(2), 20_000)).result.tools ?? []).map((t) => t.name);
      console.log(`[claude-flow-images] ${image}: tools/list through the front: ${tools.length} tools`);
      expect(tools.length).toBe(toolCount);
      expect(tools).toEqual(expect.arrayContaining(['agent_list', 'swarm_status', 'agent_spawn', 'swarm_init']));
      await c.send({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'agent_list', arguments: {} } });
      await c.send({ jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'swarm_status', arguments: {} } });
      const agents = toolResult<{ agents: unknown[] }>(await c.waitFor(byId('a')));
      expect(Array.isArray(agents.agents)).toBe(true);
      const swarm = toolResult<Record<string, unknown>>(await c.waitFor(byId('b')));
      expect(typeof swarm).toBe('object');
      console.log(`[claude-flow-images] ${image}: agent_list ${JSON.stringify(agents).slice(0, 300)}; swarm_status ${JSON.stringify(swarm).slice(0, 300)}`);
      await c.write('this is not json\n');
      expect(await c.waitFor((l) => (l.error as { code?: number } | undefined)?.code === -32600)).toMatchObject({ jsonrpc: '2.0' });
      expect(c.closed).toBe(false);
    } finally {
      c.close();
    }
  });

  it('runs the front as PID 1 (node, no init): an orphan stays a zombie', async () => {
    const cmdline = await dockerExec(name, ['cat', '/proc/1/cmdline']);
    expect(cmdline.stdout.split('\0').filter(Boolean)).toEqual(['node', '/opt/upstream/mcp-tcp-server.mjs']);
    // The shell exits at once; its background child is re-parented to PID 1 and never reaped.
    expect((await dockerExec(name, ['sh', '-c', 'sleep 0.2 & exit 0'])).code).toBe(0);
    await waitUntil(async () => /^\s*\d+\s+1\s+Z/m.test((await dockerExec(name, ['ps', '-o', 'pid,ppid,stat,args'])).stdout), 10_000, 200, 'a zombie under PID 1');
  });

  it('with docker run --init (a reaping PID 1) the same orphan is reaped', async () => {
    const reaping = `${name}-init`;
    const p = await freePort();
    try {
      const r = await dockerCli(['run', '-d', '--init', '--name', reaping, '--network', 'host', '-e', `MCP_TCP_PORT=${p}`, '-e', 'MCP_TCP_HOST=127.0.0.1', image]);
      expect(r.code, r.stderr).toBe(0);
      expect((await dockerExec(reaping, ['sh', '-c', 'sleep 0.2 & exit 0'])).code).toBe(0);
      // Gone altogether (a zombie would stay listed as `[sleep]`).
      await waitUntil(async () => !/sleep/.test((await dockerExec(reaping, ['ps', '-o', 'pid,ppid,stat,args'])).stdout), 10_000, 200, 'the orphan reaped by docker-init');
      expect((await dockerExec(reaping, ['ps', '-o', 'pid,ppid,stat,args'])).stdout).not.toMatch(/^\s*\d+\s+\d+\s+Z/m);
    } finally {
      await dockerCli(['rm', '-f', '-v', reaping]);
    }
  });

  it('runs a --claude spawn: the stand-in claude calls the real MCP tools in the hive directory', async () => {
    const dir = `/workspace/claude-${version}`;
    const v3 = version.startsWith('3.');
    const init = v3 ? 'claude-flow hive-mind init -t hierarchical >/dev/null && ' : '';
    const flags = v3 ? '-n 2 -t coder' : '--workerTypes coder,tester';
    // Runs the spawn in the background until the stand-in has finished, then reports whether the spawn
    // is still running (2.7 stays in the foreground after claude exits; 3.x exits) and ends it.
    const script = [
      `mkdir -p ${dir} && cd ${dir} && ${init}true`,
      `export CLAUDE_STANDIN_SECONDS=3 CLAUDE_STANDIN_AGENTS=2 CLAUDE_STANDIN_TASKS=1 CLAUDE_STANDIN_LOG=${dir}/standin.jsonl CLAUDE_FLOW_AUTO_UPDATE=false`,
      `claude-flow hive-mind spawn "build a REST API" --claude ${flags} </dev/null >spawn.out 2>&1 & pid=$!`,
      "alive() { [ -r /proc/$1/stat ] && ! grep -q ') Z' /proc/$1/stat; }",
      'i=0; while [ $i -lt 240 ] && ! grep -q "Claude Code completed" spawn.out; do sleep 0.5; i=$((i+1)); done',
      'j=0; while [ $j -lt 10 ] && alive $pid; do sleep 0.5; j=$((j+1)); done',
      'alive $pid && echo SPAWN-STILL-RUNNING && kill $pid',
      'cat spawn.out',
    ].join('\n');
    const r = await dockerExec(name, ['sh', '-c', script]);
    expect(r.stdout).toContain('Welcome to');
    expect(r.stdout).toContain('\x1b['); // coloured, as a terminal session
    expect(r.stdout).toMatch(/Claude Code completed successfully/);
    // 3.x returns once claude exits; 2.7's spawn keeps running (its auto-save timer) until signalled.
    if (v3) expect(r.stdout).not.toContain('SPAWN-STILL-RUNNING');
    else expect(r.stdout).toContain('SPAWN-STILL-RUNNING');
    const log = (await dockerExec(name, ['cat', `${dir}/standin.jsonl`])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { tool: string; result: Record<string, unknown> | null; error: string | null });
    const spawned = log.filter((e) => e.tool === 'agent_spawn');
    expect(spawned).toHaveLength(2);
    expect(spawned.every((e) => e.error === null && typeof e.result?.agentId === 'string')).toBe(true);
    if (v3) {
      // Another MCP process in the same directory sees what the stand-in did (3.x keeps state on disk).
      const a = await execMcp(name, dir, [{ id: 1, method: 'initialize', params: {} }, call(2, 'agent_list'), call(3, 'task_summary'), call(4, 'hive-mind_status')]);
      const agents = toolResult<{ agents: Array<{ agentId: string; domain?: string }> }>(a.get(2)!).agents;
      expect(agents.map((x) => x.agentId)).toEqual(expect.arrayContaining(spawned.map((e) => e.result?.agentId)));
      expect(agents.filter((x) => x.domain === 'hive-mind')).toHaveLength(3); // 2 from the CLI, 1 from hive-mind_spawn
      expect(toolResult(a.get(3)!)).toMatchObject({ total: 1, completed: 1 });
      expect(toolResult<{ workerCount: number }>(a.get(4)!).workerCount).toBe(3);
    }
  }, 180_000);

  // 3.x only: 2.7's spawn has no JSON output and never exits by itself (claude-flow-2.7.md).
  if (version.startsWith('3.')) it('spawns in a fresh directory with --format json (3.x)', async () => {
    const dir = '/workspace/fresh-3x';
    const sh = (cmd: string) => dockerExec(name, ['sh', '-c', `mkdir -p ${dir} && cd ${dir} && CLAUDE_FLOW_AUTO_UPDATE=false ${cmd}`]);
    const before = await sh('claude-flow hive-mind spawn -n 1');
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('Hive-mind not initialized');
    const init = await sh('claude-flow hive-mind init -t mesh --format json');
    expect(init.code).toBe(0);
    expect(jsonAfterText<{ success: boolean; topology: string }>(init.stdout)).toMatchObject({ success: true, topology: 'mesh' });
    const spawned = await sh('claude-flow hive-mind spawn -n 3 -t tester --format json');
    expect(spawned.code).toBe(0);
    const s = jsonAfterText<{ spawned: number; workers: Array<{ agentId: string }> }>(spawned.stdout);
    expect(s.spawned).toBe(3);
    for (const w of s.workers) expect(w.agentId).toMatch(/^hive-worker-\d{13}-[a-z0-9]{1,4}$/);
    const status = JSON.parse((await sh('claude-flow hive-mind status --format json')).stdout) as { hiveId: string; workers: Array<{ id: string; type: string; status: string }> };
    expect(status.hiveId).toMatch(/^hive-\d{13}$/);
    expect(status.workers.map((w) => w.id)).toEqual(s.workers.map((w) => w.agentId));
    expect(status.workers.every((w) => w.type === 'tester' && w.status === 'idle')).toBe(true);
  }, 60_000);

  it('comes back after docker restart (the front starts a new claude-flow child)', async () => {
    const before = (await dockerExec(name, ['sh', '-c', 'cat /proc/1/stat'])).stdout.split(' ')[21];
    expect((await dockerCli(['restart', '-t', '3', name])).code).toBe(0);
    await waitUntil(frontReady, 60_000, 250, `the TCP front after docker restart`);
    expect((await dockerExec(name, ['sh', '-c', 'cat /proc/1/stat'])).stdout.split(' ')[21]).not.toBe(before); // a new PID 1
    const c = await RawLineClient.connect(port);
    try {
      await c.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'agent_list', arguments: {} } });
      const list = toolResult<{ swarmId?: string; agents: unknown[] }>(await c.waitFor(byId(7)));
      // The front's directory holds no hive: 3.x lists nothing; 2.7 answers a fresh process with its mock agents.
      if (version.startsWith('3.')) expect(list.agents).toEqual([]);
      else expect(list).toMatchObject({ swarmId: 'mock-swarm', agents: expect.any(Array) });
    } finally {
      c.close();
    }
  }, 90_000);
});
