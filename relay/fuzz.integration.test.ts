/**
 * The hostile-input suite (issue 7), seeded and bounded: 10,000 generated and mutated inputs across
 * every boundary of a real relay on real sockets — HTTP bodies, WebSocket JSON messages, binary V2
 * frames, exec outputs, and MCP lines from a hostile TCP server. Zero crashes, zero unhandled
 * rejections, every refusal a 4xx or a close code with a reason, and the recording driver proves that
 * no generated text ever reached an exec argv unvalidated. FUZZ_SEED picks another reproducible run.
 */
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { startRelay, type RelayHandle } from './app.js';
import { FakeDriver, FAKE_SM } from './control/testing/fakeDriver.js';
import { SessionManagerBackend } from './control/backends/sessionManager.js';
import { ControlError } from './control/errors.js';
import { DockerStreamDecoder, DockerStreamError, encodeDockerFrame } from './control/dockerStream.js';
import { parseCreateOutput, parseHiveSessions, parseHiveStatus, parseRegistry, parseSessionJson, parseStatusWord, parseSwarmSummary } from './control/parsers.js';
import { FrameError, decodeNodeFrame, encodeNodeFrame } from '../shared/protocol/binaryV2.js';
import { AgentSchema } from '../shared/model/agent.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import { int, mutateBytes, mutateObject, mutateText, pick, rng, hostileValue } from './testing/fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261121);
const N = { http: 3000, ws: 2000, frames: 2000, exec: 1500, mcp: 1500 };
const ALLOWED_CLOSE = new Set([1003, 1007, 1008, 1009]);

const VALID_AGENT_LIST = JSON.stringify({
  success: true,
  swarmId: 'swarm-1795219796568-ukraioo0q',
  agents: [
    { id: 'agent-1', name: 'Queen', type: 'queen', status: 'active', capabilities: ['plan'], swarmId: 'swarm-1795219796568-ukraioo0q', cpuUsage: 12, tokens: 100 },
    { id: 'agent-2', name: 'Coder 1', type: 'coder', status: 'busy', capabilities: [], swarmId: 'swarm-1795219796568-ukraioo0q', parentQueenId: 'agent-1', tokenRate: 30 },
  ],
  count: 2,
  timestamp: '2026-11-21T00:00:00.000Z',
}, null, 2);

const HIVE_SESSIONS = `🟢 bgswarm\nSession ID: session-1795219881169-cq461upx2\nStatus: active\nObjective: build a REST API\nProgress: 0%\nCreated: 11/21/2026, 12:11:21 AM\nLast Updated: 11/21/2026, 12:11:51 AM\n\nReal Progress:\n  Agents: 4\n  Tasks: 0/0\n  In Progress: 0\n  Pending: 0\n`;
const HIVE_STATUS = `Swarm: bgswarm\nID: swarm-1795219881166-xfgygyoal\nObjective: build a REST API\nQueen Type: tactical\nStatus: active\nCreated: 11/21/2026, 12:11:21 AM\nTotal Agents: 4\n\nAgents:\n  👑 Queen: Queen Coordinator (active)\n  🐝 Workers:\n    - Researcher Worker 1 (researcher) idle\n    - Coder Worker 2 (coder) idle\nTasks:\n  Total: 0\n  Completed: 0\n`;
const SUMMARY = `🐝 Swarm Summary:\n──────\nSwarm ID: swarm-1795219796568-ukraioo0q\nSession ID: session-1795219796572-ylz7dsrf6\nName: hive-1795219796558\nObjective: build a REST API\nQueen Type: strategic\nWorkers: 4\nWorker Types: researcher, coder, analyst, tester\n──────\n`;
const REGISTRY = JSON.stringify({ sessions: { '123e4567-e89b-42d3-a456-426614174000': { task: 'x', status: 'running', created: '2026-11-21T00:00:00Z', updated: '2026-11-21T00:00:00Z', last_activity: '2026-11-21T00:00:00Z', dir: '/w', swarm_id: 'swarm-1-abc', priority: 'medium', metadata: null } } });

