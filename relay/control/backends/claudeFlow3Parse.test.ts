import { describe, expect, it } from 'vitest';
import { ControlError } from '../errors.js';
import * as S from './claudeFlow3.samples.js';
import {
  AGENT_ID_PATTERN,
  MAX_ITEMS,
  MAX_JSON_BYTES,
  agentListFrom,
  extractJson,
  hiveStatusFrom,
  mcpAnswer,
  parseCliVersion,
  parseHiveStatus3,
  parseInit3,
  parseKitCapabilities,
  parseSpawn3,
  parseTask3,
  swarmStatusFrom,
  taskFrom,
  taskListFrom,
} from './claudeFlow3Parse.js';
import { agentsFromHiveStatus, agentsFromMcpList, healthPercent, sessionFigures, tasksFrom } from './claudeFlow3Normalise.js';

const SESSION = '3f1c2a9e-1111-4222-8333-444455556666';
const parseError = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ControlError);
    expect((e as ControlError).kind).toBe('parse-error');
    return (e as ControlError).message;
  }
  throw new Error('expected a parse error');
};

describe('claude-flow version detection', () => {
  it('tells 3.x, 2.7, 2.0 alphas and our kit apart', () => {
    expect(parseCliVersion(S.VERSION_STDOUT)).toEqual({ kind: 'claude-flow-3', version: '3.43.0' });
    expect(parseCliVersion('v2.7.47\n')).toEqual({ kind: 'claude-flow-2', version: '2.7.47' });
    expect(parseCliVersion('v2.0.0-alpha.101\n')).toEqual({ kind: 'claude-flow-2', version: '2.0.0-alpha.101' });
    expect(parseKitCapabilities('{"kit":"hivescope","version":"0.1.0","createStart":true,"pauseResume":true,"reap":true}\n')).toEqual({ kind: 'kit', version: '0.1.0' });
    expect(parseKitCapabilities('unknown subcommand capabilities')).toBeNull();
  });

  it('skips a banner or update notice before the version line; refuses what it does not know', () => {
    expect(parseCliVersion('[WARN] update available: 3.44.0\r\nruflo v3.43.0\n')).toEqual({ kind: 'claude-flow-3', version: '3.43.0' });
    expect(parseError(() => parseCliVersion('v9.1.0\n'))).toMatch(/9\.1\.0 is not a version hivescope knows/);
    expect(parseError(() => parseCliVersion('bash: claude-flow: not found'))).toMatch(/no version/);
  });
});

