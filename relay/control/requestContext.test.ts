// Correlation ids through the control plane: a command called with a request's context logs each exec
// and each retry with that request's logger (so every line carries its reqId), and the session and
// activity events it leads to carry the request's id for the stream to attach.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { RequestContext } from '../context.js';
import { routes } from '../../shared/api.js';
import { startHarness, validSpawn, type Harness, until } from './testing/harness.js';
import type { FakeDriver } from './testing/fakeDriver.js';
import type { ControlActivity, SessionChange } from './planeEvents.js';

const spawnBody = routes.initializeSwarm.body.parse(validSpawn);

let h: (Harness & { fake: FakeDriver }) | null = null;
afterEach(async () => {
  if (h) {
    expect(h.fake.violations).toEqual([]);
    await h.close();
  }
  h = null;
});

/** A request context whose log lines land in `lines` (parsed JSON). */
function memoryContext(requestId: string): { ctx: RequestContext; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink).child({ reqId: requestId });
  return { ctx: { requestId, log }, lines };
}

describe('a request context travels with the command', () => {
  it('a spawn logs its execs and their retries with the request id, and its session events carry it', async () => {
    h = await startHarness();
    const changes: SessionChange[] = [];
    const acts: ControlActivity[] = [];
    h.cp.on('session', (c) => changes.push(c));
    h.cp.on('activity', (a) => acts.push(a));
    const { ctx, lines } = memoryContext('req-7f3a');
    // The create exec fails once with a transient error: the pipeline retries it.
    h.fake.failures.push('docker-unavailable');
    const { uuid } = await h.cp.spawnSwarm(spawnBody, {}, ctx);

    const retry = lines.find((l) => l.msg === 'exec retry');
    expect(retry).toMatchObject({ reqId: 'req-7f3a', kind: 'docker-unavailable', attempt: 1 });
    expect(lines.find((l) => l.msg === 'exec failed')).toMatchObject({ reqId: 'req-7f3a', kind: 'docker-unavailable', attempt: 1 });
    expect(lines.find((l) => l.msg === 'exec' && String(l.cmd).includes('create'))).toMatchObject({ reqId: 'req-7f3a', attempt: 2, exitCode: 0 });
    // The detached start runs after the answer and is still this request's.
    await until(() => lines.some((l) => l.msg === 'exec' && String(l.cmd).includes('start')), 5000, 'start exec logged');
    expect(lines.every((l) => l.reqId === 'req-7f3a')).toBe(true);

    expect(changes.find((c) => c.uuid === uuid && c.status === 'spawning')).toMatchObject({ requestId: 'req-7f3a' });
    expect(acts.find((a) => a.kind === 'spawn' && a.sessionUuid === uuid)).toMatchObject({ requestId: 'req-7f3a' });
    // The swarm id, discovered later by a background re-read, is still an outcome of this spawn.
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null), 5000, 'swarm id');
    expect(changes.find((c) => c.uuid === uuid && c.swarmId !== null)).toMatchObject({ requestId: 'req-7f3a' });
  });

  it('stop, pause and resume tag their change with the request id; work no request caused carries none', async () => {
    h = await startHarness();
    const changes: SessionChange[] = [];
    h.cp.on('session', (c) => changes.push(c));
    const { uuid } = await h.cp.spawnSwarm(spawnBody);
    await until(() => changes.some((c) => c.uuid === uuid && c.swarmId !== null), 5000, 'swarm id');
    expect(changes.every((c) => c.requestId === undefined)).toBe(true);
    const { ctx, lines } = memoryContext('req-pause');
    await h.cp.pauseSession(uuid, ctx);
    expect(changes.at(-1)).toMatchObject({ uuid, status: 'paused', requestId: 'req-pause' });
    expect(lines.find((l) => l.msg === 'exec' && String(l.cmd).includes('pause'))).toMatchObject({ reqId: 'req-pause' });
  });
});
