// The upstream-style MCP TCP front of the real-claude-flow images, without Docker: the script runs on this
// machine with CLAUDE_FLOW_BIN pointing at a tiny fake stdio MCP server, to check the contract of
// upstream-contracts.md §3 that the Docker test cannot reach cheaply: one shared child, answers routed to
// the client whose request it was (two clients using the same id), id-less messages broadcast, the child
// restarted after it dies, auth, the connection limit and the close-after-N-ms-from-connect rule.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { byId, RawLineClient } from '../../../testkit/lineClient.js';
import { freePort } from '../../../testkit/ports.js';
import { stopProcess, startUntilLine, type StartedProcess } from '../../../testkit/processes.js';
import { makeTempDir } from '../../../testkit/tempDirs.js';
import { waitUntil } from '../../../testkit/wait.js';

const FRONT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mcp-tcp-server.mjs');

// A stdio MCP server: answers every request with its method, tool name and pid; `die` exits; `notify` sends
// an id-less notification; records each pid it ran as.
const FAKE = `#!/usr/bin/env node
const fs = require('node:fs');
fs.appendFileSync(process.env.FAKE_PIDS, process.pid + '\\n');
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (m.method === 'die') process.exit(3);
    if (m.method === 'notify') process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'notification', params: { type: 'client_message', message: 'hi' } }) + '\\n');
    if (m.id === undefined) continue;
    const text = JSON.stringify({ method: m.method, tool: m.params && m.params.name, pid: process.pid });
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text }] } }) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`;

describe('mcp-tcp-server.mjs (upstream-style front)', () => {
  let front: StartedProcess | null = null;
  const clients: RawLineClient[] = [];

  async function start(env: Record<string, string> = {}): Promise<{ port: number; pids: () => string[] }> {
    const dir = makeTempDir('cf-front-');
    const fake = path.join(dir, 'fake-claude-flow.cjs');
    fs.writeFileSync(fake, FAKE, { mode: 0o755 });
    const pidFile = path.join(dir, 'pids');
    fs.writeFileSync(pidFile, '');
    const port = await freePort();
    front = await startUntilLine(process.execPath, [FRONT], /claude-flow mcp ready/, {
      env: { ...process.env, MCP_TCP_PORT: String(port), MCP_TCP_HOST: '127.0.0.1', MCP_CWD: path.join(dir, 'cwd'), CLAUDE_FLOW_BIN: fake, FAKE_PIDS: pidFile, MCP_RESTART_DELAY_MS: '300', ...env },
    });
    return { port, pids: () => fs.readFileSync(pidFile, 'utf8').split('\n').filter(Boolean) };
  }

  async function connect(port: number): Promise<RawLineClient> {
    const c = await RawLineClient.connect(port);
    clients.push(c);
    return c;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (front) await stopProcess(front.child, { signal: 'SIGTERM', graceMs: 3_000 });
    front = null;
  });

  it('answers initialize itself (no capabilities), routes same-id requests of two clients to one shared child, broadcasts id-less messages', async () => {
    const { port, pids } = await start();
    const a = await connect(port);
    const b = await connect(port);
    await a.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    expect(await a.waitFor(byId(1))).toEqual({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2024-11-05', serverInfo: { name: 'claude-flow', version: '2.0.0-alpha.101' } } });
    await a.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'agent_list', arguments: {} } });
    await b.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'swarm_status', arguments: {} } });
    const text = (l: Record<string, unknown>) => JSON.parse((l.result as { content: Array<{ text: string }> }).content[0]!.text) as { tool: string; pid: number };
    const ra = text(await a.waitFor(byId(5)));
    const rb = text(await b.waitFor(byId(5)));
    expect([ra.tool, rb.tool]).toEqual(['agent_list', 'swarm_status']);
    expect(ra.pid).toBe(rb.pid);
    expect(a.lines.filter((l) => (l as { id?: unknown }).id === 5)).toHaveLength(1);
    await a.send({ jsonrpc: '2.0', method: 'notify' });
    for (const c of [a, b]) expect(await c.waitFor((l) => l.method === 'notification')).toMatchObject({ params: { type: 'client_message' } });
    await a.write('{not json\n');
    expect(await a.waitFor((l) => l.error !== undefined && l.id === undefined)).toMatchObject({ error: { code: -32600 } });
    expect(pids()).toHaveLength(1);
  });

  it('restarts the child after it dies; requests in between get an error, the connection stays', async () => {
    const { port, pids } = await start();
    const a = await connect(port);
    await a.send({ jsonrpc: '2.0', id: 1, method: 'die' });
    expect(await a.waitFor(byId(1))).toMatchObject({ error: { code: -32603 } });
    await a.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'agent_list' } });
    expect(await a.waitFor(byId(2))).toMatchObject({ error: { code: -32603, message: 'MCP not ready' } });
    await waitUntil(() => pids().length === 2, 10_000, 50, 'a second child');
    await waitUntil(async () => {
      await a.send({ jsonrpc: '2.0', id: 3, method: 'ping' });
      const l = await a.waitFor(byId(3), 2_000);
      a.lines.splice(a.lines.indexOf(l), 1);
      return l.result !== undefined;
    }, 10_000, 100, 'the restarted child answering');
    expect(a.closed).toBe(false);
  });

  it('with auth: the first message must authenticate; a wrong token closes the connection', async () => {
    const { port } = await start({ WS_AUTH_ENABLED: 'true', WS_AUTH_TOKEN: 's3cret' });
    const a = await connect(port);
    await a.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(await a.waitFor(byId(1))).toMatchObject({ error: { code: -32000, message: 'Authentication required' } });
    await a.send({ jsonrpc: '2.0', id: 2, method: 'authenticate', params: { token: 's3cret' } });
    expect(await a.waitFor(byId(2))).toMatchObject({ result: { authenticated: true } });
    await a.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    expect(await a.waitFor(byId(3))).toHaveProperty('result');
    const b = await connect(port);
    await b.send({ jsonrpc: '2.0', id: 1, method: 'authenticate', params: { token: 'wrong' } });
    expect(await b.waitFor(byId(1))).toMatchObject({ error: { code: -32000 } });
    await b.waitClosed();
  });

  it('refuses connections over TCP_MAX_CONNECTIONS and closes each one TCP_CONNECTION_TIMEOUT ms after connect', async () => {
    const { port } = await start({ TCP_MAX_CONNECTIONS: '2', TCP_CONNECTION_TIMEOUT: '1500' });
    const t0 = Date.now();
    const a = await connect(port);
    await connect(port);
    const c = await connect(port);
    expect(await c.waitFor((l) => 'error' in l)).toEqual({ error: 'Service unavailable - connection limit reached' });
    await c.waitClosed();
    // Busy or not, `a` is closed about 1.5 s after it connected.
    await a.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await a.waitClosed(5_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
  });

  it('survives clients that reset right away (port probes, killed clients), on the refusal paths too', async () => {
    const { port } = await start({ TCP_MAX_CONNECTIONS: '1' });
    const a = await connect(port);
    // Over the limit: the front refuses with a line and end(); the client's RST must not crash it (it did:
    // an unhandled ECONNRESET took the front, PID 1 in the image, and so the container down).
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.resetAndDestroy();
          resolve();
        });
        s.on('error', () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(front!.child.exitCode).toBeNull();
    await a.send({ jsonrpc: '2.0', id: 7, method: 'initialize', params: {} });
    expect(await a.waitFor(byId(7))).toMatchObject({ id: 7, result: expect.anything() });
  });
});
