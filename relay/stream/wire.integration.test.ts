// The stream's edges a browser meets first: a hello for another protocol version is refused with words
// and CloseCode.protocolMismatch; a spawn goes out on the next turn even right after a status delta took
// the deltaHz slot; a session change a request caused is logged with that request's reqId and its
// activity entry carries the requestId.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { CloseCode, PROTOCOL_VERSION } from '../../shared/protocol/messages.js';
import { connectClient, startHarness, type Harness, type TestClient } from './testing/harness.js';

let h: Harness;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
});

async function client(): Promise<TestClient> {
  const c = await connectClient(h.url);
  clients.push(c);
  return c;
}

const agent = (i: number, extra: Record<string, unknown> = {}) => ({ id: `agent-${i}`, name: `Agent ${i}`, type: 'coder', status: 'idle', swarmId: 'swarm-abc-1', ...extra });

describe('/wss protocol version', () => {
  it('refuses a hello for another protocol version with an error message and CloseCode.protocolMismatch, serving everyone else', async () => {
    h = await startHarness();
    const ok = await client();
    const old = await client();
    old.hello();
    old.send({ type: 'hello', protocolVersion: PROTOCOL_VERSION + 1, physicsBackend: 'cpu', physicsScore: 1, visible: true, followOnly: false, resumeFrom: null });
    await old.waitFor((x) => x.closed !== null, 'closed');
    expect(old.closed!.code).toBe(CloseCode.protocolMismatch);
    expect(old.closed!.reason).toMatch(/protocol version 2 is not 1/);
    expect(old.of('error').at(-1)).toMatchObject({ code: 'protocol-mismatch' });
    // A page for another version is not malformed input.
    expect(h.stream.metrics().closedMalformed).toBe(0);
    h.telemetry.agents(agent(1));
    await ok.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.id === 'agent-1')), 'others still served');
  });
});

describe('/wss delta latency', () => {
  it('sends a spawn on the next turn right after a status delta, while status churn keeps to deltaHz', async () => {
    h = await startHarness();
    h.telemetry.agents(agent(1));
    const c = await client();
    const n0 = c.of('delta').length;
    h.telemetry.agents(agent(1, { status: 'busy' }));
    await c.waitFor((x) => x.of('delta').length > n0, 'status delta');
    // Within the 100 ms deltaHz slot the status delta just took: a second status change waits for the
    // slot, a new agent does not (and carries the pending status along).
    h.telemetry.agents(agent(1, { status: 'idle' }));
    const t0 = Date.now();
    h.telemetry.agents(agent(2));
    await c.waitFor((x) => x.of('delta').some((d) => d.upserts.agents?.some((a) => a.id === 'agent-2')), 'spawn delta');
    const at = c.msgTimes[c.msgs.findIndex((m) => m.type === 'delta' && (m.upserts.agents ?? []).some((a) => a.id === 'agent-2'))]!;
    expect(at - t0).toBeLessThan(60);
    const spawn = c.of('delta').find((d) => d.upserts.agents?.some((a) => a.id === 'agent-2'))!;
    expect(spawn.upserts.agents!.find((a) => a.id === 'agent-1')?.status).toBe('idle');
  });
});

describe('/wss correlation ids', () => {
  it('logs a request-caused session change with its reqId and puts the requestId on the activity entry', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    h = await startHarness({ logger: pino({ level: 'info' }, sink) });
    const c = await client();
    c.hello();
    const session = { uuid: '3f2b8c1e-9a4d-4e5f-8b7a-1c2d3e4f5a6b', swarmId: null, task: 't', priority: 'medium', status: 'running', createdAt: 1, updatedAt: 1, lastActivity: 1, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null } as const;
    h.telemetry.graph.upsertSession(session, { requestId: 'req-42' });
    await c.waitFor((x) => x.of('event').some((e) => e.events.some((ev) => ev.kind === 'session')), 'session entry');
    const entry = c.of('event').flatMap((e) => e.events).find((ev) => ev.kind === 'session')!;
    expect(entry.requestId).toBe('req-42');
    await c.waitFor(() => lines.some((l) => l.reqId === 'req-42' && l.msg === 'session change sent'), 'session log line');
    expect(lines.some((l) => l.reqId === 'req-42' && l.msg === 'activity entry')).toBe(true);
  });
});
