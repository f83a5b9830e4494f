/**
 * What a browser sends, parsed and validated before anything acts on it: binary V2 frames are passed on
 * (positions.ts checks them), JSON must be an object of a known type that its zod schema accepts, and a
 * hello must speak this relay's PROTOCOL_VERSION. Anything else is a refusal with the close code and
 * reason the socket is closed with (refuse()), so one bad client never affects another.
 */
import type { Logger } from 'pino';
import type { RawData } from 'ws';
import { ClientMessageSchema, CloseCode, PROTOCOL_VERSION, type ClientMessage } from '../../shared/protocol/messages.js';
import type { StreamMetrics } from './metrics.js';
import type { StreamClient } from './streamClient.js';

const KNOWN_TYPES = new Set(['hello', 'subscribe', 'visibility', 'pin', 'unpin', 'ping', 'log-subscribe', 'log-unsubscribe']);

/** A refusal: the close code, its reason, and whether the input was malformed (counted) or just foreign. */
export interface Refusal {
  kind: 'refuse';
  code: number;
  reason: string;
  malformed: boolean;
  /** Sent first as an `error` message with this code (the reason in words a page can show). */
  notify?: string;
}

export type Inbound = { kind: 'frame'; buf: Buffer } | { kind: 'message'; msg: ClientMessage } | Refusal;

function refusal(code: number, reason: string, malformed = true, notify?: string): Refusal {
  return { kind: 'refuse', code, reason, malformed, ...(notify ? { notify } : {}) };
}

export function parseInbound(data: RawData, isBinary: boolean): Inbound {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  if (isBinary) return { kind: 'frame', buf };
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    return refusal(CloseCode.invalidPayload, 'invalid JSON');
  }
  const type = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    return refusal(CloseCode.unsupportedData, `unknown message type ${JSON.stringify(type ?? null).slice(0, 40)}`);
  }
  const msg = ClientMessageSchema.safeParse(parsed);
  if (!msg.success) {
    const issue = msg.error.issues[0];
    return refusal(CloseCode.invalidPayload, `invalid ${type}: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'schema'}`);
  }
  if (msg.data.type === 'hello' && msg.data.protocolVersion !== PROTOCOL_VERSION) {
    // Well-formed, from a page built for another relay: not malformed, but nothing it says can be read.
    const reason = `protocol version ${msg.data.protocolVersion} is not ${PROTOCOL_VERSION}: reload the page`;
    return refusal(CloseCode.protocolMismatch, reason, false, 'protocol-mismatch');
  }
  return { kind: 'message', msg: msg.data };
}

/** Longest prefix of `s` that fits in `maxBytes` of UTF-8 without splitting a code point. */
export function clipUtf8(s: string, maxBytes: number): string {
  const bytes = Buffer.from(s, 'utf8'); // lone surrogates become U+FFFD here
  if (bytes.length <= maxBytes) return bytes.toString('utf8');
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Closes one client's socket for what it sent (the reason cut to the 123 bytes a close frame allows). */
export function refuse(c: StreamClient, r: Omit<Refusal, 'kind'>, m: StreamMetrics, log: Logger): void {
  if (r.malformed) {
    m.closedMalformed++;
    log.warn({ client: c.id, code: r.code, reason: r.reason }, 'closing websocket: malformed input');
  } else log.info({ client: c.id, code: r.code, reason: r.reason }, 'closing websocket: input refused');
  try {
    c.ws.close(r.code, clipUtf8(r.reason, 123));
  } catch {
    c.ws.terminate();
  }
}
