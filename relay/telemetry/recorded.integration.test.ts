// Telemetry against the three recorded MCP servers over real TCP, with reply lines whole and split
// into small chunks; the upstream 5-minute close (shortened); hostile lines on a live connection.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTelemetry } from './index.js';
import type { GraphEvent } from '../graph/graph.js';
import { startReplayServer } from './testing/replayServer.js';
import { CLAUDE_FLOW, KIT_ENGINE, SESSION_UUID, SWARM_ID, UPSTREAM_FRONT } from './testing/recordings.js';
import { testConfig, waitFor } from './testing/helpers.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function connect(rec: typeof KIT_ENGINE, opts: { chunkSize?: number; closeAfterMs?: number; token?: string } = {}) {
  const server = await startReplayServer(rec, opts);
  const config = testConfig({ MCP_PORT: String(server.port), ...(opts.token ? { MCP_AUTH_TOKEN: opts.token } : {}) });
  const telemetry = createTelemetry({ config, logger });
  const events: GraphEvent[] = [];
  telemetry.on('event', (e) => events.push(e));
  cleanup.push(async () => {
    await telemetry.close();
    await server.close();
  });
  return { server, telemetry, events };
}

for (const chunkSize of [0, 7]) {
  const how = chunkSize ? `split into ${chunkSize}-byte chunks` : 'whole lines';
  describe(`recorded servers over TCP (${how})`, () => {
    it('kit engine: agents with sourced metrics, swarm, hierarchy and message edges, pushed log and progress', async () => {
      const { telemetry, events } = await connect(KIT_ENGINE, { chunkSize });
      await waitFor(() => telemetry.snapshot().agents.length === 2 && telemetry.snapshot().swarms.some((s) => s.topology !== null), 'kit agents');
      await waitFor(() => events.some((e) => e.kind === 'progress') && events.some((e) => e.kind === 'log'), 'pushed events');
      const snap = telemetry.snapshot();
      const coder = snap.agents.find((a) => a.id === 'agent-coder-2')!;
      expect(coder.status).toBe('busy');
      expect(coder.cpuUsage).toBe(3);
      expect(coder.sources.cpuUsage === 'mcp' || coder.sources.cpuUsage === 'mcp-push').toBe(true);
      expect(coder.successRate).toBeNull();
      expect(coder.sources.successRate).toBeUndefined();
      expect(coder.sessionUuid).toBe(SESSION_UUID);
      expect(coder.createdAt).toBe(Date.parse('2026-11-21T00:10:00.000Z'));
      expect(coder.nodeId).toBeGreaterThan(0);
      expect(coder.nodeId).toBeLessThan(2 ** 30);
      expect(snap.swarms).toEqual([expect.objectContaining({ id: SWARM_ID, topology: 'hierarchical', queenId: 'agent-queen-1', mock: false })]);
      expect(snap.edges.find((e) => e.kind === 'hierarchy')).toMatchObject({ source: 'agent-queen-1', target: 'agent-coder-2' });
      await waitFor(() => telemetry.snapshot().edges.some((e) => e.kind === 'message'), 'message edge');
      const msgEdge = telemetry.snapshot().edges.find((e) => e.kind === 'message')!;
      expect(msgEdge.messageCount).toBeGreaterThanOrEqual(1);
      expect(msgEdge.dataVolume).toBeGreaterThanOrEqual(512);
      expect(events.find((e) => e.kind === 'progress')!.progress).toBe(0.75);
      expect(events.find((e) => e.kind === 'log')).toMatchObject({ message: 'Coder Worker 2 picked up write handlers', agentId: 'agent-coder-2' });
      expect(telemetry.health()).toMatchObject({ state: 'connected', push: true, lastError: null });
    });

    it('upstream front: authenticates, falls back to swarm_status, never invents metrics', async () => {
      const { telemetry, events, server } = await connect(UPSTREAM_FRONT, { chunkSize, token: UPSTREAM_FRONT.authToken! });
      await waitFor(() => telemetry.snapshot().agents.length === 2 && telemetry.snapshot().swarms.some((s) => s.topology === 'mesh'), 'upstream agents');
      expect(server.received[0]!.msg.method).toBe('authenticate');
      for (const a of telemetry.snapshot().agents) {
        expect(a.sources).toEqual({});
        expect([a.cpuUsage, a.memoryUsage, a.health, a.tokens, a.workload]).toEqual([null, null, null, null, null]);
      }
      await waitFor(() => events.some((e) => e.kind === 'message'), 'client message');
      expect(events.find((e) => e.kind === 'message')).toMatchObject({ message: 'Researcher Worker 1: found 3 sources', agentId: 'agent_1795219881170_r1' });
      expect(telemetry.health().push).toBe(false);
    });

    it('claude-flow: mock-swarm agents are marked mock and hidden unless asked for', async () => {
      const { telemetry } = await connect(CLAUDE_FLOW, { chunkSize, token: 'ignored-by-claude-flow' });
      await waitFor(() => telemetry.snapshot({ includeMock: true }).agents.length === 3, 'mock agents');
      expect(telemetry.snapshot({ includeMock: true }).agents.every((a) => a.mock)).toBe(true);
      expect(telemetry.snapshot({ includeMock: false }).agents).toEqual([]);
      await waitFor(() => telemetry.snapshot({ includeMock: true }).swarms.some((s) => s.id === 'mock-swarm' && s.topology === 'hierarchical'), 'mock swarm');
      expect(telemetry.snapshot({ includeMock: false }).swarms).toEqual([]);
      expect(telemetry.metrics().linesRejected).toBeGreaterThanOrEqual(1);
      expect(telemetry.health().state).toBe('connected');
    });
  });
}

