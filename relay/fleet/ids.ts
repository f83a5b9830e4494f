/**
 * Ids on the way out of a fleet target (issue 14, docs/fleet.md section 2). Each target's telemetry and
 * graph keep the ids its container uses (so everything sent back to that MCP server stays raw); what
 * leaves for the page is stamped with the target's name and, in fleet mode, qualified `<target>:<id>`,
 * so two containers' `agent-1` never meet. Single mode keeps bare ids (nothing changes for existing
 * clients). Pure functions: golden tests in ids.test.ts.
 */
import type { Agent, Edge } from '../../shared/model/agent.js';
import type { Session, Swarm } from '../../shared/model/session.js';
import type { ActivityEvent, GraphSnapshot } from '../../shared/protocol/messages.js';
import type { GraphDelta } from '../graph/changeSet.js';
import { TARGET_NAME_RE } from '../../shared/model/target.js';

/** How one target's ids leave it: its name, and whether they are qualified (fleet mode). */
export interface IdScope {
  readonly target: string;
  readonly qualify: boolean;
}

export function qualifyId(scope: IdScope, id: string): string {
  return scope.qualify ? `${scope.target}:${id}` : id;
}

function q(scope: IdScope, id: string | null): string | null {
  return id === null ? null : qualifyId(scope, id);
}

/**
 * `<target>:<raw>` back to its parts; null when the prefix is not a target name (a raw id never has one
 * before its first ':' that passes TARGET_NAME_RE and is a known target: callers check the name).
 */
export function splitQualifiedId(id: string): { target: string; raw: string } | null {
  const i = id.indexOf(':');
  if (i <= 0) return null;
  const target = id.slice(0, i);
  const raw = id.slice(i + 1);
  if (!TARGET_NAME_RE.test(target) || raw.length === 0) return null;
  return { target, raw };
}

export function outAgent(scope: IdScope, a: Agent): Agent {
  if (!scope.qualify) return { ...a, target: scope.target };
  return { ...a, id: qualifyId(scope, a.id), swarmId: q(scope, a.swarmId), parentQueenId: q(scope, a.parentQueenId), target: scope.target };
}

export function outEdge(scope: IdScope, e: Edge): Edge {
  if (!scope.qualify) return { ...e, fleetTarget: scope.target };
  // The edge id is qualified as a whole, so a removal (which carries only the id) maps the same way.
  return { ...e, id: qualifyId(scope, e.id), source: qualifyId(scope, e.source), target: qualifyId(scope, e.target), fleetTarget: scope.target };
}

export function outSwarm(scope: IdScope, s: Swarm): Swarm {
  if (!scope.qualify) return { ...s, target: scope.target };
  return { ...s, id: qualifyId(scope, s.id), queenId: q(scope, s.queenId), target: scope.target };
}

/** Session uuids stay raw (UUIDs or claude-flow ids with a timestamp and random part); its swarm id is qualified. */
export function outSession(scope: IdScope, s: Session): Session {
  if (!scope.qualify) return { ...s, target: scope.target };
  return { ...s, swarmId: q(scope, s.swarmId), target: scope.target };
}

export function outEvent<E extends Pick<ActivityEvent, 'agentId' | 'swarmId'>>(scope: IdScope, e: E): E {
  if (!scope.qualify) return e;
  return { ...e, agentId: q(scope, e.agentId), swarmId: q(scope, e.swarmId) };
}

export function outSnapshot(scope: IdScope, g: GraphSnapshot): GraphSnapshot {
  return {
    agents: g.agents.map((a) => outAgent(scope, a)),
    edges: g.edges.map((e) => outEdge(scope, e)),
    sessions: g.sessions.map((s) => outSession(scope, s)),
    swarms: g.swarms.map((s) => outSwarm(scope, s)),
  };
}

export function outDelta(scope: IdScope, d: GraphDelta): GraphDelta {
  const u = d.upserts;
  const r = d.removals;
  const ids = (xs: string[] | undefined) => (xs && scope.qualify ? xs.map((x) => qualifyId(scope, x)) : xs);
  return {
    upserts: {
      ...(u.agents ? { agents: u.agents.map((a) => outAgent(scope, a)) } : {}),
      ...(u.edges ? { edges: u.edges.map((e) => outEdge(scope, e)) } : {}),
      ...(u.sessions ? { sessions: u.sessions.map((s) => outSession(scope, s)) } : {}),
      ...(u.swarms ? { swarms: u.swarms.map((s) => outSwarm(scope, s)) } : {}),
    },
    removals: {
      ...(r.agents ? { agents: ids(r.agents) } : {}),
      ...(r.edges ? { edges: ids(r.edges) } : {}),
      // Sessions are keyed by their raw uuid on every side.
      ...(r.sessions ? { sessions: r.sessions } : {}),
      ...(r.swarms ? { swarms: ids(r.swarms) } : {}),
    },
  };
}
