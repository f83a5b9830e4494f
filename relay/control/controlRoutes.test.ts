import { afterEach, describe, expect, it } from 'vitest';
import { routes, MAX_TASK_BYTES, ErrorBodySchema, SessionsResponseSchema, InitializeSwarmResponseSchema, SessionResponseSchema, HybridPerformanceResponseSchema } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until } from './testing/harness.js';
import type { FakeDriver } from './testing/fakeDriver.js';
import type { SessionChange } from './planeEvents.js';

let h: (Harness & { fake: FakeDriver }) | null = null;
afterEach(async () => {
  if (h) {
    // The property every test here proves: nothing unvalidated ever reached an argv.
    expect(h.fake.violations).toEqual([]);
    await h.close();
  }
  h = null;
});


function expectError(r: { status: number; body: unknown }, status: number, code: string) {
  expect(r.status).toBe(status);
  const b = ErrorBodySchema.parse(r.body);
  expect(b.error.code).toBe(code);
  expect(b.error.message.length).toBeGreaterThan(0);
}

describe('initialize-swarm answers at once and reports the swarm id later', () => {
  it('202 with {uuid, status: spawning, swarmId: null}; create then start detached; swarm id arrives as a session event', async () => {
    h = await startHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const r = await h.call('POST', routes.initializeSwarm.path, validSpawn);
    expect(r.status).toBe(202);
    const body = InitializeSwarmResponseSchema.parse(r.body);
    expect(body).toEqual({ uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'spawning', swarmId: null, target: 'local', pickedBecause: null });
    const create = h.fake.calls.find((c) => c.argv[1] === 'create')!;
    expect(create.argv.slice(2, 4)).toEqual(['build a REST API', 'medium']);
    expect(JSON.parse(create.argv[4]!)).toEqual({ topology: 'mesh', maxAgents: 5, strategy: 'adaptive', priority: 'medium', enableNeural: true, agentTypes: ['coordinator', 'coder'] });
    await until(() => h!.fake.calls.some((c) => c.argv[1] === 'start'));
    const start = h.fake.calls.find((c) => c.argv[1] === 'start')!;
    expect(start).toMatchObject({ argv: ['hive-session-manager', 'start', body.uuid], detached: true });
    await until(() => changes.some((c) => c.uuid === body.uuid && c.swarmId !== null));
    const withId = changes.find((c) => c.swarmId !== null)!;
    expect(withId).toMatchObject({ uuid: body.uuid, status: 'running', replaces: null, swarmId: expect.stringMatching(/^swarm-/) });
    expect(changes[0]).toMatchObject({ uuid: body.uuid, status: 'spawning', swarmId: null });
  });

  it('stores critical priority as high', async () => {
    h = await startHarness();
    await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, priority: 'critical' });
    const create = h.fake.calls.find((c) => c.argv[1] === 'create')!;
    expect(create.argv[3]).toBe('high');
  });

  it('passes shell metacharacters through as one inert argv element', async () => {
    h = await startHarness();
    const evil = `$(rm -rf /); \`id\` && echo pwned | sh > /etc/passwd '"\n--help -rf`;
    const r = await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, customPrompt: evil });
    expect(r.status).toBe(202);
    const create = h.fake.calls.find((c) => c.argv[1] === 'create')!;
    expect(create.argv).toHaveLength(5);
    expect(create.argv[2]).toBe(evil);
  });

  it('accepts task text of exactly 8 KB (multi-byte) and refuses one byte more', async () => {
    h = await startHarness();
    const exact = 'é'.repeat(MAX_TASK_BYTES / 2);
    expect((await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, customPrompt: exact })).status).toBe(202);
    expectError(await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, customPrompt: exact + 'a' }), 400, 'bad-request');
  });
});

