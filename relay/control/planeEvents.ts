/**
 * What the control plane tells the rest of the relay, on one typed emitter: session changes and
 * removals, activity entries, health, and "the exec-read agents changed". Events a request led to carry
 * its correlation id (`requestId`), so the stream can attach it to the activity entries and WebSocket
 * events it sends.
 */
import { EventEmitter } from 'node:events';
import type { Session, SessionStatus } from '../../shared/model/session.js';
import type { Health } from '../../shared/model/health.js';
import type { ActivityEvent } from '../../shared/protocol/messages.js';

export type ControlHealth = Health['control'];

/** Pushed to clients as a `session` message (plus the whole session for deltas). */
export interface SessionChange {
  uuid: string;
  swarmId: string | null;
  status: SessionStatus;
  replaces: string | null;
  session: Session;
  /** The request that led to this change (a spawn and its swarm id, a stop, pause or resume), when one did. */
  requestId?: string;
}

/** An activity event without seq/time (the stream server's ring assigns those); requestId as on SessionChange. */
export type ControlActivity = Pick<ActivityEvent, 'kind' | 'level' | 'message' | 'sessionUuid' | 'swarmId'> & { time: number; requestId?: string };

export interface ControlEvents {
  session: [SessionChange];
  sessionRemoved: [{ uuid: string }];
  activity: [ControlActivity];
  health: [ControlHealth];
  /** The exec-read agents changed (claude-flow backend). */
  agents: [];
}

/** Where an activity entry belongs: its session and swarm, and the request that led to it. */
export interface ActivityRefs {
  sessionUuid?: string | null;
  swarmId?: string | null;
  requestId?: string | undefined;
}

/** Activity text is shown in panels and kept in the stream's ring: bounded here, once. */
const MAX_ACTIVITY_CHARS = 8192;

export class PlaneEvents extends EventEmitter<ControlEvents> {
  constructor() {
    super();
    this.setMaxListeners(50);
  }

  /** Subscribes; returns an unsubscribe. */
  subscribe<K extends keyof ControlEvents>(event: K, fn: (...a: ControlEvents[K]) => void): () => void {
    this.on(event, fn as never);
    return () => this.off(event, fn as never);
  }

  activity(kind: ControlActivity['kind'], level: ControlActivity['level'], message: string, refs: ActivityRefs = {}): void {
    this.emit('activity', {
      kind,
      level,
      message: message.slice(0, MAX_ACTIVITY_CHARS),
      sessionUuid: refs.sessionUuid ?? null,
      swarmId: refs.swarmId ?? null,
      time: Date.now(),
      ...(refs.requestId ? { requestId: refs.requestId } : {}),
    });
  }
}
