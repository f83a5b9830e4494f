// The panels' fleet parts that are pure: the control panel's filter by target and the spawn picker's value
// as the request body's `target` (absent for "automatic"; never a name that fails TARGET_NAME_RE).
import { describe, expect, it } from 'vitest';
import { filterAgents } from './ControlPanel.js';
import { pickedTarget } from './Targets.js';
import { unknownAgent } from '../../shared/index.js';

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
