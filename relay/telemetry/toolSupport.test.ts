// Telemetry against each MCP as it is: a tool that answered "not found" (-32601, or an isError "Tool not
// found" / "Unknown tool" result) or a stub is not called again on that connection; a new connection asks
// again; answers that come back out of order reach the request they answer; 3.x's limits (no per-agent
// CPU, health 0..1, constant hive-worker health) come out unknown, never 0. Recorded answers, in memory.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { McpClient, McpRpcError, McpTimeoutError } from './client.js';
import { ToolSupport, ToolUnsupportedError, isStubAnswer, isToolMissing } from './toolSupport.js';
import { claudeFlow3Agent } from './poller.js';
import { createMemoryPair, type MemoryServerEnd } from './testing/memoryTransport.js';
import { normalizeAgent } from '../graph/normalize.js';

const logger = pino({ level: 'silent' });

/** A caller answering from a list of outcomes in order, counting calls per tool. */
function caller(outcomes: Array<unknown | Error>) {
  const calls: string[] = [];
  return {
    calls,
    callTool: (name: string) => {
      calls.push(name);
      const o = outcomes.shift();
      return o instanceof Error ? Promise.reject(o) : Promise.resolve(o);
    },
  };
}

describe('ToolSupport: one try per tool per connection', () => {
  it.each([
    ['JSON-RPC -32601 (3.x stdio)', new McpRpcError(-32601, 'Tool not found: agent_messages')],
    ['-32601 with an unexpected message', new McpRpcError(-32601, 'Method not found')],
    ['isError "Tool not found" (3.x http)', new McpRpcError(null, 'Tool not found: agent_messages')],
    ['isError "Unknown tool" (upstream front)', new McpRpcError(null, 'Unknown tool: agent_messages')],
  ])('marks a tool missing after %s and never calls it again', async (_what, err) => {
    const t = new ToolSupport();
    const c = caller([err]);
    await expect(t.call(c, 'agent_messages')).rejects.toBeInstanceOf(ToolUnsupportedError);
    await expect(t.call(c, 'agent_messages')).rejects.toMatchObject({ tool: 'agent_messages', verdict: 'missing' });
    await expect(t.call(c, 'agent_messages')).rejects.toBeInstanceOf(ToolUnsupportedError);
    expect(c.calls).toEqual(['agent_messages']);
    expect(t.list()).toEqual([{ tool: 'agent_messages', verdict: 'missing' }]);
  });

  it("marks 2.7's stub answer and its 'success' for unknown tools as stubs", async () => {
    const t = new ToolSupport();
    const c = caller(['Tool agent_metrics executed successfully', 'Tool agent_metrics executed successfully']);
    await expect(t.call(c, 'agent_metrics', { agentId: 'a' })).rejects.toMatchObject({ verdict: 'stub' });
    await expect(t.call(c, 'agent_metrics', { agentId: 'b' })).rejects.toMatchObject({ verdict: 'stub' });
    expect(c.calls).toHaveLength(1);
  });

  it('keeps calling a tool whose failure says nothing about whether it exists', async () => {
    const t = new ToolSupport();
    const payloads = [{ success: false, error: 'Input validation failed' }, 'plain text that is not a stub', { agents: [] }];
    const c = caller([new McpTimeoutError('timed out'), new McpRpcError(-32602, 'Invalid params'), new McpRpcError(null, 'tool failed: disk full'), new McpRpcError(-32700, 'Parse error'), ...payloads]);
    for (let i = 0; i < 4; i++) await expect(t.call(c, 'agent_list')).rejects.not.toBeInstanceOf(ToolUnsupportedError);
    for (const p of payloads) await expect(t.call(c, 'agent_list')).resolves.toEqual(p);
    expect(c.calls).toHaveLength(7);
    expect(t.list()).toEqual([]);
  });

  it('a reset (new connection, other backend) gives every tool another try; a stale answer sets no verdict', async () => {
    const t = new ToolSupport();
    const c = caller([new McpRpcError(-32601, 'Tool not found: swarm_list'), { swarms: [] }]);
    await expect(t.call(c, 'swarm_list')).rejects.toBeInstanceOf(ToolUnsupportedError);
    t.reset();
    await expect(t.call(c, 'swarm_list')).resolves.toEqual({ swarms: [] });
    // A call made before the reset whose "not found" lands after it belongs to the old connection.
    let reject!: (e: Error) => void;
    const slow = t.call({ callTool: () => new Promise((_, r) => (reject = r)) }, 'agent_metrics');
    t.reset();
    reject(new McpRpcError(-32601, 'Tool not found: agent_metrics'));
    await expect(slow).rejects.toBeInstanceOf(ToolUnsupportedError);
    expect(t.verdict('agent_metrics')).toBeNull();
  });

  it('hostile answers: long or odd text is not mistaken for a verdict', () => {
    expect(isStubAnswer('Tool x executed successfully')).toBe(true);
    expect(isStubAnswer(`Tool ${'x'.repeat(500)} executed successfully`)).toBe(false);
    expect(isStubAnswer('The tool executed successfully and found 3 agents')).toBe(false);
    expect(isStubAnswer({ text: 'Tool x executed successfully' })).toBe(false);
    expect(isToolMissing(new Error('Tool not found: x'))).toBe(false);
    expect(isToolMissing(new McpRpcError(-32000, 'Tool not found: x'))).toBe(false);
    expect(isToolMissing(new McpRpcError(null, 'agent not found: x'))).toBe(false);
  });
});

