// The control plane's sessions into the graph: a change a request caused keeps its requestId; an
// invalid session is ignored; the full list is reconciled.
import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import pino from 'pino';
import type { Session } from '../../shared/model/index.js';
import { AgentGraph, type GraphEvent } from '../graph/graph.js';
import { NodeIdStore } from '../graph/nodeIds.js';
import { followControl, type ControlView } from './controlSync.js';

const session = (uuid: string, status: Session['status'] = 'running'): Session => ({
  uuid, swarmId: null, task: 't', priority: 'low', status, createdAt: null, updatedAt: null, lastActivity: null, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null,
});

it('follows session changes, keeping the requestId of the request that caused one', () => {
  const bus = new EventEmitter();
  const list = [session('u-1')];
  const control = {
    sessions: () => list,
    on: (e: string, l: (...a: unknown[]) => void) => bus.on(e, l),
    off: (e: string, l: (...a: unknown[]) => void) => bus.off(e, l),
  } as unknown as ControlView;
  const graph = new AgentGraph(new NodeIdStore(null));
  const events: GraphEvent[] = [];
  graph.on('event', (e) => events.push(e));
  const stop = followControl(control, graph, pino({ level: 'silent' }));
  expect([...graph.sessions.keys()]).toEqual(['u-1']);
  bus.emit('session', session('u-1', 'paused'), { requestId: 'req-7' });
  bus.emit('session', { ...session('u-2'), status: 'nonsense' }, { requestId: 'req-8' });
  bus.emit('session', session('u-3'));
  expect(graph.sessions.get('u-1')!.status).toBe('paused');
  expect(graph.sessions.has('u-2')).toBe(false);
  expect(events.map((e) => [e.sessionUuid, e.requestId])).toEqual([
    ['u-1', undefined],
    ['u-1', 'req-7'],
    ['u-3', undefined],
  ]);
  stop();
  bus.emit('session', session('u-4'));
  expect(graph.sessions.has('u-4')).toBe(false);
});
