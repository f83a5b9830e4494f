/** The `/wss` stream server and the telemetry HTTP routes: public surface for relay/main.ts. */
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
export { telemetryRoutes } from '../http/telemetryRoutes.js';
