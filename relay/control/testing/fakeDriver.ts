/**
 * Test-only recording driver: an in-memory session manager behind the ExecDriver interface. It records
 * every argv and checks each one against what validated input can produce; anything else is recorded
 * as a violation (tests assert there are none). Failures can be injected per call.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { SESSION_UUID_PATTERN, TaskTextSchema } from '../../../shared/api.js';
import { SwarmConfigSchema } from '../../../shared/model/session.js';
import { ControlError, type ControlErrorKind } from '../errors.js';
import type { ExecDriver, ExecOptions, ExecResult } from '../exec.js';
import { ContainerWatch, type WatchHost } from '../containerWatch.js';

export const FAKE_SM = 'hive-session-manager';

const MetaSchema = SwarmConfigSchema.extend({ priority: z.enum(['low', 'medium', 'high']), replaces: z.string().regex(SESSION_UUID_PATTERN).optional() }).strict();

/** Why an argv could not have come from validated input, or null when it could. */
export function argvViolation(argv: readonly string[]): string | null {
  if (argv.length === 1 && argv[0] === 'true') return null;
  const [cmd, sub, ...rest] = argv;
  if (cmd !== FAKE_SM) return `unexpected command ${JSON.stringify(cmd)}`;
  const uuidOnly = () => (rest.length === 1 && SESSION_UUID_PATTERN.test(rest[0]!) ? null : `${sub} needs exactly one valid uuid, got ${JSON.stringify(rest)}`);
  switch (sub) {
    case 'capabilities':
      return rest.length === 0 ? null : 'capabilities with arguments';
    case 'create': {
      if (rest[0] === '--start' && rest[1] === '--') rest.splice(0, 2);
      if (rest.length !== 3) return `create with ${rest.length} args`;
      if (!TaskTextSchema.safeParse(rest[0]).success) return 'create with an invalid task';
      if (!['low', 'medium', 'high'].includes(rest[1]!)) return `create with priority ${JSON.stringify(rest[1])}`;
      let meta: unknown;
      try {
        meta = JSON.parse(rest[2]!);
      } catch {
        return 'create with metadata that is not JSON';
      }
      return MetaSchema.safeParse(meta).success ? null : `create with invalid metadata ${rest[2]}`;
    }
    case 'start':
    case 'get':
    case 'status':
    case 'stop':
    case 'pause':
    case 'resume':
      return uuidOnly();
    case 'list':
    case 'reap':
      return rest.length === 0 ? null : `${sub} with arguments`;
    case 'cleanup':
      return rest.length === 1 && /^\d{1,6}$/.test(rest[0]!) ? null : 'cleanup with a bad age';
    default:
      return `unknown subcommand ${JSON.stringify(sub)}`;
  }
}

interface Entry {
  task: string;
  status: string;
  priority: string;
  metadata: Record<string, unknown> | null;
  swarm_id: string | null;
  created: string;
  updated: string;
  last_activity: string;
  runner_pid: number | null;
  replaces: string | null;
  progress: number | null;
  agent_count: number | null;
  dir: string;
}

export interface Call {
  argv: string[];
  detached: boolean;
  timeoutMs: number;
}

export class FakeDriver implements ExecDriver {
  readonly kind: 'docker' | 'local';
  readonly container: string | null;
  readonly calls: Call[] = [];
  readonly violations: { argv: string[]; why: string }[] = [];
  readonly registry = new Map<string, Entry>();
  /** Errors thrown by the next calls, in order. */
  readonly failures: ControlErrorKind[] = [];
  /** Sessions whose runner died (reap marks them interrupted). */
  readonly dead = new Set<string>();
  /** Number of list calls before a started session gets its swarm id. */
  swarmIdAfterLists = 1;
  private readonly listsSinceStart = new Map<string, number>();
  /** Answer `capabilities` like our kit (true) or like upstream's script, which has no such subcommand (false). */
  createStart = false;
  /** Simulated latency per call (ms); uses setTimeout so fake timers control it. */
  latencyMs = 0;
  closed = false;

  /** Like DockerDriver.watch, for the docker kind only. */
  readonly watch?: (host: WatchHost) => ContainerWatch;

  constructor(kind: 'docker' | 'local' = 'local', container: string | null = null) {
    this.kind = kind;
    this.container = container;
    if (kind === 'docker') {
      const api = { container: container ?? '', inspectState: () => this.inspectState(), stats: () => this.stats(), subscribeEvents: (onEvent: (e: { action: string; container: string; time: number }) => void) => this.subscribeEvents(onEvent) };
      this.watch = (host) => new ContainerWatch(api, host);
    }
  }