describe('claude-flow 3.x --format json parsers (recorded 3.43.0 output)', () => {
  it('status: hive id, queen, all nine workers, metrics, health', () => {
    const s = parseHiveStatus3(S.STATUS_JSON_STDOUT);
    expect(s).toMatchObject({ hiveId: 'hive-1796422040399', initialized: true, status: 'active', topology: 'hierarchical-mesh', consensus: 'byzantine', workerCount: 9, rejected: [] });
    expect(s.queen).toEqual({ id: 'queen-1796422040399', status: 'active', load: 0, tasksQueued: 0 });
    expect(s.workers).toHaveLength(9);
    expect(s.workers[2]).toEqual({ id: 'cdr-1796422046824-mpeg', type: 'coder', status: 'idle', currentTask: null, tasksCompleted: 0 });
    expect(s.metrics).toEqual({ totalTasks: 0, completedTasks: 0, activeTasks: 0, pendingTasks: 0, failedTasks: 0 });
    expect(s.createdAt).toBe(Date.parse('2026-12-04T22:07:20.399Z'));
    expect(hiveStatusFrom(JSON.parse(S.MCP_HIVE_STATUS))).toMatchObject({ hiveId: 'hive-1796422147926', consensus: 'raft', workerCount: 5 });
  });

  it('init: the stored hive id is hive-<queen ms> (not the printed one), and the hive token never comes out', () => {
    const r = parseInit3(S.INIT_JSON_STDOUT);
    expect(r).toEqual({ hiveId: 'hive-1796422609767', queenId: 'queen-1796422609767', topology: 'hierarchical-mesh', consensus: 'byzantine', createdAt: Date.parse('2026-12-04T22:16:49.767Z') });
    expect(JSON.stringify(r)).not.toContain('911e03a0');
    // The spinner's \r frames before the JSON (as the CLI really writes them).
    expect(parseInit3(S.INIT_JSON_STDOUT.replace('... Setting up', '\r... Setting up').replace('\nHive Mind initialized', '\r      \rHive Mind initialized')).hiveId).toBe('hive-1796422609767');
  });

  it('spawn and task: the text line before the JSON is skipped', () => {
    expect(parseSpawn3(S.SPAWN_JSON_STDOUT)).toEqual({
      spawned: 2,
      totalWorkers: 7,
      rejected: [],
      workers: [
        { agentId: 'hive-worker-1796422047106-np4b', role: 'worker', joinedAt: Date.parse('2026-12-04T22:07:27.106Z') },
        { agentId: 'hive-worker-1796422047106-ibu2', role: 'worker', joinedAt: Date.parse('2026-12-04T22:07:27.106Z') },
      ],
    });
    expect(parseTask3(S.TASK_JSON_STDOUT)).toMatchObject({ taskId: 'task-1796422062195-bw2xor', description: 'write tests', status: 'pending', assignedTo: [] });
  });

  it('MCP payloads: agent_list (both stores), task_list, task_create, swarm_status, the -32601 and success:false answers', () => {
    const l = agentListFrom(JSON.parse(S.MCP_AGENT_LIST));
    expect(l.agents).toHaveLength(7);
    expect(l.agents[6]).toEqual({ agentId: 'mcp-coder-1', agentType: 'coder', status: 'idle', health: 1, taskCount: 0, createdAt: Date.parse('2026-12-04T22:09:19.014Z'), domain: null, swarmId: null });
    expect(taskListFrom(JSON.parse(S.MCP_TASK_LIST))).toEqual({ tasks: [], total: 0, rejected: [] });
    expect(taskFrom(JSON.parse(S.MCP_TASK_CREATE)).taskId).toBe('task-1796422159046-0fxhrz');
    expect(swarmStatusFrom(JSON.parse(S.MCP_SWARM_STATUS_NONE))).toMatchObject({ swarmId: null, status: 'no_swarm' });
    expect(swarmStatusFrom(JSON.parse(S.MCP_SWARM_INIT))).toMatchObject({ swarmId: 'swarm-1796422158999-43fmde', topology: 'hierarchical' });
    expect(mcpAnswer(S.MCP_RAW_SWARM_STATUS_LINE)).toEqual({ ok: true, id: 4, value: { status: 'no_swarm', message: 'No active swarms. Use swarm_init to create one.', totalSwarms: 0 } });
    expect(mcpAnswer(S.MCP_RAW_NOT_FOUND_LINE)).toEqual({ ok: false, id: 13, missing: true, message: 'Tool not found: agent_metrics' });
    const bogus = JSON.stringify({ jsonrpc: '2.0', id: 27, result: { content: [{ type: 'text', text: S.MCP_SWARM_INIT_BOGUS }] } });
    expect(mcpAnswer(bogus)).toMatchObject({ ok: false, id: 27, missing: false, message: expect.stringMatching(/Invalid topology/) });
  });
});