describe('hostile bodies never reach an exec', () => {
  const hostile: [string, unknown][] = [
    ['NUL in the task', { ...validSpawn, customPrompt: 'hello\u0000world' }],
    ['empty task', { ...validSpawn, customPrompt: '   ' }],
    ['task as a number', { ...validSpawn, customPrompt: 42 }],
    ['task as an object', { ...validSpawn, customPrompt: { $gt: '' } }],
    ['maxAgents as a string', { ...validSpawn, maxAgents: '8' }],
    ['maxAgents too big', { ...validSpawn, maxAgents: 1e9 }],
    ['maxAgents fractional', { ...validSpawn, maxAgents: 3.5 }],
    ['unknown topology', { ...validSpawn, topology: 'mesh; rm -rf /' }],
    ['agent type with shell text', { ...validSpawn, agentTypes: ['coder', '$(id)'] }],
    ['agent types not an array', { ...validSpawn, agentTypes: 'coder' }],
    ['no agent types', { ...validSpawn, agentTypes: [] }],
    ['extra field', { ...validSpawn, command: 'rm -rf /' }],
    ['prototype pollution', JSON.parse(`{"__proto__": {"admin": true}, "customPrompt": "x", "agentTypes": ["coder"]}`)],
    ['array body', [validSpawn]],
    ['null body', null],
    ['string body', 'build a REST API'],
  ];
  for (const [name, body] of hostile) {
    it(`400 for ${name}`, async () => {
      h = await startHarness();
      const before = h.fake.calls.length;
      const r = await h.call('POST', routes.initializeSwarm.path, undefined, JSON.stringify(body));
      expectError(r, 400, 'bad-request');
      expect(h.fake.calls.length).toBe(before);
    });
  }

  it('413 for a 10 MB body', async () => {
    h = await startHarness();
    const before = h.fake.calls.length;
    const big = JSON.stringify({ ...validSpawn, customPrompt: 'a'.repeat(10 * 1024 * 1024) });
    expectError(await h.call('POST', routes.initializeSwarm.path, undefined, big), 413, 'payload-too-large');
    expect(h.fake.calls.length).toBe(before);
  });

  it('400 for malformed JSON', async () => {
    h = await startHarness();
    expectError(await h.call('POST', routes.initializeSwarm.path, undefined, '{"topology": "mesh",'), 400, 'bad-request');
  });

  const badIds = ['..%2F..%2Fetc%2Fpasswd', 'abc%3B%20rm%20-rf%20%2F', '0B7F3C2E-1A2B-4C3D-8E9F-0123456789AB', '0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab%0A', '0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab%00', '%24(id)', 'x'.repeat(5000)];
  for (const id of badIds) {
    it(`400 and no exec for id ${id.slice(0, 40)}`, async () => {
      h = await startHarness();
      const before = h.fake.calls.length;
      expectError(await h.call('DELETE', `/api/bots/remove-task/${id}`), 400, 'bad-request');
      expectError(await h.call('POST', `/api/bots/pause-task/${id}`), 400, 'bad-request');
      expectError(await h.call('POST', `/api/bots/resume-task/${id}`), 400, 'bad-request');
      expectError(await h.call('GET', `/api/sessions/${id}`), 400, 'bad-request');
      expectError(await h.call('POST', `/api/sessions/${id}/tasks`, { task: 'x' }), 400, 'bad-request');
      expect(h.fake.calls.length).toBe(before);
    });
  }

  it('spawn-agent-hybrid validates agent type, swarm id and method', async () => {
    h = await startHarness();
    const before = h.fake.calls.length;
    for (const body of [
      { agentType: 'Coder!' },
      { agentType: 'coder', swarmId: 'swarm-$(id)' },
      { agentType: 'coder', method: 'ssh' },
      { agentType: 'coder', sessionUuid: 'nope' },
      { agentType: 'coder', name: 'n'.repeat(200) },
    ]) {
      expectError(await h.call('POST', routes.spawnAgentHybrid.path, body), 400, 'bad-request');
    }
    expect(h.fake.calls.length).toBe(before);
  });
});

