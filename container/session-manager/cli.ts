/**
 * `hive-session-manager`: the multi-agent container's session manager (upstream-contracts.md section 2)
 * re-implemented with what upstream lacked: stop/pause/resume/reap, escaped and validated input, a
 * locked atomic registry. Stdout is a contract (the control plane parses it); errors are one line on
 * stderr with a non-zero exit (2 usage/invalid input, 1 not found or failed, 3 registry I/O).
 * Nothing ever goes through a shell; `<root>/.swarm/memory.db` is never created.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  emptyRegistry,
  paths,
  pidAlive,
  readRegistry,
  sleepSync,
  toSessionFile,
  updateRegistry,
  updateSession,
  withLock,
  writeFileAtomic,
  writeSessionFile,
  type Paths,
  type Registry,
  type RegistryEntry,
} from './registry.js';
import { metadataProblem } from './metadata.js';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_TASK_BYTES = 8192;
export const MAX_METADATA_BYTES = 16_384;
const SETTABLE_STATUSES = ['created', 'starting', 'running', 'paused', 'stopped', 'completed', 'failed', 'interrupted'];
const TERMINAL = new Set(['stopped', 'completed', 'failed', 'interrupted']);
const ACTIVE = new Set(['starting', 'running', 'paused']);

export class UsageError extends Error {}
export class NotFound extends Error {}

/** What `capabilities` prints: how a caller tells this kit from upstream's script with one probe. */
export const CAPABILITIES = {
  kit: 'hivescope',
  version: '0.1.0',
  createStart: true,
  pauseResume: true,
  reap: true,
  detachedStart: true,
  follow: true,
} as const;

/** Exit code of `create --start` when the session was created (uuid on stdout) but could not be started. */
export const EXIT_CREATED_NOT_STARTED = 4;

const OPTION_SHAPED = /^-{1,2}[A-Za-z]\S*$/;

/**
 * Splits flags from positional arguments. Before `--`, an option-shaped word (dashes, a letter, no
 * whitespace) is a flag and must be one of `allowed`; everything after `--`, and any other word (e.g. a
 * task like "- item one" or "-5 degrees"), is positional. A task that is itself option-shaped goes after `--`.
 */
export function splitFlags(args: string[], allowed: readonly string[]): { positional: string[]; flags: Set<string> } {
  const positional: string[] = [];
  const flags = new Set<string>();
  let rest = false;
  for (const a of args) {
    if (rest) positional.push(a);
    else if (a === '--') rest = true;
    else if (OPTION_SHAPED.test(a)) {
      if (!allowed.includes(a)) throw new UsageError(`unknown option ${JSON.stringify(a.slice(0, 40))} (pass a task that starts with dashes after --)`);
      flags.add(a);
    } else positional.push(a);
  }
  return { positional, flags };
}

const USAGE = `usage: hive-session-manager <command>
  create [--start] [--] <task> [high|medium|low|critical] [metadata_json]
                              prints the new session uuid; --start also starts it (exit 4: created, not started)
  start <uuid> [--follow]     hand the swarm to the engine and exit; --follow streams its log until it ends
  capabilities                one JSON line: what this kit supports
  status <uuid>               one word; not_found + exit 1 when unknown
  get <uuid>                  session.json
  list                        the registry JSON
  output-dir <uuid> | log <uuid>
  update-status <uuid> <status>
  stop <uuid> | pause <uuid> | resume <uuid>
  reap                        mark active sessions nothing runs any more (engine restarted, group gone) interrupted
  cleanup [max_age_hours=24]  remove finished sessions older than the age
  init`;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function requireUuid(arg: string | undefined): string {
  if (arg === undefined) throw new UsageError('missing session uuid');
  if (!UUID_PATTERN.test(arg)) throw new UsageError('invalid session uuid');
  return arg;
}

export function arity(args: string[], min: number, max: number): void {
  if (args.length < min) throw new UsageError('missing argument');
  if (args.length > max) throw new UsageError(`too many arguments (${args.length})`);
}

export function validateTask(task: string): string {
  if (Buffer.byteLength(task, 'utf8') > MAX_TASK_BYTES) throw new UsageError(`task exceeds ${MAX_TASK_BYTES} bytes`);
  if (task.includes('\0')) throw new UsageError('task contains a NUL character');
  if (task.trim() === '') throw new UsageError('task is empty');
  return task;
}

