// MCP client over the in-memory transport: handshakes against the three recorded servers, the
// reconnect state machine (fake timers), request timeouts, the in-flight cap, hostile lines.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { McpClient, McpBusyError, McpRpcError, McpTimeoutError, McpUnavailableError, READY_WAIT_MS, RECONNECT, TIMEOUTS_BEFORE_RECONNECT, type McpClientState } from './client.js';
import { attachRecording, createMemoryPair, type MemoryServerEnd } from './testing/memoryTransport.js';
import { CLAUDE_FLOW, KIT_ENGINE, UPSTREAM_FRONT, type Recording } from './testing/recordings.js';

const logger = pino({ level: 'silent' });

/** A client whose every connection is a fresh memory pair; `servers` holds the server ends in order. */
function setup(opts: { rec?: Recording; refuse?: () => boolean; authToken?: string | null; timeoutMs?: number; maxInFlight?: number } = {}) {
  const servers: MemoryServerEnd[] = [];
  const states: McpClientState[] = [];
  const client = new McpClient({
    transportFactory: () => {
      const { client: t, server } = createMemoryPair({ refuse: opts.refuse?.() ?? false });
      servers.push(server);
      if (opts.rec) attachRecording(server, opts.rec);
      return t;
    },
    logger,
    authToken: opts.authToken ?? null,
    requestTimeoutMs: opts.timeoutMs ?? 1000,
    maxInFlight: opts.maxInFlight,
    random: () => 0.5, // no jitter: delays are exact
  });
  client.on('state', (s) => states.push(s));
  return { client, servers, states };
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await vi.advanceTimersByTimeAsync(1);
  expect(pred()).toBe(true);
}

describe('McpClient against recorded servers (in memory)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('kit engine: initializes with capabilities, lists agents, receives pushes', async () => {
    const { client, servers } = setup({ rec: KIT_ENGINE });
    const pushes: string[] = [];
    client.on('notification', (m) => pushes.push(m));
    client.start();
    await until(() => client.state === 'ready');
    expect(client.serverCapabilities).toEqual({ tools: {}, logging: {} });
    const list = (await client.callTool('agent_list')) as { agents: unknown[] };
    expect(list.agents).toHaveLength(2);
    expect(pushes).toContain('notifications/hive/agents');
    expect(servers[0]!.received.map((m) => (m as { method: string }).method)).toEqual(['initialize', 'notifications/initialized', 'tools/call']);
    await client.close();
  });

  it('upstream front: authenticates first, takes an id-less auth reply and an initialize without capabilities', async () => {
    const { client, servers, states } = setup({ rec: UPSTREAM_FRONT, authToken: UPSTREAM_FRONT.authToken });
    client.start();
    await until(() => client.state === 'ready');
    expect(states).toEqual(['connecting', 'authenticating', 'initializing', 'ready']);
    expect(client.serverCapabilities).toBeNull();
    expect(client.serverInfo).toEqual({ name: 'claude-flow', version: '2.0.0-alpha.101' });
    expect((servers[0]!.received[0] as { method: string }).method).toBe('authenticate');
    await expect(client.callTool('swarm_list')).rejects.toBeInstanceOf(McpRpcError);
    const status = (await client.callTool('swarm_status')) as { topology: string };
    expect(status.topology).toBe('mesh');
    await client.close();
  });

  it('upstream front: a wrong token is a failed connection that backs off', async () => {
    const { client } = setup({ rec: UPSTREAM_FRONT, authToken: 'wrong-token-wrong-token' });
    client.start();
    await until(() => client.state === 'backoff');
    expect(client.lastError).toMatch(/Invalid token/);
    await client.close();
  });

  it('claude-flow: survives the banner, the unprompted message, the id-less error; stubs come back as text', async () => {
    const { client } = setup({ rec: CLAUDE_FLOW, authToken: 'some-token-that-cf-ignores' });
    const notes: string[] = [];
    client.on('notification', (m) => notes.push(m));
    client.start();
    await until(() => client.state === 'ready');
    await vi.advanceTimersByTimeAsync(5);
    expect(client.stats.linesRejected).toBe(1); // the non-JSON banner
    expect(client.stats.orphanErrors).toBe(1); // the answer to notifications/initialized
    expect(notes).toEqual(['server.initialized']);
    expect(await client.callTool('agent_metrics', { agentId: 'agent-1' })).toBe('Tool agent_metrics executed successfully');
    expect(await client.callTool('swarm_list')).toBe('Tool swarm_list executed successfully');
    await expect(client.request('ping')).rejects.toBeInstanceOf(McpRpcError);
    expect(client.state).toBe('ready');
    await client.close();
  });

  it('proceeds without initialize when the server refuses it', async () => {
    const rec: Recording = { ...KIT_ENGINE, replies: { ...KIT_ENGINE.replies, initialize: ['{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"nope"}}'] } };
    const { client } = setup({ rec });
    client.start();
    await until(() => client.state === 'ready');
    expect(client.serverCapabilities).toBeNull();
    await client.close();
  });
});

