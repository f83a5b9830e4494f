/** The `/wss` stream server and the telemetry HTTP routes: public surface for relay/main.ts. */
export {
  createStreamServer,
  BUFFERED_HIGH_WATER,
  HEALTH_INTERVAL_MS,
  PING_INTERVAL_MS,
  type StreamServer,
  type StreamServerOptions,
  type StreamMetrics,
  type StreamControlView,
} from './server.js';
export { telemetryRoutes } from '../http/telemetryRoutes.js';
