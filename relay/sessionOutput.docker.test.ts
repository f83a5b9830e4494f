// The console's Files and Tasks through a real relay (docker driver, telemetry on the container's MCP)
// against a container of the kit's image: a spawned swarm's tasks show with status and progress; the
// files it wrote are listed and downloaded byte-exact (compared with `docker exec cat`), as is a binary
// file holding every byte value; traversal attempts, including a link to /etc/passwd and a link to /etc
// planted in the session's directory, are refused with nothing leaked; a file over the limit is 413.
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { startRelay, type RelayHandle } from './app.js';
import { InitializeSwarmResponseSchema, routes, routePath } from '../shared/api.js';
import { FILE_DOWNLOAD_MAX_BYTES, FilesListSchema, TasksListSchema, type FilesList, type TaskEntry } from '../shared/model/console.js';
import { validSpawn } from './control/testing/harness.js';
import { ensureImage, kitModule } from '../testkit/kitImage.js';
import { dockerAvailable, removeContainer } from '../testkit/kitContainer.js';
import { dockerCli } from '../testkit/docker.js';
import { freePort, portAccepts } from '../testkit/ports.js';
import { pollFor, waitUntil } from '../testkit/wait.js';
import { makeTempDir } from '../testkit/tempDirs.js';

const NAME = `hivescope-files-${process.pid}`;
const BINARY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));