/** A hostile MCP server on real TCP: answers every request with mutated lines and pushes garbage. */
function hostileMcpServer(seed: number, total: number) {
  const r = rng(seed);
  let sent = 0;
  const sockets = new Set<net.Socket>();
  const line = (id: unknown): string => {
    const valid = JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: VALID_AGENT_LIST }] } });
    switch (int(r, 0, 7)) {
      case 0:
        return mutateText(r, valid);
      case 1:
        return JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: mutateText(r, VALID_AGENT_LIST) }] } });
      case 2:
        return JSON.stringify({ jsonrpc: '2.0', method: pick(r, ['notifications/hive/agents', 'notifications/message', 'notifications/progress', 'notifications/hive/message', 'notification']), params: hostileValue(r) });
      case 3:
        return JSON.stringify({ jsonrpc: '2.0', method: 'notifications/hive/agents', params: { swarmId: 'swarm-1-abc', agents: [mutateObject(r, JSON.parse(VALID_AGENT_LIST).agents[1])] } });
      case 4:
        return JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' } });
      case 5:
        return JSON.stringify(hostileValue(r)) ?? 'undefined';
      case 6:
        return String.fromCharCode(...Array.from({ length: int(r, 0, 200) }, () => int(r, 1, 255)));
      default:
        return valid;
    }
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const l = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let id: unknown = null;
        try {
          id = (JSON.parse(l) as { id?: unknown }).id ?? null;
        } catch {
          /* not ours to judge */
        }
        if (id !== null && sent < total) {
          sent++;
          sock.write(line(id) + '\n');
        }
      }
    });
  });
  const pusher = setInterval(() => {
    for (const s of sockets) {
      for (let i = 0; i < 25 && sent < total; i++, sent++) s.write(line(null) + '\n');
    }
  }, 5);
  return {
    server,
    get sent() {
      return sent;
    },
    close: () =>
      new Promise<void>((res) => {
        clearInterval(pusher);
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

describe(`hostile input, seed ${SEED}: 10,000 inputs lose nothing`, () => {
  let relay: RelayHandle;
  let mcp: ReturnType<typeof hostileMcpServer>;
  const fake = new FakeDriver();
  const rejections: unknown[] = [];
  const onRejection = (e: unknown) => rejections.push(e);
  let stateDir: string;

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    mcp = hostileMcpServer(SEED, N.mcp);
    await new Promise<void>((r) => mcp.server.listen(0, '127.0.0.1', r));
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-fuzz-'));
    const config = loadConfig({
      PORT: '0',
      HIVE_STATE_DIR: stateDir,
      HIVE_EMBEDDED: '0',
      HIVE_DEMO: '0',
      MCP_PORT: String((mcp.server.address() as net.AddressInfo).port),
      MCP_POLL_MS: '100',
      MCP_REQUEST_TIMEOUT_MS: '500',
      SPAWN_RATE_PER_MIN: '100000',
      LOG_LEVEL: 'silent',
    });
    relay = await startRelay(config, pino({ level: 'silent' }), {
      control: { driver: fake, backend: (run) => new SessionManagerBackend(run, [FAKE_SM]), embedded: false, timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000 } },
    });
  });

  afterAll(async () => {
    await relay?.close();
    await mcp?.close();
    process.off('unhandledRejection', onRejection);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it(`${N.http} HTTP requests: each answered 2xx or 4xx with a clear error, none 5xx`, async () => {
    const r = rng(SEED + 1);
    const base = {
      initialize: { topology: 'mesh', maxAgents: 8, strategy: 'adaptive', priority: 'medium', enableNeural: true, agentTypes: ['coder'], customPrompt: 'build it' },
      spawnAgent: { agentType: 'coder', swarmId: 'swarm-1-abc', method: 'docker' },
      task: { task: 'do it', priority: 'high' },
    };
    const uuid = '123e4567-e89b-42d3-a456-426614174000';
    const bad: string[] = [];
    for (let i = 0; i < N.http; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, N.http - i) }, async () => {
          const kind = int(r, 0, 5);
          let method = 'POST';
          let p = '/api/bots/initialize-swarm';
          let body: string | Uint8Array;
          const id = int(r, 0, 2) === 0 ? uuid : encodeURIComponent(String(hostileValue(r)).slice(0, 200).replace(/[\ud800-\udfff]/g, '?'));
          if (kind === 0) body = JSON.stringify(mutateObject(r, base.initialize));
          else if (kind === 1) body = mutateText(r, JSON.stringify(base.initialize));
          else if (kind === 2) {
            p = '/api/bots/spawn-agent-hybrid';
            body = JSON.stringify(mutateObject(r, base.spawnAgent));
          } else if (kind === 3) {
            p = `/api/sessions/${id}/tasks`;
            body = JSON.stringify(mutateObject(r, base.task));
          } else if (kind === 4) {
            method = pick(r, ['POST', 'DELETE', 'GET']);
            p = pick(r, [`/api/bots/pause-task/${id}`, `/api/bots/resume-task/${id}`, `/api/bots/remove-task/${id}`, `/api/sessions/${id}`]);
            body = '';
          } else body = mutateBytes(r, new TextEncoder().encode(JSON.stringify(base.initialize)));
          const res = await fetch(relay.url + p, { method, headers: { 'content-type': pick(r, ['application/json', 'application/json', 'text/plain']) }, body: method === 'GET' ? undefined : typeof body === 'string' ? body : Buffer.from(body) });
          const text = await res.text();
          if (res.status >= 500) bad.push(`${method} ${p.slice(0, 60)} -> ${res.status} ${text.slice(0, 120)}`);
          else if (res.status >= 400) {
            const e = JSON.parse(text) as { error?: { code?: string; message?: string } };
            if (!e.error?.code || !e.error.message) bad.push(`${res.status} without a clear error: ${text.slice(0, 120)}`);
          }
        }),
      );
    }
    expect(bad).toEqual([]);
    expect(fake.violations).toEqual([]);
    expect(fake.calls.length).toBeGreaterThan(0);
  }, 240_000);

  it(`${N.ws} WebSocket JSON messages: refused ones close only their socket, with a code and a reason`, async () => {
    const r = rng(SEED + 2);
    const wsUrl = relay.url.replace('http', 'ws') + '/wss?follow=1';
    const valid = [
      { type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: null, visible: true, followOnly: true, resumeFrom: null },
      { type: 'subscribe', swarmIds: null, includePerformance: false, selectedAgentIds: [], includeMock: false },
      { type: 'pin', nodeId: 1, x: 0, y: 0, z: 0 },
      { type: 'ping', t: 1 },
      { type: 'visibility', visible: true },
    ];
    const closes: { code: number; reason: string }[] = [];
    let sentCount = 0;
    const observer = new WebSocket(wsUrl);
    await new Promise((res) => observer.once('open', res));
    while (sentCount < N.ws) {
      const ws = new WebSocket(wsUrl);
      await new Promise<void>((res, rej) => {
        ws.once('open', () => res());
        ws.once('error', rej);
      });
      let last = '';
      const closed = new Promise<{ code: number; reason: string }>((res) => ws.once('close', (code, reason) => res({ code, reason: reason.toString() || `(no reason; last message ${last.slice(0, 200)})` })));
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      while (!isClosed && sentCount < N.ws) {
        sentCount++;
        const k = int(r, 0, 3);
        const msg = k === 0 ? JSON.stringify(mutateObject(r, pick(r, valid))) : k === 1 ? mutateText(r, JSON.stringify(pick(r, valid))) : k === 2 ? JSON.stringify(hostileValue(r)) ?? 'null' : JSON.stringify(pick(r, valid));
        last = msg;
        ws.send(msg);
        await new Promise((res) => setImmediate(res));
      }
      if (!isClosed) {
        ws.close(1000);
        await closed;
      } else closes.push(await closed);
    }
    expect(closes.length).toBeGreaterThan(50);
    for (const c of closes) {
      expect(ALLOWED_CLOSE.has(c.code), `close code ${c.code}: ${c.reason}`).toBe(true);
      expect(c.reason.length).toBeGreaterThan(3);
    }
    // The observer socket was never affected.
    expect(observer.readyState).toBe(WebSocket.OPEN);
    observer.close();
  }, 120_000);

  it(`${N.frames} binary frames: decoded or refused with a FrameError; over the socket, a close code`, async () => {
    const r = rng(SEED + 3);
    const frame = encodeNodeFrame(Array.from({ length: 5 }, (_, i) => ({ id: i + 1, type: 'agent' as const, x: i, y: 0, z: 0, vx: 0, vy: 0, vz: 0, ssspDistance: Infinity, ssspParent: -1 })));
    let refused = 0;
    const viaSocket: Uint8Array[] = [];
    for (let i = 0; i < N.frames; i++) {
      const b = mutateBytes(r, frame);
      try {
        decodeNodeFrame(b);
      } catch (e) {
        expect(e).toBeInstanceOf(FrameError);
        refused++;
      }
      if (i % 10 === 0) viaSocket.push(b);
    }
    expect(refused).toBeGreaterThan(N.frames / 4);
    const wsUrl = relay.url.replace('http', 'ws') + '/wss';
    for (const b of viaSocket) {
      const ws = new WebSocket(wsUrl);
      await new Promise((res) => ws.once('open', res));
      ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'cpu', physicsScore: 100, visible: true, followOnly: false, resumeFrom: null }));
      ws.send(b);
      ws.send(JSON.stringify({ type: 'ping', t: 1 }));
      const outcome = await new Promise<string>((res) => {
        ws.once('close', (code) => res(`close ${code}`));
        ws.on('message', (d, isBinary) => {
          if (!isBinary && JSON.parse(d.toString()).type === 'pong') res('alive');
        });
      });
      if (outcome !== 'alive') expect(ALLOWED_CLOSE.has(Number(outcome.slice(6))), outcome).toBe(true);
      ws.terminate();
    }
  });

  it(`${N.exec} exec outputs: parsed or refused with a typed error`, () => {
    const r = rng(SEED + 4);
    const typed = (e: unknown) => e instanceof ControlError || e instanceof DockerStreamError;
    for (let i = 0; i < N.exec; i++) {
      const which = i % 6;
      try {
        if (which === 0) parseRegistry(mutateText(r, REGISTRY));
        else if (which === 1) parseHiveSessions(mutateText(r, HIVE_SESSIONS));
        else if (which === 2) parseHiveStatus(mutateText(r, HIVE_STATUS));
        else if (which === 3) parseSwarmSummary(mutateText(r, SUMMARY));
        else if (which === 4) {
          parseCreateOutput(mutateText(r, '123e4567-e89b-42d3-a456-426614174000\n'));
          parseStatusWord(mutateText(r, 'running\n'));
          parseSessionJson(mutateText(r, REGISTRY), '123e4567-e89b-42d3-a456-426614174000');
        } else {
          const d = new DockerStreamDecoder();
          d.push(mutateBytes(r, Buffer.concat([encodeDockerFrame('stdout', Buffer.from(REGISTRY)), encodeDockerFrame('stderr', Buffer.from('warn'))])), 1024 * 1024);
        }
      } catch (e) {
        if (!typed(e)) throw e;
      }
    }
  });

  it(`${N.mcp} hostile MCP lines over TCP: the relay stays up and its graph stays valid`, async () => {
    const deadline = Date.now() + 60_000;
    while (mcp.sent < N.mcp && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(mcp.sent).toBe(N.mcp);
    await new Promise((res) => setTimeout(res, 300));
    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(200);
    for (const a of relay.telemetry.snapshot({ includeMock: true }).agents) expect(AgentSchema.safeParse(a).success).toBe(true);
  });

  it('no unhandled rejections and no unvalidated argv anywhere in the run', () => {
    expect(rejections).toEqual([]);
    expect(fake.violations).toEqual([]);
  });
});
