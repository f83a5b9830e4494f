/**
 * Applies validated server messages (shared/protocol/messages.ts) to the store. Pure with respect to the
 * DOM and the socket: client/net/connection.ts parses, then calls applyServerMessage. Every change
 * replaces the Maps it touches; structureVersion moves only when agents/edges appear, disappear or
 * change parent, so the layout reheats on structure, never on metric updates.
 */
import { PROTOCOL_VERSION, type ServerMessage, type ActivityEvent, type Agent, type Edge, type Session, type Swarm } from '../../shared/index.js';
import { EVENT_LOG_CAP, type HiveState, type HiveStore, type SpawnNotice } from './store.js';
import type { PerformanceHistory } from './performance.js';

export interface ApplyContext {
  /** Local clock (ms). */
  now: number;
  performance?: PerformanceHistory;
}

export function applyServerMessage(store: HiveStore, msg: ServerMessage, ctx: ApplyContext): void {
  const s = store.getState();
  switch (msg.type) {
    case 'hello': {
      const patch: Partial<HiveState> = {
        clientId: msg.clientId,
        serverConfig: msg.config,
        protocolMismatch:
          msg.protocolVersion === PROTOCOL_VERSION
            ? null
            : `the relay speaks protocol ${msg.protocolVersion}, this page ${PROTOCOL_VERSION}: reload the page`,
      };
      // A relay restart resets its event sequence: our cursor from before would hide its new events.
      if (s.eventCursor !== null && msg.eventCursor < s.eventCursor) patch.eventCursor = null;
      store.setState(patch);
      return;
    }
    case 'snapshot': {
      const g = msg.graph;
      const agents = new Map(g.agents.map((a) => [a.id, a] as const));
      const patch: Partial<HiveState> = {
        agents,
        edges: new Map(g.edges.map((e) => [e.id, e] as const)),
        sessions: new Map(g.sessions.map((x) => [x.uuid, x] as const)),
        swarms: new Map(g.swarms.map((x) => [x.id, x] as const)),
        structureVersion: s.structureVersion + 1,
        graphVersion: s.graphVersion + 1,
        snapshotApplied: true,
        layoutRole: msg.layoutRole,
        lastGraphUpdate: ctx.now,
        eventCursor: s.eventCursor === null ? msg.eventCursor : Math.max(s.eventCursor, msg.eventCursor),
      };
      if (s.selectedAgentId !== null && !agents.has(s.selectedAgentId)) patch.selectedAgentId = null;
      if (s.hoveredAgentId !== null && !agents.has(s.hoveredAgentId)) patch.hoveredAgentId = null;
      store.setState(patch);
      refreshSpawnNotice(store);
      return;
    }
    case 'delta': {
      applyDelta(store, msg.upserts, msg.removals, ctx.now);
      refreshSpawnNotice(store);
      return;
    }
    case 'event': {
      applyEvents(store, msg.events, msg.gap);
      return;
    }
    case 'health': {
      store.setState({ health: msg.health, healthReceivedAt: ctx.now, targets: msg.health.targets ?? [] });
      return;
    }
    case 'session': {
      const existing = s.sessions.get(msg.uuid);
      if (existing) {
        const sessions = new Map(s.sessions);
        sessions.set(msg.uuid, { ...existing, status: msg.status, swarmId: msg.swarmId ?? existing.swarmId, replaces: msg.replaces ?? existing.replaces });
        store.setState({ sessions, graphVersion: s.graphVersion + 1 });
      }
      const n = store.getState().spawnNotice;
      if (n && n.uuid === msg.uuid) {
        store.setState({ spawnNotice: { ...n, status: msg.status, swarmId: msg.swarmId ?? n.swarmId } });
        refreshSpawnNotice(store);
      }
      return;
    }
    case 'layout': {
      store.setState({ layoutRole: msg.role, layoutSettled: msg.settled });
      return;
    }
    case 'performance': {
      if (ctx.performance) for (const sample of msg.samples) ctx.performance.push(sample);
      return;
    }
    case 'error': {
      store.setState({ lastServerError: { code: msg.code, message: msg.message } });
      s.notify('error', `relay: ${msg.message} (${msg.code})`);
      return;
    }
    case 'pong': {
      const rtt = ctx.now - msg.t;
      if (Number.isFinite(rtt) && rtt >= 0 && rtt < 120_000) store.setState({ latencyMs: Math.round(rtt) });
      return;
    }
  }
}

type Upserts = { agents?: Agent[]; edges?: Edge[]; sessions?: Session[]; swarms?: Swarm[] };
type Removals = { agents?: string[]; edges?: string[]; sessions?: string[]; swarms?: string[] };

