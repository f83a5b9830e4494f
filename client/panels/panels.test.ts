import { describe, expect, it } from 'vitest';
import { spawnFormIssues, DEFAULT_SPAWN_FORM, DEFAULT_PROMPT_TYPES, PROMPT_AGENT_TYPES } from './SpawnPrompt.js';
import { filterAgents, targetSwarm, NUMBER_FIELDS, actionSettled } from './ControlPanel.js';
import { TUNABLE_PARAMS, TUNABLE_RANGES } from '../physics/params.js';
import { filterEvents } from './ActivityLog.js';
import { tabKeyTarget, tabIds } from './Tabs.js';
import { wrapTabIndex, focusCandidates } from './focus.js';
import { unknownAgent, type Agent, type ActivityEvent, type Session } from '../../shared/index.js';

describe('spawn prompt', () => {
  it('has upstream defaults: mesh, 8 agents, 7 of 12 types, neural on, adaptive, medium', () => {
    expect(DEFAULT_SPAWN_FORM).toMatchObject({ topology: 'mesh', maxAgents: 8, enableNeural: true, strategy: 'adaptive', priority: 'medium' });
    expect(PROMPT_AGENT_TYPES.length).toBe(12);
    expect(DEFAULT_PROMPT_TYPES.length).toBe(7);
  });
  it('says what is missing: no type, empty task', () => {
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, agentTypes: [] , customPrompt: 'x' })).toEqual(['Select at least one agent type.']);
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, customPrompt: '   ' })).toEqual(['Describe the task for the swarm.']);
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, customPrompt: 'build it' })).toEqual([]);
  });
  it('rejects oversized and NUL-containing task text with the shared schema', () => {
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, customPrompt: 'a'.repeat(9000) })[0]).toMatch(/bytes/);
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, customPrompt: 'a\u0000b' })[0]).toMatch(/NUL/);
    expect(spawnFormIssues({ ...DEFAULT_SPAWN_FORM, customPrompt: 'x', maxAgents: 99 }).length).toBe(1);
  });
});

const agent = (id: string, patch: Partial<Agent>): Agent => ({ ...unknownAgent(id, 1, 0), name: id, ...patch });

describe('agents tab', () => {
  const list = [
    agent('alpha', { type: 'coder', status: 'busy', swarmId: 'swarm-aaa' }),
    agent('beta', { type: 'tester', status: 'idle', swarmId: 'swarm-bbb', currentTask: 'write the parser tests' }),
    agent('mock', { type: 'coder', status: 'idle', mock: true }),
  ];
  const f = { search: '', type: null, status: null, swarm: null, showMock: false };
  it('filters by type, status, swarm and text (name, id, task); hides mock agents', () => {
    expect(filterAgents(list, f).map((a) => a.id)).toEqual(['alpha', 'beta']);
    expect(filterAgents(list, { ...f, type: 'coder' }).map((a) => a.id)).toEqual(['alpha']);
    expect(filterAgents(list, { ...f, status: 'idle' }).map((a) => a.id)).toEqual(['beta']);
    expect(filterAgents(list, { ...f, swarm: 'swarm-aaa' }).map((a) => a.id)).toEqual(['alpha']);
    expect(filterAgents(list, { ...f, search: 'PARSER' }).map((a) => a.id)).toEqual(['beta']);
    expect(filterAgents(list, { ...f, showMock: true }).length).toBe(3);
  });
  it('"+ type" targets the chosen swarm, else the newest running one', () => {
    const s = (uuid: string, swarmId: string, createdAt: number, status: Session['status'] = 'running') =>
      ({ uuid, swarmId, createdAt, status }) as Session;
    const sessions = [s('1', 'swarm-old', 1), s('2', 'swarm-new', 2), s('3', 'swarm-done', 3, 'stopped')];
    expect(targetSwarm(null, sessions, ['swarm-old', 'swarm-new'])).toBe('swarm-new');
    expect(targetSwarm('swarm-old', sessions, ['swarm-old', 'swarm-new'])).toBe('swarm-old');
    expect(targetSwarm('swarm-gone', sessions, ['swarm-old'])).toBe('swarm-new');
    expect(targetSwarm(null, [], [])).toBeNull();
  });
});