  async exec(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
    const a = [...argv];
    this.calls.push({ argv: a, detached: !!o.detached, timeoutMs: o.timeoutMs });
    const why = argvViolation(a);
    if (why) this.violations.push({ argv: a, why });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const f = this.failures.shift();
    if (f) throw new ControlError(f, `injected ${f}`);
    return { ...this.answer(a), durationMs: this.latencyMs, pid: null };
  }

  private answer(a: string[]): { exitCode: number; stdout: string; stderr: string } {
    const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
    const nf = () => ({ exitCode: 1, stdout: '', stderr: 'Session not found' });
    if (a[0] === 'true') return ok();
    const withStart = a[1] === 'create' && a[2] === '--start' && a[3] === '--';
    const [, sub, x, y, z] = withStart ? [a[0], a[1], ...a.slice(4)] : a;
    const now = new Date().toISOString();
    const e = x ? this.registry.get(x) : undefined;
    switch (sub) {
      case 'create': {
        const uuid = crypto.randomUUID();
        const meta = JSON.parse(z ?? 'null') as Record<string, unknown> | null;
        this.registry.set(uuid, {
          task: x!,
          status: 'created',
          priority: y ?? 'medium',
          metadata: meta,
          swarm_id: null,
          created: now,
          updated: now,
          last_activity: now,
          runner_pid: null,
          replaces: typeof meta?.replaces === 'string' ? meta.replaces : null,
          progress: null,
          agent_count: null,
          dir: `/workspace/.swarm/sessions/${uuid}`,
        });
        if (withStart && this.createStart) this.startSession(uuid);
        return ok(`${uuid}\n`);
      }
      case 'capabilities':
        return this.createStart ? ok('{"kit":"hivescope","version":"0.1.0","createStart":true,"pauseResume":true,"reap":true}\n') : { exitCode: 2, stdout: '', stderr: 'unknown subcommand capabilities' };
      case 'start':
        if (!e) return nf();
        this.startSession(x!);
        return ok();
      case 'list': {
        for (const [u, n] of this.listsSinceStart) {
          const s = this.registry.get(u);
          if (s && n + 1 >= this.swarmIdAfterLists && !s.swarm_id) {
            s.swarm_id = `swarm-${Date.now()}-${u.slice(0, 6)}`;
            s.agent_count = 3;
          }
          this.listsSinceStart.set(u, n + 1);
        }
        return ok(JSON.stringify({ sessions: Object.fromEntries(this.registry), created: now }));
      }
      case 'get':
        return e ? ok(JSON.stringify({ session_id: x, ...e })) : { exitCode: 1, stdout: '{"error": "Session not found"}', stderr: '' };
      case 'status':
        return e ? ok(`${e.status}\n`) : { exitCode: 1, stdout: 'not_found\n', stderr: '' };
      case 'stop':
      case 'pause':
      case 'resume':
        if (!e) return nf();
        e.status = sub === 'stop' ? 'stopped' : sub === 'pause' ? 'paused' : 'running';
        return ok();
      case 'reap': {
        const lines: string[] = [];
        for (const u of this.dead) {
          const s = this.registry.get(u);
          if (s && (s.status === 'running' || s.status === 'starting')) {
            s.status = 'interrupted';
            lines.push(`interrupted ${u}`);
          }
        }
        return ok([...lines, `reaped ${lines.length}`].join('\n') + '\n');
      }
      case 'cleanup':
        return ok('removed 0\n');
      default:
        return { exitCode: 2, stdout: '', stderr: `unknown subcommand ${sub}` };
    }
  }

  private startSession(uuid: string): void {
    const e = this.registry.get(uuid)!;
    e.status = 'running';
    e.runner_pid = 4242;
    this.listsSinceStart.set(uuid, 0);
  }

  // ---- the parts of DockerDriver the container watch uses (docker kind only) ----
  state = { exists: true, running: true, paused: false, restarting: false, startedAt: '2026-11-21T00:00:00Z' as string | null };
  private eventSink: ((e: { action: string; container: string; time: number }) => void) | null = null;

  async inspectState() {
    if (this.failures[0] === 'docker-unavailable') throw new ControlError(this.failures.shift()!, 'injected docker-unavailable');
    return { ...this.state };
  }
  async stats() {
    return { cpuPercent: 12.5, memoryBytes: 1234 };
  }
  async subscribeEvents(onEvent: (e: { action: string; container: string; time: number }) => void): Promise<() => void> {
    this.eventSink = onEvent;
    return () => (this.eventSink = null);
  }
  /** Emits a Docker event as the Engine would (tests). */
  emitEvent(action: string): void {
    if (action === 'die' || action === 'stop') this.state = { ...this.state, running: false };
    if (action === 'start') this.state = { ...this.state, running: true, startedAt: new Date().toISOString() };
    if (action === 'pause') this.state = { ...this.state, paused: true };
    if (action === 'unpause') this.state = { ...this.state, paused: false };
    this.eventSink?.({ action, container: this.container ?? '', time: Date.now() });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
