/**
 * `hive-session-manager start <uuid>`: runs one session's swarm and stays alive while it runs.
 * - claude-flow (HIVE_ENGINE=claude-flow and CLAUDE_FLOW_BIN or /app/node_modules/.bin/claude-flow exists):
 *   spawns `claude-flow hive-mind spawn "<objective>" ...` (objective first, argv, no shell) in its own
 *   process group, in the session dir, records the swarm id from its summary, and waits for it (it never
 *   exits by itself; `stop` kills its group; pause/resume send SIGSTOP/SIGCONT to the group).
 * - otherwise the simulated engine: connects to the running hive-engine over its MCP TCP port (MCP_HOST,
 *   MCP_PORT, MCP_AUTH_TOKEN), calls `session_run`, and follows the swarm's push notifications until it
 *   ends; the engine destroys the swarm if this connection stays closed past its grace period. If the
 *   engine restarts, the runner reconnects and re-attaches (a fresh swarm when the old one was lost).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { McpClient, mcpEnv } from '../engine/client.js';
import { paths, readRegistry, toSessionFile, updateSession, type Paths, type RegistryEntry } from './registry.js';

const ACTIVE = new Set(['starting', 'running', 'paused']);

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

/** Our process group id when we lead one (so stop can end everything we started), else null. */
export function ownPgid(): number | null {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    return pgrp === process.pid ? pgrp : null;
  } catch {
    return null;
  }
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
  constructor(file: string) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      this.fd = fs.openSync(file, 'a', 0o644);
    } catch {
      this.fd = null;
    }
  }
  line(text: string): void {
    const l = `${text}\n`;
    process.stdout.write(l);
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
}

/** Sets a terminal status only if the session is still active (stop/pause decided by others win). */
function finish(p: Paths, uuid: string, status: 'completed' | 'failed' | 'stopped', extra: Partial<RegistryEntry> = {}): void {
  updateSession(p, uuid, (e) => {
    if (!ACTIVE.has(e.status)) return false;
    e.status = status;
    Object.assign(e, extra);
  });
}

export async function runStart(uuid: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = paths(env);
  const entry = readRegistry(p).sessions[uuid];
  if (!entry) {
    process.stderr.write(`error: session ${uuid} not found\n`);
    return 1;
  }
  const bin = claudeFlowBin(env);
  const logFile = toSessionFile(p, uuid, entry).log_file;
  const out = new Output(logFile);
  let refused: string | null = null;
  const started = updateSession(p, uuid, (e) => {
    if (ACTIVE.has(e.status) && e.runner_pid && e.runner_pid !== process.pid && isRunner(e.runner_pid, uuid)) {
      refused = `session ${uuid} is already ${e.status} (runner pid ${e.runner_pid})`;
      return false;
    }
    e.status = 'starting';
    e.runner_pid = process.pid;
    e.runner_pgid = ownPgid();
    e.engine = bin ? 'claude-flow' : 'simulated';
    e.swarm_id = null;
    e.progress = null;
  });
  if (refused || !started) {
    process.stderr.write(`error: ${refused ?? `session ${uuid} not found`}\n`);
    return 1;
  }
  out.mgr(`Starting session ${uuid}`);
  out.mgr(`Working directory: ${entry.dir}`);
  if (env.HIVE_ENGINE === 'claude-flow' && !bin) out.mgr('HIVE_ENGINE=claude-flow but no claude-flow binary found; using the simulated engine');
  return bin ? runClaudeFlow(p, uuid, entry, bin, out, env) : runSimulated(p, uuid, entry, out, env);
}

/** Whether pid is a live runner of this session (guards against pid reuse, e.g. after a restart). */
export function isRunner(pid: number, uuid: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(uuid);
  } catch {
    // No /proc (not Linux): trust the pid check.
    return !fs.existsSync('/proc/self');
  }
}

async function runClaudeFlow(p: Paths, uuid: string, entry: RegistryEntry, bin: string, out: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const sf = toSessionFile(p, uuid, entry);
  const args = claudeFlowArgs(entry.task, entry.metadata, env);
  out.mgr(`Running ${bin} hive-mind spawn <objective> ${args.slice(3).join(' ')}`);
  const child = spawn(bin, args, {
    cwd: entry.dir,
    env: { ...env, HIVE_MIND_SESSION_ID: uuid, HIVE_MIND_OUTPUT_DIR: sf.output_dir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) updateSession(p, uuid, (e) => void (e.runner_pgid = child.pid ?? null));
  let buf = '';
  let swarmId: string | null = null;
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    if (buf.length > 1_000_000) buf = buf.slice(-100_000);
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      out.line(line);
      const m = /Swarm ID:\s*(swarm-[A-Za-z0-9-]{3,64})/.exec(line);
      if (m && !swarmId) {
        swarmId = m[1]!;
        updateSession(p, uuid, (e) => {
          e.swarm_id = swarmId;
          if (e.status === 'starting') e.status = 'running';
        });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const stopChild = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('SIGTERM', stopChild);
  process.on('SIGINT', stopChild);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (e) => {
      out.mgr(`claude-flow failed to start: ${e.message}`);
      resolve(127);
    });
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
  });
  if (buf) out.line(buf);
  out.mgr(`claude-flow exited with ${code}`);
  finish(p, uuid, code === 0 ? 'completed' : 'failed');
  return code === 0 ? 0 : 1;
}

