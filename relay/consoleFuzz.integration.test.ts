/**
 * The hostile-input suite (relay/fuzz.integration.test.ts) for the session console's routes and
 * messages (issue 13), against the embedded hive as `npm start` runs it: a real relay on real sockets,
 * the local driver, the kit's session manager and engine as real child processes, the read scripts run
 * for real. Seeded (FUZZ_SEED): log reads with offsets past the end and negative, huge or malformed
 * `max`/`from`/`logId`; file paths with every traversal trick; task reads of odd uuids; and mutated
 * log-subscribe/log-unsubscribe messages, including subscriptions to sessions that do not exist.
 * Every answer is a 2xx or a 4xx (503 only as the documented container-unreachable) with the house
 * error shape; a 200 file is byte-for-byte a real file inside the session's directory; a socket that
 * is refused closes with a code and a reason, or gets an `error`/`log-status` message; nothing else
 * is disturbed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { startRelay, type RelayHandle } from './app.js';
import { ErrorBodySchema, InitializeSwarmResponseSchema, routes, routePath } from '../shared/api.js';
import { FilesListSchema, LogChunkSchema, TasksListSchema } from '../shared/model/console.js';
import { PROTOCOL_VERSION } from '../shared/protocol/messages.js';
import { validSpawn } from './control/testing/harness.js';
import { localEngineMain, localSessionManagerCli } from './control/paths.js';
import { freePort } from '../testkit/ports.js';
import { pollFor } from '../testkit/wait.js';
import { HOSTILE_STRINGS, hostileValue, int, mutateObject, mutateText, pick, rng } from './testing/fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const N = { log: 400, files: 300, tasks: 100, ws: 400 };
const ALLOWED_CLOSE = new Set([1003, 1007, 1008, 1009]);
const kitBuilt = fs.existsSync(localSessionManagerCli()) && fs.existsSync(localEngineMain());

/** Offsets and sizes a hostile client sends as query text. */
const NUMBERISH = ['-1', '0', '1', '-0', '1e309', '1e3', '0x10', '9'.repeat(40), String(2 ** 53), String(2 ** 53 + 2), 'NaN', 'Infinity', ' 5', '5 ', '+5', '5.5', '', '%00', '0'.repeat(300) + '1', '262145', '262144'];
/** Path tricks on top of the generic hostile strings. */
const PATH_TRICKS = ['..', '../..', '..%2f..%2fetc%2fpasswd', '%2e%2e/%2e%2e/etc/passwd', '%252e%252e%252fetc', '..\\..\\etc\\passwd', '/etc/passwd', '%2fetc%2fpasswd', 'a/../../b', 'tasks/%00.md', 'tasks/..', './result.md', 'result.md/', '//etc/passwd', 'C:\\Windows', '~root/.ssh/id_rsa', '.', '%2e', 'tasks//x', 'tasks/\u202e.md'];

