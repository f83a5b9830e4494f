#!/usr/bin/env node
// Upstream-style MCP TCP front for the real claude-flow images (hivescope/claude-flow:<version>), written
// from upstream-contracts.md §3, standalone (plain Node, no hivescope imports). It keeps ONE persistent
// `claude-flow mcp start` child (stdio) and bridges newline JSON-RPC between every TCP client and it:
// `initialize` is answered here (never forwarded), responses go back to the client whose request it was,
// id-less messages are broadcast, the child is restarted 5 s after it dies. Limits as upstream: 50
// connections, 10 MiB lines, each connection closed 5 minutes after it was opened (from connect, not idle).
// It is the image's entrypoint, so it runs as PID 1 without --init and, like node as PID 1 in users'
// containers, does not reap orphans: a process whose parent dies before it stays a zombie.
//
// Environment (default): MCP_TCP_PORT (9500), MCP_TCP_HOST (0.0.0.0), TCP_MAX_CONNECTIONS (50),
// TCP_CONNECTION_TIMEOUT (300000 ms; 0 disables), WS_AUTH_ENABLED=true + WS_AUTH_TOKEN (off),
// MCP_RESTART_DELAY_MS (5000), MCP_CWD (/workspace/.swarm/tcp-server-instance, upstream's), CLAUDE_FLOW_BIN
// (claude-flow). The child gets CLAUDE_FLOW_AUTO_UPDATE=false unless it is set (3.x would otherwise check
// the registry and may install updates).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

const env = process.env;
const num = (v, d) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
const config = {
  port: num(env.MCP_TCP_PORT, 9500),
  host: env.MCP_TCP_HOST || '0.0.0.0',
  maxConnections: num(env.TCP_MAX_CONNECTIONS, 50),
  connectionTimeoutMs: num(env.TCP_CONNECTION_TIMEOUT, 300_000),
  authToken: env.WS_AUTH_ENABLED === 'true' ? env.WS_AUTH_TOKEN || '' : null,
  restartDelayMs: num(env.MCP_RESTART_DELAY_MS, 5_000),
  cwd: env.MCP_CWD || '/workspace/.swarm/tcp-server-instance',
  bin: env.CLAUDE_FLOW_BIN || 'claude-flow',
};
const MAX_LINE = 10 * 1024 * 1024;
// Upstream's answer to initialize, byte for byte in content: no `capabilities` field.
const INIT_RESULT = { protocolVersion: '2024-11-05', serverInfo: { name: 'claude-flow', version: '2.0.0-alpha.101' } };

const log = (msg) => process.stderr.write(`[mcp-tcp] ${new Date().toISOString()} ${msg}\n`);

/** Splits a byte stream into lines; a line over MAX_LINE calls onOverflow once and drops the stream's rest. */
function lineSplitter(onLine, onOverflow) {
  let parts = [];
  let size = 0;
  let dead = false;
  return (chunk) => {
    if (dead) return;
    let start = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
      parts.push(chunk.subarray(start, i));
      const line = Buffer.concat(parts).toString('utf8');
      parts = [];
      size = 0;
      start = i + 1;
      if (line.length > MAX_LINE) {
        dead = true;
        onOverflow();
        return;
      }
      if (line.trim() !== '') onLine(line);
    }
    if (start < chunk.length) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > MAX_LINE) {
        dead = true;
        parts = [];
        onOverflow();
      }
    }
  };
}

// ---- the persistent claude-flow MCP child ----
let child = null;
let ready = false;
let nextId = 1;
/** internal id -> { client, id } of the request it stands for (ids are renumbered so clients cannot collide). */
const pending = new Map();
const clients = new Set();

function send(socket, msg) {
  if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
}

