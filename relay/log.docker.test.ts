// The session console's log against a real dockerd and the kit's image: a relay started in-process with
// the docker driver reads the session manager's log (/var/log/multi-agent/hive-<uuid>.log) through
// docker exec, over HTTP and live over /wss. Lines are written inside the container; rotation (mv + new
// file) and truncation are done there too. The live tail is woken by a watcher in the container (node,
// fs.watch) rather than its 150 ms poll. Afterwards no read and no watcher is left running in the
// container, also when the relay that started a watcher is killed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { startRelay, type RelayHandle } from './app.js';
import { InitializeSwarmResponseSchema, routes, routePath } from '../shared/api.js';
import { LogChunkSchema, type LogChunk } from '../shared/model/console.js';
import { validSpawn } from './control/testing/harness.js';
import { dockerAvailable, removeContainer, startKitContainer } from '../testkit/kitContainer.js';
import { dockerExec, uniqueName } from '../testkit/docker.js';
import { freePort } from '../testkit/ports.js';
import { makeTempDir } from '../testkit/tempDirs.js';
import { pollFor, waitUntil } from '../testkit/wait.js';
import { LogClient } from '../testkit/logClient.js';
import { PS_ARGV, parsePsTable } from './control/backends/processes.js';
import { startRelayProcess } from '../testkit/relayProcess.js';
import { LOG_WATCHED_POLL_MS } from './stream/log/feed.js';

const NAME = uniqueName('hivescope-log');

