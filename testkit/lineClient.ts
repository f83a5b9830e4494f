// A raw newline-JSON client over TCP for the MCP protocol tests: sends exact bytes, collects parsed lines
// (an unparsable line is kept as { unparsable }), and waits for a matching one.
import net from 'node:net';

export class RawLineClient {
  readonly lines: unknown[] = [];
  private buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  readonly socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        try {
          this.lines.push(JSON.parse(line));
        } catch {
          this.lines.push({ unparsable: line });
        }
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawLineClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawLineClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  send(msg: unknown): Promise<void> {
    return this.write(`${JSON.stringify(msg)}\n`);
  }

  /** Resolves with the first collected line matching `pred` (searching from `from`), or rejects on timeout. */
  async waitFor<T = Record<string, unknown>>(pred: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => typeof l === 'object' && l !== null && pred(l as Record<string, unknown>));
      if (hit) return hit as T;
      if (this.closed) throw new Error(`connection closed before a matching line; got ${JSON.stringify(this.lines).slice(0, 500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(this.lines).slice(0, 500)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitClosed(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => reject(new Error('still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export const byId = (id: number | string) => (l: Record<string, unknown>) => l.id === id;

/** Parses result.content[0].text of a tools/call response. */
export function toolResult<T = Record<string, unknown>>(line: Record<string, unknown>): T {
  const r = line.result as { content: Array<{ text: string }> };
  return JSON.parse(r.content[0]!.text) as T;
}