describe('telemetry connection lifecycle over TCP', () => {
  it('reconnects transparently when the server closes every connection shortly after it opened', async () => {
    const { telemetry, server } = await connect(KIT_ENGINE, { closeAfterMs: 250 });
    await waitFor(() => server.connections >= 4, 'several reconnects');
    await waitFor(() => telemetry.health().state === 'connected', 'connected again');
    expect(telemetry.metrics().reconnects).toBeGreaterThanOrEqual(3);
    // The graph survives the closes; nothing was removed because a connection dropped.
    expect(telemetry.snapshot().agents).toHaveLength(2);
  });

  it('reports disconnected then recovers when the server comes back', async () => {
    const { telemetry, server } = await connect(KIT_ENGINE);
    await waitFor(() => telemetry.health().state === 'connected', 'connected');
    server.dropAll();
    await waitFor(() => telemetry.metrics().reconnects >= 1, 'drop noticed');
    await waitFor(() => telemetry.health().state === 'connected', 'reconnected');
  });

  it('polls agent_metrics for selected agents and emits performance samples', async () => {
    const { telemetry, server } = await connect(KIT_ENGINE);
    await waitFor(() => telemetry.snapshot().agents.length === 2, 'agents');
    const samples: { agentId: string; cpuUsage: number | null }[] = [];
    telemetry.on('performance', (s) => samples.push(...s));
    telemetry.setSelectedAgents(['agent-coder-2', 'not-an-agent']);
    await waitFor(() => samples.some((s) => s.cpuUsage === 44.5), 'performance sample');
    expect(samples.every((s) => s.agentId === 'agent-coder-2')).toBe(true);
    expect(telemetry.snapshot().agents.find((a) => a.id === 'agent-coder-2')!.sources.cpuUsage).toBe('mcp');
    expect(server.received.some((m) => (m.msg.params as { arguments?: { agentId?: string } })?.arguments?.agentId === 'not-an-agent')).toBe(false);
  });

  it('callTool reaches the server (the control plane MCP fallback)', async () => {
    const { telemetry, server } = await connect(KIT_ENGINE);
    await waitFor(() => telemetry.health().state === 'connected', 'connected');
    const r = await telemetry.callTool('swarm_status', { swarmId: SWARM_ID });
    expect(r).toMatchObject({ swarmId: SWARM_ID, topology: 'hierarchical' });
    expect(server.received.some((m) => (m.msg.params as { name?: string })?.name === 'swarm_status')).toBe(true);
  });

  it('survives hostile lines: an 11 MiB line, binary, deep nesting, wrong types', async () => {
    const { telemetry, server } = await connect(KIT_ENGINE);
    await waitFor(() => telemetry.snapshot().agents.length === 2, 'agents');
    server.broadcast('{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"' + 'x'.repeat(11 * 1024 * 1024) + '"}}\n');
    server.broadcast(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a]).toString('latin1'));
    server.broadcast('['.repeat(50_000) + ']'.repeat(50_000) + '\n');
    server.broadcast(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/hive/agents',
        params: {
          agents: [5, null, 'x', { id: {} }, { id: '' }, { id: 'a'.repeat(300) }, { id: 'agent-new', cpuUsage: 'lots', memoryUsage: -5, health: '97', tasksActive: 1.5, status: 'exploded', created: 'yesterday' }],
          removed: [{}, 7],
        },
      }) + '\n',
    );
    server.broadcast('{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":"NaN","total":0}}\n');
    await waitFor(() => telemetry.snapshot().agents.some((a) => a.id === 'agent-new'), 'the one usable agent');
    const a = telemetry.snapshot().agents.find((x) => x.id === 'agent-new')!;
    expect(a.cpuUsage).toBeNull();
    expect(a.memoryUsage).toBeNull();
    expect(a.tasksActive).toBeNull();
    expect(a.health).toBe(97);
    expect(a.createdAt).toBeNull();
    expect(a.sources).toEqual({ health: 'mcp-push' });
    expect(telemetry.metrics().linesRejected).toBeGreaterThanOrEqual(2);
    expect(telemetry.metrics().rejectedFields).toBeGreaterThanOrEqual(4);
    expect(telemetry.health().state).toBe('connected');
    expect(((await telemetry.callTool('agent_list')) as { count: number }).count).toBe(2);
  });
});

