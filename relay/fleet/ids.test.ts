// Ids on the way out of a fleet target (issue 14): golden qualification in fleet mode (two targets'
// agent-1 never meet), bare ids with the target stamped in single mode, and the way back by prefix.
import { describe, expect, it } from 'vitest';
import { unknownAgent } from '../../shared/model/agent.js';
import type { Session, Swarm } from '../../shared/model/session.js';
import { outAgent, outDelta, outEdge, outEvent, outSession, outSnapshot, outSwarm, splitQualifiedId } from './ids.js';

const fleet = (target: string) => ({ target, qualify: true });
const single = { target: 'local', qualify: false };
const agent = { ...unknownAgent('agent-1', 7, 1000), swarmId: 'swarm-1700000000000-abc', parentQueenId: 'queen-1', sessionUuid: '11111111-2222-4333-8444-555555555555' };
const swarm: Swarm = { id: 'swarm-1700000000000-abc', sessionUuid: null, topology: 'mesh', objective: null, status: 'active', queenId: 'queen-1', agentCount: 2, activeAgents: 1, taskCount: null, pendingTasks: null, completedTasks: null, mock: false };
const session: Session = { uuid: '11111111-2222-4333-8444-555555555555', swarmId: 'swarm-1700000000000-abc', task: 't', priority: 'medium', status: 'running', createdAt: 1, updatedAt: 1, lastActivity: 1, config: null, backend: 'session-manager', progress: null, agentCount: 2, replaces: null };
const edge = { id: 'agent-1->queen-1', source: 'agent-1', target: 'queen-1', kind: 'hierarchy' as const, messageCount: 0, dataVolume: 0, lastMessageTime: null };

describe('fleet mode qualifies every id that leaves a target', () => {
  it('agents, swarms, edges and sessions (golden)', () => {
    const a = outAgent(fleet('gpu-box'), agent);
    expect(a).toMatchObject({ id: 'gpu-box:agent-1', swarmId: 'gpu-box:swarm-1700000000000-abc', parentQueenId: 'gpu-box:queen-1', sessionUuid: agent.sessionUuid, nodeId: 7, target: 'gpu-box' });
    expect(outSwarm(fleet('gpu-box'), swarm)).toMatchObject({ id: 'gpu-box:swarm-1700000000000-abc', queenId: 'gpu-box:queen-1', target: 'gpu-box' });
    expect(outEdge(fleet('gpu-box'), edge)).toEqual({ ...edge, id: 'gpu-box:agent-1->queen-1', source: 'gpu-box:agent-1', target: 'gpu-box:queen-1', fleetTarget: 'gpu-box' });
    // Session uuids stay raw: routes stay /api/sessions/:uuid.
    expect(outSession(fleet('gpu-box'), session)).toEqual({ ...session, swarmId: 'gpu-box:swarm-1700000000000-abc', target: 'gpu-box' });
    expect(outEvent(fleet('lap'), { agentId: 'agent-1', swarmId: null, message: 'm' })).toEqual({ agentId: 'lap:agent-1', swarmId: null, message: 'm' });
  });

  it('two targets with the same agent-1 give two different ids; nulls stay null', () => {
    const ids = [outAgent(fleet('a'), agent).id, outAgent(fleet('b'), agent).id];
    expect(new Set(ids).size).toBe(2);
    expect(outAgent(fleet('a'), { ...agent, swarmId: null, parentQueenId: null })).toMatchObject({ swarmId: null, parentQueenId: null });
  });

  it('a delta maps upserts and removals the same way (an edge removal matches its upsert)', () => {
    const d = outDelta(fleet('gpu'), { upserts: { agents: [agent], edges: [edge] }, removals: { agents: ['agent-2'], edges: ['agent-1->queen-1'], sessions: [session.uuid], swarms: ['swarm-x-1'] } });
    expect(d.upserts.agents![0]!.id).toBe('gpu:agent-1');
    expect(d.removals).toEqual({ agents: ['gpu:agent-2'], edges: [d.upserts.edges![0]!.id], sessions: [session.uuid], swarms: ['gpu:swarm-x-1'] });
    expect(outDelta(fleet('gpu'), { upserts: {}, removals: {} })).toEqual({ upserts: {}, removals: {} });
  });

  it('a snapshot is mapped whole', () => {
    const g = outSnapshot(fleet('t1'), { agents: [agent], edges: [edge], sessions: [session], swarms: [swarm] });
    expect([g.agents[0]!.id, g.edges[0]!.source, g.sessions[0]!.swarmId, g.swarms[0]!.id]).toEqual(['t1:agent-1', 't1:agent-1', 't1:swarm-1700000000000-abc', 't1:swarm-1700000000000-abc']);
  });
});

describe('single mode keeps bare ids and stamps the target', () => {
  it('nothing but `target` (Edge: `fleetTarget`) changes', () => {
    expect(outAgent(single, agent)).toEqual({ ...agent, target: 'local' });
    expect(outEdge(single, edge)).toEqual({ ...edge, fleetTarget: 'local' });
    expect(outSwarm(single, swarm)).toEqual({ ...swarm, target: 'local' });
    expect(outSession(single, session)).toEqual({ ...session, target: 'local' });
    const e = { agentId: 'agent-1', swarmId: 's' };
    expect(outEvent(single, e)).toBe(e);
    expect(outDelta(single, { upserts: {}, removals: { agents: ['agent-1'] } }).removals.agents).toEqual(['agent-1']);
  });
});

describe('splitQualifiedId', () => {
  it('splits at the first colon when the prefix is a target name', () => {
    expect(splitQualifiedId('gpu-box:agent-1')).toEqual({ target: 'gpu-box', raw: 'agent-1' });
    // A raw id may itself hold colons: only the first one separates.
    expect(splitQualifiedId('lap:mcp:agent:9')).toEqual({ target: 'lap', raw: 'mcp:agent:9' });
  });

  it('refuses ids with no valid target prefix or nothing after it', () => {
    for (const bad of ['agent-1', ':agent-1', 'Gpu:agent-1', '-gpu:a', 'gpu:', `${'a'.repeat(33)}:x`, 'a b:x']) expect(splitQualifiedId(bad), bad).toBeNull();
  });
});