describe('session routes', () => {
  it('lists every session with one exec, and reads one', async () => {
    h = await startHarness();
    const uuids: string[] = [];
    for (let i = 0; i < 5; i++) uuids.push(InitializeSwarmResponseSchema.parse((await h.call('POST', routes.initializeSwarm.path, { ...validSpawn, customPrompt: `task ${i}` })).body).uuid);
    const before = h.fake.calls.filter((c) => c.argv[1] === 'list').length;
    const r = await h.call('GET', routes.sessions.path);
    expect(r.status).toBe(200);
    const body = SessionsResponseSchema.parse(r.body);
    expect(body.stale).toBe(false);
    expect(body.sessions.map((s) => s.uuid).sort()).toEqual([...uuids].sort());
    expect(h.fake.calls.filter((c) => c.argv[1] === 'list').length).toBe(before + 1);
    const one = await h.call('GET', `/api/sessions/${uuids[2]}`);
    expect(SessionResponseSchema.parse(one.body).session).toMatchObject({ uuid: uuids[2], task: 'task 2', backend: 'session-manager' });
  });

  it('a failed refresh serves the cached list marked stale', async () => {
    h = await startHarness();
    await h.call('POST', routes.initializeSwarm.path, validSpawn);
    await h.call('GET', routes.sessions.path);
    h.fake.failures.push('command-failed');
    const r = SessionsResponseSchema.parse((await h.call('GET', routes.sessions.path)).body);
    expect(r.stale).toBe(true);
    expect(r.sessions).toHaveLength(1);
    const again = SessionsResponseSchema.parse((await h.call('GET', routes.sessions.path)).body);
    expect(again.stale).toBe(false);
  });

  it('stop, pause, resume map to the session manager and report the new status', async () => {
    h = await startHarness();
    const { uuid } = InitializeSwarmResponseSchema.parse((await h.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    expect((await h.call('POST', `/api/bots/pause-task/${uuid}`)).body).toEqual({ uuid, status: 'paused' });
    expect((await h.call('POST', `/api/bots/resume-task/${uuid}`)).body).toEqual({ uuid, status: 'running' });
    expect((await h.call('DELETE', `/api/bots/remove-task/${uuid}`)).body).toEqual({ uuid, status: 'stopped' });
    expect(h.fake.calls.map((c) => c.argv[1])).toEqual(expect.arrayContaining(['pause', 'resume', 'stop']));
    expect(h.fake.registry.get(uuid)!.status).toBe('stopped');
  });

  it('404 session-not-found for a well-formed unknown uuid', async () => {
    h = await startHarness();
    const u = '0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab';
    expectError(await h.call('DELETE', `/api/bots/remove-task/${u}`), 404, 'session-not-found');
    expectError(await h.call('GET', `/api/sessions/${u}`), 404, 'session-not-found');
  });

  it('submit-task needs MCP: 503 mcp-unavailable without it, 202 through the hook', async () => {
    h = await startHarness();
    const { uuid } = InitializeSwarmResponseSchema.parse((await h.call('POST', routes.initializeSwarm.path, validSpawn)).body);
    await until(() => h!.cp.sessions().sessions.some((s) => s.uuid === uuid && s.swarmId));
    expectError(await h.call('POST', `/api/sessions/${uuid}/tasks`, { task: 'add tests' }), 503, 'mcp-unavailable');
    const seen: unknown[] = [];
    h.cp.setMcpTools({
      agentSpawn: async () => ({ agentId: 'agent-1' }),
      taskOrchestrate: async (a) => {
        seen.push(a);
        return { taskId: 'task-1' };
      },
    });
    const r = await h.call('POST', `/api/sessions/${uuid}/tasks`, { task: 'add tests', priority: 'high' });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ accepted: true, taskId: 'task-1' });
    expect(seen).toEqual([{ task: 'add tests', priority: 'high', swarmId: expect.stringMatching(/^swarm-/) }]);
  });

  it('spawn-agent-hybrid uses MCP when it can and says so; falls back to docker otherwise', async () => {
    h = await startHarness();
    const viaDocker = await h.call('POST', routes.spawnAgentHybrid.path, { agentType: 'tester', method: 'hybrid' });
    expect(viaDocker.status).toBe(200);
    expect(viaDocker.body).toMatchObject({ success: true, methodUsed: 'docker', swarmId: null });
    h.cp.setMcpTools({ agentSpawn: async (a) => ({ agentId: `agent-${a.type}` }), taskOrchestrate: async () => ({ taskId: null }) });
    const viaMcp = await h.call('POST', routes.spawnAgentHybrid.path, { agentType: 'tester', swarmId: 'swarm-123-abc', method: 'hybrid' });
    expect(viaMcp.body).toMatchObject({ success: true, methodUsed: 'mcp', agentId: 'agent-tester', swarmId: 'swarm-123-abc' });
    expectError(await h.call('POST', routes.spawnAgentHybrid.path, { agentType: 'tester', method: 'mcp' }), 400, 'bad-request');
  });

  it('hybrid performance reports exec latency and failures by kind', async () => {
    h = await startHarness();
    h.fake.failures.push('command-failed');
    await h.call('GET', routes.sessions.path);
    const r = await h.call('GET', routes.hybridPerformance.path);
    const p = HybridPerformanceResponseSchema.parse(r.body);
    expect(p.execLatencyMs.count).toBeGreaterThan(0);
    expect(p.execFailures['command-failed']).toBe(1);
    expect(p.relayRssBytes).toBeGreaterThan(0);
  });
});

