// The HTTP edge as relay/app.ts wires it, on a real relay with a recording driver and a replayed
// claude-flow MCP server: HIDE_MOCK reaches the REST agent list, a request's X-Request-Id comes back and
// is on its log lines, /metrics is one Prometheus exposition (one prom-client Registry), and
// /api/openapi.json is served.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../shared/api.js';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { FakeDriver, FAKE_SM } from '../control/testing/fakeDriver.js';
import { SessionManagerBackend } from '../control/backends/sessionManager.js';
import { CLAUDE_FLOW } from '../telemetry/testing/recordings.js';
import { startReplayServer, type ReplayServer } from '../telemetry/testing/replayServer.js';

type Line = Record<string, unknown>;

let mcp: ReplayServer;
const started: { relay: RelayHandle; dir: string }[] = [];

async function relayWith(env: Record<string, string>): Promise<{ relay: RelayHandle; lines: Line[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-edge-'));
  const lines: Line[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  const config = loadConfig({ PORT: '0', HIVE_STATE_DIR: dir, HIVE_EMBEDDED: '0', HIVE_DEMO: '0', MCP_PORT: String(mcp.port), MCP_POLL_MS: '100', ...env });
  const relay = await startRelay(config, logger, {
    control: { driver: new FakeDriver(), backend: (run) => new SessionManagerBackend(run, [FAKE_SM]), embedded: false, timing: { probeMs: 3_600_000, reapMs: 3_600_000, cleanupMs: 3_600_000 } },
  });
  started.push({ relay, dir });
  return { relay, lines };
}

/** Polls a JSON route until `pred` holds (a hang guard, not a speed assertion). */
async function until<T>(url: string, pred: (body: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const body = (await (await fetch(url)).json()) as T;
    if (pred(body)) return body;
    if (Date.now() > end) throw new Error(`timed out waiting on ${url}: ${JSON.stringify(body).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  mcp = await startReplayServer(CLAUDE_FLOW);
});
afterAll(async () => {
  for (const { relay, dir } of started.splice(0)) {
    await relay.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await mcp?.close();
});

describe('relay HTTP edge', () => {
  it('honours HIDE_MOCK in the REST agent list', async () => {
    const hidden = (await relayWith({})).relay;
    const shown = (await relayWith({ HIDE_MOCK: '0' })).relay;
    type Agents = { agents: { id: string; mock: boolean }[] };
    // claude-flow's three placeholder agents, all in mock-swarm.
    const all = await until<Agents>(shown.url + routes.botsAgents.path, (b) => b.agents.length === 3);
    expect(all.agents.every((a) => a.mock)).toBe(true);
    await until<Agents>(hidden.url + routes.botsAgents.path + '?includeMock=1', (b) => b.agents.length === 3);
    expect(((await (await fetch(hidden.url + routes.botsAgents.path)).json()) as Agents).agents).toEqual([]);
    expect(((await (await fetch(shown.url + routes.botsStatus.path)).json()) as { agentCount: number }).agentCount).toBe(3);
    expect(((await (await fetch(shown.url + routes.botsData.path)).json()) as { nodes: unknown[] }).nodes).toHaveLength(3);
  });

  it('returns the caller X-Request-Id and puts it on the log lines the request causes', async () => {
    const { relay, lines } = await relayWith({});
    const id = 'spawn-7f3a.01';
    const r = await fetch(relay.url + routes.initializeSwarm.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Request-Id': id },
      body: JSON.stringify({ agentTypes: ['coder'], customPrompt: 'build it' }),
    });
    expect(r.status).toBe(202);
    expect(r.headers.get('x-request-id')).toBe(id);
    const end = Date.now() + 5_000;
    while (!lines.some((l) => l.reqId === id && l.msg === 'http request') && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
    expect(lines.find((l) => l.reqId === id && l.msg === 'http request')).toMatchObject({ method: 'POST', path: routes.initializeSwarm.path, status: 202 });
    // The control plane got the request's context: the spawn's exec is logged under the same id.
    expect(lines.find((l) => l.reqId === id && l.msg === 'exec')).toMatchObject({ cmd: expect.stringContaining('create') });
    // A refusal is logged with its id too, and a fresh id is made when the caller sent none.
    const bad = await fetch(relay.url + routes.pauseTask.path.replace(':id', 'not-a-uuid'), { method: 'POST' });
    expect(bad.status).toBe(400);
    const fresh = bad.headers.get('x-request-id');
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
    while (!lines.some((l) => l.reqId === fresh) && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
    expect(lines.find((l) => l.reqId === fresh)).toMatchObject({ level: 30, msg: 'http request', status: 400 });
  });

  it('serves /metrics as one exposition with each family once, and the OpenAPI document', async () => {
    const { relay } = await relayWith({});
    const m = await fetch(relay.url + '/metrics');
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    for (const name of ['hivescope_relay_resident_memory_bytes', 'hivescope_relay_heap_used_bytes', 'hivescope_relay_uptime_seconds', 'hivescope_exec_duration_seconds', 'hivescope_control_breaker_state', 'hivescope_mcp_connected', 'hivescope_ws_clients']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    const types = text.match(/^# TYPE \S+/gm) ?? [];
    expect(new Set(types).size).toBe(types.length);
    // Without HIVE_TARGETS the one target's series carry target="local" (issue 14, docs/fleet.md section 3).
    expect(text).toMatch(/^hivescope_mcp_connected\{target="local"\} [01]$/m);
    expect(text).toMatch(/^hivescope_control_breaker_state\{target="local",state="closed"\} 1$/m);
    // One registry: every family has its HELP line.
    expect((text.match(/^# HELP \S+/gm) ?? []).map((l) => l.slice(7))).toEqual(types.map((l) => l.slice(7)));
    expect(text.endsWith('\n')).toBe(true);
    const doc = routes.openapi.response.parse(await (await fetch(relay.url + routes.openapi.path)).json());
    expect(Object.keys(doc.paths)).toContain('/api/sessions/{uuid}/tasks');
  });
});
