/**
 * `hive-session-manager start <uuid> [--follow]`: hands one session's swarm to whatever runs it, records
 * the swarm id, and exits; no process per session stays alive (a session costs no Node runner).
 * - simulated (default): connects to the running hive-engine over MCP (MCP_HOST, MCP_PORT,
 *   MCP_AUTH_TOKEN) and calls `session_run {detach: true, root}`; the engine then owns the lifecycle and
 *   writes progress, agent_count and the final status (completed/failed/stopped) to this registry itself.
 *   `--follow` stays attached and streams the swarm's log lines until it ends (for a terminal; Ctrl-C
 *   detaches, the swarm keeps running).
 * - claude-flow (HIVE_ENGINE=claude-flow and CLAUDE_FLOW_BIN or /app/node_modules/.bin/claude-flow):
 *   spawns `claude-flow hive-mind spawn "<objective>" ...` (objective first, argv, no shell) detached in
 *   its own process group with stdout/stderr appended to the session log, waits (bounded) for its summary
 *   to record the swarm id, and exits. It never exits by itself: `stop` kills its group, `reap` marks the
 *   session interrupted once the group leader is gone.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { McpClient, mcpEnv } from '../engine/client.js';
import { paths, pidAlive, readRegistry, toSessionFile, updateSession, type Paths, type RegistryEntry } from './registry.js';

const ACTIVE = new Set(['starting', 'running', 'paused']);

export interface StartOptions {
  /** Stay attached and stream the swarm's log lines until it ends (simulated engine only). */
  follow?: boolean;
  /** Log lines go to the session log only (create --start: stdout carries the uuid alone). */
  quiet?: boolean;
  /** The entry was created already `starting` with our pid (create --start): skip that write. */
  claimed?: boolean;
}

export function claudeFlowBin(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.HIVE_ENGINE !== 'claude-flow') return null;
  const candidates = [env.CLAUDE_FLOW_BIN, '/app/node_modules/.bin/claude-flow'].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // try the next
    }
  }
  return null;
}

/** claude-flow argv: objective first (its flag parser swallows the next bare word). */
export function claudeFlowArgs(task: string, metadata: Record<string, unknown> | null, env: NodeJS.ProcessEnv = process.env): string[] {
  const args = ['hive-mind', 'spawn', task];
  const strategy = metadata?.strategy;
  if (strategy === 'strategic' || strategy === 'tactical' || strategy === 'adaptive') args.push('--queen-type', strategy);
  const max = metadata?.maxAgents;
  if (typeof max === 'number' && Number.isInteger(max)) args.push('--max-workers', String(Math.min(20, Math.max(1, max - 1))));
  const types = metadata?.agentTypes;
  if (Array.isArray(types)) {
    const workers = types.filter((t): t is string => typeof t === 'string' && /^[a-z_]{2,40}$/.test(t) && t !== 'queen');
    // camelCase: claude-flow ignores the kebab-case spelling of this flag.
    if (workers.length > 0) args.push('--workerTypes', workers.join(','));
  }
  if (env.HIVE_CLAUDE_FLOW_CLAUDE === '1') args.push('--claude');
  return args;
}

class Output {
  private fd: number | null = null;
  constructor(
    file: string,
    readonly quiet: boolean,
  ) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(file, 'a', 0o644);
    } catch {
      this.fd = null;
    }
  }
  line(text: string): void {
    const l = `${text}\n`;
    if (!this.quiet) process.stdout.write(l);
    if (this.fd !== null) {
      try {
        fs.writeSync(this.fd, l);
      } catch {
        // log is best effort
      }
    }
  }
  mgr(text: string): void {
    this.line(`[SESSION-MGR] ${text}`);
  }
  /** To the terminal only: a line the engine already writes to the session log (container/engine/log-sink.ts). */
  echo(text: string): void {
    if (!this.quiet) process.stdout.write(`${text}\n`);
  }
  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Sets a terminal status only if the session is still active (stop/pause decided by others win). */