describe('McpClient reconnect state machine (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('backs off exponentially up to the cap while the server is down, then resets once ready', async () => {
    let down = true;
    const { client } = setup({ rec: KIT_ENGINE, refuse: () => down });
    client.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      await until(() => client.state === 'backoff');
      delays.push(client.lastBackoffMs);
      await vi.advanceTimersByTimeAsync(client.lastBackoffMs);
    }
    expect(delays).toEqual([250, 500, 1000, 2000, 2000, 2000, 2000, 2000]);
    expect(Math.max(...delays)).toBe(RECONNECT.MAX_MS);
    down = false;
    await until(() => client.state === 'backoff');
    await vi.advanceTimersByTimeAsync(client.lastBackoffMs);
    await until(() => client.state === 'ready');
    await client.close();
  });

  it('reconnects transparently when the server closes every connection 5 minutes after it opened', async () => {
    const { client, servers } = setup({ rec: KIT_ENGINE });
    client.start();
    for (let round = 1; round <= 3; round++) {
      await until(() => client.state === 'ready');
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      servers[servers.length - 1]!.close();
      await until(() => client.state === 'backoff');
      expect(client.lastBackoffMs).toBe(RECONNECT.AFTER_READY_MS);
      await vi.advanceTimersByTimeAsync(RECONNECT.AFTER_READY_MS);
    }
    await until(() => client.state === 'ready');
    expect(servers).toHaveLength(4);
    expect(client.stats.reconnects).toBe(3);
    expect(((await client.callTool('agent_list')) as { count: number }).count).toBe(2);
    await client.close();
  });

  it('fails in-flight requests when the connection drops, and every request once closed', async () => {
    const rec: Recording = { ...KIT_ENGINE, replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [] } };
    const { client, servers } = setup({ rec, timeoutMs: 60_000 });
    client.start();
    await until(() => client.state === 'ready');
    const p = client.callTool('agent_list');
    servers[0]!.close();
    await expect(p).rejects.toBeInstanceOf(McpUnavailableError);
    await client.close();
    await expect(client.callTool('agent_list')).rejects.toBeInstanceOf(McpUnavailableError);
  });

  it('a call made during the routine reconnect waits for it and succeeds', async () => {
    const { client, servers } = setup({ rec: KIT_ENGINE });
    client.start();
    await until(() => client.state === 'ready');
    servers[0]!.close();
    await until(() => client.state === 'backoff');
    const p = client.callTool('agent_list');
    await vi.advanceTimersByTimeAsync(RECONNECT.AFTER_READY_MS);
    expect(((await p) as { count: number }).count).toBe(2);
    await client.close();
  });

  it('a call made while the server stays down fails after READY_WAIT_MS', async () => {
    let down = false;
    const { client, servers } = setup({ rec: KIT_ENGINE, refuse: () => down });
    client.start();
    await until(() => client.state === 'ready');
    down = true;
    servers[0]!.close();
    await until(() => client.state === 'backoff');
    const p = client.callTool('agent_list');
    const check = expect(p).rejects.toBeInstanceOf(McpUnavailableError);
    await vi.advanceTimersByTimeAsync(READY_WAIT_MS);
    await check;
    await client.close();
  });

  it('times out a request, and replaces a connection after consecutive timeouts', async () => {
    const rec: Recording = { ...KIT_ENGINE, replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [] } };
    const { client, servers } = setup({ rec, timeoutMs: 1000 });
    client.start();
    await until(() => client.state === 'ready');
    for (let i = 0; i < TIMEOUTS_BEFORE_RECONNECT; i++) {
      const p = client.callTool('agent_list');
      const check = expect(p).rejects.toBeInstanceOf(McpTimeoutError);
      await vi.advanceTimersByTimeAsync(1000);
      await check;
    }
    expect(client.stats.timeouts).toBe(TIMEOUTS_BEFORE_RECONNECT);
    await until(() => servers.length === 2 && client.state === 'ready');
    await client.close();
  });

  it('caps requests in flight', async () => {
    const rec: Recording = { ...KIT_ENGINE, replies: { ...KIT_ENGINE.replies, 'tools/call:agent_list': [] } };
    const { client } = setup({ rec, timeoutMs: 60_000, maxInFlight: 3 });
    client.start();
    await until(() => client.state === 'ready');
    const held = [1, 2, 3].map(() => client.callTool('agent_list').catch((e: unknown) => e));
    await expect(client.callTool('agent_list')).rejects.toBeInstanceOf(McpBusyError);
    expect(client.inFlight).toBe(3);
    await client.close();
    for (const h of held) expect(await h).toBeInstanceOf(McpUnavailableError);
  });

  it('close() stops reconnecting', async () => {
    const { client, servers } = setup({ rec: KIT_ENGINE });
    client.start();
    await until(() => client.state === 'ready');
    await client.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(client.state).toBe('closed');
    expect(servers).toHaveLength(1);
  });
});

describe('McpClient with hostile lines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ignores garbage, wrong types, unknown ids, deep nesting and server requests, and keeps working', async () => {
    const { client, servers } = setup({ rec: KIT_ENGINE });
    client.start();
    await until(() => client.state === 'ready');
    const s = servers[0]!;
    const hostile = [
      '\u0000\u0001\u0002\xff binary',
      'null',
      '42',
      '"a string"',
      '[]',
      '[1,2,3]',
      '{}',
      '{"jsonrpc":"2.0","id":99999,"result":{}}',
      '{"jsonrpc":"2.0","id":{"nested":true},"result":{}}',
      '{"jsonrpc":"2.0","method":12}',
      '{"jsonrpc":"2.0","id":5,"method":"sampling/createMessage","params":{}}',
      '{"error":"MCP not ready"}',
      '{"__proto__":{"polluted":true},"method":"x"}',
      '['.repeat(100_000) + ']'.repeat(100_000),
      '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
    ];
    for (const line of hostile) s.write(line + '\n');
    await vi.advanceTimersByTimeAsync(5);
    expect(client.state).toBe('ready');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The server's request got a method-not-found answer.
    expect(s.received.some((m) => (m as { id?: number; error?: unknown }).id === 5 && (m as { error?: unknown }).error)).toBe(true);
    expect(((await client.callTool('agent_list')) as { count: number }).count).toBe(2);
    await client.close();
  });
});