describe('hostile 3.x output', () => {
  it('truncated JSON is a parse error that says so', () => {
    expect(parseError(() => parseHiveStatus3(S.STATUS_JSON_STDOUT.slice(0, 900)))).toMatch(/does not parse \(truncated\?\)/);
    expect(parseError(() => parseSpawn3('[INFO] Spawning 1 worker agent(s)...\n'))).toMatch(/printed no JSON/);
    // The usage text 3.x prints (rc 0) for sessions/stop/pause/resume/metrics is not an answer.
    expect(parseError(() => parseHiveStatus3(S.HIVE_USAGE_STDOUT))).toMatch(/no JSON/);
  });

  it('a banner or warning before the JSON, and a notice after it, are skipped', () => {
    const s = parseHiveStatus3(`[WARN] A newer version is available\n${S.STATUS_JSON_STDOUT}[INFO] update check done\n`);
    expect(s.workers).toHaveLength(9);
  });

  it('unknown fields are dropped, wrong types are unknown (null), never 0', () => {
    const doc = extractJson(S.STATUS_JSON_STDOUT, 'status') as Record<string, unknown>;
    const w = (doc.workers as Record<string, unknown>[])[0]!;
    Object.assign(w, { tasksCompleted: 'lots', evil: { __proto__: { x: 1 } }, cpu: 99 });
    Object.assign(doc, { workerCount: -3, metrics: 'n/a', surprise: [1, 2, 3] });
    const s = hiveStatusFrom(doc);
    expect(s.workers[0]).toEqual({ id: 'hive-worker-1796422044355-jvis', type: 'worker', status: 'idle', currentTask: null, tasksCompleted: null });
    expect(s.workerCount).toBeNull();
    expect(s.metrics).toBeNull();
    expect(s).not.toHaveProperty('surprise');
  });

  it('ids of the wrong shape are rejected with a reason and never come out', () => {
    const doc = JSON.parse(S.STATUS_JSON_STDOUT) as { workers: { id: string }[]; hiveId: string; queen: { id: string } };
    doc.workers[0]!.id = '--rm -rf /';
    doc.workers[1]!.id = 'a b';
    doc.queen.id = 'queen-x';
    const s = hiveStatusFrom(doc);
    expect(s.workers.map((w) => w.id)).not.toContain('--rm -rf /');
    expect(s.workers).toHaveLength(7);
    expect(s.queen).toBeNull();
    expect(s.rejected).toEqual(['queen id "queen-x" is not a claude-flow queen id', 'worker id "--rm -rf /" is not a claude-flow worker id', 'worker id "a b" is not a claude-flow worker id']);
    for (const w of s.workers) expect(w.id).toMatch(AGENT_ID_PATTERN);
    doc.hiveId = 'hive-1; reboot';
    expect(parseError(() => hiveStatusFrom(doc))).toMatch(/hive id "hive-1; reboot" is not a claude-flow hive id/);
    expect(parseError(() => taskFrom({ ...JSON.parse(S.MCP_TASK_CREATE), taskId: '-p' }))).toMatch(/task id "-p"/);
    expect(parseError(() => swarmStatusFrom({ swarmId: 'swarm-$(id)', status: 'running' }))).toMatch(/swarm id/);
    expect(parseError(() => parseInit3('{"success":true,"queenId":"queen-../../x"}'))).toMatch(/queen id/);
  });

  it('huge outputs are bounded: refused above the cap, lists capped and counted', () => {
    expect(parseError(() => parseHiveStatus3(`{"x":"${'a'.repeat(MAX_JSON_BYTES)}"}`))).toMatch(/more than/);
    const many = Array.from({ length: MAX_ITEMS + 5 }, (_, i) => ({ agentId: `hive-worker-1796422148173-${(i % 1000).toString(36)}`, status: 'idle' }));
    const l = agentListFrom({ agents: many });
    expect(l.agents).toHaveLength(MAX_ITEMS);
    expect(l.rejected).toEqual(['5 agents over the limit of 2000']);
  });

  it('a hive before init has no id (3.x prints a new one on every call)', () => {
    const s = hiveStatusFrom({ hiveId: 'hive-1796422038501', status: 'offline', initialized: false, workers: [] });
    expect(s).toMatchObject({ hiveId: null, initialized: false });
    expect(agentsFromHiveStatus(s, SESSION)).toEqual([]);
  });
});

