/**
 * What the stream keeps per WebSocket: its layout candidacy, subscription, event cursor, the delta held
 * for it while it is slow, its JSON budget and pin rate limit, and when it last got each kind of message.
 */
import type { WebSocket } from 'ws';
import type { LayoutRole } from '../../shared/protocol/messages.js';
import type { ChangeSetAccumulator } from '../graph/changeSet.js';
import type { StreamFilter } from './deltas.js';
import type { LayoutCandidate } from './layout.js';
import { PinBucket } from './pins.js';

export interface StreamClient extends LayoutCandidate {
  ws: WebSocket;
  /** Answered the last heartbeat ping. */
  alive: boolean;
  filter: StreamFilter;
  includePerformance: boolean;
  selected: Set<string>;
  /** Last event seq this client has (null until its hello, or HELLO_WAIT_MS). */
  eventCursor: number | null;
  /** Deltas merged while it was backed up, over budget or not yet due (bounded by PENDING_RESYNC_ENTRIES). */
  held: ChangeSetAccumulator | null;
  needsSnapshot: boolean;
  deltaSeq: number;
  role: LayoutRole;
  frameVersionSent: number;
  frameSentAt: number;
  /** JSON bytes sent in the current one-second budget window. */
  budgetWindowStart: number;
  budgetBytes: number;
  /** Since when its socket buffer has been over the high-water mark (null: it is not). */
  overSince: number | null;
  helloTimer: ReturnType<typeof setTimeout> | null;
  pins: PinBucket;
  /** When it was last sent a delta of any kind, a structural one, a topology one, and events. */
  deltaSentAt: number;
  structuralSentAt: number;
  topologySentAt: number;
  eventsSentAt: number;
}

let clientCounter = 0;

export function newStreamClient(ws: WebSocket, followOnly: boolean, includeMock: boolean, now: number): StreamClient {
  return {
    id: `c${++clientCounter}-${now.toString(36)}`,
    ws,
    alive: true,
    helloed: false,
    visible: true,
    followOnly,
    score: null,
    joinedAt: now,
    lastUploadAt: now,
    silenced: false,
    filter: { swarmIds: null, includeMock },
    includePerformance: false,
    selected: new Set(),
    eventCursor: null,
    held: null,
    needsSnapshot: false,
    deltaSeq: 0,
    role: 'follower',
    frameVersionSent: 0,
    frameSentAt: 0,
    budgetWindowStart: now,
    budgetBytes: 0,
    overSince: null,
    helloTimer: null,
    pins: new PinBucket(now),
    deltaSentAt: 0,
    structuralSentAt: 0,
    topologySentAt: 0,
    eventsSentAt: 0,
  };
}