function finish(p: Paths, uuid: string, status: 'completed' | 'failed' | 'stopped', extra: Partial<RegistryEntry> = {}): void {
  updateSession(p, uuid, (e) => {
    if (!ACTIVE.has(e.status)) return false;
    e.status = status;
    Object.assign(e, extra);
  });
}

/** Whether pid is a live legacy runner of this session (guards against pid reuse, e.g. after a restart). */
export function isRunner(pid: number, uuid: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(uuid);
  } catch {
    // No /proc (not Linux): trust the pid check.
    return !fs.existsSync('/proc/self');
  }
}

/** Whether a claude-flow group leader is alive and still that session's (its environment names it). */
export function isClaudeFlowLeader(pid: number, uuid: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (st.slice(st.lastIndexOf(')') + 2).startsWith('Z')) return false; // a zombie is gone
  } catch {
    return !fs.existsSync('/proc/self');
  }
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`HIVE_MIND_SESSION_ID=${uuid}\0`);
  } catch {
    return true; // environ not readable (another user): trust the pid
  }
}

/** Why a session cannot be started now, or null. */
function refusal(e: RegistryEntry, uuid: string): string | null {
  if (!ACTIVE.has(e.status)) return null;
  if (e.engine === 'claude-flow' && e.runner_pgid && isClaudeFlowLeader(e.runner_pgid, uuid)) return `session ${uuid} is already ${e.status} (runner pid ${e.runner_pgid})`;
  if (e.status === 'starting') return e.runner_pid && pidAlive(e.runner_pid) && e.runner_pid !== process.pid ? `session ${uuid} is already starting (pid ${e.runner_pid})` : null;
  if (e.runner_pid && e.runner_pid !== process.pid && isRunner(e.runner_pid, uuid)) return `session ${uuid} is already ${e.status} (runner pid ${e.runner_pid})`;
  // running/paused in the simulated engine: only `reap` (which asks the engine) may declare it lost.
  if (e.engine === 'simulated') return `session ${uuid} is already ${e.status}`;
  return null;
}

export async function runStart(uuid: string, env: NodeJS.ProcessEnv = process.env, opts: StartOptions = {}): Promise<number> {
  const p = paths(env);
  const entry = readRegistry(p).sessions[uuid];
  if (!entry) {
    process.stderr.write(`error: session ${uuid} not found\n`);
    return 1;
  }
  const bin = claudeFlowBin(env);
  let refused: string | null = null;
  const claimed = opts.claimed === true && entry.status === 'starting' && entry.runner_pid === process.pid;
  const started = claimed || updateSession(p, uuid, (e) => {
    refused = refusal(e, uuid);
    if (refused) return false;
    e.status = 'starting';
    e.runner_pid = process.pid;
    e.runner_pgid = null;
    e.engine = bin ? 'claude-flow' : 'simulated';
    e.swarm_id = null;
    e.cf_session_id = null;
    e.progress = null;
  });
  if (refused || !started) {
    process.stderr.write(`error: ${refused ?? `session ${uuid} not found`}\n`);
    return 1;
  }
  const out = new Output(toSessionFile(p, uuid, entry).log_file, opts.quiet === true);
  try {
    out.mgr(`Starting session ${uuid}`);
    out.mgr(`Working directory: ${entry.dir}`);
    if (env.HIVE_ENGINE === 'claude-flow' && !bin) out.mgr('HIVE_ENGINE=claude-flow but no claude-flow binary found; using the simulated engine');
    return bin ? await runClaudeFlow(p, uuid, entry, bin, out, env) : await runSimulated(p, uuid, entry, out, env, opts);
  } finally {
    out.close();
  }
}

const SWARM_ID = /Swarm ID:\s*(swarm-[A-Za-z0-9-]{3,64})/;
const CF_SESSION_ID = /Session ID:\s*(session-[A-Za-z0-9-]{3,64})/;

