/** The `/wss` stream server: public surface for relay/app.ts (the telemetry HTTP routes live in relay/http). */
export { createStreamServer, PING_INTERVAL_MS, type StreamServer, type StreamServerOptions } from './server.js';
export { BUFFERED_HIGH_WATER } from './outbound.js';
export { HEALTH_INTERVAL_MS, type StreamControlView } from './healthFeed.js';
export { METRIC_DELTA_HZ, TOPOLOGY_GAP_MS } from './scheduler.js';
export { PIN_RATE_PER_SEC, MAX_PINS } from './pins.js';
export { registerStreamMetrics, type StreamMetrics } from './metrics.js';
export { LogFeed, type StreamLogView, type LogViewRead, LOG_CLIENT_BYTES_PER_SEC, LOG_HIGH_WATER, LOG_POLL_MS } from './log/feed.js';
