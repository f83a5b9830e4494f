import { describe, expect, it } from 'vitest';
import {
  behindLabel,
  completeUtf8Length,
  consoleTarget,
  findInRows,
  formatBytes,
  formatMtime,
  plainTail,
  previewOf,
  progressLabel,
  stepMatch,
  stripAnsi,
} from './consoleModel.js';
import type { Session } from '../../shared/index.js';

const session = (uuid: string, status: Session['status'], createdAt: number | null): Session =>
  ({ uuid, status, createdAt, swarmId: null, task: uuid, priority: 'medium', updatedAt: null, lastActivity: null, config: null, backend: 'session-manager', progress: null, agentCount: null, replaces: null });

describe('console: which session a key press opens', () => {
  const sessions = [session('old-running', 'running', 1), session('new-stopped', 'stopped', 3), session('new-running', 'paused', 2)];
  it('the selected agent\'s session first, else the newest live one, else the newest of all, else none', () => {
    expect(consoleTarget('mine', sessions)).toBe('mine');
    expect(consoleTarget(null, sessions)).toBe('new-running');
    expect(consoleTarget(null, [session('a', 'stopped', 1), session('b', 'failed', 5)])).toBe('b');
    expect(consoleTarget(null, [])).toBeNull();
  });
});

describe('console: sizes, times, progress', () => {
  it('formats sizes in binary units without invented precision', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB');
    expect(formatBytes(null)).toBe('unknown');
    expect(formatBytes(-1)).toBe('unknown');
    expect(formatBytes(Number.NaN)).toBe('unknown');
  });

  it('formats an mtime as a local date and time; a non-time is unknown', () => {
    const t = new Date(2026, 11, 5, 1, 2, 3).getTime();
    expect(formatMtime(t)).toBe('2026-12-05 01:02:03');
    expect(formatMtime(0)).toBe('unknown');
    expect(formatMtime(Number.POSITIVE_INFINITY)).toBe('unknown');
    expect(formatMtime(null)).toBe('unknown');
  });

  it('a task without progress is "unknown", never 0 %; progress is clamped to 0..100 %', () => {
    expect(progressLabel(null)).toBe('unknown');
    expect(progressLabel(0)).toBe('0%');
    expect(progressLabel(0.426)).toBe('43%');
    expect(progressLabel(1)).toBe('100%');
    expect(progressLabel(7)).toBe('100%');
  });

  it('says how far behind the live log is only when it is', () => {
    expect(behindLabel(0)).toBeNull();
    expect(behindLabel(2048)).toMatch(/^2\.0 KiB behind/);
  });
});

describe('console: file preview', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('shows UTF-8 text, and a truncated read that ends inside a character', () => {
    expect(previewOf('text/markdown; charset=utf-8', enc('# Notes\nv2 ✓'), false)).toEqual({ kind: 'text', text: '# Notes\nv2 ✓', truncated: false });
    const cut = enc('price: 5€').subarray(0, 9); // '€' is 3 bytes: 2 of them kept
    expect(previewOf('text/plain', cut, true)).toEqual({ kind: 'text', text: 'price: 5', truncated: true });
    // Unknown content types are sniffed rather than trusted.
    expect(previewOf('application/octet-stream', enc('plain log\n'), false).kind).toBe('text');
  });

  it('never previews binary: a binary type, NUL bytes, or bytes that are not UTF-8, and says why', () => {
    expect(previewOf('image/png', enc('PNG'), false)).toEqual({ kind: 'binary', why: 'image/png is not text' });
    expect(previewOf('application/octet-stream', new Uint8Array([1, 0, 2]), false)).toMatchObject({ kind: 'binary', why: expect.stringMatching(/NUL/) });
    expect(previewOf('', new Uint8Array([0xff, 0xfe, 0x41]), false)).toMatchObject({ kind: 'binary', why: expect.stringMatching(/not UTF-8/) });
    // An invalid sequence inside (not at the cut) is binary even when truncated.
    expect(previewOf('text/plain', new Uint8Array([0x41, 0xc3, 0x41, 0x41]), true).kind).toBe('binary');
  });

  it('completeUtf8Length keeps whole characters only', () => {
    const e = enc('a€');
    expect(completeUtf8Length(e)).toBe(4);
    expect(completeUtf8Length(e.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(e.subarray(0, 2))).toBe(1);
    expect(completeUtf8Length(enc('😀').subarray(0, 3))).toBe(0);
    expect(completeUtf8Length(new Uint8Array())).toBe(0);
  });
});

describe('console: terminal text', () => {
  it('strips colours, cursor moves and titles', () => {
    expect(stripAnsi('\u001b[1;32m✓ done\u001b[0m \u001b]0;title\u0007\u001b[2K\u001b[1Gok')).toBe('✓ done ok');
  });

  it('the XR tail is the last non-blank lines as plain text, spinners collapsed, long lines cut', () => {
    const log = 'first\n\u001b[33mwarn\u001b[0m\r\n⠋ working\r⠙ working\r✓ built\n\n   \n' + 'x'.repeat(50) + '\n';
    expect(plainTail(log, 3, 20)).toEqual(['warn', '✓ built', `${'x'.repeat(19)}…`]);
    expect(plainTail(log, 10, 80)[0]).toBe('first');
    expect(plainTail('', 3, 20)).toEqual([]);
  });

  it('search finds every case-insensitive match by row and column, and steps with wrap-around', () => {
    const m = findInRows(['Error: a', 'ok', 'another error, ERROR'], 'error');
    expect(m).toEqual([
      { row: 0, col: 0, length: 5 },
      { row: 2, col: 8, length: 5 },
      { row: 2, col: 15, length: 5 },
    ]);
    expect(findInRows(['abc'], '')).toEqual([]);
    expect(findInRows(['aaaa'], 'a', 2)).toHaveLength(2);
    expect(stepMatch(3, -1, false)).toBe(0);
    expect(stepMatch(3, -1, true)).toBe(2);
    expect(stepMatch(3, 2, false)).toBe(0);
    expect(stepMatch(3, 0, true)).toBe(2);
    expect(stepMatch(0, 0, false)).toBe(-1);
  });
});