async function runClaudeFlow(p: Paths, uuid: string, entry: RegistryEntry, bin: string, out: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const sf = toSessionFile(p, uuid, entry);
  const args = claudeFlowArgs(entry.task, entry.metadata, env);
  out.mgr(`Running ${bin} hive-mind spawn <objective> ${args.slice(3).join(' ')}`);
  const waitMs = Number(env.HIVE_CF_WAIT_MS) > 0 ? Number(env.HIVE_CF_WAIT_MS) : 10_000;
  // The child appends straight to the session log: nothing of ours has to stay alive to drain a pipe.
  const logFd = fs.openSync(sf.log_file, 'a', 0o644);
  const from = fs.fstatSync(logFd).size;
  let exited: number | null = null;
  let spawnError: string | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(bin, args, {
      cwd: entry.dir,
      env: { ...env, HIVE_MIND_SESSION_ID: uuid, HIVE_MIND_OUTPUT_DIR: sf.output_dir },
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    child.on('error', (e) => (spawnError = e.message));
    child.on('exit', (c, sig) => (exited = c ?? (sig ? 128 : 1)));
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(logFd);
  }
  if (pid) updateSession(p, uuid, (e) => void ((e.runner_pid = pid ?? null), (e.runner_pgid = pid ?? null)));

  const deadline = Date.now() + waitMs;
  let swarmId: string | null = null;
  let cfSession: string | null = null;
  let shown = 0;
  while (Date.now() < deadline && exited === null && spawnError === null) {
    await new Promise((r) => setTimeout(r, 100));
    const text = readFrom(sf.log_file, from, 256 * 1024);
    swarmId ??= SWARM_ID.exec(text)?.[1] ?? null;
    cfSession ??= CF_SESSION_ID.exec(text)?.[1] ?? null;
    if (swarmId && cfSession) {
      // Echo the summary to a terminal (it is in the log already).
      const upto = text.lastIndexOf('\n') + 1;
      if (upto > shown) if (!out.quiet) process.stdout.write(text.slice(shown, upto));
      shown = upto;
      break;
    }
  }
  if (spawnError !== null || exited !== null || !pid) {
    const why = spawnError ?? `exited with ${exited}`;
    fs.appendFileSync(sf.log_file, `[SESSION-MGR] claude-flow ${why}\n`);
    finish(p, uuid, 'failed', { runner_pid: null });
    process.stderr.write(`error: claude-flow ${why}\n`);
    return 1;
  }
  updateSession(p, uuid, (e) => {
    e.swarm_id = swarmId;
    e.cf_session_id = cfSession;
    if (e.status === 'starting') e.status = 'running';
  });
  out.mgr(swarmId ? `claude-flow swarm ${swarmId} running in process group ${pid}` : `claude-flow running in process group ${pid}; no swarm id within ${waitMs} ms`);
  return 0;
}

function readFrom(file: string, from: number, max: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(max);
      const n = fs.readSync(fd, buf, 0, max, from);
      return buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Connection-level failures worth retrying (engine starting or restarting, connection limit reached). */
function transient(e: unknown): boolean {
  const m = (e as Error).message ?? '';
  return /connection closed|not connected|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|timed out/.test(m);
}

/**
 * Connects and runs `fn` on the connection, retrying with jittered backoff while failures are transient
 * (the engine restarting, or its 50-connection limit reached during a burst of spawns) until waitMs.
 */
async function withEngineRetry<T>(env: NodeJS.ProcessEnv, waitMs: number, fn: (c: McpClient) => Promise<T>): Promise<{ client: McpClient; value: T }> {
  const mcp = mcpEnv(env);
  const deadline = Date.now() + waitMs;
  let delay = 50;
  for (;;) {
    const c = new McpClient({ host: mcp.host, port: mcp.port, authToken: mcp.authToken, timeoutMs: 10_000 });
    try {
      await c.connect();
      return { client: c, value: await fn(c) };
    } catch (e) {
      c.close();
      const wait = delay / 2 + Math.random() * delay;
      if (!transient(e) || Date.now() + wait > deadline) throw e;
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(delay * 2, 1_000);
    }
  }
}

async function runSimulated(p: Paths, uuid: string, entry: RegistryEntry, out: Output, env: NodeJS.ProcessEnv, opts: StartOptions): Promise<number> {
  const mcp = mcpEnv(env);
  const waitMs = Number(env.HIVE_ENGINE_WAIT_MS) > 0 ? Number(env.HIVE_ENGINE_WAIT_MS) : 10_000;
  let client: McpClient;
  let r: { swarm_id: string; status: string; attached: boolean; agent_count?: number };
  let ended: Promise<number> | null = null;
  try {
    ({ client, value: r } = await withEngineRetry(env, waitMs, async (c) => {
      if (opts.follow) {
        // Subscribe before the swarm exists so its first lines are not missed.
        await c.request('hive/subscribe', { sessionIds: [uuid], kinds: ['swarm', 'log'] });
        ended = follow(c, uuid, out);
      }
      return c.callTool<{ swarm_id: string; status: string; attached: boolean; agent_count?: number }>('session_run', {
        session_id: uuid,
        task: entry.task,
        metadata: entry.metadata ?? null,
        detach: true,
        root: p.root,
      });
    }));
  } catch (e) {
    const why = `hive-engine at ${mcp.host}:${mcp.port} unreachable or refused: ${(e as Error).message}`;
    out.mgr(why);
    finish(p, uuid, 'failed', { runner_pid: null });
    process.stderr.write(`error: ${why.slice(0, 400)}\n`);
    return 1;
  }
  updateSession(p, uuid, (e) => {
    e.swarm_id = r.swarm_id;
    e.runner_pid = null;
    if (e.status === 'starting') e.status = 'running';
    if (e.agent_count === null) e.agent_count = typeof r.agent_count === 'number' && r.agent_count > 0 ? r.agent_count : null;
  });
  out.line(`Swarm ID: ${r.swarm_id}`);
  out.mgr(`${r.attached ? 'Re-attached to' : 'Running'} swarm ${r.swarm_id} on hive-engine ${mcp.host}:${mcp.port}; the engine owns it now`);
  if (!ended) {
    client.close();
    return 0;
  }
  const stopFollowing = (): void => {
    out.mgr('Detached; the swarm keeps running (stop it with `hive-session-manager stop`)');
    client.close();
    process.exit(0);
  };
  process.on('SIGINT', stopFollowing);
  process.on('SIGTERM', stopFollowing);
  const code = await (ended as Promise<number>);
  // The engine records the end a moment later (batched writes): let `status` agree once we return.
  for (let i = 0; i < 30; i++) {
    const st = readRegistry(p).sessions[uuid]?.status;
    if (st === undefined || !ACTIVE.has(st)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return code;
}

/** Streams the session's log lines until its swarm ends; resolves with the exit code. */
function follow(c: McpClient, uuid: string, out: Output): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const end = (code: number, why: string): void => {
      if (done) return;
      done = true;
      out.mgr(why);
      c.close();
      resolve(code);
    };
    c.onNotification = (method, params) => {
      if (method === 'notifications/message') {
        const data = params.data as { text?: unknown; sessionId?: unknown } | undefined;
        if (typeof data?.text === 'string' && data.sessionId === uuid) out.echo(`[HIVE] ${data.text}`);
      } else if (method === 'notifications/hive/swarm' && params.sessionId === uuid) {
        const st = params.status;
        if (st === 'completed') end(0, `Swarm ${String(params.swarmId)} completed`);
        else if (st === 'failed') end(1, `Swarm ${String(params.swarmId)} failed`);
        else if (st === 'stopped') end(0, `Swarm ${String(params.swarmId)} stopped`);
      }
    };
    c.onClose = () => end(1, 'Lost the hive-engine connection (the swarm, if the engine lives, keeps running)');
  });
}
