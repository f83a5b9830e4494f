// The kit's image on a real dockerd: build (offline, < 200 MB), run with --network host and a named volume,
// drive the session manager through `docker exec` (start and `create --start` return at once; the engine
// runs the swarm and records its end; no process per session), reach the engine's MCP on
// 127.0.0.1:<port>, survive a killed engine (the entrypoint restarts it; what it ran becomes interrupted)
// and `docker restart` (every session is found again).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { down, imageStatus, IMAGE, KIT_HASH_LABEL, kitHash, up } from '../../scripts/container.mjs';
import { McpClient } from '../engine/client.js';
import { waitUntil } from '../../testkit/wait.js';
import { dockerCli, dockerExec, uniqueName } from '../../testkit/docker.js';
import { ensureImage } from '../../testkit/kitImage.js';
import { freePort } from '../../testkit/ports.js';

const SM = '/app/scripts/hive-session-manager.sh';

describe('hivescope/multi-agent image', () => {
  const name = uniqueName('hive-kit-test');
  const volume = `${name}-ws`;
  let port = 0;

  const sm = (...args: string[]) => dockerExec(name, [SM, ...args]);
  const mcp = async <T>(fn: (c: McpClient) => Promise<T>): Promise<T> => {
    const c = new McpClient({ host: '127.0.0.1', port, timeoutMs: 5_000 });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };
  const mcpUp = async (): Promise<boolean> => {
    try {
      await mcp((c) => c.request('ping'));
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    await ensureImage();
    port = await freePort();
    await up({ name, volume, port, env: { HIVE_SIM_SPEED: '15', HIVE_SIM_SEED: '3' } });
    await waitUntil(mcpUp, 30_000, 200);
  });
  afterAll(async () => {
    await down({ name, volume, volumes: true });
  });

  it('is built offline from the kit, labelled with its hash, under 200 MB', async () => {
    const st = await imageStatus(IMAGE);
    expect(st.exists).toBe(true);
    expect(st.hash).toBe(kitHash());
    expect(st.sizeBytes).toBeLessThan(200 * 1024 * 1024);
    const inspect = await dockerCli(['image', 'inspect', '--format', `{{ index .Config.Labels "${KIT_HASH_LABEL}" }}`, IMAGE]);
    expect(inspect.stdout.trim()).toBe(st.hash);
    // Only the runtime packages the kit imports are inside.
    const mods = await dockerExec(name, ['ls', '/app/node_modules', '/app/node_modules/@modelcontextprotocol']);
    expect(mods.stdout).toContain('zod');
    expect(mods.stdout).toContain('sdk');
    expect(mods.stdout).not.toContain('express');
  });

  it('answers MCP initialize on 127.0.0.1:<port> (MCP_HOST=0.0.0.0 inside)', async () => {
    const init = (await mcp((c) => c.request('initialize', {}))) as { protocolVersion: string; serverInfo: { name: string } };
    expect(init).toMatchObject({ protocolVersion: '2024-11-05', serverInfo: { name: 'hive-engine' } });
  });

  it('create --start, list, status and get are answered by the engine: they need no node on PATH', async () => {
    // With PATH=/app/scripts:/bin the script's fallback (`exec node ...`) cannot run: 127 if it were needed.
    const bare = (...args: string[]) => dockerExec(name, ['env', 'PATH=/app/scripts:/bin', SM, ...args]);
    const r = await bare('create', '--start', '--', 'served by the engine $(id)', 'high', '{"maxAgents":3}');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const uuid = r.stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await bare('status', uuid)).toEqual({ code: 0, stdout: 'running\n', stderr: '' });
    expect(JSON.parse((await bare('get', uuid)).stdout)).toMatchObject({ session_id: uuid, task: 'served by the engine $(id)', priority: 'high', engine: 'simulated' });
    expect(Object.keys(JSON.parse((await bare('list')).stdout).sessions)).toContain(uuid);
    expect((await bare('create', '--start', '--', 'x', 'urgent')).code).toBe(2);
    // Not served: stop needs the CLI (so fails here) and works through the normal PATH.
    expect((await bare('stop', uuid)).code).toBe(127);
    expect((await sm('stop', uuid)).code).toBe(0);
    expect((await bare('status', uuid)).stdout).toBe('stopped\n');
  });

  it('runs sessions through docker exec, survives a killed engine and docker restart with every session found again', async () => {
    const task = 'Dockerised "job" $(id) `uname` \n second line 🐝';
    const created = await sm('create', task, 'high', '{"topology":"ring","maxAgents":4}');
    expect(created.code).toBe(0);
    const done = created.stdout.trim();
    expect(created.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(await sm('status', done)).toMatchObject({ code: 0, stdout: 'created\n' });
    expect(JSON.parse((await sm('get', done)).stdout).task).toBe(task);
    expect(await sm('get', '00000000-0000-4000-8000-000000000000')).toMatchObject({ code: 1, stdout: '{"error": "Session not found"}\n' });

    expect(JSON.parse((await sm('capabilities')).stdout)).toMatchObject({ kit: 'hivescope', createStart: true });
    const started = await sm('start', done);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^Swarm ID: swarm-/m);
    expect((await sm('status', done)).stdout).toBe('running\n');
    const swarmId = JSON.parse((await sm('get', done)).stdout).swarm_id as string;
    expect(swarmId).toMatch(/^swarm-/);
    const agents = await mcp((c) => c.callTool<{ count: number; agents: Array<{ sessionId: string }> }>('agent_list', { swarmId }));
    expect(agents.count).toBe(4);
    expect(agents.agents.every((a) => a.sessionId === done)).toBe(true);
    // To its end: `completed`, or `failed` once a subtask used up its retries (the simulation may, and
    // which happens depends on timing as well as the seed). A fresh CI run waited 90 s for `completed`.
    let last = '';
    await waitUntil(async () => ['completed', 'failed'].includes((last = (await sm('status', done)).stdout.trim())), 90_000, 500).catch(async (e: unknown) => {
      console.log(`[image] session ${done} still "${last}" after 90 s: ${(await sm('get', done)).stdout.slice(0, 2000)}`);
      throw e;
    });

    // A session left running, and one never started.
    const idle = (await sm('create', 'never started')).stdout.trim();
    const liveR = await sm('create', '--start', 'long running. part two. part three. part four.', 'low', '{"maxAgents":12}');
    expect(liveR).toMatchObject({ code: 0, stderr: '' });
    expect(liveR.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const live = liveR.stdout.trim();
    expect((await sm('status', live)).stdout).toBe('running\n');
    // No process per session: node runs only as the engine.
    const ps = await dockerExec(name, ['ps']);
    expect(ps.stdout.split('\n').filter((l) => /\bnode\b/.test(l) && !/\bps\b/.test(l))).toHaveLength(1);

    // The entrypoint restarts a dead engine.
    const pid1 = (await mcp((c) => c.callTool<{ pid: number }>('performance_summary'))).pid;
    expect((await dockerExec(name, ['kill', '-9', String(pid1)])).code).toBe(0);
    await waitUntil(async () => {
      if (!(await mcpUp())) return false;
      return (await mcp((c) => c.callTool<{ pid: number }>('performance_summary'))).pid !== pid1;
    }, 30_000, 200);
    expect((await dockerCli(['inspect', '--format', '{{.State.Running}}', name])).stdout.trim()).toBe('true');
    // The new engine knows nothing of the swarm the old one ran: it marked the session at start.
    expect((await sm('status', live)).stdout).toBe('interrupted\n');

    expect((await dockerCli(['restart', '-t', '3', name])).code).toBe(0);
    await waitUntil(mcpUp, 30_000, 200);
    const list = JSON.parse((await sm('list')).stdout) as { sessions: Record<string, { status: string; task: string }> };
    expect(Object.keys(list.sessions)).toEqual(expect.arrayContaining([done, idle, live]));
    expect(list.sessions[done]).toMatchObject({ status: last, task });
    expect(list.sessions[idle]!.status).toBe('created');
    expect(list.sessions[live]!.status).toBe('interrupted');
    expect((await dockerExec(name, ['ls', '/workspace/.swarm'])).stdout.split('\n')).not.toContain('memory.db');
  }, 240_000);
});
