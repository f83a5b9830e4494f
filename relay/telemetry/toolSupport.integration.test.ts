// The telemetry plane against recorded claude-flow servers over real TCP: tools the server lacks
// (3.x: agent_messages, swarm_list, agent_metrics answer -32601 or isError) or stubs (2.7) are asked once
// per connection, again after a reconnect and after the backend changed; 3.x agents carry no invented
// CPU, memory or health.
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { createTelemetry } from './index.js';
import { startReplayServer, type ReplayServer } from './testing/replayServer.js';
import { CLAUDE_FLOW, V3_MCP_AGENT_ID, V3_WORKER_ID, claudeFlow3Recording, type Recording } from './testing/recordings.js';
import { testConfig, waitFor } from './testing/helpers.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connect(rec: Recording, backend: { kind: string; version: string } | null) {
  const server = await startReplayServer(rec);
  const bus = new EventEmitter();
  const view = { current: backend };
  const control = {
    sessions: () => [],
    backend: () => view.current,
    on: (e: string, l: (...a: never[]) => void) => bus.on(e, l as (...a: unknown[]) => void),
    off: (e: string, l: (...a: never[]) => void) => bus.off(e, l as (...a: unknown[]) => void),
  };
  const telemetry = createTelemetry({ config: testConfig({ MCP_PORT: String(server.port), MCP_METRICS_HZ: '10' }), logger, control: control as never });
  cleanup.push(async () => {
    await telemetry.close();
    await server.close();
  });
  const changeBackend = (b: { kind: string; version: string }) => {
    view.current = b;
    bus.emit('backend');
  };
  return { server, telemetry, changeBackend };
}

/** tools/call requests per tool name (optionally on one connection). */
function calls(server: ReplayServer, tool: string, conn?: number): number {
  return server.received.filter((m) => m.msg.method === 'tools/call' && (m.msg.params as { name?: string }).name === tool && (conn === undefined || m.conn === conn)).length;
}

describe.each([
  ['-32601 answers', claudeFlow3Recording()],
  ['isError answers', claudeFlow3Recording({ isError: true })],
])('claude-flow 3.x (%s)', (_what, rec) => {
  it('asks each missing tool once per connection, again after a reconnect and after a backend change', async () => {
    const { server, telemetry, changeBackend } = await connect(rec, { kind: 'claude-flow-3', version: '3.43.0' });
    await waitFor(() => telemetry.snapshot().agents.length === 2, '3.x agents');
    telemetry.setSelectedAgents([V3_MCP_AGENT_ID]);
    // Several polls (100 ms) and metrics ticks (100 ms) later, each missing tool was asked once.
    await waitFor(() => calls(server, 'agent_list') >= 6, 'six polls');
    for (const tool of ['agent_messages', 'swarm_list', 'agent_metrics']) expect(calls(server, tool), tool).toBe(1);
    expect(telemetry.toolsOff!().map((t) => t.tool).sort()).toEqual(['agent_messages', 'agent_metrics', 'swarm_list']);
    expect(telemetry.health()).toMatchObject({ state: 'connected' });
    // A new connection may be another server: one more try each.
    server.dropAll();
    await waitFor(() => calls(server, 'agent_list', 2) >= 3, 'polls on the second connection');
    for (const tool of ['agent_messages', 'swarm_list', 'agent_metrics']) expect(calls(server, tool, 2), tool).toBe(1);
    // Another backend (a restarted container with another claude-flow) gets another try on the same connection.
    changeBackend({ kind: 'claude-flow-2', version: '2.7.47' });
    const before = calls(server, 'agent_messages', 2);
    await waitFor(() => calls(server, 'agent_messages', 2) === before + 1, 'agent_messages asked again after the backend changed');
  });

  it('agents: no per-agent CPU or memory, health converted from 0..1, constant hive-worker health unknown', async () => {
    const { telemetry } = await connect(rec, { kind: 'claude-flow-3', version: '3.43.0' });
    await waitFor(() => telemetry.snapshot().agents.length === 2, '3.x agents');
    const byId = new Map(telemetry.snapshot().agents.map((a) => [a.id, a]));
    const worker = byId.get(V3_WORKER_ID)!;
    const spawned = byId.get(V3_MCP_AGENT_ID)!;
    expect([worker.cpuUsage, worker.memoryUsage, worker.health]).toEqual([null, null, null]);
    expect([spawned.cpuUsage, spawned.memoryUsage, spawned.health]).toEqual([null, null, 85]);
    expect(worker.sources).toEqual({});
  });
});

it("claude-flow 2.7: the stub agent_metrics and the 'successful' unknown agent_messages are asked once per connection", async () => {
  const { server, telemetry } = await connect(CLAUDE_FLOW, { kind: 'claude-flow-2', version: '2.7.47' });
  await waitFor(() => telemetry.snapshot({ includeMock: true }).agents.length === 3, 'mock agents');
  telemetry.setSelectedAgents(['agent-1']);
  await waitFor(() => calls(server, 'agent_list') >= 6, 'six polls');
  expect(calls(server, 'agent_metrics')).toBe(1);
  expect(calls(server, 'agent_messages')).toBe(1);
  expect(calls(server, 'swarm_list')).toBe(1);
  expect(telemetry.toolsOff!().map((t) => t.verdict)).toEqual(['stub', 'stub', 'stub']);
});