describe.skipIf(!dockerAvailable())('session files and tasks against the kit image (docker driver)', () => {
  let relay: RelayHandle;
  let uuid = '';
  let dir = '';

  const json = async (p: string) => {
    const r = await fetch(`${relay.url}${p}`);
    return { status: r.status, body: (await r.json()) as unknown };
  };
  /** One GET with the path sent exactly as written (fetch would resolve `..` before sending). */
  const raw = (p: string) =>
    new Promise<{ status: number; type: string | undefined; bytes: Buffer }>((resolve, reject) => {
      const u = new URL(relay.url);
      const req = http.request({ host: u.hostname, port: u.port, path: `${routePath(routes.sessionFiles.path, { uuid })}/${p}` }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const inContainer = async (args: string[]) => {
    const r = await dockerCli(['exec', NAME, ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    await removeContainer(NAME);
    await ensureImage();
    const port = await freePort();
    // Speed 10: a subtask runs for about a second, so a poll sees work in progress, and the swarm ends in seconds.
    await (await kitModule()).up({ name: NAME, volume: `${NAME}-workspace`, port, env: { HIVE_SIM_SPEED: '10' } });
    await waitUntil(() => portAccepts(port), 60_000, 100, 'the kit engine in the container');
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HIVE_DRIVER: 'docker', HIVE_CONTAINER: NAME, MCP_PORT: String(port), HIVE_STATE_DIR: makeTempDir('hivescope-files-docker-'), HIVE_EMBEDDED: '0', HIVE_DEMO: '0', LOG_LEVEL: 'silent' });
    relay = await startRelay(config, pino({ level: 'silent' }));
    const r = await fetch(`${relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...validSpawn, customPrompt: 'Write release notes for v2, then check every link' }) });
    expect(r.status).toBe(202);
    uuid = InitializeSwarmResponseSchema.parse(await r.json()).uuid;
    dir = `/workspace/ext/hive-sessions/${uuid}`;
  }, 180_000);

  afterAll(async () => {
    await relay?.close();
    await removeContainer(NAME);
  });

  it("the kit session's tasks show with status, assignee and progress, as work runs and once it is done", async () => {
    let running: TaskEntry | null = null;
    const final = await pollFor(async () => {
      const r = await json(routePath(routes.sessionTasks.path, { uuid }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const t = TasksListSchema.parse(r.body);
      expect(t.supported).toBe(true);
      running ??= t.tasks.find((x) => x.status === 'running' && x.progress !== null) ?? null;
      return t.tasks.length > 2 && t.tasks.every((x) => x.status === 'completed' || x.status === 'failed') ? t : undefined;
    }, 90_000, 'every task settled', 100);
    expect(running).not.toBeNull();
    expect(running!.progress).toBeGreaterThanOrEqual(0);
    expect(running!.progress).toBeLessThan(1);
    expect(running!.assignee).toMatch(/^agent-/);
    for (const t of final.tasks.filter((x) => x.status === 'completed')) expect(t.progress).toBe(1);
  });

  it('a file the swarm wrote is listed and downloaded byte-exact, as is a binary file', async () => {
    await inContainer(['node', '-e', `require('fs').writeFileSync(process.argv[1], Buffer.from(process.argv[2], 'base64'))`, `${dir}/chart.png`, BINARY.toString('base64')]);
    const list: FilesList = await pollFor(async () => {
      const r = await json(routePath(routes.sessionFiles.path, { uuid }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const l = FilesListSchema.parse(r.body);
      return l.files.some((f) => f.path === 'result.md') ? l : undefined;
    }, 60_000, 'result.md listed', 100);
    expect(list.root).toBe(dir);
    const notes = list.files.filter((f) => f.path.startsWith('tasks/'));
    expect(notes.length).toBeGreaterThan(0);
    for (const f of [list.files.find((x) => x.path === 'result.md')!, notes[0]!]) {
      const got = await raw(f.path);
      expect(got.status).toBe(200);
      expect(got.type).toBe('text/markdown; charset=utf-8');
      expect(got.bytes.toString('utf8')).toBe(await inContainer(['cat', `${dir}/${f.path}`]));
      expect(got.bytes.length).toBe(f.size);
    }
    expect((await raw('result.md')).bytes.toString()).toContain('# Result: Write release notes for v2, then check every link');
    const png = await raw('chart.png');
    expect(png.status).toBe(200);
    expect(png.type).toBe('image/png');
    expect(png.bytes.equals(BINARY)).toBe(true);
  });

  it('traversal attempts are refused, links planted in the directory included, and nothing leaks', async () => {
    await inContainer(['ln', '-s', '/etc/passwd', `${dir}/planted`]);
    await inContainer(['ln', '-s', '/etc', `${dir}/etc-dir`]);
    await inContainer(['ln', '-s', '../../../.swarm/sessions/index.json', `${dir}/registry`]);
    const passwd = (await inContainer(['head', '-n', '1', '/etc/passwd'])).trim();
    const attempts: [string, number][] = [
      ['planted', 403],
      ['etc-dir/passwd', 403],
      ['registry', 403],
      ['../../../../etc/passwd', 400],
      ['..%2F..%2F..%2F..%2Fetc%2Fpasswd', 400],
      ['%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 400],
      ['%252e%252e%252f%252e%252e%252fetc%252fpasswd', 400],
      ['..%5C..%5Cetc%5Cpasswd', 400],
      ['%2Fetc%2Fpasswd', 400],
      ['result.md%00', 400],
    ];
    for (const [p, status] of attempts) {
      const r = await raw(p);
      expect({ p, status: r.status }).toEqual({ p, status });
      const text = r.bytes.toString();
      expect(text).not.toContain(passwd);
      expect(text).not.toContain('"sessions"');
      expect(JSON.parse(text).error.code).toMatch(/path-refused|bad-request/);
    }
    // Over the download limit: refused before a byte is sent.
    await inContainer(['truncate', '-s', String(FILE_DOWNLOAD_MAX_BYTES + 1), `${dir}/huge.bin`]);
    const huge = await raw('huge.bin');
    expect(huge.status).toBe(413);
    expect(JSON.parse(huge.bytes.toString()).error.code).toBe('file-too-large');
    const l = FilesListSchema.parse((await json(routePath(routes.sessionFiles.path, { uuid }))).body);
    expect(l.files.find((f) => f.path === 'huge.bin')?.size).toBe(FILE_DOWNLOAD_MAX_BYTES + 1);
    expect(l.files.map((f) => f.path).filter((p) => ['planted', 'etc-dir', 'registry'].some((x) => p.startsWith(x)))).toEqual([]);
  });
});