function query(r: () => number): string {
  const parts: string[] = [];
  for (const k of ['from', 'max', 'logId', 'token', 'from']) {
    if (r() < 0.45) continue;
    const v = r() < 0.6 ? pick(r, NUMBERISH) : String(hostileValue(r)).slice(0, 300);
    parts.push(`${k}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '?'))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

describe.skipIf(!kitBuilt)('hostile input to the session console (embedded hive, real processes)', () => {
  let relay: RelayHandle;
  let stateDir: string;
  let uuid: string;
  let outputDir: string;
  const unknownUuid = '00000000-0000-4000-8000-000000000000';

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-console-fuzz-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HIVE_STATE_DIR: stateDir, HIVE_DRIVER: 'local', HIVE_EMBEDDED: '1', HIVE_DEMO: '0', MCP_PORT: String(await freePort()), LOG_LEVEL: 'silent' });
    relay = await startRelay(config, pino({ level: 'silent' }));
    const r = await fetch(`${relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(validSpawn) });
    expect(r.status).toBe(202);
    uuid = InitializeSwarmResponseSchema.parse(await r.json()).uuid;
    // The swarm has a log and an output directory before the run starts, so valid reads answer 200.
    const list = await pollFor(async () => {
      const res = await fetch(`${relay.url}${routePath(routes.sessionFiles.path, { uuid })}`);
      if (res.status !== 200) return undefined;
      const l = FilesListSchema.parse(await res.json());
      return l.files.length > 0 ? l : undefined;
    }, 60_000, 'a file in the session\'s output directory');
    outputDir = list.root;
    await pollFor(async () => ((await fetch(`${relay.url}${routePath(routes.sessionLog.path, { uuid })}`)).status === 200 ? true : undefined), 20_000, 'the session log');
    await pollFor(async () => (relay.health().telemetry.state === 'connected' ? true : undefined), 20_000, 'MCP telemetry');
  }, 90_000);

  afterAll(async () => {
    await relay?.close();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** A 4xx (or the documented 503) must carry the house error shape; a 5xx otherwise is a defect. */
  const judge = async (res: Response, what: string, bad: string[]): Promise<Buffer> => {
    const body = Buffer.from(await res.arrayBuffer());
    // Node's HTTP parser refuses a request line over its header limit before any route runs (431, no body).
    if (res.status === 431) return body;
    if (res.status >= 500) {
      const e = ErrorBodySchema.safeParse(safeJson(body));
      // The container being unreachable is a 503 by contract; with the local driver it never is.
      bad.push(`${what} -> ${res.status} ${e.success ? e.data.error.code : ''} ${body.toString().slice(0, 160)}`);
    } else if (res.status >= 400) {
      const e = ErrorBodySchema.safeParse(safeJson(body));
      if (!e.success || e.data.error.message.length < 4) bad.push(`${what} -> ${res.status} without a clear error: ${body.toString().slice(0, 160)}`);
    }
    return body;
  };

  it(`${N.log} log reads: offsets past the end, negative or huge max, odd logIds and uuids; 200 chunks are exact, the rest clear 4xx`, async () => {
    const r = rng(SEED + 11);
    const bad: string[] = [];
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < N.log; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const id = int(r, 0, 5) === 0 ? pick(r, [unknownUuid, encodeURIComponent(pick(r, HOSTILE_STRINGS).slice(0, 100).replace(/[\ud800-\udfff]/g, '?')), uuid.toUpperCase()]) : uuid;
          const url = `${relay.url}/api/sessions/${id}/log${query(r)}`;
          const res = await fetch(url);
          const body = await judge(res, `GET ${url.slice(relay.url.length, relay.url.length + 120)}`, bad);
          if (res.status === 200) {
            ok++;
            const c = LogChunkSchema.safeParse(safeJson(body));
            if (!c.success) bad.push(`200 that is not a LogChunk: ${body.toString().slice(0, 160)}`);
            else if (c.data.next !== c.data.from + Buffer.byteLength(c.data.text) || c.data.next > c.data.size + 65536) bad.push(`inconsistent chunk ${JSON.stringify({ ...c.data, text: c.data.text.length })}`);
          } else refused++;
        }),
      );
    }
    expect(bad).toEqual([]);
    // Both sides were exercised.
    expect(ok).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(20);
  }, 120_000);

  it(`${N.files} file paths: every traversal trick refused with a 4xx and no byte of anything outside; 200s are real files inside`, async () => {
    const r = rng(SEED + 12);
    // Planted: a link out of the directory, which must never be followed.
    fs.symlinkSync('/etc/passwd', path.join(outputDir, 'planted-link'));
    const real = FilesListSchema.parse(await (await fetch(`${relay.url}${routePath(routes.sessionFiles.path, { uuid })}`)).json()).files.map((f) => f.path);
    const passwd = fs.readFileSync('/etc/passwd');
    const bad: string[] = [];
    let served = 0;
    let refused = 0;
    for (let i = 0; i < N.files; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const k = int(r, 0, 5);
          let p: string;
          if (k === 0) p = encodeURIComponent(pick(r, real)).replace(/%2F/g, '/');
          else if (k === 1) p = pick(r, PATH_TRICKS);
          else if (k === 2) p = `${pick(r, PATH_TRICKS)}/${pick(r, real)}`;
          else if (k === 3) p = 'planted-link';
          else if (k === 4) p = encodeURIComponent(mutateText(r, pick(r, real)).replace(/[\ud800-\udfff]/g, '?'));
          else p = encodeURIComponent(String(hostileValue(r)).slice(0, 300).replace(/[\ud800-\udfff]/g, '?'));
          const url = `${relay.url}/api/sessions/${uuid}/files/${p}`;
          // The client's URL parser resolves dot segments before sending (`files/..` becomes the session
          // route itself): such a request never asks for a file, so it proves nothing either way.
          // `files/.` becomes `files/`, the listing route.
          const sent = new URL(url).pathname;
          if (!sent.startsWith(`/api/sessions/${uuid}/files/`) || sent.length === `/api/sessions/${uuid}/files/`.length) return;
          let res: Response;
          try {
            res = await fetch(url);
          } catch (e) {
            // A URL fetch itself refuses (e.g. one the URL parser normalises away) sends nothing.
            if (e instanceof TypeError) return;
            throw e;
          }
          const body = await judge(res, `GET files/${p.slice(0, 100)}`, bad);
          if (res.status === 200) {
            served++;
            if (body.length > 0 && passwd.includes(body.subarray(0, Math.min(body.length, 64)))) bad.push(`files/${p} leaked /etc/passwd bytes`);
            const match = real.some((f) => {
              const full = path.join(outputDir, f);
              return fs.existsSync(full) && fs.readFileSync(full).equals(body);
            });
            if (!match) bad.push(`files/${p.slice(0, 100)} served ${body.length} bytes that are no file inside the session directory`);
          } else refused++;
        }),
      );
    }
    expect(bad).toEqual([]);
    expect(served).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(50);
  }, 120_000);

  it(`${N.tasks} task reads of odd and unknown uuids: a TasksList or a clear 4xx`, async () => {
    const r = rng(SEED + 13);
    const bad: string[] = [];
    let lists = 0;
    for (let i = 0; i < N.tasks; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const id = int(r, 0, 2) === 0 ? uuid : int(r, 0, 1) === 0 ? unknownUuid : encodeURIComponent(String(hostileValue(r)).slice(0, 200).replace(/[\ud800-\udfff]/g, '?'));
          const res = await fetch(`${relay.url}/api/sessions/${id}/tasks${query(r)}`);
          const body = await judge(res, `GET tasks of ${id.slice(0, 60)}`, bad);
          if (res.status === 200) {
            lists++;
            if (!TasksListSchema.safeParse(safeJson(body)).success) bad.push(`200 that is not a TasksList: ${body.toString().slice(0, 160)}`);
          }
        }),
      );
    }
    expect(bad).toEqual([]);
    expect(lists).toBeGreaterThan(5);
  }, 60_000);

  it(`${N.ws} log messages over /wss: mutated subscriptions, unknown sessions; refusals close only their socket or answer in words`, async () => {
    const r = rng(SEED + 14);
    const wsUrl = relay.url.replace('http', 'ws') + '/wss';
    const valid = [
      { type: 'log-subscribe', uuid, from: 0, logId: null },
      { type: 'log-subscribe', uuid: unknownUuid, from: null, logId: null },
      { type: 'log-subscribe', uuid, from: 2 ** 40, logId: 'x:1' },
      { type: 'log-unsubscribe', uuid },
    ];
    // A follower on the real session must keep receiving its log throughout.
    const observer = new WebSocket(wsUrl);
    const seen: { type: string; state?: string; uuid?: string }[] = [];
    observer.on('message', (d, binary) => {
      if (!binary) seen.push(JSON.parse(d.toString()) as { type: string });
    });
    await new Promise((res) => observer.once('open', res));
    observer.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'none', physicsScore: null, visible: true, followOnly: true, resumeFrom: null }));
    observer.send(JSON.stringify({ type: 'log-subscribe', uuid, from: 0, logId: null }));

    const closes: { code: number; reason: string }[] = [];
    const answers: string[] = [];
    let sent = 0;
    while (sent < N.ws) {
      const ws = new WebSocket(wsUrl);
      await new Promise<void>((res, rej) => {
        ws.once('open', () => res());
        ws.once('error', rej);
      });
      ws.on('message', (d, binary) => {
        if (binary) return;
        const m = JSON.parse(d.toString()) as { type: string };
        if (m.type === 'error' || m.type === 'log-status') answers.push(m.type);
      });
      const closed = new Promise<{ code: number; reason: string }>((res) => ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      ws.send(JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, physicsBackend: 'none', physicsScore: null, visible: true, followOnly: true, resumeFrom: null }));
      for (let j = 0; j < 25 && !isClosed && sent < N.ws; j++) {
        sent++;
        const k = int(r, 0, 3);
        const base = pick(r, valid);
        const msg = k === 0 ? JSON.stringify(mutateObject(r, base)) : k === 1 ? mutateText(r, JSON.stringify(base)) : k === 2 ? JSON.stringify({ ...base, uuid: pick(r, HOSTILE_STRINGS).slice(0, 300) }) : JSON.stringify(base);
        ws.send(msg);
        await new Promise((res) => setImmediate(res));
      }
      await new Promise((res) => setTimeout(res, 20));
      if (!isClosed) {
        ws.close(1000);
        await closed;
      } else closes.push(await closed);
    }
    for (const c of closes) {
      expect(ALLOWED_CLOSE.has(c.code), `close code ${c.code}: ${c.reason}`).toBe(true);
      expect(c.reason.length).toBeGreaterThan(3);
    }
    // Refusals happened, and unknown sessions were answered in words rather than silence.
    expect(closes.length + answers.length).toBeGreaterThan(20);
    expect(answers).toContain('log-status');
    // The observer was never affected: still open, still following its session.
    expect(observer.readyState).toBe(WebSocket.OPEN);
    expect(seen.some((m) => m.type === 'log' && m.uuid === uuid)).toBe(true);
    const health = await fetch(`${relay.url}/health`);
    expect(health.status).toBe(200);
    observer.close();
  }, 120_000);
});

function safeJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString());
  } catch {
    return null;
  }
}
