// Ports handed to another process are reserved, not merely free a moment ago: outside the kernel's
// ephemeral range, held against every other process that reserves through testkit/ports.ts until
// released, bindable by the consumer while held, and reclaimed when the holder died.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralRange, freePort, releasePorts, reservableRange, reservePort } from './ports.js';
import { exitOf } from './processes.js';
import { makeTempDir } from './tempDirs.js';

const listen = (port: number) =>
  new Promise<net.Server>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
const close = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

/** A pid that has certainly exited (a child we started and waited for). */
async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '']);
  await exitOf(c);
  return c.pid!;
}

/** Two adjacent ports nothing listens on, held in the machine-wide folder so no other test binds them. */
async function adjacentPair(): Promise<[number, number]> {
  for (;;) {
    const a = await freePort();
    const next = await reservePort({ range: [a + 1, a + 1], attempts: 1 }).catch(() => null);
    if (next) return [a, next.port];
  }
}

describe('reserved ports', () => {
  afterEach(() => releasePorts());

  it('come from outside the kernel ephemeral range, so no port-0 bind or outgoing connection can take one', async () => {
    const [elo, ehi] = ephemeralRange();
    const [lo, hi] = reservableRange();
    expect(hi < elo || lo > ehi).toBe(true);
    for (let i = 0; i < 20; i++) {
      const p = await freePort();
      expect(p).toBeGreaterThanOrEqual(lo);
      expect(p).toBeLessThanOrEqual(hi);
    }
  });

  it('are never handed out twice while held, and the consumer can bind one while it is held', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(ports.length);
    const server = await listen(ports[0]!);
    expect((server.address() as net.AddressInfo).port).toBe(ports[0]);
    await close(server);
  });

  it('skip a port another live process holds, reclaim one whose holder died, and free theirs on release', async () => {
    const lockDir = makeTempDir('hivescope-ports-test-');
    const [a, b] = await adjacentPair();
    // Another live process (our parent stands in for it) holds `a`: only `b` can be had.
    fs.writeFileSync(path.join(lockDir, `${a}.lock`), String(process.ppid));
    for (let i = 0; i < 10; i++) {
      const lease = await reservePort({ range: [a, b], lockDir });
      expect(lease.port).toBe(b);
      lease.release();
      expect(fs.existsSync(path.join(lockDir, `${b}.lock`))).toBe(false);
    }
    // Its holder dies without releasing it (SIGKILL): the next reservation takes it over.
    fs.writeFileSync(path.join(lockDir, `${a}.lock`), String(await deadPid()));
    const first = await reservePort({ range: [a, a], lockDir });
    expect(first.port).toBe(a);
    expect(fs.readFileSync(path.join(lockDir, `${a}.lock`), 'utf8')).toBe(String(process.pid));
    // While we hold it, nobody else gets it.
    await expect(reservePort({ range: [a, a], lockDir, attempts: 5 })).rejects.toThrow(/no free port/);
    first.release();
    expect(fs.existsSync(path.join(lockDir, `${a}.lock`))).toBe(false);
  });

  it('skip a port something already listens on', async () => {
    const lockDir = makeTempDir('hivescope-ports-test-');
    const taken = await freePort();
    const server = await listen(taken);
    try {
      await expect(reservePort({ range: [taken, taken], lockDir, attempts: 3 })).rejects.toThrow(/no free port/);
      expect(fs.readdirSync(lockDir)).toEqual([]);
    } finally {
      await close(server);
    }
  });
});
