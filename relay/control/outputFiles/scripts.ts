/**
 * The two fixed shell programs that read a session's output directory in the container, and the pure
 * parsers of what they print. The programs are constants: the directory, the path a browser asked for
 * and the bounds travel as positional arguments (`sh -c <program> sh <arg>...`), never inside the program
 * text. They use only what Debian's busybox 1.35 (the kit and claude-flow images) and GNU coreutils (the
 * local driver) both have: `find -mindepth -maxdepth -print0 -exec`, `stat -c`/`-L`, `readlink -f`,
 * `head -c`, `command exec`, `/proc/$$/fd`.
 */
import { insideRoot } from './pathCheck.js';

/** Exit codes of both programs besides 0. */
export const EXIT_NO_DIR = 3;
/** The output directory is (or is reached through) a symlink: its resolved path is printed. */
export const EXIT_ROOT_LINK = 4;

/**
 * Resolves the root and refuses one that is a symlink or lies behind one, since a swarm that replaced its
 * own output directory with a link to `/etc` would otherwise have `/etc` listed and served.
 */
const ROOT_GUARD = `root=$1
[ -d "$root" ] || exit ${EXIT_NO_DIR}
real=$(readlink -f -- "$root") || exit ${EXIT_NO_DIR}
if [ "$real" != "$root" ]; then printf '%s' "$real"; exit ${EXIT_ROOT_LINK}; fi
`;

/**
 * `sh -c LIST sh <root> <maxdepth> <byte cap>`: for every entry below root (no symlinks followed), one
 * `stat` line "<size> <mtime s> <type>\n" and then the path as find prints it ("./a/b") ending in NUL. A
 * name may hold spaces or newlines but no NUL, and the stat line comes first and never holds a NUL, so
 * the stream splits without ambiguity. An entry whose stat failed (removed meanwhile) prints nothing.
 * `head -c` bounds the bytes and ends find early (SIGPIPE) on a huge tree.
 */
export const LIST_PROGRAM = `${ROOT_GUARD}cd -- "$root" || exit ${EXIT_NO_DIR}
find . -mindepth 1 -maxdepth "$2" -exec stat -c '%s %Y %F' {} \\; -print0 | head -c "$3"
`;

/**
 * `sh -c READ sh <root> <relative path> <max bytes>`: one header line, then (for OK) the file's bytes.
 *   OK <size>            followed by exactly <size> bytes (more written meanwhile are not sent)
 *   ERR not-found | not-file | outside <resolved> | too-large <size>
 * The file is opened first and the OPENED file's path (/proc/$$/fd/3, the kernel's answer) is checked
 * against the root, then that same descriptor is read: a link swapped in between the checks and the
 * open cannot redirect the read (no time-of-check/time-of-use gap). The checks before the open only give
 * better answers and keep a FIFO from blocking the open.
 */
export const READ_PROGRAM = `${ROOT_GUARD}f="$root/$2"
if [ ! -e "$f" ] && [ ! -L "$f" ]; then echo 'ERR not-found'; exit 0; fi
t=$(readlink -f -- "$f") || { echo 'ERR not-found'; exit 0; }
case "$t" in "$root"/*) ;; *) printf 'ERR outside %s\\n' "$t"; exit 0 ;; esac
[ -f "$t" ] || { echo 'ERR not-file'; exit 0; }
command exec 3< "$t" 2>/dev/null || { echo 'ERR not-found'; exit 0; }
o=$(readlink /proc/$$/fd/3)
case "$o" in "$root"/*) ;; *) printf 'ERR outside %s\\n' "$o"; exit 0 ;; esac
[ -f /proc/$$/fd/3 ] || { echo 'ERR not-file'; exit 0; }
size=$(stat -L -c %s /proc/$$/fd/3) || { echo 'ERR not-found'; exit 0; }
if [ "$size" -gt "$3" ]; then echo "ERR too-large $size"; exit 0; fi
echo "OK $size"
exec head -c "$size" <&3
`;

export function listArgv(root: string, maxDepth: number, byteCap: number): string[] {
  return ['sh', '-c', LIST_PROGRAM, 'sh', root, String(maxDepth + 1), String(byteCap)];
}

export function readArgv(root: string, rel: string, maxBytes: number): string[] {
  return ['sh', '-c', READ_PROGRAM, 'sh', root, rel, String(maxBytes)];
}

export interface ListedFile {
  path: string;
  size: number;
  mtime: number;
}

export interface ParsedListing {
  files: ListedFile[];
  /** Entries below maxDepth, past maxEntries, or cut by the byte cap were left out. */
  truncated: boolean;
  /** Entries that were not regular files (symlinks, fifos...) or had unusable names, left out. */
  skipped: number;
}

const STAT_LINE = /^(\d{1,18}) (-?\d{1,14}) ([a-z ]{1,40})$/;

/**
 * Parses LIST_PROGRAM's output. `capped`: the output reached the byte cap (its last entry may be cut).
 * Regular files only (symlinks are not followed into, nor listed: what they name may be outside), at
 * most `maxEntries`, sorted by path; anything deeper than `maxDepth` sets `truncated`.
 */
export function parseListing(out: string, opts: { maxEntries: number; maxDepth: number; maxPathChars: number; capped: boolean }): ParsedListing {
  const files: ListedFile[] = [];
  let truncated = opts.capped;
  let skipped = 0;
  let i = 0;
  while (i < out.length) {
    const nl = out.indexOf('\n', i);
    if (nl < 0) break; // a cut stat line (cap reached)
    const stat = STAT_LINE.exec(out.slice(i, nl));
    const nul = out.indexOf('\u0000', nl + 1);
    if (nul < 0) break; // a cut name (cap reached)
    const name = out.slice(nl + 1, nul);
    i = nul + 1;
    if (!stat || !name.startsWith('./')) {
      // Not what find and stat print: skip to the next NUL-terminated record rather than guess.
      skipped++;
      continue;
    }
    const rel = name.slice(2);
    const depth = rel.split('/').length;
    if (depth > opts.maxDepth) {
      truncated = true;
      continue;
    }
    if (!stat[3]!.startsWith('regular')) {
      if (stat[3] !== 'directory') skipped++;
      continue;
    }
    if (rel.length === 0 || rel.length > opts.maxPathChars) {
      skipped++;
      continue;
    }
    if (files.length >= opts.maxEntries) {
      truncated = true;
      continue;
    }
    files.push({ path: rel, size: Number(stat[1]), mtime: Number(stat[2]) * 1000 });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, truncated, skipped };
}

export type ReadHeader =
  | { ok: true; size: number }
  | { ok: false; reason: 'not-found' | 'not-file' | 'too-large' | 'outside' | 'garbled'; size?: number; resolved?: string };

/** READ_PROGRAM's first line; `root` to check an `outside` answer against (defence in depth). */
export function parseReadHeader(line: string, root: string): ReadHeader {
  let m = /^OK (\d{1,18})$/.exec(line);
  if (m) return { ok: true, size: Number(m[1]) };
  m = /^ERR too-large (\d{1,18})$/.exec(line);
  if (m) return { ok: false, reason: 'too-large', size: Number(m[1]) };
  if (line === 'ERR not-found') return { ok: false, reason: 'not-found' };
  if (line === 'ERR not-file') return { ok: false, reason: 'not-file' };
  m = /^ERR outside (.{1,4096})$/.exec(line);
  if (m && !insideRoot(root, m[1]!)) return { ok: false, reason: 'outside', resolved: m[1]! };
  return { ok: false, reason: 'garbled' };
}
