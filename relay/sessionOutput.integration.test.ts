// The console's Files and Tasks against the embedded hive as `npm start` runs it: the local driver, the
// kit's compiled session manager and engine as real child processes, a real relay on real sockets. A
// spawned swarm writes its results; they are listed and downloaded byte-exact; its tasks show with
// status, assignee and progress; a link planted in its directory is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { startRelay, type RelayHandle } from './app.js';
import { InitializeSwarmResponseSchema, routes, routePath } from '../shared/api.js';
import { FilesListSchema, TasksListSchema, type FilesList, type TasksList } from '../shared/model/console.js';
import { validSpawn } from './control/testing/harness.js';
import { localEngineMain, localSessionManagerCli } from './control/paths.js';
import { freePort } from '../testkit/ports.js';
import { pollFor } from '../testkit/wait.js';

const kitBuilt = fs.existsSync(localSessionManagerCli()) && fs.existsSync(localEngineMain());

describe.skipIf(!kitBuilt)('session files and tasks on the embedded hive (local driver, real processes)', () => {
  let relay: RelayHandle;
  let stateDir: string;
  let uuid: string;
  let outDir: string;
  const speed = process.env.HIVE_SIM_SPEED;

  const json = async (p: string) => {
    const r = await fetch(`${relay.url}${p}`);
    return { status: r.status, body: (await r.json()) as unknown };
  };

  beforeAll(async () => {
    // A fast simulation: the swarm finishes in seconds (the engine reads this at start).
    process.env.HIVE_SIM_SPEED = '40';
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hivescope-files-'));
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', HIVE_STATE_DIR: stateDir, HIVE_DRIVER: 'local', HIVE_EMBEDDED: '1', HIVE_DEMO: '0', MCP_PORT: String(await freePort()), LOG_LEVEL: 'silent' });
    relay = await startRelay(config, pino({ level: 'silent' }));
    const r = await fetch(`${relay.url}${routes.initializeSwarm.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...validSpawn, customPrompt: 'Write release notes for v2, then check every link' }) });
    expect(r.status).toBe(202);
    uuid = InitializeSwarmResponseSchema.parse(await r.json()).uuid;
    outDir = path.join(stateDir, 'hive', 'ext', 'hive-sessions', uuid);
  }, 60_000);

  afterAll(async () => {
    if (speed === undefined) delete process.env.HIVE_SIM_SPEED;
    else process.env.HIVE_SIM_SPEED = speed;
    await relay?.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("the swarm's tasks show with status, assignee and progress from the engine", async () => {
    const seen = new Set<string>();
    const final = await pollFor(async () => {
      const r = await json(routePath(routes.sessionTasks.path, { uuid }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const t: TasksList = TasksListSchema.parse(r.body);
      expect(t.supported).toBe(true);
      for (const x of t.tasks) seen.add(x.status);
      const settled = t.tasks.length > 2 && t.tasks.every((x) => x.status === 'completed' || x.status === 'failed');
      return settled ? t : undefined;
    }, 60_000, 'every task of the swarm settled', 100);
    for (const t of final.tasks.filter((x) => x.status === 'completed')) {
      expect(t.progress).toBe(1);
      expect(t.assignee).toMatch(/^agent-/);
      expect(t.createdAt).toBeLessThanOrEqual(t.updatedAt!);
    }
    expect(final.tasks.some((t) => t.description.startsWith('Plan: Write release notes'))).toBe(true);
    expect(seen.has('completed')).toBe(true);
  });

  it('the files it wrote are listed and downloaded byte-exact', async () => {
    const list = await pollFor(async () => {
      const r = await json(routePath(routes.sessionFiles.path, { uuid }));
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const l: FilesList = FilesListSchema.parse(r.body);
      return l.files.some((f) => f.path === 'result.md') ? l : undefined;
    }, 30_000, 'result.md in the listing', 100);
    expect(list.root).toBe(path.join(fs.realpathSync(path.dirname(outDir)), uuid));
    expect(list.files.filter((f) => f.path.startsWith('tasks/')).length).toBeGreaterThan(0);
    for (const f of list.files) {
      const r = await fetch(`${relay.url}${routePath(routes.sessionFile.path, { uuid, path: f.path })}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(bytes.equals(fs.readFileSync(path.join(outDir, f.path)))).toBe(true);
      expect(bytes.length).toBe(f.size);
    }
    const result = await (await fetch(`${relay.url}${routePath(routes.sessionFile.path, { uuid, path: 'result.md' })}`)).text();
    expect(result).toContain('# Result: Write release notes for v2, then check every link');
  });

  it('a link to /etc/passwd planted in the directory is refused and leaks nothing', async () => {
    fs.symlinkSync('/etc/passwd', path.join(outDir, 'planted'));
    const r = await fetch(`${relay.url}${routePath(routes.sessionFile.path, { uuid, path: 'planted' })}`);
    expect(r.status).toBe(403);
    const text = await r.text();
    expect(JSON.parse(text).error.code).toBe('path-refused');
    expect(text).not.toContain('root:');
    const l = FilesListSchema.parse((await json(routePath(routes.sessionFiles.path, { uuid }))).body);
    expect(l.files.map((f) => f.path)).not.toContain('planted');
  });

  it('unknown session: 404 for files and tasks', async () => {
    const other = '00000000-0000-4000-8000-000000000000';
    for (const p of [routes.sessionFiles.path, routes.sessionTasks.path]) {
      const r = await json(routePath(p, { uuid: other }));
      expect(r.status).toBe(404);
      expect((r.body as { error: { code: string } }).error.code).toBe('session-not-found');
    }
  });
});
