import { describe, expect, it } from 'vitest';
import { FakeDriver, FAKE_SM } from '../testing/fakeDriver.js';
import { SessionManagerBackend } from './sessionManager.js';
import type { SpawnRequest } from './types.js';

const req: SpawnRequest = {
  task: 'build "it" $(id)',
  config: { topology: 'mesh', maxAgents: 5, strategy: 'adaptive', priority: 'critical', enableNeural: true, agentTypes: ['coder'] },
  replaces: null,
};

function backendOver(fake: FakeDriver) {
  return new SessionManagerBackend((argv, o) => fake.exec(argv, { timeoutMs: 1000, maxOutputBytes: 1 << 20, ...(o.detached ? { detached: true } : {}) }), [FAKE_SM]);
}

describe('session manager backend: spawn cost', () => {
  it("with our kit's capabilities a spawn is one exec (create --start), after one probe", async () => {
    const fake = new FakeDriver();
    fake.createStart = true;
    const b = backendOver(fake);
    const uuids = [];
    for (let i = 0; i < 3; i++) {
      const uuid = await b.create(req);
      await b.start(uuid);
      uuids.push(uuid);
    }
    const subs = fake.calls.map((c) => c.argv[1]);
    expect(subs).toEqual(['capabilities', 'create', 'create', 'create']);
    expect(fake.calls[1]!.argv.slice(2, 4)).toEqual(['--start', '--']);
    // critical is stored as high, and the task travels verbatim as one argument after `--`.
    expect(fake.calls[1]!.argv.slice(4, 6)).toEqual(['build "it" $(id)', 'high']);
    for (const u of uuids) expect(fake.registry.get(u)!.status).toBe('running');
    expect(fake.violations).toEqual([]);
  });

  it("against upstream's script (no capabilities) it falls back to create, then start detached", async () => {
    const fake = new FakeDriver();
    const b = backendOver(fake);
    const uuid = await b.create(req);
    await b.start(uuid);
    expect(fake.calls.map((c) => [c.argv[1], c.detached])).toEqual([
      ['capabilities', false],
      ['create', false],
      ['start', true],
    ]);
    expect(fake.calls[1]!.argv).not.toContain('--start');
    expect(fake.registry.get(uuid)!.status).toBe('running');
    expect(fake.violations).toEqual([]);
  });

  it('a failed capabilities probe is asked again rather than remembered', async () => {
    const fake = new FakeDriver();
    fake.createStart = true;
    fake.failures.push('timeout');
    const b = backendOver(fake);
    expect(await b.capabilities()).toEqual({ createStart: false });
    expect(await b.capabilities()).toEqual({ createStart: true });
  });
});
