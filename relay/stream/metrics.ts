/**
 * The stream's counters (kept by the parts that count them) and its Prometheus families, registered on
 * a prom-client Registry with collect() callbacks so every value is read when /metrics is scraped.
 */
import type { Registry } from 'prom-client';
import { mirroredCounter, scrapedGauge } from '../metrics.js';
import type { LogFeedMetrics } from './log/feed.js';

export interface StreamMetrics {
  clients: number;
  leaders: number;
  bytesSent: number;
  messagesSent: number;
  framesSent: number;
  /** Position frames not sent to a client because its socket was backed up (it got a newer one later). */
  framesDropped: number;
  framesReceived: number;
  /** Deltas held and merged for a backed-up or over-budget client. */
  deltasMerged: number;
  resyncSnapshots: number;
  closedMalformed: number;
  leaderChanges: number;
  /** Largest bufferedAmount seen on any client at a tick. */
  maxBufferedAmount: number;
  /** Pin/unpin changes applied (stored and forwarded to the leader). */
  pinsApplied: number;
  /** Pin/unpin messages held back by the per-client rate limit (coalesced per node, applied later). */
  pinsThrottled: number;
  /** Pin/unpin messages refused (pin store or per-client backlog full). */
  pinsRefused: number;
  /** The live session logs (relay/stream/log), read from the feed when asked. */
  log: LogFeedMetrics;
}

export function newStreamMetrics(): StreamMetrics {
  return {
    clients: 0,
    leaders: 0,
    bytesSent: 0,
    messagesSent: 0,
    framesSent: 0,
    framesDropped: 0,
    framesReceived: 0,
    deltasMerged: 0,
    resyncSnapshots: 0,
    closedMalformed: 0,
    leaderChanges: 0,
    maxBufferedAmount: 0,
    pinsApplied: 0,
    pinsThrottled: 0,
    pinsRefused: 0,
    log: { sessions: 0, subscribers: 0, ringBytes: 0, bytesBehind: 0, watched: 0, reads: 0, directReads: 0, bytesSent: 0, messages: 0, truncationsInPlace: 0, watchStarts: 0, wakeups: 0 },
  };
}

type CounterKey = Exclude<keyof StreamMetrics, 'clients' | 'leaders' | 'maxBufferedAmount' | 'log'>;

const COUNTERS: [name: string, help: string, key: CounterKey][] = [
  ['hivescope_ws_bytes_sent_total', 'Bytes sent to WebSocket clients.', 'bytesSent'],
  ['hivescope_ws_messages_sent_total', 'Messages (JSON and binary) sent to WebSocket clients.', 'messagesSent'],
  ['hivescope_ws_frames_sent_total', 'Position frames sent to followers.', 'framesSent'],
  ['hivescope_ws_frames_dropped_total', 'Position frames skipped for a backed-up client (it got a newer one later).', 'framesDropped'],
  ['hivescope_ws_deltas_merged_total', 'Deltas held and merged for a backed-up or over-budget client.', 'deltasMerged'],
  ['hivescope_ws_closed_malformed_total', 'WebSockets closed for malformed input.', 'closedMalformed'],
  ['hivescope_ws_leader_changes_total', 'Layout leader changes.', 'leaderChanges'],
];

const LOG_GAUGES: [name: string, help: string, key: 'sessions' | 'subscribers' | 'ringBytes' | 'bytesBehind' | 'watched'][] = [
  ['hivescope_log_sessions', 'Session logs followed live (one tail each).', 'sessions'],
  ['hivescope_log_watched', 'Followed session logs watched for changes now (the others are polled every 150 ms).', 'watched'],
  ['hivescope_log_subscribers', 'Live log subscriptions of WebSocket clients.', 'subscribers'],
  ['hivescope_log_ring_bytes', 'Bytes held in the live logs\' rings of recent output.', 'ringBytes'],
  ['hivescope_log_bytes_behind', 'Log bytes subscribers have not been sent yet (held back by their byte budget or a full socket).', 'bytesBehind'],
];

const LOG_COUNTERS: [name: string, help: string, key: 'reads' | 'directReads' | 'bytesSent' | 'messages' | 'truncationsInPlace' | 'watchStarts' | 'wakeups'][] = [
  ['hivescope_log_watch_starts_total', 'Watches of a followed log started (one long-lived exec each in a container; at most one per log, retried at most every 5 s).', 'watchStarts'],
  ['hivescope_log_wakeups_total', 'Changes a log watch reported (each makes the tail read at once).', 'wakeups'],
  ['hivescope_log_reads_total', 'Reads of a followed log\'s head (one exec each).', 'reads'],
  ['hivescope_log_direct_reads_total', 'Reads for one subscriber whose offset is out of the ring (a slow client, a resume).', 'directReads'],
  ['hivescope_log_bytes_sent_total', 'Bytes of log messages sent to WebSocket clients.', 'bytesSent'],
  ['hivescope_log_messages_sent_total', 'Log messages sent to WebSocket clients.', 'messages'],
  ['hivescope_log_truncations_in_place_total', 'Followed logs found truncated or rewritten in place (same file, other bytes at the offset): followed again from 0.', 'truncationsInPlace'],
];

/** Registers the stream's families on `registry`; values are read from `stream.metrics()` at each scrape. */
export function registerStreamMetrics(registry: Registry, stream: { metrics(): StreamMetrics }): void {
  scrapedGauge(registry, 'hivescope_ws_clients', 'Connected WebSocket clients.', () => stream.metrics().clients);
  // The stream keeps the running totals; each counter mirrors one.
  for (const [name, help, key] of COUNTERS) mirroredCounter(registry, name, help, () => stream.metrics()[key]);
  for (const [name, help, key] of LOG_GAUGES) scrapedGauge(registry, name, help, () => stream.metrics().log[key]);
  for (const [name, help, key] of LOG_COUNTERS) mirroredCounter(registry, name, help, () => stream.metrics().log[key]);
}