describe('a claude-flow container: one truthful view from exec and MCP', () => {
  it("exec-read hive-mind agents join the graph with unknown metrics and their hierarchy; MCP's mock agents stay hidden", async () => {
    const server = await startReplayServer(CLAUDE_FLOW, {});
    const config = testConfig({ MCP_PORT: String(server.port) });
    const { EventEmitter } = await import('node:events');
    const bus = new EventEmitter();
    const swarmId = 'swarm-1795219881166-xfgygyoal';
    let execAgents = [
      { id: `${swarmId}/Queen Coordinator`, swarmId, sessionUuid: SESSION_UUID, name: 'Queen Coordinator', type: 'queen', status: 'active', parentQueenId: null },
      { id: `${swarmId}/Coder Worker 1`, swarmId, sessionUuid: SESSION_UUID, name: 'Coder Worker 1', type: 'coder', status: 'idle', parentQueenId: `${swarmId}/Queen Coordinator` },
    ];
    const control = {
      sessions: () => [],
      execAgents: () => execAgents,
      on: (e: string, l: (...a: never[]) => void) => bus.on(e, l as (...a: unknown[]) => void),
      off: (e: string, l: (...a: never[]) => void) => bus.off(e, l as (...a: unknown[]) => void),
    };
    const telemetry = createTelemetry({ config, logger, control: control as never });
    cleanup.push(async () => {
      await telemetry.close();
      await server.close();
    });
    const real = () => telemetry.snapshot({ includeMock: false });
    await waitFor(() => real().agents.length === 2, 'exec agents');
    const shown = real();
    const coder = shown.agents.find((a) => a.name === 'Coder Worker 1')!;
    expect(coder).toMatchObject({ type: 'coder', status: 'idle', swarmId, sessionUuid: SESSION_UUID, parentQueenId: `${swarmId}/Queen Coordinator`, mock: false });
    // claude-flow reports no metrics: unknown, never invented, and no source claimed for them.
    expect([coder.cpuUsage, coder.memoryUsage, coder.health, coder.tokens, coder.tokenRate]).toEqual([null, null, null, null, null]);
    expect(coder.sources).toEqual({});
    expect(shown.edges.some((e) => e.kind === 'hierarchy')).toBe(true);
    // With mock agents asked for, MCP's hard-coded mock-swarm agents are there, labelled.
    await waitFor(() => telemetry.snapshot({ includeMock: true }).agents.some((a) => a.mock), 'mock agents from MCP');
    expect(telemetry.snapshot({ includeMock: true }).agents.filter((a) => a.mock).every((a) => a.swarmId === 'mock-swarm')).toBe(true);
    // A worker leaving hive-mind status leaves the graph once control says the agents changed.
    execAgents = execAgents.slice(0, 1);
    bus.emit('agents');
    await waitFor(() => real().agents.length === 1, 'exec agent removed');
  });
});
