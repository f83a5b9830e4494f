/**
 * Backend over the container kit's session manager (upstream-contracts.md section 2 plus
 * stop/pause/resume/reap). Every call is one exec with an argv array; the task text travels as one
 * argument and the metadata as one JSON argument, so nothing is ever interpolated into a command line.
 */
import type { SessionStatus } from '../../../shared/model/session.js';
import { ControlError, clip } from '../errors.js';
import type { ExecResult } from '../exec.js';
import { parseCleanupOutput, parseCreateOutput, parseReapOutput, parseRegistry, parseSessionJson } from '../parsers.js';
import type { Backend, BackendDescription, ListResult, RunFn, SpawnRequest } from './types.js';
import { parseKitCapabilities } from './claudeFlow3Parse.js';
import type { RequestContext } from '../../context.js';

/** Where the image keeps it. */
export const SESSION_MANAGER_PATH = '/app/scripts/hive-session-manager.sh';

function failed(what: string, r: ExecResult): ControlError {
  return new ControlError('command-failed', `session manager ${what} exited with ${r.exitCode}: ${clip(r.stderr.trim() || r.stdout.trim() || '(no output)')}`, {
    exitCode: r.exitCode,
    stderr: clip(r.stderr, 2000),
  });
}

function notFound(r: ExecResult): boolean {
  return r.exitCode !== 0 && /not[ _-]?found/i.test(`${r.stdout}\n${r.stderr}`);
}

export class SessionManagerBackend implements Backend {
  readonly name = 'session-manager' as const;

  /** `prefix`: the argv that runs the CLI, e.g. [SESSION_MANAGER_PATH] or [node, cli.js]. */
  constructor(
    private readonly run: RunFn,
    private readonly prefix: readonly string[],
  ) {}

  /**
   * What the session manager says it can do (`capabilities`, our kit only; upstream's script has no
   * such subcommand and answers with an error, which reads as "nothing extra"). Asked once.
   */
  private caps: Promise<{ createStart: boolean }> | null = null;
  /** Sessions whose `create --start` already started them: `start` is then a no-op. */
  private readonly startedAtCreate = new Set<string>();
  /** Our kit's version from `capabilities` (null: not asked yet, or upstream's script). */
  private kitVersion: string | null = null;

  /** The kit's session manager does every operation but metrics (its agents' figures come from MCP). */
  describe(): BackendDescription {
    return {
      kind: 'kit',
      version: this.kitVersion,
      operations: { spawn: true, list: true, stop: true, pause: true, resume: true, cleanup: true, reap: true, metrics: false },
      limits: [],
    };
  }

  capabilities(ctx?: RequestContext): Promise<{ createStart: boolean }> {
    this.caps ??= this.run([...this.prefix, 'capabilities'], { idempotent: true, ctx }).then(
      (r) => {
        if (r.exitCode !== 0) return { createStart: false };
        this.kitVersion = parseKitCapabilities(r.stdout)?.version ?? null;
        try {
          const c = JSON.parse(r.stdout.trim().split('\n')[0] ?? '') as { createStart?: unknown };
          return { createStart: c?.createStart === true };
        } catch {
          return { createStart: false };
        }
      },
      () => {
        this.caps = null; // a transient failure: ask again next time
        return { createStart: false };
      },
    );
    return this.caps;
  }

  async create(req: SpawnRequest, ctx?: RequestContext): Promise<string> {
    const priority = req.config.priority === 'critical' ? 'high' : req.config.priority;
    const meta = { ...req.config, priority, ...(req.replaces ? { replaces: req.replaces } : {}) };
    // One exec per spawn where the kit supports it: create and start in the same process.
    const { createStart } = await this.capabilities(ctx);
    // Our kit reads options before `--` and positionals after it, so a task that looks like an option
    // stays a task. Upstream's script knows neither, and gets the bare positional form.
    const positional = [req.task, priority, JSON.stringify(meta)];
    const argv = createStart ? [...this.prefix, 'create', '--start', '--', ...positional] : [...this.prefix, 'create', ...positional];
    const r = await this.run(argv, { idempotent: false, ctx });
    if (r.exitCode !== 0) throw failed('create', r);
    const uuid = parseCreateOutput(r.stdout);
    if (createStart) this.startedAtCreate.add(uuid);
    return uuid;
  }