function startChild() {
  fs.mkdirSync(config.cwd, { recursive: true });
  const childEnv = { ...env, CLAUDE_FLOW_AUTO_UPDATE: env.CLAUDE_FLOW_AUTO_UPDATE ?? 'false' };
  const c = spawn(config.bin, ['mcp', 'start'], { cwd: config.cwd, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  child = c;
  log(`started ${config.bin} mcp start (pid ${c.pid}) in ${config.cwd}`);
  const initId = `front-init-${nextId++}`;
  c.stdout.on('data', lineSplitter((line) => fromChild(line, initId), () => log('child line over 10 MiB dropped')));
  c.stderr.on('data', (d) => process.stderr.write(`[claude-flow] ${d}`));
  c.stdin.on('error', () => undefined);
  c.on('error', (e) => log(`spawn failed: ${e.message}`));
  c.on('exit', (code, signal) => {
    if (child !== c) return;
    child = null;
    ready = false;
    log(`claude-flow mcp exited (${signal ?? code}); restarting in ${config.restartDelayMs} ms`);
    for (const [id, p] of pending) {
      send(p.client, { jsonrpc: '2.0', id: p.id, error: { code: -32603, message: 'MCP process exited' } });
      pending.delete(id);
    }
    setTimeout(startChild, config.restartDelayMs);
  });
  // The front owns the session with the child: it initializes once; clients' initialize never reaches it.
  c.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: initId, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'mcp-tcp-server', version: '1.0.0' } } })}\n`);
}

function fromChild(line, initId) {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    log(`non-JSON line from claude-flow: ${line.slice(0, 200)}`);
    return;
  }
  if (msg && msg.id === initId) {
    ready = true;
    child?.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    log('claude-flow mcp ready');
    return;
  }
  if (msg && msg.id !== undefined && msg.id !== null) {
    const p = pending.get(msg.id);
    if (!p) return; // an answer to a client that has gone
    pending.delete(msg.id);
    send(p.client, { ...msg, id: p.id });
    return;
  }
  for (const c of clients) if (c.authed) send(c.socket, msg);
}

// ---- TCP clients ----
function handleLine(client, line) {
  const { socket } = client;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    send(socket, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: not JSON' } });
    return;
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.method !== 'string') {
    send(socket, { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' } });
    return;
  }
  if (!client.authed) {
    if (msg.method !== 'authenticate') {
      send(socket, { jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32000, message: 'Authentication required' } });
      return;
    }
    if (msg.params?.token === config.authToken) {
      client.authed = true;
      send(socket, { jsonrpc: '2.0', id: msg.id ?? null, result: { authenticated: true } });
    } else {
      send(socket, { jsonrpc: '2.0', id: msg.id ?? null, error: { code: -32000, message: 'Invalid authentication token' } });
      socket.end();
    }
    return;
  }
  if (msg.method === 'initialize') {
    if (msg.id !== undefined) send(socket, { jsonrpc: '2.0', id: msg.id, result: INIT_RESULT });
    return;
  }
  if (!ready || !child) {
    if (msg.id !== undefined) send(socket, { jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: 'MCP not ready' } });
    return;
  }
  if (msg.id === undefined || msg.id === null) {
    child.stdin.write(`${JSON.stringify(msg)}\n`);
    return;
  }
  const internal = nextId++;
  pending.set(internal, { client: socket, id: msg.id });
  child.stdin.write(`${JSON.stringify({ ...msg, id: internal })}\n`);
}

const server = net.createServer((socket) => {
  // First: a client that resets (a port probe, a killed client) emits ECONNRESET, and an unhandled socket
  // error would take the whole front (PID 1, so the container) down, even on the refusal paths below.
  socket.on('error', () => undefined);
  if (clients.size >= config.maxConnections) {
    socket.end(`${JSON.stringify({ error: 'Service unavailable - connection limit reached' })}\n`);
    return;
  }
  if (!ready) {
    socket.end(`${JSON.stringify({ error: 'MCP not ready' })}\n`);
    return;
  }
  const client = { socket, authed: config.authToken === null };
  clients.add(client);
  socket.on('data', lineSplitter((line) => handleLine(client, line), () => {
    send(socket, { jsonrpc: '2.0', error: { code: -32600, message: 'Line exceeds 10 MiB' } });
    socket.end();
  }));
  const timer = config.connectionTimeoutMs > 0 ? setTimeout(() => socket.end(), config.connectionTimeoutMs) : null;
  socket.on('close', () => {
    if (timer) clearTimeout(timer);
    clients.delete(client);
    for (const [id, p] of pending) if (p.client === socket) pending.delete(id);
  });
});

server.on('error', (e) => {
  log(`listen failed: ${e.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => log(`listening on ${config.host}:${config.port}`));
startChild();

// As PID 1, node gets no default action for TERM/INT: without these, `docker stop` would wait its full timeout.
function shutdown(signal) {
  log(`${signal}: shutting down`);
  server.close();
  for (const c of clients) c.socket.destroy();
  const c = child;
  child = null;
  if (c) {
    c.stdin.end();
    c.kill('SIGTERM');
  }
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
