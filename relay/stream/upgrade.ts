/**
 * The HTTP upgrade to `/wss` and its gate: the path, the relay still accepting, and the token and
 * Origin checks (`authorize`) answered with a plain HTTP status before any WebSocket exists.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { WS_PATH } from '../../shared/protocol/messages.js';

export interface UpgradeGate {
  wss: WebSocketServer;
  /** Token and Origin checks: false -> 401, a number -> that status (e.g. 403). Default: allow. */
  authorize?: (req: http.IncomingMessage) => boolean | number;
  closed(): boolean;
  log: Logger;
  /** A new socket; `followOnly` from `?follow=1`. */
  accept(ws: WebSocket, followOnly: boolean): void;
}

export function handleUpgrade(gate: UpgradeGate, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://relay.invalid');
  } catch {
    return rejectUpgrade(socket, 400, 'Bad Request');
  }
  if (url.pathname !== WS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
  if (gate.closed()) return rejectUpgrade(socket, 503, 'Service Unavailable');
  let verdict: boolean | number = true;
  try {
    verdict = gate.authorize ? gate.authorize(req) : true;
  } catch (e) {
    gate.log.warn({ err: String(e) }, 'authorize threw; refusing upgrade');
    verdict = 403;
  }
  if (verdict !== true) {
    const status = typeof verdict === 'number' ? verdict : 401;
    gate.log.info({ status, origin: req.headers.origin ?? null }, 'websocket upgrade refused');
    return rejectUpgrade(socket, status, status === 403 ? 'Forbidden' : 'Unauthorized');
  }
  const follow = ['1', 'true', 'yes'].includes(url.searchParams.get('follow') ?? '');
  gate.wss.handleUpgrade(req, socket, head, (ws) => gate.accept(ws, follow));
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
  }
  socket.destroy();
}