  async start(uuid: string, _req?: SpawnRequest, ctx?: RequestContext): Promise<void> {
    if (this.startedAtCreate.delete(uuid)) return;
    const r = await this.run([...this.prefix, 'start', uuid], { idempotent: false, detached: true, ctx });
    if (r.exitCode !== 0) throw failed('start', r);
  }

  async list(ctx?: RequestContext): Promise<ListResult> {
    const r = await this.run([...this.prefix, 'list'], { idempotent: true, ctx });
    if (r.exitCode !== 0) throw failed('list', r);
    return parseRegistry(r.stdout);
  }

  async get(uuid: string, ctx?: RequestContext) {
    const r = await this.run([...this.prefix, 'get', uuid], { idempotent: true, ctx });
    if (r.exitCode !== 0 && !notFound(r)) throw failed('get', r);
    const s = r.exitCode === 0 ? parseSessionJson(r.stdout, uuid) : 'not_found';
    if (s === 'not_found') throw new ControlError('session-not-found', `no session ${uuid}`);
    return s;
  }

  private async action(verb: 'stop' | 'pause' | 'resume', uuid: string, result: SessionStatus, ctx: RequestContext | undefined): Promise<SessionStatus> {
    const r = await this.run([...this.prefix, verb, uuid], { idempotent: true, ctx });
    if (notFound(r)) throw new ControlError('session-not-found', `no session ${uuid}`);
    // Exit 1 without "not found" is the kit's "wrong state" (e.g. resume of a session that is not paused).
    if (r.exitCode === 1) throw new ControlError('conflict', `cannot ${verb} session ${uuid}: ${clip(r.stderr.trim().replace(/^error:\s*/, '') || 'wrong state')}`);
    if (r.exitCode !== 0) throw failed(verb, r);
    return result;
  }

  stop(uuid: string, ctx?: RequestContext) {
    return this.action('stop', uuid, 'stopped', ctx);
  }
  pause(uuid: string, ctx?: RequestContext) {
    return this.action('pause', uuid, 'paused', ctx);
  }
  resume(uuid: string, ctx?: RequestContext) {
    return this.action('resume', uuid, 'running', ctx);
  }

  /**
   * Paths the session manager names per session (`log <uuid>`, `output-dir <uuid>`): one exec per session
   * and subcommand, then cached (a session's paths never change), at most 1024 per subcommand.
   */
  private readonly sessionPaths = { log: new Map<string, string>(), 'output-dir': new Map<string, string>() };

  private async sessionPath(sub: 'log' | 'output-dir', uuid: string, ctx?: RequestContext): Promise<string> {
    const cache = this.sessionPaths[sub];
    const known = cache.get(uuid);
    if (known) return known;
    const r = await this.run([...this.prefix, sub, uuid], { idempotent: true, ctx });
    if (notFound(r)) throw new ControlError('session-not-found', `no session ${uuid}`);
    const path = r.stdout.trim();
    if (r.exitCode !== 0 || !path.startsWith('/') || path.includes('\n') || path.length > 1024) throw failed(sub, r);
    if (cache.size >= 1024) cache.delete(cache.keys().next().value!);
    cache.set(uuid, path);
    return path;
  }

  async logFile(uuid: string, ctx?: RequestContext): Promise<{ path: string }> {
    return { path: await this.sessionPath('log', uuid, ctx) };
  }

  async outputDir(uuid: string, ctx?: RequestContext): Promise<{ dir: string }> {
    return { dir: await this.sessionPath('output-dir', uuid, ctx) };
  }

  async cleanup(maxAgeHours: number, ctx?: RequestContext): Promise<number | null> {
    const r = await this.run([...this.prefix, 'cleanup', String(Math.max(0, Math.floor(maxAgeHours)))], { idempotent: true, ctx });
    if (r.exitCode !== 0) throw failed('cleanup', r);
    return parseCleanupOutput(r.stdout).count;
  }

  async reap(ctx?: RequestContext): Promise<string[]> {
    const r = await this.run([...this.prefix, 'reap'], { idempotent: true, ctx });
    if (r.exitCode !== 0) throw failed('reap', r);
    return parseReapOutput(r.stdout).uuids;
  }
}
