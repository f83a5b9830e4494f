/**
 * What a simulated swarm says goes to its session's log (`<HIVE_LOG_DIR>/hive-<uuid>.log`, the file the
 * session manager's `log <uuid>` names), as claude-flow's output goes there under upstream's session
 * manager: one `[HIVE] <text>` line per log event and a `[SESSION-MGR]` line when the swarm ends. So a
 * kit session's log grows while it runs, also when the engine itself served `create --start`, and the
 * console (relay/control/console) has something to show.
 *
 * Appends are batched per session (one write per FLUSH_MS) and bounded: at most MAX_PENDING_BYTES wait
 * per session; what is over it is counted and said in the log, never dropped silently. Best effort: a
 * failed write is counted, not retried. Swarms without a session uuid write nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SimEvent } from './sim.js';

const FLUSH_MS = 100;
const MAX_PENDING_BYTES = 256 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ENDED = new Set(['completed', 'failed', 'stopped']);

export class LogSink {
  private readonly pending = new Map<string, { lines: string[]; bytes: number; dropped: number }>();
  private readonly ended = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private madeDir = false;
  stats = { writes: 0, errors: 0, dropped: 0 };

  constructor(private readonly logDir: string) {}

  file(uuid: string): string {
    return path.join(this.logDir, `hive-${uuid}.log`);
  }

  onEvent(e: SimEvent): void {
    const uuid = e.swarm.sessionId;
    if (!uuid || !UUID.test(uuid)) return;
    if (e.type === 'log') this.add(uuid, `[HIVE] ${e.text.replace(/[\r\n]+/g, ' ')}`);
    else if (e.type === 'swarm' && ENDED.has(e.swarm.status) && !this.ended.has(uuid)) {
      if (this.ended.size > 10_000) this.ended.clear();
      this.ended.add(uuid);
      this.add(uuid, `[SESSION-MGR] Swarm ${e.swarm.id} ${e.swarm.status}`);
    }
  }

  private add(uuid: string, line: string): void {
    let p = this.pending.get(uuid);
    if (!p) this.pending.set(uuid, (p = { lines: [], bytes: 0, dropped: 0 }));
    const bytes = Buffer.byteLength(line) + 1;
    if (p.bytes + bytes > MAX_PENDING_BYTES) {
      p.dropped += bytes;
      this.stats.dropped += bytes;
    } else {
      p.lines.push(line);
      p.bytes += bytes;
    }
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  flush(): void {
    this.timer = null;
    if (!this.madeDir) {
      try {
        fs.mkdirSync(this.logDir, { recursive: true });
      } catch {
        // counted on the write below
      }
      this.madeDir = true;
    }
    for (const [uuid, p] of this.pending) {
      const text = `${p.lines.join('\n')}\n${p.dropped ? `[SESSION-MGR] ${p.dropped} bytes of swarm output were not written (the log could not keep up)\n` : ''}`;
      fs.appendFile(this.file(uuid), text, { mode: 0o644 }, (err) => {
        if (err) this.stats.errors++;
        else this.stats.writes++;
      });
    }
    this.pending.clear();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
  }
}