describe('failures map to statuses a person can act on', () => {
  it('429 with Retry-After after the spawn rate', async () => {
    h = await startHarness({ env: { SPAWN_RATE_PER_MIN: '2' } });
    expect((await h.call('POST', routes.initializeSwarm.path, validSpawn)).status).toBe(202);
    expect((await h.call('POST', routes.initializeSwarm.path, validSpawn)).status).toBe(202);
    const r = await h.call('POST', routes.initializeSwarm.path, validSpawn);
    expectError(r, 429, 'rate-limited');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('each exec failure kind has its status', async () => {
    const cases: [Parameters<FakeDriver['failures']['push']>[0], number, string][] = [
      ['container-not-running', 503, 'container-not-running'],
      ['command-failed', 502, 'command-failed'],
      ['parse-error', 502, 'parse-error'],
      ['circuit-open', 503, 'circuit-open'],
    ];
    h = await startHarness();
    for (const [kind, status, code] of cases) {
      h.cp.breaker.reset();
      h.fake.failures.push(kind);
      expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), status, code);
    }
    // Transient kinds are retried: three failures in a row reach the caller.
    h.cp.breaker.reset();
    h.fake.failures.push('docker-unavailable', 'docker-unavailable', 'docker-unavailable');
    expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 503, 'docker-unavailable');
    h.cp.breaker.reset();
    h.fake.failures.push('timeout', 'timeout', 'timeout');
    expectError(await h.call('GET', `/api/sessions/0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab`), 504, 'timeout');
  });

  it('Docker unreachable or the container down never opens the breaker: every spawn says which, not circuit-open', async () => {
    h = await startHarness();
    for (let i = 0; i < 4; i++) {
      h.fake.failures.push('docker-unavailable', 'docker-unavailable', 'docker-unavailable');
      expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 503, 'docker-unavailable');
    }
    for (let i = 0; i < 6; i++) {
      h.fake.failures.push('container-not-running');
      expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 503, 'container-not-running');
    }
    expect(h.cp.breaker.state).toBe('closed');
    expect(h.cp.degraded().map((m) => m.code)).not.toContain('breaker-open');
  });

  it('a non-idempotent create is not retried after a timeout (it may have run)', async () => {
    h = await startHarness();
    h.fake.failures.push('timeout');
    expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 504, 'timeout');
    expect(h.fake.calls.filter((c) => c.argv[1] === 'create')).toHaveLength(1);
  });

  it('the breaker opens after 5 failures and then answers 503 circuit-open without exec', async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++) h.fake.failures.push('command-failed');
    for (let i = 0; i < 5; i++) await h.call('POST', routes.initializeSwarm.path, validSpawn);
    expect(h.cp.breaker.state).toBe('open');
    const before = h.fake.calls.length;
    expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 503, 'circuit-open');
    expect(h.fake.calls.length).toBe(before);
    expect(h.cp.health()).toMatchObject({ state: 'unavailable', breaker: 'open', lastError: expect.stringContaining('injected') });
  });

  it('HIVE_DRIVER=none: read-only 503 on every mutating route, lists still answer', async () => {
    h = await startHarness({ driver: null, env: { HIVE_DRIVER: 'none' } });
    h.fake = new (await import('./testing/fakeDriver.js')).FakeDriver();
    const u = '0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab';
    expectError(await h.call('POST', routes.initializeSwarm.path, validSpawn), 503, 'read-only');
    expectError(await h.call('POST', routes.spawnAgentHybrid.path, { agentType: 'coder' }), 503, 'read-only');
    expectError(await h.call('DELETE', `/api/bots/remove-task/${u}`), 503, 'read-only');
    expectError(await h.call('POST', `/api/bots/pause-task/${u}`), 503, 'read-only');
    expectError(await h.call('POST', `/api/bots/resume-task/${u}`), 503, 'read-only');
    expectError(await h.call('POST', `/api/sessions/${u}/tasks`, { task: 'x' }), 503, 'read-only');
    const list = await h.call('GET', routes.sessions.path);
    expect(list.status).toBe(200);
    expect(SessionsResponseSchema.parse(list.body).sessions).toEqual([]);
    expect(h.cp.health()).toMatchObject({ state: 'unavailable', driver: 'none', backend: 'none' });
    expect(h.cp.degraded().map((d) => d.code)).toEqual(['read-only']);
  });
});