describe('activity log filter', () => {
  const e = (seq: number, patch: Partial<ActivityEvent>): ActivityEvent => ({
    seq, time: seq, kind: 'log', level: 'info', message: '', agentId: null, swarmId: null, sessionUuid: null, progress: null, ...patch,
  });
  const events = [e(1, { level: 'debug', message: 'tick' }), e(2, { kind: 'error', level: 'error', message: 'boom', agentId: 'coder-1' }), e(3, { kind: 'spawn', message: 'spawned' })];
  it('filters by kind, minimum level and text', () => {
    expect(filterEvents(events, { kind: 'spawn', level: '', text: '' }).map((x) => x.seq)).toEqual([3]);
    expect(filterEvents(events, { kind: '', level: 'info', text: '' }).map((x) => x.seq)).toEqual([2, 3]);
    expect(filterEvents(events, { kind: '', level: '', text: 'coder-1' }).map((x) => x.seq)).toEqual([2]);
  });
});

describe('tabs (WAI-ARIA tabs pattern)', () => {
  it('ArrowRight and ArrowLeft move one tab and wrap around at both ends', () => {
    expect(tabKeyTarget('ArrowRight', 0, 4)).toBe(1);
    expect(tabKeyTarget('ArrowRight', 3, 4)).toBe(0);
    expect(tabKeyTarget('ArrowLeft', 2, 4)).toBe(1);
    expect(tabKeyTarget('ArrowLeft', 0, 4)).toBe(3);
  });
  it('Home and End go to the first and last tab', () => {
    expect(tabKeyTarget('Home', 2, 4)).toBe(0);
    expect(tabKeyTarget('End', 1, 4)).toBe(3);
  });
  it('other keys (Tab, Enter, vertical arrows) are left to the browser', () => {
    for (const key of ['Tab', 'Enter', ' ', 'ArrowUp', 'ArrowDown', 'a']) expect(tabKeyTarget(key, 1, 4)).toBeNull();
    expect(tabKeyTarget('ArrowRight', 0, 0)).toBeNull();
  });
  it('a tab and its panel name each other with distinct ids per list', () => {
    expect(tabIds('r1', 'physics')).toEqual({ tab: 'r1-tab-physics', panel: 'r1-panel-physics' });
    expect(tabIds('r2', 'physics').tab).not.toBe(tabIds('r1', 'physics').tab);
  });
});

describe('modal focus containment', () => {
  it('Tab from the last control goes to the first, Shift+Tab from the first to the last', () => {
    expect(wrapTabIndex(4, 5, false)).toBe(0);
    expect(wrapTabIndex(0, 5, true)).toBe(4);
  });
  it('leaves moves inside the dialog to the browser', () => {
    expect(wrapTabIndex(2, 5, false)).toBeNull();
    expect(wrapTabIndex(2, 5, true)).toBeNull();
    expect(wrapTabIndex(0, 5, false)).toBeNull();
  });
  it('focus outside the dialog enters it at the first (Tab) or last (Shift+Tab) control', () => {
    expect(wrapTabIndex(-1, 5, false)).toBe(0);
    expect(wrapTabIndex(-1, 5, true)).toBe(4);
    expect(wrapTabIndex(-1, 0, false)).toBeNull();
  });
});

describe('visual physics sliders', () => {
  it('offer exactly the tunable parameters with the ranges and steps of client/physics/params.ts', () => {
    expect(NUMBER_FIELDS.physics.map((f) => f.key)).toEqual([...TUNABLE_PARAMS]);
    for (const f of NUMBER_FIELDS.physics) {
      const r = TUNABLE_RANGES[f.key as keyof typeof TUNABLE_RANGES];
      expect({ min: f.min, max: f.max, step: f.step }, f.key).toEqual(r);
    }
  });
});

describe('focus kept in a live list', () => {
  it('tries the element itself first (a row React moved), then the stops after it, then those before, then the list', () => {
    expect(focusCandidates({ active: 'b', after: ['c', 'd'], before: ['a'] }, 'list')).toEqual(['b', 'c', 'd', 'a', 'list']);
    expect(focusCandidates({ active: 'a', after: [], before: [] }, null)).toEqual(['a']);
  });
});

describe('session actions', () => {
  it('a request stops holding the controls once the pushed status shows its result (the push can beat the answer)', () => {
    expect(actionSettled('pauseTask', 'running')).toBe(false);
    expect(actionSettled('pauseTask', 'paused')).toBe(true);
    expect(actionSettled('resumeTask', 'paused')).toBe(false);
    expect(actionSettled('resumeTask', 'running')).toBe(true);
    expect(actionSettled('removeTask', 'running')).toBe(false);
    expect(actionSettled('removeTask', 'stopped')).toBe(true);
    expect(actionSettled('pauseTask', 'completed')).toBe(true);
    expect(actionSettled('resumeTask', undefined)).toBe(true);
  });
});
