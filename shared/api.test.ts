import { describe, expect, it } from 'vitest';
import { InitializeSwarmBodySchema, MAX_TASK_BYTES, SESSION_UUID_PATTERN, SWARM_ID_PATTERN, SpawnAgentBodySchema, routePath, routes } from './api.js';
import { ClientMessageSchema, ServerMessageSchema } from './protocol/messages.js';

describe('route table', () => {
  it('every path is unique per method and starts at the root', () => {
    const keys = Object.values(routes).map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of Object.values(routes)) expect(r.path.startsWith('/')).toBe(true);
  });

  it('fills and encodes path parameters, and refuses a missing one', () => {
    expect(routePath(routes.pauseTask.path, { id: 'a/b' })).toBe('/api/bots/pause-task/a%2Fb');
    expect(() => routePath(routes.pauseTask.path)).toThrow(/missing route parameter id/);
  });
});

describe('initialize-swarm body', () => {
  const ok = { agentTypes: ['coder'], customPrompt: 'build it' };
  it('applies the upstream defaults', () => {
    expect(InitializeSwarmBodySchema.parse(ok)).toMatchObject({ topology: 'mesh', maxAgents: 8, strategy: 'adaptive', priority: 'medium', enableNeural: true });
  });
  it('refuses empty task, no agent types, NUL, oversize text, unknown fields and wrong types', () => {
    const bad = [
      { ...ok, customPrompt: '   ' },
      { ...ok, agentTypes: [] },
      { ...ok, customPrompt: 'a\u0000b' },
      { ...ok, customPrompt: 'é'.repeat(MAX_TASK_BYTES / 2 + 1) },
      { ...ok, extra: 1 },
      { ...ok, maxAgents: '8' },
      { ...ok, agentTypes: ['coder; rm -rf /'] },
      { ...ok, topology: 'torus' },
    ];
    for (const b of bad) expect(InitializeSwarmBodySchema.safeParse(b).success).toBe(false);
    // Exactly at the limit is accepted; quotes, $(...) and backticks are ordinary text.
    expect(InitializeSwarmBodySchema.safeParse({ ...ok, customPrompt: 'x'.repeat(MAX_TASK_BYTES) }).success).toBe(true);
    expect(InitializeSwarmBodySchema.safeParse({ ...ok, customPrompt: '"$(rm -rf /)" `id`\n' }).success).toBe(true);
  });
  it('uuid pattern is exact', () => {
    expect(SESSION_UUID_PATTERN.test('123e4567-e89b-42d3-a456-426614174000')).toBe(true);
    expect(SESSION_UUID_PATTERN.test('123e4567-e89b-42d3-a456-426614174000\n')).toBe(false);
    expect(SESSION_UUID_PATTERN.test('../etc/passwd')).toBe(false);
  });
});

describe('swarm id pattern', () => {
  it('accepts the ids claude-flow 2.7, 3.x and the kit mint', () => {
    for (const id of ['swarm-1795219881166-xfgygyoal', 'swarm_1796422158999_ab12cd34e', 'swarm-1796422158999-43fmde', 'hive-1796422147926', 'swarm-kit-7']) {
      expect(SWARM_ID_PATTERN.test(id), id).toBe(true);
      expect(SpawnAgentBodySchema.safeParse({ agentType: 'coder', swarmId: id }).success, id).toBe(true);
    }
  });
  it('refuses hostile and near-miss shapes', () => {
    const bad = [
      'hive-179642214792', // 12 digits
      'hive-17964221479260', // 14 digits
      'hive-1796422147926-mj00lr', // init's printed id, never stored
      'hive-worker-1796422148173-sgyd', // a worker, not a hive
      'queen-1796422147926',
      'hive-1796422147926\n',
      '\nhive-1796422147926',
      ' hive-1796422147926',
      '--hive-1796422147926',
      '-hive-1796422147926',
      'hive-1796422147926; rm -rf /',
      'hive-$(id)',
      'hive-１７９６４２２１４７９２６', // full-width digits
      'swarm_1796422158999_ab12cd34e_x',
      'swarm-a b',
      'swarm-' + 'x'.repeat(65),
      '',
    ];
    for (const id of bad) {
      expect(SWARM_ID_PATTERN.test(id), JSON.stringify(id)).toBe(false);
      expect(SpawnAgentBodySchema.safeParse({ agentType: 'coder', swarmId: id }).success, JSON.stringify(id)).toBe(false);
    }
  });
});

describe('WebSocket messages', () => {
  it('discriminates on type and refuses unknown types and bad fields', () => {
    expect(ClientMessageSchema.safeParse({ type: 'ping', t: 1 }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'pin', nodeId: 3, x: 0, y: NaN, z: 0 }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'launch' }).success).toBe(false);
    expect(ServerMessageSchema.safeParse({ type: 'pong', t: 1, serverTime: 2 }).success).toBe(true);
  });
});
