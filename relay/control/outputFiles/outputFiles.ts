/**
 * A session's output directory, read through the control plane's exec driver (never by mounting the
 * container's filesystem): the listing is one exec through the pipeline (breaker, slots, timeout, output
 * cap), a download one streamed exec of a constant program (./scripts.ts) whose first line says OK and
 * the size, or why not, before a single byte of the file is handed on. Two gates stand before any read:
 * the path as text (./pathCheck.ts) and, in the container, the opened file's resolved path under the
 * directory's. Refusals are OutputFileError with an HTTP status and wire code; the http room maps them.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FILE_DOWNLOAD_MAX_BYTES, FILES_LIST_MAX_DEPTH, FILES_LIST_MAX_ENTRIES, MAX_FILE_PATH_CHARS, type FilesList } from '../../../shared/model/console.js';
import type { ErrorCode } from '../../../shared/api.js';
import type { RequestContext } from '../../context.js';
import { ControlError, clip } from '../errors.js';
import type { ExecDriver } from '../exec.js';
import type { RunFn } from '../backends/types.js';
import { checkRelativePath } from './pathCheck.js';
import { contentTypeFor } from './contentType.js';
import { EXIT_NO_DIR, EXIT_ROOT_LINK, listArgv, parseListing, parseReadHeader, readArgv } from './scripts.js';
import { execStream, type ExecStream } from './streamExec.js';

/** Where a session's files are, or why the relay knows no directory that holds them alone. */
export type OutputLocation = { dir: string } | { dir: null; message: string };

export class OutputFileError extends Error {
  override name = 'OutputFileError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenedFile {
  /** The relative path as checked. */
  path: string;
  size: number;
  contentType: string;
  /** Exactly `size` bytes (fewer only if the file shrank meanwhile: the reader must compare). */
  body: Readable;
  /** Ends the read in the container (the browser went away). */
  abort(): void;
}

export interface OutputFilesDeps {
  run: RunFn;
  driver: () => ExecDriver | null;
  locate(uuid: string, ctx?: RequestContext): Promise<OutputLocation>;
  /** The exec pipeline's output cap: the listing stays under it. */
  maxOutputBytes: number;
  /** Longest a download may take end to end. Default 5 minutes (16 MiB at ~55 KB/s). */
  downloadTimeoutMs?: number;
  /** Downloads streaming at once; more are refused (429). Default 4. */
  maxDownloads?: number;
}

/** Output the listing may print: 1001 entries of long names fit; never over the pipeline's cap. */
const LIST_BYTE_CAP = 2 * 1024 * 1024;
const HEADER_MAX = 4200;

export class OutputFiles {
  private downloads = 0;

  constructor(private readonly d: OutputFilesDeps) {}

  private async root(uuid: string, ctx?: RequestContext): Promise<string> {
    const loc = await this.d.locate(uuid, ctx);
    if (loc.dir === null) throw new OutputFileError(422, 'unsupported', loc.message);
    // The embedded hive's directories are on this machine, below the relay's own state dir, which may sit
    // behind a symlink (a linked checkout): its parents are resolved here. The directory itself is not,
    // so the programs still refuse one that was replaced by a link.
    if (this.d.driver()?.kind === 'local') {
      try {
        return path.join(fs.realpathSync(path.dirname(loc.dir)), path.basename(loc.dir));
      } catch {
        return loc.dir;
      }
    }
    return loc.dir;
  }

  private static missing(root: string): OutputFileError {
    return new OutputFileError(404, 'not-found', `the session's output directory ${root} does not exist (not created yet, or removed)`);
  }

  private static rootLink(root: string, resolved: string): OutputFileError {
    return new OutputFileError(403, 'path-refused', `the session's output directory ${root} is reached through a symlink (to ${clip(resolved, 300)}); it is not served`);
  }

