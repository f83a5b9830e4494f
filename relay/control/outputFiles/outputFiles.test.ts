// The pure parts of a session's output files: the path gate (every traversal variant the issue names),
// content types and the download's Content-Disposition, the listing parser (names with spaces, newlines,
// unicode, hostile and cut output) and the read header.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkRelativePath, insideRoot } from './pathCheck.js';
import { contentDisposition, contentTypeFor, isTextType } from './contentType.js';
import { parseListing, parseReadHeader } from './scripts.js';
import { splitHeader } from './outputFiles.js';

describe('path gate', () => {
  const refused = (p: unknown) => {
    const r = checkRelativePath(p);
    return r.ok ? null : r.refusal;
  };

  it('accepts relative paths below the directory, as a string or as Express 5 wildcard segments', () => {
    expect(checkRelativePath('result.md')).toEqual({ ok: true, path: 'result.md' });
    expect(checkRelativePath(['tasks', '001-research.md'])).toEqual({ ok: true, path: 'tasks/001-research.md' });
    expect(checkRelativePath(['with space', 'naïve 蜂.txt'])).toEqual({ ok: true, path: 'with space/naïve 蜂.txt' });
    expect(checkRelativePath('...hidden')).toMatchObject({ ok: true });
    expect(checkRelativePath('50% done.txt')).toMatchObject({ ok: true });
  });

  it('refuses .. and . segments however they arrive (plain, decoded from %2e / %2F inside one segment)', () => {
    expect(refused('../etc/passwd')).toBe('dot-segment');
    expect(refused(['..', '..', 'etc', 'passwd'])).toBe('dot-segment');
    expect(refused(['a', '..', '..', 'x'])).toBe('dot-segment');
    expect(refused(['../../etc/passwd'])).toBe('dot-segment'); // '%2e%2e%2f' decoded inside one segment
    expect(refused('a/./b')).toBe('dot-segment');
    expect(refused('..')).toBe('dot-segment');
  });

  it('refuses absolute paths, backslashes, NUL, empty segments, double-encoding and non-text', () => {
    expect(refused('/etc/passwd')).toBe('absolute');
    expect(refused(['', 'etc', 'passwd'])).toBe('absolute');
    expect(refused(['/etc/passwd'])).toBe('absolute');
    expect(refused('..\\..\\etc\\passwd')).toBe('backslash');
    expect(refused('a\\b')).toBe('backslash');
    expect(refused('result.md\u0000.png')).toBe('nul');
    expect(refused('a//b')).toBe('empty-segment');
    expect(refused('a/')).toBe('empty-segment');
    expect(refused('%2e%2e/%2e%2e/etc/passwd')).toBe('encoded'); // %252e%252e decoded once
    expect(refused('a%2Fb')).toBe('encoded');
    expect(refused('%00')).toBe('encoded');
    expect(refused('')).toBe('empty');
    expect(refused([])).toBe('empty');
    expect(refused([1, 2])).toBe('not-text');
    expect(refused(undefined)).toBe('not-text');
    expect(refused({ path: 'x' })).toBe('not-text');
    expect(refused('x'.repeat(1025))).toBe('too-long');
    expect(refused(`${'y'.repeat(256)}/a`)).toBe('segment-too-long');
  });

  it('insideRoot: strictly below the root, by whole segments', () => {
    expect(insideRoot('/w/ext/s', '/w/ext/s/a.md')).toBe(true);
    expect(insideRoot('/w/ext/s', '/w/ext/s')).toBe(false);
    expect(insideRoot('/w/ext/s', '/w/ext/s2/a.md')).toBe(false);
    expect(insideRoot('/w/ext/s', '/etc/passwd')).toBe(false);
    expect(insideRoot('/w/ext/s', '/w/ext/s/../x')).toBe(false);
  });
});

describe('content types', () => {
  it('by extension; active content (html, svg, js) is served as inert text; unknown is octet-stream', () => {
    expect(contentTypeFor('notes.txt')).toBe('text/plain; charset=utf-8');
    expect(contentTypeFor('tasks/001-x.md')).toBe('text/markdown; charset=utf-8');
    expect(contentTypeFor('data.JSON')).toBe('application/json');
    expect(contentTypeFor('chart.png')).toBe('image/png');
    expect(contentTypeFor('photo.jpeg')).toBe('image/jpeg');
    expect(contentTypeFor('page.html')).toBe('text/plain; charset=utf-8');
    expect(contentTypeFor('icon.svg')).toBe('text/plain; charset=utf-8');
    expect(contentTypeFor('app.js')).toBe('text/plain; charset=utf-8');
    expect(contentTypeFor('blob.bin')).toBe('application/octet-stream');
    expect(contentTypeFor('Makefile')).toBe('application/octet-stream');
    expect(contentTypeFor('.bashrc')).toBe('application/octet-stream');
    expect(contentTypeFor('README')).toBe('text/plain; charset=utf-8');
    expect(isTextType('application/json')).toBe(true);
    expect(isTextType('image/png')).toBe(false);
  });

  it('Content-Disposition: attachment with an ASCII fallback and the exact name in filename*', () => {
    expect(contentDisposition('tasks/result.md')).toBe(`attachment; filename="result.md"; filename*=UTF-8''result.md`);
    const d = contentDisposition('a/"evil"\r\nX-Injected: 1;蜂.txt');
    expect(d).not.toMatch(/[\r\n]/);
    expect(d).toContain('filename="_evil___X-Injected: 1;_.txt"');
    expect(decodeURIComponent(d.split("UTF-8''")[1]!)).toBe('"evil"\r\nX-Injected: 1;蜂.txt');
  });
});