export function normalisePriority(p: string | undefined): 'high' | 'medium' | 'low' {
  if (p === undefined || p === '') return 'medium';
  if (p === 'critical' || p === 'high') return 'high';
  if (p === 'medium' || p === 'low') return p;
  throw new UsageError('priority must be high, medium, low or critical');
}

export function parseMetadata(raw: string | undefined): Record<string, unknown> | null {
  if (raw === undefined || raw === '' || raw === 'null') return null;
  if (Buffer.byteLength(raw, 'utf8') > MAX_METADATA_BYTES) throw new UsageError(`metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError('metadata is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('metadata must be a JSON object');
  const problem = metadataProblem(value as Record<string, unknown>);
  if (problem) throw new UsageError(`invalid metadata: ${problem}`);
  return value as Record<string, unknown>;
}

function init(p: Paths): void {
  fs.mkdirSync(p.sessionsDir, { recursive: true });
  fs.mkdirSync(p.outputRoot, { recursive: true });
  if (!fs.existsSync(p.registry)) {
    withLock(p, () => {
      if (!fs.existsSync(p.registry)) writeFileAtomic(p.registry, `${JSON.stringify(emptyRegistry(), null, 2)}\n`);
    });
  }
}

/**
 * Validates `create`'s positional arguments and prepares a new session: its uuid, its directories (the
 * session dir with an `output` link to its output dir) and its registry entry, not yet written. Shared
 * with hive-engine, which serves `create` without a Node start-up (engine/session-service.ts).
 */
export function prepareSession(p: Paths, args: string[], engine: 'simulated' | 'claude-flow' | null, runnerPid: number | null): { uuid: string; entry: RegistryEntry } {
  arity(args, 1, 3);
  const task = validateTask(args[0]!);
  const metadata = parseMetadata(args[2]);
  const priority = normalisePriority(args[1] ?? (typeof metadata?.priority === 'string' ? metadata.priority : undefined));
  const uuid = randomUUID();
  const dir = path.join(p.sessionsDir, uuid);
  const outputDir = path.join(p.outputRoot, uuid);
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(outputDir, { recursive: true });
  fs.mkdirSync(p.logDir, { recursive: true });
  try {
    fs.symlinkSync(outputDir, path.join(dir, 'output'));
  } catch {
    // an existing link (impossible for a fresh uuid) or a filesystem without symlinks
  }
  const now = new Date().toISOString();
  const entry: RegistryEntry = {
    task,
    status: engine ? 'starting' : 'created',
    created: now,
    dir,
    updated: now,
    last_activity: now,
    priority,
    metadata,
    swarm_id: null,
    runner_pid: runnerPid,
    runner_pgid: null,
    engine,
    replaces: typeof metadata?.replaces === 'string' ? metadata.replaces : null,
    progress: null,
    agent_count: null,
  };
  return { uuid, entry };
}

/** `claimFor`: create --start's engine; the entry is born `starting` (one registry write fewer). */
async function create(p: Paths, args: string[], claimFor: 'simulated' | 'claude-flow' | null = null): Promise<string> {
  const { uuid, entry } = prepareSession(p, args, claimFor, claimFor ? process.pid : null);
  updateRegistry(p, (reg) => {
    writeSessionFile(p, uuid, toSessionFile(p, uuid, entry));
    reg.sessions[uuid] = entry;
  });
  out(uuid);
  return uuid;
}

function entryOf(p: Paths, uuid: string): RegistryEntry {
  const e = readRegistry(p).sessions[uuid];
  if (!e) throw new NotFound(`session ${uuid} not found`);
  return e;
}

function signalRunner(e: RegistryEntry, signal: NodeJS.Signals): void {
  const targets: number[] = [];
  if (e.runner_pgid) targets.push(-e.runner_pgid);
  if (e.runner_pid) targets.push(e.runner_pid);
  for (const t of targets) {
    try {
      process.kill(t, signal);
    } catch {
      // already gone
    }
  }
}

async function withEngine<T>(fn: (c: import('../engine/client.js').McpClient) => Promise<T>): Promise<T> {
  const { McpClient, mcpEnv } = await import('../engine/client.js');
  const env = mcpEnv();
  const c = new McpClient({ ...env, timeoutMs: 5_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

async function stop(p: Paths, uuid: string): Promise<void> {
  const e = entryOf(p, uuid);
  if (TERMINAL.has(e.status)) return;
  if (e.engine === 'claude-flow') return stopClaudeFlow(p, uuid, e);
  if (e.engine === 'simulated' && ACTIVE.has(e.status)) {
    // The engine may not know it (restarted): stopped is still the answer the caller asked for.
    await withEngine((c) => c.callTool('session_stop', { session_id: uuid })).catch(() => undefined);
  }
  updateSession(p, uuid, (x) => {
    if (TERMINAL.has(x.status)) return false;
    x.status = 'stopped';
    x.runner_pid = null;
  });
  // A runner left by an older kit (one process per session) or a `start` still connecting.
  const { isRunner } = await import('./runner.js');
  if (e.runner_pid && isRunner(e.runner_pid, uuid)) {
    signalRunner(e, 'SIGTERM');
    for (let i = 0; i < 30 && isRunner(e.runner_pid, uuid); i++) sleepSync(100);
    if (isRunner(e.runner_pid, uuid)) signalRunner(e, 'SIGKILL');
  }
}

/** `hive-mind stop <session>` (marks claude-flow's own rows), then end the spawn's group, which that does not. */
async function stopClaudeFlow(p: Paths, uuid: string, e: RegistryEntry): Promise<void> {
  const { claudeFlowBin, isClaudeFlowLeader } = await import('./runner.js');
  const pgid = e.runner_pgid;
  const alive = (): boolean => pgid !== null && isClaudeFlowLeader(pgid, uuid);
  if (pgid && alive()) {
    try {
      process.kill(-pgid, 'SIGCONT'); // a paused group cannot handle SIGTERM
    } catch {
      // gone
    }
  }
  const bin = claudeFlowBin();
  if (bin && e.cf_session_id && alive()) {
    const { spawnSync } = await import('node:child_process');
    spawnSync(bin, ['hive-mind', 'stop', e.cf_session_id], { cwd: e.dir, stdio: 'ignore', timeout: 10_000 });
  }
  updateSession(p, uuid, (x) => {
    if (TERMINAL.has(x.status)) return false;
    x.status = 'stopped';
  });
  if (!pgid || !alive()) return;
  const kill = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // the group is gone
    }
  };
  kill('SIGTERM');
  for (let i = 0; i < 30 && alive(); i++) sleepSync(100);
  kill('SIGKILL');
}

async function pauseResume(p: Paths, uuid: string, action: 'pause' | 'resume'): Promise<void> {
  const e = entryOf(p, uuid);
  const want = action === 'pause' ? 'paused' : 'running';
  if (e.status === want) return;
  if (action === 'pause' && e.status !== 'running') throw new StateError(`session ${uuid} is ${e.status}, not running`);
  if (action === 'resume' && e.status !== 'paused') throw new StateError(`session ${uuid} is ${e.status}, not paused`);
  if (e.engine === 'claude-flow') {
    if (!e.runner_pgid) throw new StateError(`session ${uuid} has no process group to ${action}`);
    try {
      process.kill(-e.runner_pgid, action === 'pause' ? 'SIGSTOP' : 'SIGCONT');
    } catch (err) {
      throw new StateError(`cannot ${action} session ${uuid}: ${(err as Error).message}`);
    }
  } else {
    try {
      await withEngine((c) => c.callTool(action === 'pause' ? 'session_pause' : 'session_resume', { session_id: uuid }));
    } catch (err) {
      throw new StateError(`cannot ${action} session ${uuid}: ${(err as Error).message}`);
    }
  }
  updateSession(p, uuid, (x) => {
    x.status = want;
  });
}

class StateError extends Error {}

/**
 * Marks sessions that claim to be active but have nothing running them as `interrupted`:
 * claude-flow ones whose process-group leader is gone; simulated ones the engine does not know (it
 * restarted). If the engine is unreachable, simulated sessions are left as they are (said on stderr).
 * A `start` still handing its session over (status starting, its process alive) is left alone.
 */
async function reap(p: Paths): Promise<void> {
  const { isRunner, isClaudeFlowLeader } = await import('./runner.js');
  const reg = readRegistry(p);
  const lost = new Set<string>();
  const askEngine: string[] = [];
  for (const [uuid, e] of Object.entries(reg.sessions)) {
    if (!ACTIVE.has(e.status)) continue;
    if (e.engine === 'claude-flow') {
      if (!(e.runner_pgid && isClaudeFlowLeader(e.runner_pgid, uuid))) lost.add(uuid);
      continue;
    }
    if (e.runner_pid && (isRunner(e.runner_pid, uuid) || (e.status === 'starting' && pidAlive(e.runner_pid)))) continue;
    if (e.engine === 'simulated' && e.status !== 'starting') askEngine.push(uuid);
    else lost.add(uuid);
  }
  if (askEngine.length > 0) {
    try {
      const known = await withEngine((c) => c.callTool<{ sessions: Array<{ session_id: string }> }>('session_list'));
      const ids = new Set(known.sessions.map((x) => x.session_id));
      for (const u of askEngine) if (!ids.has(u)) lost.add(u);
    } catch (err) {
      const { mcpEnv } = await import('../engine/client.js');
      const m = mcpEnv();
      process.stderr.write(
        `warning: hive-engine at ${m.host}:${m.port} unreachable (${(err as Error).message.slice(0, 200)}); ${askEngine.length} simulated session(s) left as they are\n`,
      );
    }
  }
  const marked: string[] = [];
  if (lost.size > 0) {
    updateRegistry(p, (cur) => {
      const now = new Date().toISOString();
      for (const uuid of lost) {
        const e = cur.sessions[uuid];
        const was = reg.sessions[uuid];
        // Changed since we looked (stopped, restarted, finished): not ours to judge any more.
        if (!e || !was || !ACTIVE.has(e.status) || e.updated !== was.updated) continue;
        e.status = 'interrupted';
        e.runner_pid = null;
        e.updated = now;
        e.last_activity = now;
        writeSessionFile(p, uuid, toSessionFile(p, uuid, e));
        marked.push(uuid);
      }
      return marked.length > 0;
    });
  }
  for (const u of marked) out(`interrupted ${u}`);
  out(`reaped ${marked.length}`);
}

function cleanup(p: Paths, args: string[]): void {
  arity(args, 0, 1);
  const hours = args[0] === undefined ? 24 : Number(args[0]);
  if (!Number.isFinite(hours) || hours < 0 || hours > 1_000_000) throw new UsageError('max_age_hours must be a number >= 0');
  const cutoff = Date.now() - hours * 3_600_000;
  const removed: string[] = [];
  updateRegistry(p, (reg) => {
    for (const [uuid, e] of Object.entries(reg.sessions)) {
      if (!TERMINAL.has(e.status)) continue;
      const t = Date.parse(e.updated);
      if (!(t <= cutoff)) continue;
      delete reg.sessions[uuid];
      removed.push(uuid);
    }
    return removed.length > 0;
  });
  // Session dirs go after the registry no longer names them; output dirs are kept.
  for (const uuid of removed) fs.rmSync(path.join(p.sessionsDir, uuid), { recursive: true, force: true });
  for (const u of removed) out(`removed ${u}`);
  out(`cleaned ${removed.length}`);
}

/** The registry as a read-only answer sees it; `text()` is the registry exactly as `list` prints it. */
export interface RegistryView {
  reg: Registry;
  text(): string;
}

/** The registry read once for one answer; null before `init`/`create` made it. */
function readView(p: Paths): RegistryView | null {
  if (!fs.existsSync(p.registry)) return null;
  const reg = readRegistry(p);
  return { reg, text: () => JSON.stringify(reg, null, 2) };
}

/**
 * Exit code and stdout of a read-only command (capabilities, status, get, list); null for any other.
 * Throws UsageError on bad arguments. main() and hive-engine (engine/session-service.ts, with its cached
 * view of the registry) both answer through it, so the two paths print the same bytes.
 */
export function readAnswer(p: Paths, cmd: string | undefined, args: string[], view: () => RegistryView | null): { code: number; out: string } | null {
  switch (cmd) {
    case 'capabilities':
      arity(args, 0, 0);
      return { code: 0, out: `${JSON.stringify(CAPABILITIES)}\n` };
    case 'status':
    case 'get': {
      arity(args, 1, 1);
      const uuid = requireUuid(args[0]);
      const e = view()?.reg.sessions[uuid];
      if (cmd === 'status') return e ? { code: 0, out: `${e.status}\n` } : { code: 1, out: 'not_found\n' };
      if (!e) return { code: 1, out: '{"error": "Session not found"}\n' };
      // From the registry (the source of truth; the engine updates progress only there), not session.json.
      return { code: 0, out: `${JSON.stringify(toSessionFile(p, uuid, e), null, 2)}\n` };
    }
    case 'list':
      arity(args, 0, 0);
      // Before `init`/`create` there is no registry: upstream's literal empty answer.
      return { code: 0, out: `${view()?.text() ?? '{"sessions": {}}'}\n` };
    default:
      return null;
  }
}

/** Exit code and the one stderr line of a failed command: 2 usage, 1 not found / wrong state, 3 registry I/O and the rest. */
export function failure(e: unknown): { code: number; err: string } {
  const msg = (e as Error).message.replace(/[\r\n]+/g, ' ').slice(0, 500);
  const code = e instanceof UsageError ? 2 : e instanceof NotFound || e instanceof StateError ? 1 : 3;
  return { code, err: `error: ${msg}` };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [cmd, ...args] = argv;
  const p = paths(env);
  try {
    const read = readAnswer(p, cmd, args, () => readView(p));
    if (read) {
      process.stdout.write(read.out);
      return read.code;
    }
    switch (cmd) {
      case 'init':
        arity(args, 0, 0);
        init(p);
        return 0;
      case 'create': {
        const { positional, flags } = splitFlags(args, ['--start']);
        if (!flags.has('--start')) {
          await create(p, positional);
          return 0;
        }
        const { runStart, claudeFlowBin } = await import('./runner.js');
        const uuid = await create(p, positional, claudeFlowBin(env) ? 'claude-flow' : 'simulated');
        // stdout already carries the uuid alone; start's lines go to the session log, its errors to stderr.
        return (await runStart(uuid, env, { quiet: true, claimed: true })) === 0 ? 0 : EXIT_CREATED_NOT_STARTED;
      }
      case 'start': {
        const { positional, flags } = splitFlags(args, ['--follow']);
        arity(positional, 1, 1);
        const uuid = requireUuid(positional[0]);
        const { runStart } = await import('./runner.js');
        return await runStart(uuid, env, { follow: flags.has('--follow') });
      }
      case 'output-dir':
      case 'log': {
        arity(args, 1, 1);
        const uuid = requireUuid(args[0]);
        const sf = toSessionFile(p, uuid, entryOf(p, uuid));
        out(cmd === 'log' ? sf.log_file : sf.output_dir);
        return 0;
      }
      case 'update-status': {
        arity(args, 2, 2);
        const uuid = requireUuid(args[0]);
        const status = args[1]!;
        if (!SETTABLE_STATUSES.includes(status)) throw new UsageError(`status must be one of ${SETTABLE_STATUSES.join(', ')}`);
        if (!updateSession(p, uuid, (e) => void (e.status = status))) throw new NotFound(`session ${uuid} not found`);
        return 0;
      }
      case 'stop':
        arity(args, 1, 1);
        await stop(p, requireUuid(args[0]));
        return 0;
      case 'pause':
      case 'resume':
        arity(args, 1, 1);
        await pauseResume(p, requireUuid(args[0]), cmd);
        return 0;
      case 'reap':
        arity(args, 0, 0);
        await reap(p);
        return 0;
      case 'cleanup':
        cleanup(p, args);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      default:
        throw new UsageError(cmd === undefined ? 'missing command' : `unknown command: ${cmd.slice(0, 40)}`);
    }
  } catch (e) {
    const f = failure(e);
    process.stderr.write(`${f.err}\n`);
    return f.code;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  // Node writes to pipes asynchronously: exiting at once would cut a large answer (a `list` of 1000
  // sessions) at the pipe buffer. Wait until both streams have flushed what was written, then exit
  // rather than wait for sockets or timers a start may have left behind.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write('', () => resolve()))));
  process.exit(code);
}
