import { describe, expect, it } from 'vitest';
import { InitializeSwarmBodySchema, MAX_TASK_BYTES, SESSION_UUID_PATTERN, routePath, routes } from './api.js';
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

describe('WebSocket messages', () => {
  it('discriminates on type and refuses unknown types and bad fields', () => {
    expect(ClientMessageSchema.safeParse({ type: 'ping', t: 1 }).success).toBe(true);
    expect(ClientMessageSchema.safeParse({ type: 'pin', nodeId: 3, x: 0, y: NaN, z: 0 }).success).toBe(false);
    expect(ClientMessageSchema.safeParse({ type: 'launch' }).success).toBe(false);
    expect(ServerMessageSchema.safeParse({ type: 'pong', t: 1, serverTime: 2 }).success).toBe(true);
  });
});
