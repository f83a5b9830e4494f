/**
 * The live log's wake-up signal (relay/stream/log/feed.ts): "the session's log may have changed", so the
 * tail reads at once instead of at its next poll. It never reads the log: bytes, offsets, rotation and
 * truncation stay with ./logRead.ts, so a missed or spurious change costs at most one read or one poll.
 *
 * Docker: LOG_WATCH_SCRIPT runs in the container as `node -e LOG_WATCH_SCRIPT` (the path in its environment) over a long-lived
 * exec stream (the kit images are busybox + node: no inotifywait, and busybox's `tail -f` polls once a
 * second). It watches the file's directory, so a file moved away and created again is still seen, and
 * writes one byte per change. It exits when its stdin ends: closing the stream's stdin is how the relay
 * stops it, and a dropped connection (the relay killed) closes that stdin too, so nothing is left in the
 * container. Local driver (embedded hive, files on this machine): fs.watch in the relay process.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ExecStream } from '../drivers/execStream.js';

/** A started watch; close() stops it (harmless twice) and resolves once it is gone. */
export interface LogWatch {
  close(): Promise<void>;
}

export type LogWatchCallbacks = {
  /** The file may have changed; also once when the watch is ready. */
  onChange: () => void;
  /** Once, when the watch stopped by itself (never after close()). */
  onEnd: (err: Error | null) => void;
};

/**
 * At most one change reported per this many ms: a log written in a tight loop makes the tail read
 * back to back anyway (one read in flight at a time), so more signals would only cost bytes and CPU.
 */
export const LOG_WATCH_GAP_MS = 20;
/** stderr kept of a watcher that failed, for the log line saying why. */
const STDERR_KEEP = 512;

/**
 * The variable that carries the watched path into the container. Not an argument: the path holds the
 * session's uuid, and the relay finds a session's processes (stop, pause, reap) by the uuid in their
 * argv; a watcher there would be stopped with the session, and would keep a dead session looking alive
 * while a browser follows its log.
 */
export const LOG_WATCH_FILE_ENV = 'HIVESCOPE_LOG_WATCH_FILE';

/**
 * `node -e LOG_WATCH_SCRIPT` with the path in LOG_WATCH_FILE_ENV, never part of the script. A change of another file
 * in the directory is ignored (a null filename, which some platforms give, counts as a change). One
 * byte at start (ready), then at most one per gap. Exit 2: the directory cannot be watched.
 */
export const LOG_WATCH_SCRIPT = `// hivescope log watch
const fs = require('fs'), path = require('path');
const file = process.env.${LOG_WATCH_FILE_ENV} || '', base = path.basename(file);
if (!file) { process.stderr.write('no file to watch'); process.exit(2); }
let last = 0, timer = null;
const tell = () => { timer = null; last = Date.now(); process.stdout.write('.'); };
const w = fs.watch(path.dirname(file), (e, name) => {
  if ((name !== null && String(name) !== base) || timer) return;
  timer = setTimeout(tell, Math.max(0, last + ${LOG_WATCH_GAP_MS} - Date.now()));
});
w.on('error', (e) => { process.stderr.write(String(e)); process.exit(2); });
process.stdout.on('error', () => process.exit(0));
process.stdin.on('end', () => process.exit(0)).on('close', () => process.exit(0)).resume();
tell();
`;

/** Runs LOG_WATCH_SCRIPT through `open` (a docker exec stream); its output is never kept: each chunk is one change. */
export function watchOverExec(open: (argv: readonly string[], env: Record<string, string>) => Promise<ExecStream>, file: string, cb: LogWatchCallbacks): LogWatch {
  let stream: ExecStream | null = null;
  let closed = false;
  let ended = false;
  let stderr = '';
  const end = (err: Error | null) => {
    if (ended) return;
    ended = true;
    if (!closed) cb.onEnd(err);
  };
  open(['node', '-e', LOG_WATCH_SCRIPT], { [LOG_WATCH_FILE_ENV]: file }).then(
    (s) => {
      stream = s;
      if (closed) return void s.close();
      s.onstdout = () => {
        if (!closed && !ended) cb.onChange();
      };
      s.onstderr = (b) => {
        stderr = (stderr + b.toString('utf8')).slice(-STDERR_KEEP);
      };
      // Any end is unexpected while we still want it (no node in the container, a directory that is not
      // there, the container stopped): say why, the tail falls back to polling.
      s.onclose = (err) => end(err ?? new Error(`the log watcher in the container exited${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    },
    (err: unknown) => end(err instanceof Error ? err : new Error(String(err))),
  );
  return {
    close: async () => {
      closed = true;
      await stream?.close();
    },
  };
}

/** The local driver's watch: fs.watch of the file's directory in this process, with the same rules. */
export function watchLocalFile(file: string, cb: LogWatchCallbacks): LogWatch {
  const base = path.basename(file);
  let closed = false;
  let last = 0;
  let timer: NodeJS.Timeout | null = null;
  const tell = () => {
    timer = null;
    last = Date.now();
    if (!closed) cb.onChange();
  };
  const fail = (err: Error) => {
    if (closed) return;
    close();
    cb.onEnd(err);
  };
  let w: fs.FSWatcher | null = null;
  const close = () => {
    closed = true;
    if (timer) clearTimeout(timer);
    w?.close();
  };
  try {
    w = fs.watch(path.dirname(file), { persistent: false }, (_e, name) => {
      if ((name !== null && name !== base) || timer || closed) return;
      timer = setTimeout(tell, Math.max(0, last + LOG_WATCH_GAP_MS - Date.now()));
    });
    w.on('error', fail);
    timer = setTimeout(tell, 0);
  } catch (err) {
    // Reported after the caller has its handle, as the exec watch's failures are.
    setImmediate(() => fail(err as Error));
  }
  return {
    close: () => {
      close();
      return Promise.resolve();
    },
  };
}
