// The task mapper trusts nothing a server sends: real 3.x and kit answers map exactly; truncated and
// odd shapes, wrong types and over-long fields are dropped or clipped; unknown statuses stay unknown and
// a missing progress stays null (never 0); notification progress fills only what the list left out.
import { describe, expect, it } from 'vitest';
import { TASKS_MAX, TaskEntrySchema, TasksListSchema } from '../../shared/model/console.js';
import { TaskProgressMemo, mapTaskList, taskEntry, taskProgress, taskStatus, tasksUnsupported } from './tasks.js';

/** As claude-flow 3.43.0's task_list answered (docs/claude-flow-observed.md). */
const THREE = {
  tasks: [
    { taskId: 'task-1796422159046-0fxhrz', type: 'feature', description: 'x', status: 'pending', progress: 0, priority: 'normal', assignedTo: [], createdAt: '2026-12-04T22:09:19.046Z' },
    { taskId: 'task-1796422159047-aaaaaa', type: 'feature', description: 'write tests', status: 'in_progress', progress: 40, priority: 'high', assignedTo: ['agent-1796422159000-abcdef'], createdAt: '2026-12-04T22:09:19.047Z' },
    { taskId: 'task-1796422159048-bbbbbb', type: 'feature', description: 'done one', status: 'completed', progress: 100, priority: 'normal', assignedTo: ['a', 'b'], createdAt: '2026-12-04T22:09:19.048Z' },
  ],
  total: 3,
  filters: {},
};

describe('task_list mapping', () => {
  it('maps a 3.x answer: statuses, percent progress as 0..1, assignees, times', () => {
    const r = mapTaskList(THREE);
    expect(TasksListSchema.parse(r)).toEqual(r);
    expect(r).toEqual({
      supported: true,
      reason: null,
      tasks: [
        { id: 'task-1796422159046-0fxhrz', description: 'x', status: 'pending', assignee: null, progress: 0, createdAt: Date.parse('2026-12-04T22:09:19.046Z'), updatedAt: null },
        { id: 'task-1796422159047-aaaaaa', description: 'write tests', status: 'running', assignee: 'agent-1796422159000-abcdef', progress: 0.4, createdAt: Date.parse('2026-12-04T22:09:19.047Z'), updatedAt: null },
        { id: 'task-1796422159048-bbbbbb', description: 'done one', status: 'completed', assignee: 'a, b', progress: 1, createdAt: Date.parse('2026-12-04T22:09:19.048Z'), updatedAt: null },
      ],
    });
  });

  it('statuses outside the known words are unknown; every known word maps into TASK_STATUSES', () => {
    expect(taskStatus('in_progress')).toBe('running');
    expect(taskStatus(' Completed ')).toBe('completed');
    expect(taskStatus('canceled')).toBe('cancelled');
    expect(taskStatus('assigned')).toBe('assigned');
    for (const odd of ['paused?', '', 'constructor', '__proto__', 'toString', 42, null, undefined, {}, ['running']]) expect(taskStatus(odd)).toBe('unknown');
  });

  it('progress: percent 0..100 only; a missing, fractional-string, negative, huge or NaN figure is null, never 0', () => {
    expect(taskProgress(0)).toBe(0);
    expect(taskProgress(37)).toBe(0.37);
    expect(taskProgress(100)).toBe(1);
    for (const bad of [undefined, null, '50', -1, 101, Number.NaN, Infinity, {}, [50], true]) expect(taskProgress(bad)).toBeNull();
    expect(taskEntry({ taskId: 't1', status: 'running' })!.progress).toBeNull();
  });

  it('hostile entries: no id, non-string or over-long id, control characters in the id, duplicates are dropped; long text is clipped', () => {
    const r = mapTaskList({
      tasks: [
        null,
        7,
        'task',
        [],
        { description: 'no id' },
        { taskId: 12345, description: 'numeric id' },
        { taskId: 'x'.repeat(257) },
        { taskId: 'bad\nid' },
        { taskId: 'ok-1', description: 'd'.repeat(20_000), assignedTo: 'z'.repeat(1000), status: { $gt: '' }, progress: '99', createdAt: 'yesterday', updatedAt: 1_790_000_000 },
        { taskId: 'ok-1', description: 'duplicate' },
        { id: 'ok-2', task: 'kit-style text', assignee: ['', 3, 'agent-1'], created: 1_790_000_000_123 },
      ],
    });
    expect(r.tasks.map((t) => t.id)).toEqual(['ok-1', 'ok-2']);
    const [a, b] = r.tasks;
    expect(a!.description.length).toBe(8192);
    expect(a!.assignee!.length).toBe(256);
    expect(a!.status).toBe('unknown');
    expect(a!.progress).toBeNull();
    expect(a!.createdAt).toBeNull();
    expect(a!.updatedAt).toBe(1_790_000_000_000); // epoch seconds
    expect(b).toMatchObject({ description: 'kit-style text', assignee: 'agent-1', createdAt: 1_790_000_000_123 });
    for (const t of r.tasks) expect(TaskEntrySchema.safeParse(t).success).toBe(true);
  });

  it('not a list at all (truncated JSON text, an error object, a number) is supported:false, never an empty list', () => {
    for (const raw of ['{"tasks":[{"taskId":"t', { error: 'boom' }, 42, null, { tasks: 'many' }]) {
      const r = mapTaskList(raw);
      expect(r.supported).toBe(false);
      expect(r.reason).toMatch(/not a task list/);
    }
    expect(mapTaskList([])).toEqual({ supported: true, reason: null, tasks: [] });
  });

  it('at most TASKS_MAX tasks; the reason says how many were left out', () => {
    const tasks = Array.from({ length: TASKS_MAX + 20 }, (_, i) => ({ taskId: `t-${i}`, status: 'pending', progress: 0 }));
    const r = mapTaskList({ tasks, total: tasks.length });
    expect(r.tasks).toHaveLength(TASKS_MAX);
    expect(r.reason).toBe(`${TASKS_MAX} of ${TASKS_MAX + 20} tasks shown`);
    expect(TasksListSchema.safeParse(r).success).toBe(true);
  });
});