/** What LIST_PROGRAM prints per entry: the stat line, then the path ending in NUL. */
const entry = (path: string, size: number, mtime: number, type = 'regular file') => `${size} ${mtime} ${type}\n./${path}\u0000`;
const opts = { maxEntries: 1000, maxDepth: 8, maxPathChars: 1024, capped: false };

describe('listing parser', () => {
  it('reads names with spaces, newlines and unicode exactly, sorted, mtime in ms; directories and symlinks left out', () => {
    const out = [
      entry('b c.md', 12, 1_790_000_000),
      entry('new\nline.txt', 3, 1_790_000_001),
      entry('蜂/naïve 🐝.json', 7, 1_790_000_002),
      entry('蜂', 4096, 1_790_000_000, 'directory'),
      entry('empty', 0, 1_790_000_003, 'regular empty file'),
      entry('link', 11, 1_790_000_000, 'symbolic link'),
      entry('12 34 regular file\n./x', 5, 1_790_000_004),
    ].join('');
    const r = parseListing(out, opts);
    expect(r.files).toEqual([
      { path: '12 34 regular file\n./x', size: 5, mtime: 1_790_000_004_000 },
      { path: 'b c.md', size: 12, mtime: 1_790_000_000_000 },
      { path: 'empty', size: 0, mtime: 1_790_000_003_000 },
      { path: 'new\nline.txt', size: 3, mtime: 1_790_000_001_000 },
      { path: '蜂/naïve 🐝.json', size: 7, mtime: 1_790_000_002_000 },
    ]);
    expect(r.truncated).toBe(false);
    expect(r.skipped).toBe(1); // the symlink
  });

  it('bounds: entries past maxEntries, deeper than maxDepth, or cut by the byte cap set truncated', () => {
    const many = Array.from({ length: 5 }, (_, i) => entry(`f${i}`, 1, 1)).join('');
    expect(parseListing(many, { ...opts, maxEntries: 3 })).toMatchObject({ truncated: true });
    expect(parseListing(many, { ...opts, maxEntries: 3 }).files).toHaveLength(3);
    const deep = entry('a/b/c', 1, 1) + entry('a/b/c/d', 1, 1);
    const r = parseListing(deep, { ...opts, maxDepth: 3 });
    expect(r.files.map((f) => f.path)).toEqual(['a/b/c']);
    expect(r.truncated).toBe(true);
    const cut = many.slice(0, many.length - 3);
    const c = parseListing(cut, { ...opts, capped: true });
    expect(c.files).toHaveLength(4);
    expect(c.truncated).toBe(true);
  });

  it('garbage, wrong types and over-long names are skipped, never guessed', () => {
    const out = ['not a stat line\n./x\u0000', '-1 5 regular file\n./neg\u0000', '1 2 regular file\nno-dot-slash\u0000', entry('x'.repeat(1100), 1, 1), entry('ok', 1, 1), '\u0000\u0000\n\n'].join('');
    const r = parseListing(out, opts);
    expect(r.files.map((f) => f.path)).toEqual(['ok']);
    expect(r.skipped).toBe(4);
    expect(parseListing('', opts)).toEqual({ files: [], truncated: false, skipped: 0 });
    expect(parseListing('9'.repeat(40) + ' 1 regular file\n./big\u0000', opts).files).toEqual([]);
  });
});

describe('read header', () => {
  it('OK with a size, each refusal, and anything else garbled', () => {
    expect(parseReadHeader('OK 42', '/r')).toEqual({ ok: true, size: 42 });
    expect(parseReadHeader('ERR too-large 99999999', '/r')).toEqual({ ok: false, reason: 'too-large', size: 99999999 });
    expect(parseReadHeader('ERR not-found', '/r')).toEqual({ ok: false, reason: 'not-found' });
    expect(parseReadHeader('ERR not-file', '/r')).toEqual({ ok: false, reason: 'not-file' });
    expect(parseReadHeader('ERR outside /etc/passwd', '/r')).toEqual({ ok: false, reason: 'outside', resolved: '/etc/passwd' });
    // An "outside" that is in fact inside is not believed: garbled (502), never served.
    expect(parseReadHeader('ERR outside /r/a', '/r')).toMatchObject({ reason: 'garbled' });
    for (const line of ['', 'OK', 'OK -1', 'OK 1 2', 'ok 5', 'OK 99999999999999999999', 'root:x:0:0']) expect(parseReadHeader(line, '/r')).toMatchObject({ ok: false, reason: 'garbled' });
  });

  it('splitHeader hands back the bytes after the first newline, however the chunks split', async () => {
    const src = new PassThrough();
    const p = splitHeader(src, 64);
    src.write('OK');
    src.write(' 5\nab');
    src.end('cde');
    const { line, body } = await p;
    expect(line).toBe('OK 5');
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abcde');
    const long = new PassThrough();
    const q = splitHeader(long, 8);
    long.write('x'.repeat(20));
    await expect(q).rejects.toThrow(/too long/);
    const empty = new PassThrough();
    const e = splitHeader(empty, 8);
    empty.end();
    await expect(e).rejects.toThrow(/no output/);
  });
});
