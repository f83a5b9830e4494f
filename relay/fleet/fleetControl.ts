/**
 * The fleet's control as the HTTP routes and the live log take it: a spawn goes to the target asked for
 * or to the one the pick policy chooses (and says which); everything about a session goes to the target
 * that holds it (by uuid); lists read the planes' caches and stamp each session with its target. With one
 * target (single mode) every call passes straight through to its plane, as before fleets.
 */
import type { RequestContext } from '../context.js';
import type { InitializeSwarmBody } from '../../shared/api.js';
import type { Session, SessionStatus } from '../../shared/model/session.js';
import type { FilesList } from '../../shared/model/console.js';
import type { ActivityEvent } from '../../shared/protocol/messages.js';
import { ControlError, type ControlPerformance, type ControlPlane, type LogQuery, type LogRead, type LogWatch, type LogWatchCallbacks, type OpenedFile } from '../control/index.js';
import { isReady, type Fleet, type ReadyTarget } from './fleet.js';
import { outSession, qualifyId, splitQualifiedId } from './ids.js';

type SpawnAgentBody = Parameters<ControlPlane['spawnAgent']>[0];

/** An activity entry the fleet adds (a spawn's target and why it was chosen). */
export type FleetActivity = Omit<ActivityEvent, 'seq'>;

export class FleetControl {
  constructor(
    private readonly fleet: Fleet,
    /** Where fleet-mode activity goes (the stream's activity log, through FleetTelemetry). */
    private readonly activity: (e: FleetActivity) => void = () => undefined,
  ) {}

  private get single(): boolean {
    return !this.fleet.qualify;
  }

  /** The lone plane of single mode (made before the relay serves). */
  private get lone(): ControlPlane {
    return this.fleet.readyPrimary().control;
  }

  get readOnly(): boolean {
    const rt = this.fleet.primary;
    return rt?.control ? rt.control.readOnly : this.fleet.config.driver === 'none';
  }

  /** The target holding a session; unknown: session-not-found (404), as a lone plane answers. */
  private ofSession(uuid: string): ReadyTarget {
    const rt = this.fleet.targetOfSession(uuid);
    if (!rt) throw new ControlError('session-not-found', `no session ${uuid} on any target`);
    return rt;
  }

  async spawnSwarm(body: InitializeSwarmBody, o: Parameters<ControlPlane['spawnSwarm']>[1] = {}, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus; swarmId: null; target: string; pickedBecause: string | null }> {
    const { target: asked, ...rest } = body;
    const chosen = asked !== undefined ? { target: this.fleet.readyTarget(asked), reason: null } : this.single ? { target: this.fleet.readyPrimary(), reason: null } : this.fleet.pick();
    const out = await chosen.target.control.spawnSwarm(rest as InitializeSwarmBody, o, ctx);
    this.fleet.noteSession(out.uuid, chosen.target.config.name);
    if (chosen.reason) ctx?.log.info({ target: chosen.target.config.name, reason: chosen.reason }, 'spawn target picked');
    if (!this.single) {
      const name = chosen.target.config.name;
      const message = chosen.reason ? `session ${out.uuid} spawned on target ${name}, picked: ${chosen.reason}` : `session ${out.uuid} spawned on target ${name}`;
      this.activity({ time: Date.now(), kind: 'spawn', level: 'info', message, agentId: null, swarmId: null, sessionUuid: out.uuid, progress: null, ...(ctx ? { requestId: ctx.requestId } : {}) });
    }
    return { ...out, target: chosen.target.config.name, pickedBecause: chosen.reason };
  }

  /** Into the session's target (by uuid), or the target a qualified swarm id names; neither: the pick. */
  async spawnAgent(body: SpawnAgentBody, ctx?: RequestContext): ReturnType<ControlPlane['spawnAgent']> {
    if (this.single) return this.lone.spawnAgent(body, ctx);
    let rt: ReadyTarget | undefined;
    let swarmId = body.swarmId;
    if (swarmId !== undefined) {
      const parts = splitQualifiedId(swarmId);
      if (!parts) throw new ControlError('bad-request', `swarmId "${swarmId}" names no target: with several targets swarm ids are <target>:<id>`);
      rt = this.fleet.readyTarget(parts.target);
      swarmId = parts.raw;
    }
    if (body.sessionUuid !== undefined) {
      const s = this.ofSession(body.sessionUuid);
      if (rt && rt !== s) throw new ControlError('bad-request', `session ${body.sessionUuid} is on target ${s.config.name}, swarm ${body.swarmId} on ${rt.config.name}`);
      rt = s;
    }
    rt ??= this.fleet.pick().target;
    const out = await rt.control.spawnAgent({ ...body, ...(swarmId !== undefined ? { swarmId } : {}) }, ctx);
    return { ...out, agentId: out.agentId === null ? null : qualifyId(rt.scope, out.agentId), swarmId: out.swarmId === null ? null : qualifyId(rt.scope, out.swarmId) };
  }

  stopSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.single ? this.lone.stopSession(uuid, ctx) : this.ofSession(uuid).control.stopSession(uuid, ctx);
  }

  pauseSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.single ? this.lone.pauseSession(uuid, ctx) : this.ofSession(uuid).control.pauseSession(uuid, ctx);
  }

  resumeSession(uuid: string, ctx?: RequestContext): Promise<{ uuid: string; status: SessionStatus }> {
    return this.single ? this.lone.resumeSession(uuid, ctx) : this.ofSession(uuid).control.resumeSession(uuid, ctx);
  }

  submitTask(uuid: string, body: Parameters<ControlPlane['submitTask']>[1], ctx?: RequestContext): ReturnType<ControlPlane['submitTask']> {
    return this.single ? this.lone.submitTask(uuid, body, ctx) : this.ofSession(uuid).control.submitTask(uuid, body, ctx);
  }

  readLog(uuid: string, q: LogQuery, ctx?: RequestContext): Promise<LogRead> {
    return this.single ? this.lone.readLog(uuid, q, ctx) : this.ofSession(uuid).control.readLog(uuid, q, ctx);
  }

  /** Watches a session's log file on the target holding the session; null when none holds it now. */
  watchLog(uuid: string, file: string, cb: LogWatchCallbacks): LogWatch | null {
    const plane = this.single ? this.lone : this.fleet.targetOfSession(uuid)?.control;
    return plane?.watchLog(file, cb) ?? null;
  }

  listFiles(uuid: string, ctx?: RequestContext): Promise<FilesList> {
    return this.single ? this.lone.listFiles(uuid, ctx) : this.ofSession(uuid).control.listFiles(uuid, ctx);
  }

  openFile(uuid: string, path: unknown, ctx?: RequestContext): Promise<OpenedFile> {
    return this.single ? this.lone.openFile(uuid, path, ctx) : this.ofSession(uuid).control.openFile(uuid, path, ctx);
  }

  taskSource(uuid: string, ctx?: RequestContext): ReturnType<ControlPlane['taskSource']> {
    return this.single ? this.lone.taskSource(uuid, ctx) : this.ofSession(uuid).control.taskSource(uuid, ctx);
  }

  async getSession(uuid: string, ctx?: RequestContext): Promise<Session> {
    const rt = this.single ? this.fleet.readyPrimary() : this.ofSession(uuid);
    return outSession(rt.scope, await rt.control.getSession(uuid, ctx));
  }

  /**
   * Single mode: the plane's list (it refreshes when stale, as before). Fleet mode: every ready target's
   * cached list, never an exec per request; stale when any of them is. `target` filters (unknown: 404).
   */
  async listSessions(ctx?: RequestContext, target?: string): Promise<{ sessions: Session[]; stale: boolean }> {
    if (target !== undefined) this.fleet.resolve(target);
    if (this.single) {
      const rt = this.fleet.readyPrimary();
      const r = await rt.control.listSessions(ctx);
      return { ...r, sessions: r.sessions.map((s) => outSession(rt.scope, s)) };
    }
    return this.sessionsOf(target);
  }

  /** Every ready target's cached sessions, stamped (and filtered to one target when asked). */
  sessions(target?: string): { sessions: Session[]; stale: boolean } {
    return this.sessionsOf(target);
  }

  private sessionsOf(target?: string): { sessions: Session[]; stale: boolean } {
    const sessions: Session[] = [];
    let stale = false;
    for (const rt of this.fleet.targets.values()) {
      if (target !== undefined && rt.config.name !== target) continue;
      if (!isReady(rt)) {
        stale ||= true;
        continue;
      }
      const r = rt.control.sessions();
      stale ||= r.stale;
      for (const s of r.sessions) sessions.push(outSession(rt.scope, s));
    }
    return { sessions, stale };
  }

  /** Exec figures: the first target's latency, failures summed over the fleet. */
  performance(): ControlPerformance {
    const ready = this.fleet.ready();
    const first = ready[0]?.control.performance() ?? { execLatencyMs: { p50: null, p95: null, count: 0 }, execFailures: {} };
    if (ready.length <= 1) return first;
    const execFailures: Record<string, number> = {};
    for (const rt of ready) for (const [k, v] of Object.entries(rt.control.performance().execFailures)) execFailures[k] = (execFailures[k] ?? 0) + v;
    return { execLatencyMs: first.execLatencyMs, execFailures };
  }
}
