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
  readRegistry,
  readSessionFile,
  RegistryError,
  sleepSync,
  toSessionFile,
  updateRegistry,
  updateSession,
  withLock,
  writeFileAtomic,
  writeSessionFile,
  type Paths,
  type RegistryEntry,
} from './registry.js';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_TASK_BYTES = 8192;
export const MAX_METADATA_BYTES = 16_384;
const SETTABLE_STATUSES = ['created', 'starting', 'running', 'paused', 'stopped', 'completed', 'failed', 'interrupted'];
const TERMINAL = new Set(['stopped', 'completed', 'failed', 'interrupted']);
const ACTIVE = new Set(['starting', 'running', 'paused']);

class UsageError extends Error {}
class NotFound extends Error {}

/** Loaded only when metadata is given: zod costs about as much start-up time as the rest of the CLI. */
async function metadataSchema() {
  const [{ z }, { SwarmConfigSchema }] = await Promise.all([import('zod'), import('../../shared/model/session.js')]);
  return SwarmConfigSchema.partial()
    .extend({ replaces: z.string().regex(UUID_PATTERN, 'replaces must be a session uuid').nullable().optional() })
    .loose();
}

const USAGE = `usage: hive-session-manager <command>
  create <task> [high|medium|low|critical] [metadata_json]   prints the new session uuid
  start <uuid>                run the swarm (stays alive while it runs; call detached)
  status <uuid>               one word; not_found + exit 1 when unknown
  get <uuid>                  session.json
  list                        the registry JSON
  output-dir <uuid> | log <uuid>
  update-status <uuid> <status>
  stop <uuid> | pause <uuid> | resume <uuid>
  reap                        mark sessions whose runner is gone as interrupted
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

function arity(args: string[], min: number, max: number): void {
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

export async function parseMetadata(raw: string | undefined): Promise<Record<string, unknown> | null> {
  if (raw === undefined || raw === '' || raw === 'null') return null;
  if (Buffer.byteLength(raw, 'utf8') > MAX_METADATA_BYTES) throw new UsageError(`metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError('metadata is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('metadata must be a JSON object');
  const r = (await metadataSchema()).safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UsageError(`invalid metadata: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'malformed'}`);
  }
  return r.data as Record<string, unknown>;
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

async function create(p: Paths, args: string[]): Promise<void> {
  arity(args, 1, 3);
  const task = validateTask(args[0]!);
  const metadata = await parseMetadata(args[2]);
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
    status: 'created',
    created: now,
    dir,
    updated: now,
    last_activity: now,
    priority,
    metadata,
    swarm_id: null,
    runner_pid: null,
    runner_pgid: null,
    engine: null,
    replaces: typeof metadata?.replaces === 'string' ? metadata.replaces : null,
    progress: null,
    agent_count: null,
  };
  updateRegistry(p, (reg) => {
    writeSessionFile(p, uuid, toSessionFile(p, uuid, entry));
    reg.sessions[uuid] = entry;
  });
  out(uuid);
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
  if (e.engine === 'simulated' && ACTIVE.has(e.status)) {
    await withEngine((c) => c.callTool('session_stop', { session_id: uuid })).catch(() => undefined);
  }
  if (e.status === 'paused' && e.engine === 'claude-flow' && e.runner_pgid) {
    try {
      process.kill(-e.runner_pgid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  updateSession(p, uuid, (x) => {
    if (TERMINAL.has(x.status)) return false;
    x.status = 'stopped';
  });
  signalRunner(e, 'SIGTERM');
  // Give the group a moment to exit, then make sure.
  const { isRunner } = await import('./runner.js');
  for (let i = 0; i < 30 && e.runner_pid && isRunner(e.runner_pid, uuid); i++) sleepSync(100);
  if (e.runner_pid && isRunner(e.runner_pid, uuid)) signalRunner(e, 'SIGKILL');
  else if (e.runner_pgid && e.engine === 'claude-flow') {
    try {
      process.kill(-e.runner_pgid, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
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

async function reap(p: Paths): Promise<void> {
  const { isRunner } = await import('./runner.js');
  const marked: string[] = [];
  updateRegistry(p, (reg) => {
    const now = new Date().toISOString();
    for (const [uuid, e] of Object.entries(reg.sessions)) {
      if (!ACTIVE.has(e.status)) continue;
      if (e.runner_pid && isRunner(e.runner_pid, uuid)) continue;
      e.status = 'interrupted';
      e.updated = now;
      e.last_activity = now;
      writeSessionFile(p, uuid, toSessionFile(p, uuid, e));
      marked.push(uuid);
    }
    return marked.length > 0;
  });
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

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [cmd, ...args] = argv;
  const p = paths(env);
  try {
    switch (cmd) {
      case 'init':
        arity(args, 0, 0);
        init(p);
        return 0;
      case 'create':
        await create(p, args);
        return 0;
      case 'start': {
        arity(args, 1, 1);
        const uuid = requireUuid(args[0]);
        const { runStart } = await import('./runner.js');
        return await runStart(uuid, env);
      }
      case 'status': {
        arity(args, 1, 1);
        const uuid = requireUuid(args[0]);
        const e = readRegistry(p).sessions[uuid];
        if (!e) {
          out('not_found');
          return 1;
        }
        out(e.status);
        return 0;
      }
      case 'get': {
        arity(args, 1, 1);
        const uuid = requireUuid(args[0]);
        const e = readRegistry(p).sessions[uuid];
        if (!e) {
          out('{"error": "Session not found"}');
          return 1;
        }
        const s = readSessionFile(p, uuid) ?? toSessionFile(p, uuid, e);
        out(JSON.stringify(s, null, 2));
        return 0;
      }
      case 'list':
        arity(args, 0, 0);
        // Before `init`/`create` there is no registry: upstream's literal empty answer.
        out(fs.existsSync(p.registry) ? JSON.stringify(readRegistry(p), null, 2) : '{"sessions": {}}');
        return 0;
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
    const msg = (e as Error).message.replace(/[\r\n]+/g, ' ').slice(0, 500);
    process.stderr.write(`error: ${msg}\n`);
    if (e instanceof UsageError) return 2;
    if (e instanceof NotFound || e instanceof StateError) return 1;
    if (e instanceof RegistryError) return 3;
    return 3;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  // Flush stdout before exiting; `start` returns only when the swarm is over.
  process.exitCode = code;
  if (process.argv[2] === 'start') process.exit(code);
}
