/**
 * The first gate of a file download: the path a browser asked for, checked as text before anything runs.
 * It must name something below the session's output directory by relative, '/'-separated segments.
 * Express has already percent-decoded each segment once, so what arrives here is the decoded text; a
 * `%XX` still in it was encoded twice (`%252e%252e`) and is refused rather than trusted to mean itself.
 * Symlinks cannot be judged here: the container resolves them (./scripts.ts) and the relay checks that
 * answer again (the second gate).
 */
import { MAX_FILE_PATH_CHARS } from '../../../shared/model/console.js';

/** Linux's NAME_MAX: a longer segment cannot exist. */
const MAX_SEGMENT_BYTES = 255;

export type PathRefusal =
  | 'empty'
  | 'too-long'
  | 'nul'
  | 'backslash'
  | 'absolute'
  | 'dot-segment'
  | 'empty-segment'
  | 'encoded'
  | 'segment-too-long'
  | 'not-text';

export type PathCheck = { ok: true; path: string } | { ok: false; refusal: PathRefusal; message: string };

const MESSAGES: Record<PathRefusal, string> = {
  empty: 'no file path',
  'too-long': `the path is over ${MAX_FILE_PATH_CHARS} characters`,
  nul: 'the path contains a NUL character',
  backslash: 'the path contains a backslash',
  absolute: 'the path is absolute; paths are relative to the session output directory',
  'dot-segment': "the path has a '.' or '..' segment",
  'empty-segment': "the path has an empty segment ('//' or a trailing '/')",
  encoded: 'the path still holds percent-encoding after decoding (encoded twice)',
  'segment-too-long': `a path segment is over ${MAX_SEGMENT_BYTES} bytes`,
  'not-text': 'the path is not text',
};

const refuse = (refusal: PathRefusal): PathCheck => ({ ok: false, refusal, message: MESSAGES[refusal] });

/**
 * `input`: Express 5's `*path` parameter (an array of decoded segments) or a plain string. Every rule is
 * checked on the joined text as well as per segment, so a decoded `%2F` inside one segment cannot smuggle
 * a `..` past the segment rule.
 */
export function checkRelativePath(input: unknown): PathCheck {
  const parts = Array.isArray(input) ? input : [input];
  if (parts.length === 0) return refuse('empty');
  if (!parts.every((p) => typeof p === 'string')) return refuse('not-text');
  const joined = (parts as string[]).join('/');
  if (joined.length === 0) return refuse('empty');
  if (joined.length > MAX_FILE_PATH_CHARS) return refuse('too-long');
  if (joined.includes('\u0000')) return refuse('nul');
  if (joined.includes('\\')) return refuse('backslash');
  if (joined.startsWith('/')) return refuse('absolute');
  if (/%[0-9a-fA-F]{2}/.test(joined)) return refuse('encoded');
  for (const seg of joined.split('/')) {
    if (seg === '') return refuse('empty-segment');
    if (seg === '.' || seg === '..') return refuse('dot-segment');
    if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) return refuse('segment-too-long');
  }
  return { ok: true, path: joined };
}

/** Whether `resolved` (an absolute path the container resolved) lies strictly inside `root`. */
export function insideRoot(root: string, resolved: string): boolean {
  const r = root.endsWith('/') ? root : `${root}/`;
  return resolved.startsWith(r) && resolved.length > r.length && !resolved.slice(r.length).split('/').some((s) => s === '..' || s === '.' || s === '');
}
