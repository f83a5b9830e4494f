// The Files routes on a real HTTP server over the real local exec driver (real sh, find, stat, readlink
// against a real directory): names with spaces, newlines and unicode listed and downloaded byte-exact,
// and every traversal the issue names refused with a 4xx that leaks nothing (raw `..`, encoded and
// double-encoded, backslash, absolute, NUL, a symlink to /etc/passwd, a parent directory that is a
// symlink, a symlink to a sibling outside, a root that is itself a link), an oversize file, a bad uuid
// and an unknown session.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_DOWNLOAD_MAX_BYTES, FilesListSchema } from '../../shared/model/console.js';
import { LocalDriver } from '../control/drivers/local.js';
import { ControlError } from '../control/errors.js';
import { OutputFiles } from '../control/outputFiles/outputFiles.js';
import { sessionOutputRoutes } from './sessionOutputRoutes.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { HOSTILE_STRINGS, int, mutateText, pick, rng } from '../testing/fuzz.js';

const UUID = 'aaaaaaaa-1111-4222-8333-444444444444';
const LINKED = 'bbbbbbbb-1111-4222-8333-444444444444';
const UNKNOWN = 'cccccccc-1111-4222-8333-444444444444';
const SECRET = 'SECRET-OUTSIDE-THE-DIRECTORY';
const BINARY = Buffer.from(Array.from({ length: 3 * 256 }, (_, i) => i % 256));

let server: http.Server;
let base = '';
let root = '';
const driver = new LocalDriver();

/** One GET with the path sent exactly as written (no client-side normalisation of `..` or `//`). */
function get(rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const files = (uuid = UUID) => `/api/sessions/${uuid}/files`;

beforeAll(async () => {
  const top = fs.realpathSync(makeTempDir('hive-files-'));
  root = path.join(top, 'out');
  fs.mkdirSync(path.join(root, 'sub dir'), { recursive: true });
  fs.writeFileSync(path.join(top, 'secret.txt'), SECRET);
  fs.writeFileSync(path.join(root, 'result.md'), '# Result\n\nrelease notes 🐝\n');
  fs.writeFileSync(path.join(root, 'bin.dat'), BINARY);
  fs.writeFileSync(path.join(root, 'sub dir', 'naïve 蜂.json'), '{"a":1}');
  fs.writeFileSync(path.join(root, 'new\nline.txt'), 'two\nlines');
  fs.closeSync(fs.openSync(path.join(root, 'big.bin'), 'w'));
  fs.truncateSync(path.join(root, 'big.bin'), FILE_DOWNLOAD_MAX_BYTES + 1);
  fs.symlinkSync('/etc/passwd', path.join(root, 'passwd-link'));
  fs.symlinkSync('/etc', path.join(root, 'etc-dir'));
  fs.symlinkSync('../secret.txt', path.join(root, 'up-link'));
  fs.symlinkSync('result.md', path.join(root, 'inner-link'));
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  // A session whose output directory itself is a link to /etc.
  fs.symlinkSync('/etc', path.join(top, 'linked-out'));
  const dirs: Record<string, string> = { [UUID]: root, [LINKED]: path.join(top, 'linked-out') };
  const outputs = new OutputFiles({
    run: (argv, o) => driver.exec(argv, { timeoutMs: o.timeoutMs ?? 10_000, maxOutputBytes: 4 * 1024 * 1024 }),
    driver: () => driver,
    maxOutputBytes: 4 * 1024 * 1024,
    downloadTimeoutMs: 20_000,
    locate: async (uuid) => {
      const dir = dirs[uuid];
      if (!dir) throw new ControlError('session-not-found', `no session ${uuid}`);
      return { dir };
    },
  });
  const app = express();
  app.use(sessionOutputRoutes({ listFiles: (u, c) => outputs.list(u, c), openFile: (u, p, c) => outputs.open(u, p, c), tasks: async () => ({ supported: false, reason: 'not here', tasks: [] }) }));
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await driver.close();
});

describe('listing', () => {
  it('lists regular files with exact names, sizes and mtimes; links, fifos and directories left out', async () => {
    const r = await get(files());
    expect(r.status).toBe(200);
    const list = FilesListSchema.parse(JSON.parse(r.body.toString()));
    expect(list.root).toBe(root);
    expect(list.truncated).toBe(false);
    expect(list.files.map((f) => f.path)).toEqual(['big.bin', 'bin.dat', 'new\nline.txt', 'result.md', 'sub dir/naïve 蜂.json']);
    const bin = list.files.find((f) => f.path === 'bin.dat')!;
    expect(bin.size).toBe(BINARY.length);
    expect(Math.abs(bin.mtime - fs.statSync(path.join(root, 'bin.dat')).mtimeMs)).toBeLessThan(1000);
  });

  it('a session whose directory is a symlink is refused, not listed', async () => {
    const r = await get(files(LINKED));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body.toString()).error.code).toBe('path-refused');
    expect(r.body.toString()).not.toContain('passwd');
  });

  it('bad uuid 400, unknown session 404', async () => {
    expect((await get('/api/sessions/not-a-uuid/files')).status).toBe(400);
    expect((await get("/api/sessions/..%2F..%2Fetc/files")).status).toBe(400);
    const u = await get(files(UNKNOWN));
    expect(u.status).toBe(404);
    expect(JSON.parse(u.body.toString()).error.code).toBe('session-not-found');
  });
});

