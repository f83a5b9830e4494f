/**
 * The session console's pure pieces (DOM-free, unit-tested): which session a key press opens, sizes,
 * times and progress as the console words them (unknown stays "unknown", never 0), whether a file's
 * first bytes can be previewed as text, search over the terminal's rows, and the plain-text tail of a
 * terminal log that the XR detail card shows.
 */
import { TERMINAL_SESSION_STATUSES, type Session } from '../../shared/index.js';

/** Bytes of a file the Files tab reads for its preview; the rest is left to the download. */
export const PREVIEW_MAX_BYTES = 64 * 1024;

/**
 * The session a console opened by key shows: the selected agent's session, else the newest session
 * still running, else the newest of all; null when there is none.
 */
export function consoleTarget(selectedAgentSession: string | null, sessions: Iterable<Session>): string | null {
  if (selectedAgentSession) return selectedAgentSession;
  let live: Session | null = null;
  let any: Session | null = null;
  for (const s of sessions) {
    if (!any || (s.createdAt ?? 0) > (any.createdAt ?? 0)) any = s;
    if (!TERMINAL_SESSION_STATUSES.includes(s.status) && (!live || (s.createdAt ?? 0) > (live.createdAt ?? 0))) live = s;
  }
  return (live ?? any)?.uuid ?? null;
}

/** "0 B", "512 B", "1.5 KiB", "12 MiB": binary units, one decimal below ten. */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n) || n < 0) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} B`;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A modification time as local "YYYY-MM-DD HH:MM:SS"; "unknown" for what is not a time. */
export function formatMtime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms <= 0) return 'unknown';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return 'unknown';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A task's progress as words: "unknown" when the backend reports none (null is not 0 %). */
export function progressLabel(progress: number | null): string {
  if (progress === null || !Number.isFinite(progress)) return 'unknown';
  return `${Math.round(Math.min(1, Math.max(0, progress)) * 100)}%`;
}

/** How far the live log lags, in words: what the relay holds back for this page's byte budget. */
export function behindLabel(bytes: number): string | null {
  return bytes > 0 ? `${formatBytes(bytes)} behind the live log (the relay is pacing this page)` : null;
}

export type Preview =
  | { kind: 'text'; text: string; truncated: boolean }
  | { kind: 'binary'; why: string };

const BINARY_TYPES = /^(image|audio|video|font)\/|^application\/(zip|gzip|x-gzip|x-tar|pdf|wasm|x-7z-compressed|vnd\.)/i;

/**
 * Whether a file's first bytes can be shown as text: not for a binary content type, a NUL byte, or
 * bytes that are not UTF-8 (an incomplete character at the cut of a truncated read is fine).
 */
export function previewOf(contentType: string, bytes: Uint8Array, truncated: boolean): Preview {
  const type = contentType.split(';')[0]!.trim() || 'no content type';
  if (BINARY_TYPES.test(type)) return { kind: 'binary', why: `${type} is not text` };
  if (bytes.includes(0)) return { kind: 'binary', why: `binary content (${type}, holds NUL bytes)` };
  let body = bytes;
  // A read cut at PREVIEW_MAX_BYTES may end inside a character: drop up to 3 bytes of it.
  if (truncated) body = body.subarray(0, completeUtf8Length(body));
  try {
    return { kind: 'text', text: new TextDecoder('utf-8', { fatal: true }).decode(body), truncated };
  } catch {
    return { kind: 'binary', why: `not UTF-8 text (${type})` };
  }
}

/** Length of `b` without a UTF-8 character that its end cuts in two. */
export function completeUtf8Length(b: Uint8Array): number {
  let i = b.length;
  // Back over at most 3 continuation bytes to the lead byte of the last character.
  while (i > 0 && b.length - i < 3 && (b[i - 1]! & 0xc0) === 0x80) i--;
  if (i === 0) return b.length;
  const lead = b[i - 1]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return b.length - (i - 1) < need ? i - 1 : b.length;
}

/** Terminal control sequences: CSI, OSC (to BEL or ST), other two-byte escapes, lone control characters. */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/**
 * The last `lines` non-blank lines of terminal output as plain text, each at most `width` characters:
 * escapes removed, and a carriage return keeps what was drawn over it last (progress spinners).
 */
export function plainTail(text: string, lines: number, width: number): string[] {
  const out: string[] = [];
  const rows = text.split('\n');
  for (let i = rows.length - 1; i >= 0 && out.length < lines; i--) {
    const parts = stripAnsi(rows[i]!).split('\r');
    // "\r" at the end of a line (CRLF) leaves an empty last part: the line is the one before it.
    const line = ([...parts].reverse().find((p) => p.trim() !== '') ?? '').replace(/\t/g, '  ').trimEnd();
    if (line.trim() === '') continue;
    out.push(line.length > width ? `${line.slice(0, width - 1)}…` : line);
  }
  return out.reverse();
}

export interface Match {
  row: number;
  col: number;
  length: number;
}

/** Every case-insensitive occurrence of `query` in the terminal's rows, top to bottom. */
export function findInRows(rows: readonly string[], query: string, cap = 10_000): Match[] {
  const q = query.toLowerCase();
  if (!q) return [];
  const out: Match[] = [];
  rows.forEach((r, row) => {
    const line = r.toLowerCase();
    for (let col = line.indexOf(q); col !== -1 && out.length < cap; col = line.indexOf(q, col + q.length)) out.push({ row, col, length: q.length });
  });
  return out;
}

/** The match to go to from `current` (-1: none yet), forwards or backwards, wrapping around. */
export function stepMatch(count: number, current: number, backwards: boolean): number {
  if (count === 0) return -1;
  if (current < 0) return backwards ? count - 1 : 0;
  return backwards ? (current - 1 + count) % count : (current + 1) % count;
}