describe('3.x normalisers', () => {
  it('hive workers: linked to the session and hive, constants unknown, no CPU (unknown, not 0)', () => {
    const agents = agentsFromHiveStatus(parseHiveStatus3(S.STATUS_JSON_STDOUT), SESSION);
    expect(agents).toHaveLength(10);
    expect(agents[0]).toMatchObject({ id: 'queen-1796422040399', type: 'queen', statusObserved: false, parentQueenId: null, sessionUuid: SESSION, swarmId: 'hive-1796422040399', workload: 0 });
    expect(agents[3]).toEqual({
      id: 'cdr-1796422046824-mpeg',
      name: 'cdr-1796422046824-mpeg',
      type: 'coder',
      status: 'idle',
      statusObserved: false,
      swarmId: 'hive-1796422040399',
      sessionUuid: SESSION,
      parentQueenId: 'queen-1796422040399',
      health: null,
      cpuUsage: null,
      memoryUsage: null,
      workload: null,
      currentTask: null,
      tasksCompleted: null,
      createdAt: null,
    });
  });

  it('a worker something did update keeps what changed', () => {
    const doc = JSON.parse(S.STATUS_JSON_STDOUT) as { workers: Record<string, unknown>[] };
    Object.assign(doc.workers[0]!, { status: 'busy', currentTask: 'write tests', tasksCompleted: 2 });
    const a = agentsFromHiveStatus(hiveStatusFrom(doc), SESSION)[1]!;
    expect(a).toMatchObject({ status: 'busy', statusObserved: true, currentTask: 'write tests', tasksCompleted: 2 });
  });

  it('MCP agents: health 0..1 becomes a percentage for agent_spawn agents; hive constants stay unknown', () => {
    const l = agentListFrom(JSON.parse(S.MCP_AGENT_LIST)).agents;
    const out = agentsFromMcpList(l, SESSION, 'hive-1796422147926', 'queen-1796422147926');
    expect(out[0]).toMatchObject({ health: null, tasksCompleted: null, statusObserved: false, parentQueenId: 'queen-1796422147926', swarmId: 'hive-1796422147926', sessionUuid: SESSION });
    expect(out[6]).toMatchObject({ id: 'mcp-coder-1', health: 100, tasksCompleted: 0, statusObserved: true, cpuUsage: null, sessionUuid: SESSION });
    expect(healthPercent(1)).toBe(100);
    expect(healthPercent(0.5)).toBe(50);
    expect(healthPercent(85)).toBeNull(); // not the 0..1 scale: unknown, not 8500 % or 85 %
  });

  it('tasks carry their session; session figures never invent 0 % progress', () => {
    const t = tasksFrom([taskFrom(JSON.parse(S.MCP_TASK_CREATE))], SESSION, 'hive-1796422147926');
    expect(t).toEqual([{ id: 'task-1796422159046-0fxhrz', sessionUuid: SESSION, hiveId: 'hive-1796422147926', description: 'x', status: 'pending', priority: 'normal', assignedTo: [], createdAt: Date.parse('2026-12-04T22:09:19.046Z') }]);
    expect(sessionFigures(parseHiveStatus3(S.STATUS_JSON_STDOUT))).toEqual({ agentCount: 10, progress: null });
  });
});

describe('detection picks the backend by what the container says', () => {
  it('3.x and 2.x get their own backend; no claude-flow is null', async () => {
    const { detectClaudeFlow, claudeFlowBackend } = await import('./detect.js');
    const { StateStore } = await import('../stateStore.js');
    const { tmpStateDir } = await import('../testing/harness.js');
    const envs: (Record<string, string> | undefined)[] = [];
    const runWith = (stdout: string, exitCode = 0) => async (_argv: readonly string[], o: { env?: Record<string, string> }) => {
      envs.push(o.env);
      return { exitCode, stdout, stderr: '', durationMs: 1, pid: null };
    };
    const d3 = await detectClaudeFlow(runWith(S.VERSION_STDOUT));
    expect(d3).toEqual({ kind: 'claude-flow-3', version: '3.43.0' });
    expect(envs[0]).toEqual({ CLAUDE_FLOW_AUTO_UPDATE: 'false' });
    expect(await detectClaudeFlow(runWith('', 127))).toBeNull();
    const store = new StateStore(tmpStateDir());
    expect(claudeFlowBackend(d3!, { run: runWith(''), store, driverKind: 'docker' }).describe!()).toMatchObject({ kind: 'claude-flow-3', version: '3.43.0' });
    expect(claudeFlowBackend({ kind: 'claude-flow-2', version: '2.7.47' }, { run: runWith(''), store, driverKind: 'docker' }).describe!()).toMatchObject({ kind: 'claude-flow-2', version: '2.7.47' });
  });
});