describe('download', () => {
  it('streams bytes exactly with the type by extension, attachment and nosniff', async () => {
    const md = await get(`${files()}/result.md`);
    expect(md.status).toBe(200);
    expect(md.body.equals(fs.readFileSync(path.join(root, 'result.md')))).toBe(true);
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.headers['content-length']).toBe(String(md.body.length));
    expect(md.headers['content-disposition']).toBe(`attachment; filename="result.md"; filename*=UTF-8''result.md`);
    expect(md.headers['x-content-type-options']).toBe('nosniff');
    const bin = await get(`${files()}/bin.dat`);
    expect(bin.body.equals(BINARY)).toBe(true);
    expect(bin.headers['content-type']).toBe('application/octet-stream');
    const json = await get(`${files()}/${encodeURIComponent('sub dir')}/${encodeURIComponent('naïve 蜂.json')}`);
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toBe('application/json');
    expect(json.body.toString()).toBe('{"a":1}');
    const nl = await get(`${files()}/new%0Aline.txt`);
    expect(nl.body.toString()).toBe('two\nlines');
    // A link that stays inside the directory is followed.
    expect((await get(`${files()}/inner-link`)).body.equals(md.body)).toBe(true);
  });

  it('refuses every traversal with a 4xx and leaks nothing', async () => {
    const attempts: [string, number][] = [
      ['../secret.txt', 400],
      ['..%2Fsecret.txt', 400],
      ['%2e%2e/secret.txt', 400],
      ['%2E%2E%2Fsecret.txt', 400],
      ['%252e%252e/secret.txt', 400],
      ['%252e%252e%252fsecret.txt', 400],
      ['..%5Csecret.txt', 400],
      ['..\\secret.txt', 400],
      ['%2Fetc%2Fpasswd', 400],
      ['/etc/passwd', 400],
      ['sub%20dir/../../secret.txt', 400],
      ['result.md%00.png', 400],
      ['./result.md', 400],
      ['passwd-link', 403],
      ['etc-dir/passwd', 403],
      ['up-link', 403],
      ['pipe', 404],
      ['sub%20dir', 404],
      ['nope.md', 404],
      ['%E0%A4%A', 400],
    ];
    const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    for (const [p, status] of attempts) {
      const r = await get(`${files()}/${p}`);
      expect({ p, status: r.status }).toEqual({ p, status });
      const text = r.body.toString();
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(passwd);
      expect(JSON.parse(text).error.code).toMatch(status === 404 ? /not-found/ : status === 403 ? /path-refused/ : /path-refused|bad-request/);
    }
  });

  it('a file over the limit is refused with 413 file-too-large before any byte', async () => {
    const r = await get(`${files()}/big.bin`);
    expect(r.status).toBe(413);
    expect(r.body.length).toBeLessThan(1000);
    expect(JSON.parse(r.body.toString()).error.code).toBe('file-too-large');
  });
});

describe('hostile paths, seeded (the hostile-input suite\'s generators)', () => {
  it('500 generated paths: each answered 200 with the exact bytes of a file inside, or 4xx JSON; never 5xx, never a byte from outside', async () => {
    const r = rng(Number(process.env.FUZZ_SEED ?? 20261205));
    const seeds = ['result.md', 'sub dir/naïve 蜂.json', '../secret.txt', 'passwd-link', 'etc-dir/passwd', 'up-link', '%2e%2e/secret.txt', 'bin.dat'];
    const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
    const bad: string[] = [];
    const seen = { served: 0, refused: 0 };
    for (let i = 0; i < 500; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          // '?' and '#' end a URL's path: they are not path characters to send. Bounded so the request line stays under Node's header limit.
          const text = (int(r, 0, 3) === 0 ? String(pick(r, HOSTILE_STRINGS)) : mutateText(r, pick(r, seeds))).replace(/[\ud800-\udfff?#]/g, '_').slice(0, 400) || '_';
          // Sent as the raw path: encoded per segment half the time, byte-for-byte (where HTTP allows) the rest.
          const p = int(r, 0, 1) === 0 ? text.split('/').map(encodeURIComponent).join('/') : encodeURI(text);
          const res = await get(`${files()}/${p}`);
          const body = res.body.toString('latin1');
          if (body.includes(SECRET) || body.includes(passwd)) bad.push(`${p} leaked`);
          if (res.status === 200) seen.served++;
          else seen.refused++;
          if (res.status === 200) {
            // Only a real file below the directory may be served, and exactly it.
            const name = decodeURIComponent(p);
            const local = path.join(root, name);
            if (!local.startsWith(`${root}/`) || !fs.existsSync(local) || !res.body.equals(fs.readFileSync(fs.realpathSync(local)))) bad.push(`${p} -> 200 with other bytes`);
          } else if (res.status >= 500) bad.push(`${p} -> ${res.status}`);
          else {
            let code: string | undefined;
            try {
              code = (JSON.parse(res.body.toString()) as { error?: { code?: string } }).error?.code;
            } catch {
              code = undefined;
            }
            if (!code) bad.push(`${JSON.stringify(p)} -> ${res.status} without an error code: ${JSON.stringify(res.body.toString().slice(0, 80))}`);
          }
        }),
      );
    }
    expect(bad).toEqual([]);
    // Both sides were exercised: real files served, hostile paths refused.
    expect(seen.served).toBeGreaterThan(10);
    expect(seen.refused).toBeGreaterThan(100);
  }, 120_000);

  it('tasks: a bad uuid is 400 before anything runs', async () => {
    for (const u of ['x', '..', '123e4567-e89b-42d3-a456-42661417400', '%00']) expect((await get(`/api/sessions/${u}/tasks`)).status).toBe(400);
  });
});