export function applyDelta(store: HiveStore, up: Upserts, rm: Removals, now: number): void {
  const s = store.getState();
  const patch: Partial<HiveState> = {};
  let structural = false;

  if (up.agents?.length || rm.agents?.length) {
    const agents = new Map(s.agents);
    for (const a of up.agents ?? []) {
      const prev = agents.get(a.id);
      if (!prev || prev.parentQueenId !== a.parentQueenId || prev.nodeId !== a.nodeId || prev.mock !== a.mock) structural = true;
      agents.set(a.id, a);
    }
    for (const id of rm.agents ?? []) if (agents.delete(id)) structural = true;
    patch.agents = agents;
    if (s.selectedAgentId !== null && !agents.has(s.selectedAgentId)) patch.selectedAgentId = null;
    if (s.hoveredAgentId !== null && !agents.has(s.hoveredAgentId)) patch.hoveredAgentId = null;
  }
  if (up.edges?.length || rm.edges?.length) {
    const edges = new Map(s.edges);
    for (const e of up.edges ?? []) {
      if (!edges.has(e.id)) structural = true;
      edges.set(e.id, e);
    }
    for (const id of rm.edges ?? []) if (edges.delete(id)) structural = true;
    patch.edges = edges;
  }
  if (up.sessions?.length || rm.sessions?.length) {
    const sessions = new Map(s.sessions);
    for (const x of up.sessions ?? []) sessions.set(x.uuid, x);
    for (const id of rm.sessions ?? []) sessions.delete(id);
    patch.sessions = sessions;
  }
  if (up.swarms?.length || rm.swarms?.length) {
    const swarms = new Map(s.swarms);
    for (const x of up.swarms ?? []) swarms.set(x.id, x);
    for (const id of rm.swarms ?? []) swarms.delete(id);
    patch.swarms = swarms;
    if (s.selectedSwarmId !== null && !swarms.has(s.selectedSwarmId)) patch.selectedSwarmId = null;
  }
  if (Object.keys(patch).length === 0) return;
  patch.graphVersion = s.graphVersion + 1;
  patch.lastGraphUpdate = now;
  if (structural) patch.structureVersion = s.structureVersion + 1;
  store.setState(patch);
}

/** Appends relay events, dropping ones already seen (replays overlap), keeping the newest EVENT_LOG_CAP. */
export function applyEvents(store: HiveStore, events: readonly ActivityEvent[], gap: boolean): void {
  const s = store.getState();
  let cursor = s.eventCursor;
  const fresh: ActivityEvent[] = [];
  const lastSeen = s.events.length > 0 ? (s.events[s.events.length - 1]?.seq ?? -1) : -1;
  for (const e of events) {
    if (e.seq <= lastSeen) continue;
    fresh.push(e);
    cursor = cursor === null ? e.seq : Math.max(cursor, e.seq);
  }
  if (fresh.length === 0 && !gap) return;
  fresh.sort((a, b) => a.seq - b.seq);
  const merged = s.events.concat(fresh);
  const patch: Partial<HiveState> = {
    events: merged.length > EVENT_LOG_CAP ? merged.slice(merged.length - EVENT_LOG_CAP) : merged,
    eventCursor: cursor,
  };
  if (gap) patch.eventGap = true;
  // Progress events advance the spawn notice of their session.
  const n = s.spawnNotice;
  if (n) {
    const mine = fresh.filter((e) => e.sessionUuid === n.uuid);
    if (mine.length > 0) {
      const withSwarm = mine.find((e) => e.swarmId !== null);
      const err = mine.find((e) => e.level === 'error');
      patch.spawnNotice = { ...n, swarmId: n.swarmId ?? withSwarm?.swarmId ?? null, error: err ? err.message : n.error };
    }
  }
  store.setState(patch);
  if (patch.spawnNotice) refreshSpawnNotice(store);
}

/** Counts the agents the pending spawn has produced so far, and learns its swarm id from the sessions. */
export function refreshSpawnNotice(store: HiveStore): void {
  const s = store.getState();
  const n = s.spawnNotice;
  if (!n) return;
  const session = s.sessions.get(n.uuid);
  const swarmId = n.swarmId ?? session?.swarmId ?? null;
  let agentsSeen = 0;
  for (const a of s.agents.values()) if (a.sessionUuid === n.uuid || (swarmId !== null && a.swarmId === swarmId)) agentsSeen++;
  const status = session?.status ?? n.status;
  if (swarmId === n.swarmId && agentsSeen === n.agentsSeen && status === n.status) return;
  const next: SpawnNotice = { ...n, swarmId, agentsSeen, status };
  store.setState({ spawnNotice: next });
}

/** Spawn notice phases shown to the person. */
export function spawnPhase(n: SpawnNotice): 'requested' | 'swarm-known' | 'agents-arriving' | 'failed' {
  if (n.error !== null || n.status === 'failed' || n.status === 'interrupted') return 'failed';
  if (n.agentsSeen > 0) return 'agents-arriving';
  if (n.swarmId !== null) return 'swarm-known';
  return 'requested';
}
