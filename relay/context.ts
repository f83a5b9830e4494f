/**
 * What one request carries down through the planes: its correlation id and a pino child logger bound to
 * it. The HTTP edge makes one per request (taking a valid incoming `X-Request-Id`, otherwise a new id);
 * the control plane logs every exec and retry with `ctx.log`, the telemetry plane its MCP calls, and the
 * stream the events and activity entries the request leads to. It lives here, below every plane, so that
 * the layers keep pointing down (relay/http imports the planes, never the other way round).
 */
import type { Logger } from 'pino';

export interface RequestContext {
  /** The correlation id: echoed in the `X-Request-Id` response header and bound to `log` as `reqId`. */
  readonly requestId: string;
  /** A child logger with `{ reqId: requestId }` bound; use it for every line this request causes. */
  readonly log: Logger;
}
