/**
 * The V8 heap a child process retains, asked through its inspector after a full collection: start the
 * child with `--inspect=127.0.0.1:0` and pass its output. A heap read from /metrics between two of the
 * child's own collections also counts garbage waiting for the next one (a relay parsing 2000-agent
 * replies every second makes megabytes of it), so two relays' heaps differed by whatever each had not
 * collected yet. Bench use only; the inspector listens on loopback.
 */
import WebSocket from 'ws';

const LISTENING = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+)/;
/** Largest inspector reply read (an evaluate of one number is tiny). */
const MAX_REPLY_BYTES = 1024 * 1024;

/** The inspector's URL from the child's output, or null when it printed none. */
export function inspectorUrl(output: string): string | null {
  return LISTENING.exec(output)?.[1] ?? null;
}

/** heapUsed (bytes) after HeapProfiler.collectGarbage, in the child at `url`. */
export async function heapAfterGc(url: string, timeoutMs = 20_000): Promise<number> {
  const ws = new WebSocket(url, { maxPayload: MAX_REPLY_BYTES });
  const timer = setTimeout(() => ws.terminate(), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let next = 0;
    const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: number; result?: unknown; error?: { message: string } };
      const w = m.id === undefined ? undefined : waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id!);
      if (m.error) w.reject(new Error(`inspector: ${m.error.message}`));
      else w.resolve(m.result);
    });
    ws.once('close', () => {
      for (const w of waiting.values()) w.reject(new Error('inspector connection closed'));
    });
    const call = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<unknown>((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    const r = (await call('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true })) as { result?: { value?: unknown } };
    const v = r.result?.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`inspector: heapUsed was ${JSON.stringify(v)}`);
    return v;
  } finally {
    clearTimeout(timer);
    ws.close();
  }
}
