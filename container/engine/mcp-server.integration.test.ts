// MCP protocol over real TCP against the real engine (in-process startEngine on port 0): golden lines,
// split chunks, invalid and oversized lines, auth, the connection limit, tools, and push notifications.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEngine, type RunningEngine } from './engine.js';
import { LIMIT_REACHED_LINE } from './mcp-server.js';
import { byId, RawLineClient, toolResult } from '../../testkit/lineClient.js';

const clients: RawLineClient[] = [];
async function connect(port: number): Promise<RawLineClient> {
  const c = await RawLineClient.connect(port);
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('MCP server without auth', () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine({ port: 0, seed: 7, speed: 40, tickMs: 20, pushMs: 50, orphanGraceMs: 200 });
  });
  afterAll(() => engine.close());

  it('answers initialize like upstream (protocolVersion 2024-11-05, serverInfo) and tools/list', async () => {
    const c = await connect(engine.port);
    await c.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n');
    const init = await c.waitFor(byId(1));
    expect(init).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2024-11-05', serverInfo: { name: 'hive-engine' } } });
    await c.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    await c.write('{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n');
    const list = await c.waitFor<{ result: { tools: Array<{ name: string; inputSchema: unknown }> } }>(byId(2));
    const names = list.result.tools.map((t) => t.name);
    for (const n of ['agent_list', 'swarm_status', 'agent_metrics', 'swarm_monitor', 'swarm_list', 'session_status', 'session_agents', 'session_metrics', 'performance_summary', 'agent_spawn', 'task_orchestrate', 'swarm_destroy', 'agent_messages']) {
      expect(names).toContain(n);
    }
    // notifications/initialized got no answer (only ids 1 and 2 arrived).
    expect(c.lines.filter((l) => (l as { id?: unknown }).id === undefined)).toEqual([]);
  });

  it('accepts tools/call without initialize; results are pretty JSON text', async () => {
    const c = await connect(engine.port);
    await c.send({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'swarm_status', arguments: {} } });
    const line = await c.waitFor(byId('a'));
    const text = (line.result as { content: Array<{ type: string; text: string }> }).content[0]!;
    expect(text.type).toBe('text');
    expect(text.text).toContain('\n  "success": true');
    expect(toolResult(line)).toMatchObject({ success: true, agentCount: expect.any(Number) });
  });

  it('reassembles requests split across chunks and answers several in one chunk', async () => {
    const c = await connect(engine.port);
    const req = '{"jsonrpc":"2.0","id":10,"method":"ping"}\n';
    for (const part of [req.slice(0, 5), req.slice(5, 20), req.slice(20)]) {
      await c.write(part);
      await new Promise((r) => setTimeout(r, 5));
    }
    await c.write('{"jsonrpc":"2.0","id":11,"method":"ping"}\n{"jsonrpc":"2.0","id":12,"method":"ping"}\n');
    for (const id of [10, 11, 12]) expect(await c.waitFor(byId(id))).toEqual({ jsonrpc: '2.0', id, result: {} });
  });

  it('answers invalid lines with -32600 and no id, unknown methods with -32601, and keeps the connection', async () => {
    const c = await connect(engine.port);
    await c.write('this is not json\n');
    const bad = await c.waitFor((l) => l.error !== undefined);
    expect(bad).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    expect('id' in bad).toBe(false);
    await c.write('[1,2,3]\n');
    await c.write('{"jsonrpc":"1.0","id":5,"method":"ping"}\n');
    await c.waitFor((l) => l.id === 5);
    await c.send({ jsonrpc: '2.0', id: 6, method: 'no/such/method' });
    expect(await c.waitFor(byId(6))).toMatchObject({ error: { code: -32601 } });
    await c.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'no_such_tool' } });
    expect(await c.waitFor(byId(7))).toMatchObject({ error: { code: -32602 } });
    await c.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'agent_metrics', arguments: { agentId: 42 } } });
    expect(await c.waitFor(byId(8))).toMatchObject({ error: { code: -32602, message: expect.stringContaining('agentId') } });
    await c.send({ jsonrpc: '2.0', id: 9, method: 'ping' });
    expect(await c.waitFor(byId(9))).toMatchObject({ result: {} });
  });

  it('rejects a line over 10 MiB with a clear error, discards it, and keeps serving the connection', async () => {
    const c = await connect(engine.port);
    const big = Buffer.alloc(10 * 1024 * 1024 + 10, 0x61);
    await c.write(big);
    await c.write('\n{"jsonrpc":"2.0","id":99,"method":"ping"}\n');
    const err = await c.waitFor((l) => l.error !== undefined, 20_000);
    expect(err).toMatchObject({ jsonrpc: '2.0', error: { code: -32600, message: expect.stringMatching(/10485760-byte limit/) } });
    expect(await c.waitFor(byId(99), 20_000)).toMatchObject({ result: {} });
    expect(c.closed).toBe(false);
  });

  it('hostile tool arguments (injection strings, huge numbers, wrong types) are validated, never crash the server', async () => {
    const c = await connect(engine.port);
    const hostile = ['$(rm -rf /)', '`id`', '"; DROP TABLE agents; --', '\u0000\u0001\u001b[31m', '🐝'.repeat(100)];
    let id = 100;
    for (const h of hostile) {
      await c.send({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'agent_list', arguments: { swarmId: h } } });
      expect(await c.waitFor(byId(id))).toMatchObject({ result: { isError: true } });
    }
    await c.send({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'agent_messages', arguments: { since: 1e300, limit: -5 } } });
    expect(await c.waitFor(byId(id))).toMatchObject({ error: { code: -32602 } });
    await c.send({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'task_orchestrate', arguments: { swarmId: 'x', task: 'a'.repeat(9000) } } });
    expect(await c.waitFor(byId(id))).toMatchObject({ error: { code: -32602 } });
    // Pathologically deep nesting (a stack-exhaustion attempt) is just an invalid line.
    await c.write(`${'['.repeat(500_000)}${']'.repeat(500_000)}\n`);
    const bomb = await c.waitFor((l) => l.error !== undefined && !('id' in l));
    expect(bomb).toMatchObject({ error: { code: -32600 } });
    const depth = 100_000;
    const deepId = ++id;
    await c.write(`{"jsonrpc":"2.0","id":${deepId},"method":"tools/call","params":{"name":"swarm_list","arguments":{"deep":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}}\n`);
    // Answered (V8 parsed it) or rejected as invalid JSON (too deep): either way, an answer and no crash.
    await c.waitFor((l) => l.id === deepId || (l !== bomb && l.error !== undefined && !('id' in l)));
    await c.send({ jsonrpc: '2.0', id: ++id, method: 'ping' });
    expect(await c.waitFor(byId(id))).toMatchObject({ result: {} });
  });

  it('runs a session swarm: agents carry every model field, spawn/orchestrate/destroy work, pushes arrive', async () => {
    const watcher = await connect(engine.port);
    const c = await connect(engine.port);
    await c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'session_run', arguments: { session_id: 'sess-1', task: 'Build and test a REST API', metadata: { topology: 'star', maxAgents: 5 } } } });
    const run = toolResult<{ swarm_id: string }>(await c.waitFor(byId(1)));
    expect(run.swarm_id).toMatch(/^swarm-\d+-[a-z0-9]{9}$/);
    const swarmId = run.swarm_id;

    await c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'agent_list', arguments: { swarmId } } });
    const list = toolResult<{ agents: Array<Record<string, unknown>>; count: number }>(await c.waitFor(byId(2)));
    expect(list.count).toBe(5);
    const queen = list.agents.find((a) => a.type === 'queen')!;
    for (const a of list.agents) {
      for (const k of ['id', 'name', 'type', 'status', 'capabilities', 'created', 'lastActive', 'cpuUsage', 'memoryUsage', 'health', 'workload', 'activity', 'tokens', 'tokenRate', 'currentTask', 'tasksActive', 'tasksCompleted', 'successRate', 'swarmId', 'sessionId', 'parentQueenId']) {
        expect(a).toHaveProperty(k);
      }
      expect(a.swarmId).toBe(swarmId);
      expect(a.sessionId).toBe('sess-1');
      expect(Number.isNaN(Date.parse(a.created as string))).toBe(false);
      if (a !== queen) expect(a.parentQueenId).toBe(queen.id);
    }

    await c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'agent_spawn', arguments: { type: 'tester', name: 'Extra Tester', swarmId } } });
    const spawned = toolResult<{ agentId: string }>(await c.waitFor(byId(3)));
    await c.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'agent_metrics', arguments: { agentId: spawned.agentId } } });
    expect(toolResult(await c.waitFor(byId(4)))).toMatchObject({ success: true, metrics: { name: 'Extra Tester', type: 'tester' } });
    await c.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'task_orchestrate', arguments: { task: 'Also write docs', swarmId } } });
    expect(toolResult(await c.waitFor(byId(5)))).toMatchObject({ success: true, taskId: expect.any(String) });

    // Watcher (no subscription filter) gets every kind of push.
    await watcher.waitFor((l) => l.method === 'notifications/hive/agents' && (l.params as { swarmId?: string }).swarmId === swarmId);
    await watcher.waitFor((l) => l.method === 'notifications/progress');
    await watcher.waitFor((l) => l.method === 'notifications/message' && (l.params as { logger?: string }).logger === 'hive-engine');
    await watcher.waitFor((l) => l.method === 'notifications/hive/message');
    const done = await watcher.waitFor((l) => l.method === 'notifications/hive/swarm' && (l.params as { status?: string }).status === 'completed', 60_000);
    expect(done.params).toMatchObject({ swarmId, sessionId: 'sess-1', progress: 1 });
    await watcher.waitFor((l) => l.method === 'notification' && (l.params as { type?: string }).type === 'client_message');

    await c.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'session_metrics', arguments: { session_id: 'sess-1' } } });
    const m = toolResult<Record<string, number | null>>(await c.waitFor(byId(6)));
    expect(m.tasks_completed).toBeGreaterThan(0);
    expect(m.tokens_total).toBeGreaterThan(0);
    await c.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'agent_messages', arguments: { since: 0, limit: 10 } } });
    const msgs = toolResult<{ messages: Array<{ seq: number }>; cursor: number }>(await c.waitFor(byId(7)));
    expect(msgs.messages.length).toBeGreaterThan(0);
    expect(msgs.cursor).toBe(msgs.messages[msgs.messages.length - 1]!.seq);
    await c.send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'swarm_destroy', arguments: { swarmId } } });
    expect(toolResult(await c.waitFor(byId(8)))).toMatchObject({ success: true, status: 'completed' });
  });

  it('destroys a runner-owned swarm when its connection stays closed past the grace period', async () => {
    const c = await connect(engine.port);
    await c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'session_run', arguments: { session_id: 'orphan-1', task: 'A long job with many parts' } } });
    const run = toolResult<{ swarm_id: string }>(await c.waitFor(byId(1)));
    c.close();
    const w = await connect(engine.port);
    await w.send({ jsonrpc: '2.0', id: 1, method: 'hive/subscribe', params: { sessionIds: ['orphan-1'], kinds: ['swarm'] } });
    await w.waitFor(byId(1));
    const ev = await w.waitFor((l) => l.method === 'notifications/hive/swarm' && ['stopped', 'completed'].includes((l.params as { status: string }).status));
    expect((ev.params as { swarmId: string }).swarmId).toBe(run.swarm_id);
  });
});

