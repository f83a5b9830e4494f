// The panels' fleet parts that are pure: the control panel's filter by target and the spawn picker's value
// as the request body's `target` (absent for "automatic"; never a name that fails TARGET_NAME_RE), and
// which swarms "+ agent" adds to under the target filter.
import { describe, expect, it } from 'vitest';
import { addableSwarms, filterAgents, targetSwarm } from './ControlPanel.js';
import { matchesTarget } from '../state/targets.js';
import { pickedTarget } from './Targets.js';
import { unknownAgent, type Session } from '../../shared/index.js';

describe('control panel: filter by target', () => {
  const agents = [
    { ...unknownAgent('gpu-box:agent-1', 1, 0), name: 'a1', target: 'gpu-box' },
    { ...unknownAgent('laptop:agent-1', 2, 0), name: 'a2', target: 'laptop' },
    { ...unknownAgent('agent-9', 3, 0), name: 'a3' },
  ];
  const f = { search: '', type: null, status: null, swarm: null, showMock: false };

  it('no target filter lists every agent; a target lists only its own', () => {
    expect(filterAgents(agents, f).map((a) => a.id)).toEqual(['gpu-box:agent-1', 'laptop:agent-1', 'agent-9']);
    expect(filterAgents(agents, { ...f, target: null }).length).toBe(3);
    expect(filterAgents(agents, { ...f, target: 'laptop' }).map((a) => a.id)).toEqual(['laptop:agent-1']);
    expect(filterAgents(agents, { ...f, target: 'nowhere' })).toEqual([]);
  });
});

describe('spawn prompt: the picked target', () => {
  it('automatic sends no target; a valid name is sent; anything else is not', () => {
    expect(pickedTarget('')).toEqual({});
    expect(pickedTarget('gpu-box')).toEqual({ target: 'gpu-box' });
    for (const bad of ['-x', 'X', 'a b', 'a'.repeat(33), '../etc', 'x\n']) expect(pickedTarget(bad)).toEqual({});
  });
});

describe('control panel: "+ agent" under the target filter', () => {
  const swarms = new Map([
    ['east:swarm-1', { target: 'east' }],
    ['west:swarm-2', { target: 'west' }],
  ]);
  // west:swarm-3 is known only from its agents (its swarm record not in yet).
  const agents = [
    { swarmId: 'west:swarm-3', target: 'west' },
    { swarmId: null, target: 'east' },
  ];
  const ids = ['east:swarm-1', 'west:swarm-2', 'west:swarm-3'];
  const session = (uuid: string, swarmId: string, target: string, createdAt: number) => ({ uuid, swarmId, target, createdAt, status: 'running' }) as unknown as Session;

  it('no filter: every swarm; a filter: only that target\'s, by its record or its agents', () => {
    expect(addableSwarms(ids, swarms, agents, null)).toEqual(ids);
    expect(addableSwarms(ids, swarms, agents, 'west')).toEqual(['west:swarm-2', 'west:swarm-3']);
    expect(addableSwarms(ids, swarms, agents, 'east')).toEqual(['east:swarm-1']);
    expect(addableSwarms(ids, swarms, agents, 'north')).toEqual([]);
  });

  it("the automatic choice is the filtered target's newest running swarm, never another target's", () => {
    // east's session is the newest overall; with the filter on west, the add goes to west's.
    const sessions = [session('u1', 'west:swarm-2', 'west', 1), session('u2', 'east:swarm-1', 'east', 2)];
    const addable = addableSwarms(ids, swarms, agents, 'west');
    const onWest = sessions.filter((s) => matchesTarget('west', s));
    expect(targetSwarm(null, sessions, ids)).toBe('east:swarm-1');
    expect(targetSwarm(null, onWest, addable)).toBe('west:swarm-2');
    // A swarm selected in the scene on another target is not where the add goes.
    expect(targetSwarm('east:swarm-1', onWest, addable)).toBe('west:swarm-2');
    expect(targetSwarm(null, [], addableSwarms(ids, swarms, agents, 'north'))).toBeNull();
  });
});