describe('progress from notifications', () => {
  it('fills a task whose entry has no progress, never overrides one that has, and stays bounded', () => {
    const memo = new TaskProgressMemo(3);
    memo.note({ progressToken: 't1', progress: 50, total: 100 });
    memo.note({ progressToken: 't2', progress: 0.25 });
    memo.note({ progressToken: 't3', progress: 7 }); // no total and over 1: not a ratio
    memo.note({ progressToken: 't4', progress: 150, total: 100 });
    memo.note({ progressToken: 12, progress: 1 });
    memo.note('garbage');
    expect(memo.get('t1')).toBe(0.5);
    expect(memo.get('t2')).toBe(0.25);
    expect(memo.get('t3')).toBeNull();
    expect(memo.get('t4')).toBeNull();
    const r = mapTaskList({ tasks: [{ taskId: 't1', status: 'in_progress' }, { taskId: 't2', status: 'in_progress', progress: 80 }] }, memo);
    expect(r.tasks.map((t) => t.progress)).toEqual([0.5, 0.8]);
    for (let i = 0; i < 10; i++) memo.note({ progressToken: `x${i}`, progress: 1, total: 2 });
    expect(memo.size).toBe(3);
    expect(memo.get('t1')).toBeNull();
  });
});

describe('backends without tasks', () => {
  it('2.7 and a 3.x session without its own MCP say why; the kit asks', () => {
    expect(tasksUnsupported('kit')).toBeNull();
    expect(tasksUnsupported('claude-flow-2')).toMatch(/never sees hive-mind swarms/);
    expect(tasksUnsupported('claude-flow-3')).toMatch(/session directory/);
    expect(tasksUnsupported(null)).toMatch(/no backend/);
  });
});