  async list(uuid: string, ctx?: RequestContext): Promise<FilesList> {
    const root = await this.root(uuid, ctx);
    const cap = Math.max(4096, Math.min(LIST_BYTE_CAP, this.d.maxOutputBytes - 16 * 1024));
    const r = await this.d.run(listArgv(root, FILES_LIST_MAX_DEPTH, cap), { idempotent: true, ctx });
    if (r.exitCode === EXIT_NO_DIR) throw OutputFiles.missing(root);
    if (r.exitCode === EXIT_ROOT_LINK) throw OutputFiles.rootLink(root, r.stdout);
    if (r.exitCode !== 0) throw new ControlError('command-failed', `listing ${root} exited with ${r.exitCode}: ${clip(r.stderr.trim() || '(no output)')}`);
    const capped = Buffer.byteLength(r.stdout) >= cap;
    const parsed = parseListing(r.stdout, { maxEntries: FILES_LIST_MAX_ENTRIES, maxDepth: FILES_LIST_MAX_DEPTH, maxPathChars: MAX_FILE_PATH_CHARS, capped });
    return { root, files: parsed.files, truncated: parsed.truncated };
  }

  /**
   * Opens one file for streaming. `rawPath`: the route's `*path` parameter as Express decoded it. Every
   * refusal happens before the returned body yields a byte.
   */
  async open(uuid: string, rawPath: unknown, ctx?: RequestContext): Promise<OpenedFile> {
    const checked = checkRelativePath(rawPath);
    if (!checked.ok) throw new OutputFileError(400, 'path-refused', `refused: ${checked.message}`);
    const driver = this.d.driver();
    if (!driver) throw new ControlError('read-only', 'the relay runs with HIVE_DRIVER=none: no container to read files from');
    const root = await this.root(uuid, ctx);
    if (this.downloads >= (this.d.maxDownloads ?? 4)) throw new OutputFileError(429, 'rate-limited', 'too many file downloads at once; try again in a moment');
    this.downloads++;
    let released = false;
    const release = () => {
      if (!released) this.downloads--;
      released = true;
    };
    let s: ExecStream;
    try {
      s = await execStream(driver, readArgv(root, checked.path, FILE_DOWNLOAD_MAX_BYTES), { timeoutMs: this.d.downloadTimeoutMs ?? 300_000 });
    } catch (err) {
      release();
      throw err;
    }
    void s.done.then(release);
    s.stdout.once('close', release);
    let header: { line: string; body: Readable };
    try {
      header = await splitHeader(s.stdout, HEADER_MAX);
    } catch (err) {
      s.abort();
      const { exitCode, stderr } = await s.done;
      if (exitCode === EXIT_NO_DIR) throw OutputFiles.missing(root);
      throw new ControlError('command-failed', `reading ${checked.path} failed (exit ${exitCode ?? 'unknown'}): ${clip(stderr.trim() || (err as Error).message)}`);
    }
    const h = parseReadHeader(header.line, root);
    if (!h.ok) {
      s.abort();
      const { exitCode } = await s.done;
      if (exitCode === EXIT_ROOT_LINK) throw OutputFiles.rootLink(root, header.line);
      switch (h.reason) {
        case 'not-found':
          throw new OutputFileError(404, 'not-found', `no file ${checked.path} in the session's output directory`);
        case 'not-file':
          throw new OutputFileError(404, 'not-found', `${checked.path} is not a regular file`);
        case 'too-large':
          throw new OutputFileError(413, 'file-too-large', `${checked.path} is ${h.size} bytes, over the ${FILE_DOWNLOAD_MAX_BYTES}-byte download limit`);
        case 'outside':
          throw new OutputFileError(403, 'path-refused', `refused: ${checked.path} resolves outside the session's output directory (a symlink)`);
        default:
          throw new ControlError('parse-error', `reading ${checked.path}: unexpected answer from the container`);
      }
    }
    return { path: checked.path, size: h.size, contentType: contentTypeFor(checked.path), body: header.body, abort: () => s.abort() };
  }
}

/**
 * Reads the first line of `src` (at most `max` bytes) and hands back the rest unread: the bytes after the
 * newline are put back (unshift) and the stream is left paused for the caller to pipe. Rejects when the
 * stream ends or errs before a newline, or the line is too long.
 */
export function splitHeader(src: Readable, max: number): Promise<{ line: string; body: Readable }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      src.off('data', onData);
      src.off('end', onEnd);
      src.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > max) {
          cleanup();
          src.destroy();
          reject(new Error('header line too long'));
        }
        return;
      }
      cleanup();
      src.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) src.unshift(rest);
      resolve({ line: buf.subarray(0, nl).toString('utf8'), body: src });
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(buf.length === 0 ? 'no output' : 'output ended inside the header line'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    src.on('data', onData);
    src.once('end', onEnd);
    src.once('error', onError);
  });
}
