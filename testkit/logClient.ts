/**
 * A /wss client for the live session log (tests and benches): subscribes, keeps every `log` and
 * `log-status` message, checks that chunks follow each other exactly (from = previous next, unless
 * rotated), and waits for text to arrive.
 */
import WebSocket from 'ws';
import type { LogMessage, LogStatusMessage } from '../shared/protocol/messages.js';
import { waitUntil } from './wait.js';

export class LogClient {
  readonly logs: (LogMessage & { at: number })[] = [];
  readonly statuses: LogStatusMessage[] = [];
  readonly errors: { code: string; message: string }[] = [];
  /** Chunks that did not start where the previous one ended (a gap or a duplicate). */
  readonly discontinuities: string[] = [];
  private readonly text = new Map<string, string>();
  private readonly next = new Map<string, number>();
  closeCode: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(data.toString()) as { type: string };
      if (m.type === 'log') this.onLog(m as LogMessage);
      else if (m.type === 'log-status') this.statuses.push(m as LogStatusMessage);
      else if (m.type === 'error') this.errors.push(m as unknown as { code: string; message: string });
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined);
  }

  static async connect(relayUrl: string, headers: Record<string, string> = {}): Promise<LogClient> {
    const ws = new WebSocket(`${relayUrl.replace(/^http/, 'ws')}/wss`, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new LogClient(ws);
  }

  private onLog(m: LogMessage): void {
    const { uuid, chunk } = m;
    const at = this.next.get(uuid);
    if (chunk.rotated) this.text.set(uuid, '');
    else if (at !== undefined && chunk.from !== at) this.discontinuities.push(`${uuid}: chunk from ${chunk.from}, expected ${at}`);
    this.text.set(uuid, (this.text.get(uuid) ?? '') + chunk.text);
    this.next.set(uuid, chunk.next);
    this.logs.push({ ...m, at: performance.now() });
  }

  subscribe(uuid: string, from: number | null = 0, logId: string | null = null): void {
    this.ws.send(JSON.stringify({ type: 'log-subscribe', uuid, from, logId }));
  }

  unsubscribe(uuid: string): void {
    this.ws.send(JSON.stringify({ type: 'log-unsubscribe', uuid }));
  }

  /** Text received for the session (since its last rotation). */
  textOf(uuid: string): string {
    return this.text.get(uuid) ?? '';
  }

  lastChunk(uuid: string): LogMessage['chunk'] | null {
    for (let i = this.logs.length - 1; i >= 0; i--) if (this.logs[i]!.uuid === uuid) return this.logs[i]!.chunk;
    return null;
  }

  async waitForText(uuid: string, needle: string, timeoutMs = 20_000): Promise<void> {
    await waitUntil(() => this.textOf(uuid).includes(needle), timeoutMs, 20, `log text ${JSON.stringify(needle.slice(0, 40))}`);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