describe('answers out of order (3.x answers pipelined requests out of order)', () => {
  let client: McpClient | null = null;
  afterEach(async () => client?.close());

  it('each answer reaches the request with its id, whatever the order, and an unknown id is ignored', async () => {
    let server!: MemoryServerEnd;
    client = new McpClient({
      transportFactory: () => {
        const pair = createMemoryPair();
        server = pair.server;
        server.onmessage = (m) => {
          const msg = m as { id?: number; method: string };
          if (msg.method === 'initialize') server.write(`{"jsonrpc":"2.0","id":${msg.id},"result":{"serverInfo":{"name":"ruflo","version":"3.0.0"}}}\n`);
        };
        return pair.client;
      },
      logger,
      requestTimeoutMs: 2000,
    });
    client.start();
    while (client.state !== 'ready') await new Promise((r) => setTimeout(r, 5));
    const tools = new ToolSupport();
    const asked = ['agent_list', 'task_list', 'agent_messages', 'swarm_status'].map((name) => tools.call(client!, name).then((v) => ({ name, v }), (e: Error) => ({ name, e })));
    await new Promise((r) => setTimeout(r, 20));
    const ids = (server.received as { id?: number; method: string; params?: { name?: string } }[]).filter((m) => m.method === 'tools/call').map((m) => ({ id: m.id!, name: m.params!.name! }));
    expect(ids.map((x) => x.name)).toEqual(['agent_list', 'task_list', 'agent_messages', 'swarm_status']);
    const text = (o: unknown) => JSON.stringify({ content: [{ type: 'text', text: JSON.stringify(o) }] });
    // Last first, a reply for an id nobody asked, one split across two writes, then the rest.
    const [list, tasks, msgs, swarm] = ids as [(typeof ids)[0], (typeof ids)[0], (typeof ids)[0], (typeof ids)[0]];
    server.write(`{"jsonrpc":"2.0","id":${swarm.id},"result":${text({ status: 'no_swarm' })}}\n`);
    const half = `{"jsonrpc":"2.0","id":${tasks.id},"result":${text({ tasks: [], total: 0 })}}\n`;
    server.write(`{"jsonrpc":"2.0","id":9999,"result":${text({ agents: ['wrong'] })}}\n`);
    server.write(half.slice(0, 17));
    server.write(half.slice(17));
    server.write(`{"jsonrpc":"2.0","id":${msgs.id},"error":{"code":-32601,"message":"Tool not found: agent_messages"}}\n`);
    server.write(`{"jsonrpc":"2.0","id":${list.id},"result":${text({ agents: [], total: 0 })}}\n`);
    expect(await Promise.all(asked)).toEqual([
      { name: 'agent_list', v: { agents: [], total: 0 } },
      { name: 'task_list', v: { tasks: [], total: 0 } },
      { name: 'agent_messages', e: expect.any(ToolUnsupportedError) },
      { name: 'swarm_status', v: { status: 'no_swarm' } },
    ]);
    expect(tools.list()).toEqual([{ tool: 'agent_messages', verdict: 'missing' }]);
  });
});

describe("3.x's own limits come out unknown, never 0", () => {
  const norm = (raw: unknown) => normalizeAgent(claudeFlow3Agent(raw))!;

  it('a hive worker: constant health 1 is unknown; no CPU or memory is reported', () => {
    const w = norm({ agentId: 'hive-worker-1796422148173-sgyd', agentType: 'coder', status: 'idle', health: 1, taskCount: 0, domain: 'hive-mind' });
    expect(w.metrics.health).toBeUndefined();
    expect(w.metrics.cpuUsage).toBeUndefined();
    expect(w.metrics.memoryUsage).toBeUndefined();
  });

  it('an agent_spawn agent: health 0..1 becomes a percentage (0.85 -> 85, not 0.85 %)', () => {
    expect(norm({ agentId: 'agent-1796434554847-m2vyza', agentType: 'coder', status: 'active', health: 0.85 }).metrics.health).toBe(85);
  });

  it('hostile: health out of 0..1, a string, or a cpu 0 the backend cannot measure, are dropped', () => {
    for (const health of [1.5, -0.1, '0.5', null, Number.NaN]) expect(norm({ agentId: 'a-1', health }).metrics.health).toBeUndefined();
    const a = norm({ agentId: 'a-1', cpu: 0, cpuUsage: 0, memory: 0, memoryUsage: 0 });
    expect([a.metrics.cpuUsage, a.metrics.memoryUsage]).toEqual([undefined, undefined]);
    expect(claudeFlow3Agent('not an object')).toBe('not an object');
  });
});