async function runSimulated(p: Paths, uuid: string, entry: RegistryEntry, out: Output, env: NodeJS.ProcessEnv): Promise<number> {
  const mcp = mcpEnv(env);
  const waitMs = Number(env.HIVE_ENGINE_WAIT_MS) > 0 ? Number(env.HIVE_ENGINE_WAIT_MS) : 30_000;
  let client: McpClient | null = null;
  let swarmId: string | null = null;
  let settled = false;
  let lastWrite = { progress: -1, agents: -1, at: 0 };
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));

  const end = (status: 'completed' | 'failed' | 'stopped', code: number, why: string): void => {
    if (settled) return;
    settled = true;
    out.mgr(why);
    finish(p, uuid, status, status === 'completed' ? { progress: 1 } : {});
    client?.close();
    resolveDone(code);
  };

  const onSwarm = (params: Record<string, unknown>): void => {
    if (params.sessionId !== uuid) return;
    const status = params.status;
    if (typeof params.swarmId === 'string' && params.swarmId !== swarmId) return;
    const progress = typeof params.progress === 'number' ? params.progress : null;
    const agents = typeof params.agentCount === 'number' ? params.agentCount : null;
    const now = Date.now();
    // Throttled: the registry is shared by every session; progress needs no more than one write per 2 s.
    if ((progress !== lastWrite.progress || agents !== lastWrite.agents) && now - lastWrite.at > 2_000) {
      lastWrite = { progress: progress ?? -1, agents: agents ?? -1, at: now };
      updateSession(p, uuid, (e) => {
        if (!ACTIVE.has(e.status)) return false;
        e.progress = progress;
        if (agents !== null && agents > 0) e.agent_count = agents;
      });
    }
    if (status === 'completed') end('completed', 0, `Swarm ${swarmId} completed`);
    else if (status === 'failed') end('failed', 1, `Swarm ${swarmId} failed`);
    else if (status === 'stopped') end('stopped', 0, `Swarm ${swarmId} stopped`);
  };

  const attach = async (): Promise<void> => {
    const deadline = Date.now() + waitMs;
    let delay = 250;
    for (;;) {
      if (settled) return;
      const c = new McpClient({ host: mcp.host, port: mcp.port, authToken: mcp.authToken });
      try {
        await c.connect();
        c.onNotification = (method, params) => {
          if (method === 'notifications/hive/swarm') onSwarm(params);
          else if (method === 'notifications/message') {
            const data = params.data as { text?: unknown } | undefined;
            if (typeof data?.text === 'string') out.line(`[HIVE] ${data.text}`);
          }
        };
        await c.request('hive/subscribe', { sessionIds: [uuid], kinds: ['swarm', 'log'] });
        const r = await c.callTool<{ swarm_id: string; status: string; attached: boolean }>('session_run', {
          session_id: uuid,
          task: entry.task,
          metadata: entry.metadata ?? null,
        });
        client = c;
        if (r.swarm_id !== swarmId) {
          swarmId = r.swarm_id;
          out.line(`Swarm ID: ${swarmId}`);
          updateSession(p, uuid, (e) => {
            e.swarm_id = swarmId;
            if (e.status === 'starting') e.status = 'running';
            if (e.agent_count === null) e.agent_count = typeof e.metadata?.maxAgents === 'number' ? e.metadata.maxAgents : 8;
          });
        }
        out.mgr(`${r.attached ? 'Re-attached to' : 'Running'} swarm ${swarmId} on hive-engine ${mcp.host}:${mcp.port}`);
        c.onClose = () => {
          if (settled) return;
          out.mgr('Lost the hive-engine connection; reconnecting');
          void attach();
        };
        return;
      } catch (e) {
        c.close();
        if (Date.now() > deadline) {
          end('failed', 1, `hive-engine at ${mcp.host}:${mcp.port} unreachable: ${(e as Error).message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  };

  const onSignal = (): void => {
    if (settled) process.exit(0);
    const c = client;
    const stop = c ? c.callTool('session_stop', { session_id: uuid }).catch(() => undefined) : Promise.resolve();
    void Promise.race([stop, new Promise((r) => setTimeout(r, 1_500))]).then(() => end('stopped', 0, 'Stopped by signal'));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  await attach();
  return done;
}
