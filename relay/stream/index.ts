/** The `/wss` stream server: public surface for relay/app.ts (the telemetry HTTP routes live in relay/http). */
export {
  createStreamServer,
  BUFFERED_HIGH_WATER,
  HEALTH_INTERVAL_MS,
  PING_INTERVAL_MS,
  METRIC_DELTA_HZ,
  PIN_RATE_PER_SEC,
  MAX_PINS,
  type StreamServer,
  type StreamServerOptions,
  type StreamMetrics,
  type StreamControlView,
} from './server.js';