describe.skipIf(!dockerAvailable())('session log through docker exec (kit image)', () => {
  let relay: RelayHandle;
  let uuid: string;
  let logPath: string;
  const clients: LogClient[] = [];

  const read = async (query: string): Promise<LogChunk> => {
    const r = await fetch(`${relay.url}${routePath(routes.sessionLog.path, { uuid })}${query}`);
    const body = (await r.json()) as unknown;
    expect(r.status, JSON.stringify(body)).toBe(200);
    return LogChunkSchema.parse(body);
  };
  /** Runs in the container; the path and the text are arguments, not shell text. */
  const sh = async (script: string, ...args: string[]) => {
    const r = await dockerExec(NAME, ['sh', '-c', script, 'sh', ...args]);
    expect(r.code, r.stderr).toBe(0);
  };
  const append = (line: string) => sh('printf "%s\\n" "$2" >> "$1"', logPath, line);
  const connect = async () => {
    const c = await LogClient.connect(relay.url);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    await startKitContainer(NAME);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HIVE_DRIVER: 'docker', HIVE_CONTAINER: NAME, MCP_PORT: String(await freePort()), HIVE_STATE_DIR: makeTempDir('hivescope-log-docker-'), HIVE_EMBEDDED: '0', HIVE_DEMO: '0', LOG_LEVEL: 'silent' });
    relay = await startRelay(config, pino({ level: 'silent' }));
    await waitUntil(() => relay.control.backendName === 'session-manager', 30_000, 100, 'the kit\'s session manager detected');
    const r = await fetch(`${relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validSpawn) });
    expect(r.status).toBe(202);
    uuid = InitializeSwarmResponseSchema.parse(await r.json()).uuid;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await relay?.close();
    await removeContainer(NAME);
  });

  it('a spawned session\'s log is readable over HTTP, and reading from next returns only what is new', async () => {
    const first = await pollFor(async () => {
      const c = await read('?from=0');
      return c.text.includes('[HIVE] ') ? c : undefined;
    }, 30_000, 'the swarm\'s log lines', 200);
    expect(first.path).toBe(`/var/log/multi-agent/hive-${uuid}.log`);
    logPath = first.path;
    await append('written in the container: grüße 😀');
    const next = await read(`?from=${first.next}&logId=${first.logId}`);
    expect(next.from).toBe(first.next);
    expect(next.text).toContain('written in the container: grüße 😀\n');
    expect(next.text).not.toContain(first.text.slice(0, 30));
  });

  it('live lines reach a subscribed WebSocket client; a reconnect resumes with no gap and no duplicate', async () => {
    const a = await connect();
    a.subscribe(uuid, 0);
    await append('live one');
    await a.waitForText(uuid, 'live one\n');
    const last = a.lastChunk(uuid)!;
    await a.close();
    await append('while away');
    const b = await connect();
    b.subscribe(uuid, last.next, last.logId);
    await append('live two');
    await b.waitForText(uuid, 'live two\n');
    expect(a.discontinuities).toEqual([]);
    expect(b.discontinuities).toEqual([]);
    expect(b.logs[0]!.chunk.from).toBe(last.next);
    expect(b.textOf(uuid)).toContain('while away\n');
    expect(a.textOf(uuid)).not.toContain('while away');
    const whole = await read(`?from=0&max=262144`);
    // What the two connections got, joined, is the file's beginning exactly.
    expect(whole.text.startsWith(a.textOf(uuid) + b.textOf(uuid))).toBe(true);
    await b.close();
  });

  it('rotation (the file moved away, a new one in its place) and truncation are reported, over HTTP and live', async () => {
    const c = await connect();
    c.subscribe(uuid, null);
    await append('before rotation');
    await c.waitForText(uuid, 'before rotation\n');
    const old = await read('?from=0&max=262144');
    await sh('mv "$1" "$1.1" && printf "%s\\n" "rotated file" > "$1"', logPath);
    const r = await read(`?from=${old.next}&logId=${old.logId}`);
    expect(r).toMatchObject({ from: 0, rotated: true });
    expect(r.logId).not.toBe(old.logId);
    expect(r.text.startsWith('rotated file\n')).toBe(true);
    await waitUntil(() => c.logs.some((m) => m.chunk.rotated), 15_000, 20, 'a rotated live chunk');
    await c.waitForText(uuid, 'rotated file\n');
    const now = await read('?from=0&max=262144');
    await sh(': > "$1" && printf "%s\\n" "truncated" >> "$1"', logPath);
    const t = await read(`?from=${now.next}&logId=${now.logId}`);
    expect(t).toMatchObject({ from: 0, rotated: true, logId: now.logId });
    expect(t.text.startsWith('truncated\n')).toBe(true);
    await waitUntil(() => c.logs.filter((m) => m.chunk.rotated).length >= 2, 15_000, 20, 'the truncation seen live');
    await c.waitForText(uuid, 'truncated\n');
    expect(c.discontinuities).toEqual([]);
    await c.close();
  });

  /** The log watchers running in the container (LOG_WATCH_SCRIPT starts with this comment). */
  const watchers = async () => {
    const r = await dockerExec(NAME, [...PS_ARGV]);
    return (parsePsTable(r.stdout) ?? []).filter((p) => p.args.includes('hivescope log watch'));
  };

  it('a watcher in the container wakes the tail: live lines arrive well within one fallback poll period, with far fewer reads than polling', async () => {
    const c = await connect();
    c.subscribe(uuid, null);
    await waitUntil(() => relay.stream.metrics().log.watched === 1, 15_000, 20, 'the log watched');
    const seen = await watchers();
    expect(seen).toHaveLength(1);
    // Not tagged with the session: stop, pause and reap find a session's processes by its uuid in argv.
    expect(seen[0]!.args).not.toContain(uuid);
    const reads0 = relay.stream.metrics().log.reads;
    const t0 = Date.now();
    // A node process in the container appends lines stamped with its epoch ms (same kernel clock as ours).
    const lines = 8;
    const w = await dockerExec(NAME, ['node', '-e', `
      const fs = require('fs');
      const [file, n] = process.argv.slice(1);
      let i = 0;
      const next = () => { if (i >= Number(n)) return; fs.appendFileSync(file, 'watch-mark ' + (i++) + ' ' + Date.now() + '\\n'); setTimeout(next, 400 + Math.random() * 200); };
      setTimeout(next, 100);`, logPath, String(lines)]);
    expect(w.code, w.stderr).toBe(0);
    await c.waitForText(uuid, `watch-mark ${lines - 1} `);
    const seconds = (Date.now() - t0) / 1000;
    const lat: number[] = [];
    // Each line's arrival is that of the chunk that completed it.
    let partial = '';
    for (const m of c.logs) {
      const parts = (partial + m.chunk.text).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        const x = /^watch-mark \d+ (\d+)$/.exec(l);
        if (x) lat.push(performance.timeOrigin + m.at - Number(x[1]));
      }
    }
    expect(lat).toHaveLength(lines);
    // Polling at the watched period alone would make them wait up to a whole period (mean half of it).
    expect(Math.max(...lat)).toBeLessThan(LOG_WATCHED_POLL_MS / 2);
    // One read per change plus the 1 s safety poll: polling every 150 ms would be about 7 per second.
    const reads = relay.stream.metrics().log.reads - reads0;
    expect(reads).toBeLessThanOrEqual(lines * 2 + Math.ceil(seconds) + 2);
    expect(reads / seconds).toBeLessThan(1000 / 150 / 1.5);
    await c.close();
    await waitUntil(async () => (await watchers()).length === 0, 10_000, 100, 'the watcher gone after the last subscriber left');
  });

  it('a watcher started by a relay that is killed ends with its connection', async () => {
    const other = await startRelayProcess({ ...process.env, PORT: '0', HOST: '127.0.0.1', HIVE_DRIVER: 'docker', HIVE_CONTAINER: NAME, MCP_PORT: String(await freePort()), HIVE_STATE_DIR: makeTempDir('hivescope-log-docker-killed-'), HIVE_EMBEDDED: '0', HIVE_DEMO: '0', LOG_LEVEL: 'warn' });
    try {
      const c = await LogClient.connect(other.url);
      clients.push(c);
      await waitUntil(async () => {
        c.subscribe(uuid, null); // again until that relay has listed the session
        await new Promise((r) => setTimeout(r, 300));
        return c.statuses.some((x) => x.state === 'following');
      }, 30_000, 0, 'following through the other relay');
      await waitUntil(async () => (await watchers()).length === 1, 15_000, 100, 'its watcher running');
      other.child.kill('SIGKILL');
      await other.exited;
      await waitUntil(async () => (await watchers()).length === 0, 10_000, 100, 'the killed relay\'s watcher gone');
      await c.close();
    } finally {
      await other.stop();
    }
  });

  it('nothing the log reads or watches started is left running in the container once nobody subscribes', async () => {
    await waitUntil(() => relay.stream.clientCount() === 0, 10_000, 50, 'clients gone');
    await new Promise((r) => setTimeout(r, 500));
    const r = await dockerExec(NAME, [...PS_ARGV]);
    const table = parsePsTable(r.stdout) ?? [];
    expect(table.filter((p) => /tail -c|head -c|base64|stat -L|hivescope log watch/.test(p.args) || p.stat.startsWith('Z'))).toEqual([]);
  });
});
