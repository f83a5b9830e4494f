/**
 * One read of a session's log file in the container, through the control plane's exec pipeline (docker
 * exec, or a local child process for the embedded hive): one exec runs a constant script that prints
 * the file's identity and size, then at most `max` bytes from the offset, base64-encoded (exec output is
 * text; base64 keeps the bytes exact so offsets stay byte offsets). The path and numbers travel as
 * positional arguments, never inside the script. The parsing and the offset rules are pure functions.
 */
import { LOG_READ_MAX_BYTES, type LOG_UNAVAILABLE_REASONS, type LogChunk } from '../../../shared/model/console.js';

export type LogUnavailableReason = (typeof LOG_UNAVAILABLE_REASONS)[number];
import type { RequestContext } from '../../context.js';
import { ControlError, clip } from '../errors.js';
import type { RunFn } from '../backends/types.js';
import { utf8End, utf8StartSkip } from '../../../shared/utf8.js';

/**
 * `sh -c LOG_READ_SCRIPT <path> <from + 1> <bytes>`. Identity is device and inode (plus birth time where
 * stat knows it; busybox prints a literal W): ctime is not identity, every append changes it. `-L`: a
 * log reached through a symlink is judged by the file itself. Exit 3: stat failed (no such file).
 */
export const LOG_READ_SCRIPT = 'stat -L -c "%d %i %W %s" -- "$0" || exit 3; tail -c "+$1" -- "$0" | head -c "$2" | base64';
/** Extra bytes read past `max`, so a character cut by `max` can be completed or held back knowingly. */
const READ_SLACK = 3;

/** A log the relay cannot read, and why (the page says which instead of showing an empty log). */
export class LogUnavailable extends Error {
  override name = 'LogUnavailable';
  constructor(
    readonly reason: LogUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where a session's log is, or why there is none the relay can reach. */
export type LogLocation = { path: string } | { path: null; reason: 'no-log' | 'missing'; message: string };

export interface FileStat {
  /** `dev:ino` or `dev:ino:birth`: the logId. */
  id: string;
  size: number;
}

/** stdout of LOG_READ_SCRIPT: the stat line, then base64. Null when it is not that shape. */
export function parseLogRead(stdout: string): { stat: FileStat; bytes: Buffer } | null {
  const nl = stdout.indexOf('\n');
  const head = nl < 0 ? stdout : stdout.slice(0, nl);
  const m = /^(\d{1,20}) (\d{1,20}) (\S{1,24}) (\d{1,20})$/.exec(head.trim());
  if (!m) return null;
  const size = Number(m[4]);
  if (!Number.isSafeInteger(size)) return null;
  const body = nl < 0 ? '' : stdout.slice(nl + 1);
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return null;
  const birth = /^[1-9]\d*$/.test(m[3]!) ? `:${m[3]}` : '';
  return { stat: { id: `${m[1]}:${m[2]}${birth}`, size }, bytes: Buffer.from(body, 'base64') };
}

export interface LogRead {
  chunk: LogChunk;
  /** The raw bytes of chunk.text (chunk.next - chunk.from of them): the live tail keeps bytes, not text. */
  bytes: Buffer;
}

/**
 * Whether a read at `from` (of the file the client last saw as `logId`) must start again at 0: the file
 * is another one (rotated) or shorter than the offset (truncated).
 */
export function mustRestart(from: number, logId: string | null, stat: FileStat): boolean {
  return (logId !== null && logId !== stat.id) || from > stat.size;
}

/**
 * The chunk a read returns: `bytes` were read at `from` (up to max + slack of them); text ends on a
 * character boundary within `max` (held-back bytes come with the next read).
 */
export function toChunk(o: { from: number; max: number; bytes: Buffer; stat: FileStat; rotated: boolean; path: string; skipStart?: boolean }): LogRead {
  const skip = o.skipStart ? utf8StartSkip(o.bytes) : 0;
  const body = o.bytes.subarray(skip);
  const end = utf8End(body, o.max);
  const bytes = body.subarray(0, end);
  const from = o.from + skip;
  return {
    chunk: {
      text: bytes.toString('utf8'),
      from,
      next: from + end,
      size: Math.max(o.stat.size, from + body.length),
      truncated: body.length > o.max,
      rotated: o.rotated,
      logId: o.stat.id,
      path: o.path,
    },
    bytes: Buffer.from(bytes),
  };
}

export interface LogQuery {
  /** Byte offset; null: the last `tailBytes` of the file. */
  from: number | null;
  max: number;
  logId: string | null;
  /** For from: null. */
  tailBytes?: number;
}

export interface LogReaderDeps {
  run: RunFn;
  locate(uuid: string, ctx?: RequestContext): Promise<LogLocation>;
  /** Exec timeout for one read. Default 10 s. */
  timeoutMs?: number;
}

/** Kinds of exec failure that mean the container (or Docker) cannot be reached right now. */
const UNREACHABLE = new Set(['docker-unavailable', 'container-not-running', 'circuit-open', 'read-only']);

export class LogReader {
  constructor(private readonly d: LogReaderDeps) {}

  /** One read; throws LogUnavailable (no log, file missing, container unreachable) or ControlError (unknown session, ...). */
  async read(uuid: string, q: LogQuery, ctx?: RequestContext): Promise<LogRead> {
    const max = Math.max(1, Math.min(LOG_READ_MAX_BYTES, Math.floor(q.max)));
    const loc = await this.guard(() => this.d.locate(uuid, ctx));
    if (loc.path === null) throw new LogUnavailable(loc.reason, loc.message);
    const path = loc.path;
    if (q.from === null) {
      // The end of the file: its size first, then a read from there (starting on a character boundary).
      const probe = await this.once(path, 0, 0, ctx);
      const from = Math.max(0, probe.stat.size - Math.max(0, q.tailBytes ?? max));
      const r = await this.once(path, from, max, ctx);
      return toChunk({ from, max, bytes: r.bytes, stat: r.stat, rotated: q.logId !== null && q.logId !== r.stat.id, path, skipStart: from > 0 });
    }
    const r = await this.once(path, q.from, max, ctx);
    if (!mustRestart(q.from, q.logId, r.stat)) return toChunk({ from: q.from, max, bytes: r.bytes, stat: r.stat, rotated: false, path });
    if (q.from === 0) return toChunk({ from: 0, max, bytes: r.bytes, stat: r.stat, rotated: true, path });
    const again = await this.once(path, 0, max, ctx);
    return toChunk({ from: 0, max, bytes: again.bytes, stat: again.stat, rotated: true, path });
  }

  private async once(path: string, from: number, max: number, ctx?: RequestContext): Promise<{ stat: FileStat; bytes: Buffer }> {
    const argv = ['sh', '-c', LOG_READ_SCRIPT, path, String(from + 1), String(max === 0 ? 0 : max + READ_SLACK)];
    const r = await this.guard(() => this.d.run(argv, { idempotent: true, timeoutMs: this.d.timeoutMs ?? 10_000, ctx }));
    if (r.exitCode === 3) throw new LogUnavailable('missing', `the log file ${path} is not there (yet, or any more): ${clip(r.stderr.trim(), 200)}`);
    const parsed = r.exitCode === 0 ? parseLogRead(r.stdout) : null;
    if (!parsed) throw new ControlError('command-failed', `reading ${path} failed (exit ${r.exitCode}): ${clip(r.stderr.trim() || r.stdout.slice(0, 200) || '(no output)', 300)}`);
    return parsed;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ControlError && UNREACHABLE.has(err.kind)) throw new LogUnavailable('container-unreachable', err.message);
      throw err;
    }
  }
}