describe('MCP server limits and auth', () => {
  let engine: RunningEngine;
  beforeAll(async () => {
    engine = await startEngine({ port: 0, seed: 1, speed: 1, authToken: 's3cret-token', maxConnections: 50, connectionTimeoutMs: 60_000 });
  });
  afterAll(() => engine.close());

  it('requires authenticate first: other calls get -32000, a wrong token closes, the right one works (also upstream-style without jsonrpc)', async () => {
    const c = await connect(engine.port);
    await c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'agent_list' } });
    expect(await c.waitFor(byId(1))).toMatchObject({ error: { code: -32000, message: 'Authentication required' } });
    await c.write('{"method":"authenticate","params":{"token":"s3cret-token"}}\n');
    expect(await c.waitFor((l) => (l.result as { authenticated?: boolean } | undefined)?.authenticated === true)).toBeTruthy();
    await c.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'swarm_list' } });
    expect(await c.waitFor(byId(2))).toMatchObject({ result: { content: [{ type: 'text' }] } });

    const bad = await connect(engine.port);
    await bad.send({ jsonrpc: '2.0', id: 1, method: 'authenticate', params: { token: 'nope' } });
    expect(await bad.waitFor(byId(1))).toMatchObject({ error: { code: -32000 } });
    await bad.waitClosed();

    // Unauthenticated connections get no pushes.
    const quiet = await connect(engine.port);
    await c.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'swarm_init', arguments: { topology: 'mesh', maxAgents: 3 } } });
    await c.waitFor(byId(3));
    await c.waitFor((l) => l.method === 'notifications/hive/swarm');
    expect(quiet.lines).toEqual([]);
  });

  it('serves 50 connections and refuses the 51st with the upstream line', async () => {
    const conns: RawLineClient[] = [];
    for (let i = 0; i < 50; i++) conns.push(await connect(engine.port));
    await new Promise((r) => setTimeout(r, 50));
    expect(engine.server.connectionCount).toBe(50);
    const extra = await connect(engine.port);
    await extra.waitClosed();
    expect(extra.lines).toEqual([JSON.parse(LIMIT_REACHED_LINE)]);
    for (const c of conns) c.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = await connect(engine.port);
    await again.send({ jsonrpc: '2.0', id: 1, method: 'authenticate', params: { token: 's3cret-token' } });
    expect(await again.waitFor(byId(1))).toMatchObject({ result: { authenticated: true } });
  });
});

describe('MCP server connection lifetime', () => {
  it('closes a connection a fixed time after it opened (upstream TCP_CONNECTION_TIMEOUT)', async () => {
    const engine = await startEngine({ port: 0, seed: 1, connectionTimeoutMs: 300 });
    try {
      const c = await connect(engine.port);
      await c.waitClosed(5_000);
    } finally {
      await engine.close();
    }
  });
});
