import { describe, expect, it } from 'vitest';
import {
  parseClaudeFlowDate,
  parseCreateOutput,
  parseHiveMetrics,
  parseHiveSessions,
  parseHiveStatus,
  parseProcStatPgid,
  parsePids,
  parseReapOutput,
  parseRegistry,
  parseSessionJson,
  parseStatusWord,
  parseSwarmSummary,
  hiveStopNotFound,
  parseTime,
} from './parsers.js';
import { ControlError } from './errors.js';

// Samples verbatim from shared/reference/claude-flow-2.7.md.
const SUMMARY = `🐝 Swarm Summary:
──────────────────────────────────────────────────
Swarm ID: swarm-1795219796568-ukraioo0q
Session ID: session-1795219796572-ylz7dsrf6
Name: hive-1795219796558
Objective: build a REST API
Queen Type: strategic
Workers: 4
Worker Types: researcher, coder, analyst, tester
Consensus: majority
Auto-scaling: Enabled
──────────────────────────────────────────────────
✓ Swarm is ready for coordination
`;

const SESSIONS = `══════════════════════════════════════════════════
🟢 bgswarm
Session ID: session-1795219881169-cq461upx2
Status: active
Objective: build a REST API
Progress: 0%
Created: 11/21/2026, 12:11:21 AM
Last Updated: 11/21/2026, 12:11:51 AM

Real Progress:
  Agents: 4
  Tasks: 0/0
  In Progress: 0
  Pending: 0
══════════════════════════════════════════════════
🟡 second
Session ID: session-1795219881999-abcdefghi
Status: paused
Objective: write docs
Progress: 40%
Created: 11/21/2026, 1:05:00 PM
Last Updated: 11/21/2026, 1:06:00 PM
Paused At: 11/21/2026, 1:06:00 PM
Last Checkpoint: eyJhIjoxfQ==

Real Progress:
  Agents: 2
  Tasks: 2/5
  In Progress: 1
  Pending: 2
══════════════════════════════════════════════════
`;

const STATUS = `Swarm: bgswarm
ID: swarm-1795219881166-xfgygyoal
Objective: build a REST API
Queen Type: tactical
Status: active
Created: 11/21/2026, 12:11:21 AM
Total Agents: 4

Agents:
  👑 Queen: Queen Coordinator (active)
  🐝 Workers:
    - Researcher Worker 1 (researcher) idle
    - Coder Worker 2 (coder) idle
Tasks:
  Total: 0
  Completed: 0
  In Progress: 0
  Pending: 0
  Completion: 0%
`;

const UUID = '0b7f3c2e-1a2b-4c3d-8e9f-0123456789ab';

describe('claude-flow 2.7 text parsers', () => {
  it('reads both ids from the spawn summary', () => {
    expect(parseSwarmSummary(SUMMARY)).toEqual({
      swarmId: 'swarm-1795219796568-ukraioo0q',
      sessionId: 'session-1795219796572-ylz7dsrf6',
      name: 'hive-1795219796558',
      objective: 'build a REST API',
      queenType: 'strategic',
      workers: 4,
      workerTypes: ['researcher', 'coder', 'analyst', 'tester'],
    });
  });

  it('returns null for a summary not printed yet or with garbled ids', () => {
    expect(parseSwarmSummary('spinner...')).toBeNull();
    expect(parseSwarmSummary(SUMMARY.slice(0, 80))).toBeNull();
    expect(parseSwarmSummary(SUMMARY.replace('swarm-1795219796568-ukraioo0q', 'swarm-$(rm -rf /)'))).toBeNull();
    expect(parseSwarmSummary(SUMMARY.replace('session-1795219796572', 'session-x'))).toBeNull();
  });

  it('lists active and paused sessions from `hive-mind sessions`', () => {
    const s = parseHiveSessions(SESSIONS);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ name: 'bgswarm', sessionId: 'session-1795219881169-cq461upx2', status: 'active', objective: 'build a REST API', progress: 0, agents: 4, tasksCompleted: 0, tasksTotal: 0 });
    expect(s[0]!.createdAt).toBe(Date.UTC(2026, 10, 21, 0, 11, 21));
    expect(s[1]).toMatchObject({ name: 'second', status: 'paused', progress: 0.4, agents: 2, tasksCompleted: 2, tasksTotal: 5 });
    expect(s[1]!.createdAt).toBe(Date.UTC(2026, 10, 21, 13, 5, 0));
  });

  it('splits sessions without separator lines too', () => {
    const noSep = SESSIONS.replace(/^═+$/gm, '');
    expect(parseHiveSessions(noSep).map((s) => s.sessionId)).toEqual(['session-1795219881169-cq461upx2', 'session-1795219881999-abcdefghi']);
  });

  it('treats the "nothing found" answers as empty', () => {
    expect(parseHiveSessions('No active or paused sessions found\n')).toEqual([]);
    expect(parseHiveSessions('No hive mind database found\n')).toEqual([]);
    expect(parseHiveStatus('No active swarms found\n')).toEqual([]);
    expect(parseHiveStatus('Run "claude-flow hive-mind init" first\n')).toEqual([]);
  });

  it('refuses text that is not a session list', () => {
    expect(() => parseHiveSessions('Error: something broke\n')).toThrow(ControlError);
    expect(() => parseHiveStatus('<html>not this</html>')).toThrow(ControlError);
  });

  it('skips blocks with hostile or truncated ids instead of passing them on', () => {
    const bad = SESSIONS.replace('session-1795219881169-cq461upx2', 'session-1; rm -rf /').replace('session-1795219881999-abcdefghi', 'session-1795219881999-ABC');
    expect(parseHiveSessions(bad)).toEqual([]);
  });

  it('reads swarms from `hive-mind status`', () => {
    const s = parseHiveStatus(STATUS + '\n' + STATUS.replace('bgswarm', 'other').replace('swarm-1795219881166-xfgygyoal', 'swarm-1795219881170-aaaaaaaaa'));
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({ name: 'bgswarm', swarmId: 'swarm-1795219881166-xfgygyoal', objective: 'build a REST API', queenType: 'tactical', status: 'active', totalAgents: 4, tasksTotal: 0, tasksCompleted: 0, tasksInProgress: 0, tasksPending: 0 });
    expect(s[1]!.swarmId).toBe('swarm-1795219881170-aaaaaaaaa');
  });

  it('reads the queen and workers a status block lists, and nothing from garbled lines', () => {
    const [w] = parseHiveStatus(STATUS);
    expect(w!.agents).toEqual([
      { name: 'Queen Coordinator', type: 'queen', status: 'active', role: 'queen' },
      { name: 'Researcher Worker 1', type: 'researcher', status: 'idle', role: 'worker' },
      { name: 'Coder Worker 2', type: 'coder', status: 'idle', role: 'worker' },
    ]);
    const garbled = STATUS.replace('- Coder Worker 2 (coder) idle', '- $(rm -rf /) (c;der) idle').replace('(researcher) idle', '(researcher)');
    expect(parseHiveStatus(garbled)[0]!.agents.map((a) => a.name)).toEqual(['Queen Coordinator']);
  });

  it('reads overall metrics', () => {
    const m = parseHiveMetrics('📊 Hive Mind Metrics\n\nOverall Statistics:\n  Total Swarms: 3\n  Total Agents: 12\n  Total Tasks: 10\n  Completed Tasks: 7\n  Success Rate: 70.0%\n\nbgswarm\n  Agents: 4, Tasks: 0/0 (0%)\n');
    expect(m).toEqual({ totalSwarms: 3, totalAgents: 12, totalTasks: 10, completedTasks: 7, successRate: 0.7 });
    expect(() => parseHiveMetrics('nothing')).toThrow(ControlError);
  });

  it('recognises an unknown id on stop (exit code stays 0)', () => {
    expect(hiveStopNotFound('', '✖ Session session-1-abc not found\n')).toBe(true);
    expect(hiveStopNotFound('🛑 Stopped Session Summary:\n', '')).toBe(false);
  });

  it('parses en-US dates and rejects others', () => {
    expect(parseClaudeFlowDate('11/21/2026, 12:11:21 PM')).toBe(Date.UTC(2026, 10, 21, 12, 11, 21));
    expect(parseClaudeFlowDate('yesterday')).toBeNull();
    expect(parseClaudeFlowDate(null)).toBeNull();
  });

  it('survives 1 MB of garbage quickly and without matches', () => {
    const junk = 'Session ID: '.repeat(1000) + '═'.repeat(100000) + 'x'.repeat(900000);
    expect(parseHiveSessions(junk)).toEqual([]);
  });
});

describe('session manager output parsers', () => {
  it('reads the uuid from create, nothing else', () => {
    expect(parseCreateOutput(`${UUID}\n`)).toBe(UUID);
    expect(() => parseCreateOutput('')).toThrow(ControlError);
    expect(() => parseCreateOutput(`warning\n${UUID}\n`)).toThrow(/did not print a session uuid/);
    expect(() => parseCreateOutput(UUID.toUpperCase())).toThrow(ControlError);
  });

  it('reads status words', () => {
    expect(parseStatusWord('running\n')).toBe('running');
    expect(parseStatusWord('not_found\n')).toBe('not_found');
    expect(() => parseStatusWord('exploded')).toThrow(ControlError);
    expect(() => parseStatusWord('spawning')).toThrow(ControlError);
  });

  it('maps registry entries to sessions (snake_case in, camelCase out)', () => {
    const reg = {
      sessions: {
        [UUID]: {
          task: 'build a REST API',
          status: 'running',
          created: '2026-11-21T00:11:21Z',
          updated: 1795219881,
          last_activity: 1795219881169,
          dir: '/workspace/.swarm/sessions/x',
          swarm_id: 'swarm-1795219881166-xfgygyoal',
          priority: 'high',
          metadata: { topology: 'mesh', maxAgents: 8, strategy: 'adaptive', priority: 'high', enableNeural: true, agentTypes: ['coder'], replaces: '11111111-2222-4333-8444-555555555555', extra: 1 },
          runner_pid: 42,
          progress: 0.5,
          agent_count: 4,
        },
        'not-a-uuid': { task: 'x', status: 'running' },
        '22222222-2222-4333-8444-555555555555': { task: 'x', status: 'exploded' },
      },
      created: '2026-11-21T00:00:00Z',
    };
    const { sessions, skipped } = parseRegistry(JSON.stringify(reg));
    expect(skipped).toBe(2);
    expect(sessions).toEqual([
      {
        uuid: UUID,
        swarmId: 'swarm-1795219881166-xfgygyoal',
        task: 'build a REST API',
        priority: 'high',
        status: 'running',
        createdAt: Date.UTC(2026, 10, 21, 0, 11, 21),
        updatedAt: 1795219881000,
        lastActivity: 1795219881169,
        config: { topology: 'mesh', maxAgents: 8, strategy: 'adaptive', priority: 'high', enableNeural: true, agentTypes: ['coder'] },
        backend: 'session-manager',
        progress: 0.5,
        agentCount: 4,
        replaces: '11111111-2222-4333-8444-555555555555',
      },
    ]);
  });

  it('nulls what an entry does not say and drops hostile field values', () => {
    const { sessions } = parseRegistry(JSON.stringify({ sessions: { [UUID]: { status: 'created', swarm_id: 'swarm-$(id)', progress: 7, agent_count: -1, created: 'soon', metadata: 'x' } } }));
    expect(sessions[0]).toMatchObject({ swarmId: null, task: '', progress: null, agentCount: null, createdAt: null, config: null, priority: 'medium' });
  });

  it('accepts an empty registry and rejects non-JSON or wrong shapes', () => {
    expect(parseRegistry('{"sessions": {}}').sessions).toEqual([]);
    expect(parseRegistry('').sessions).toEqual([]);
    expect(() => parseRegistry('Traceback (most recent call last)')).toThrow(ControlError);
    expect(() => parseRegistry('{"sessions": []}')).toThrow(/without a sessions object/);
    expect(() => parseRegistry('null')).toThrow(ControlError);
  });

  it('reads get output and its not-found answer', () => {
    expect(parseSessionJson('{"error": "Session not found"}', UUID)).toBe('not_found');
    expect(parseSessionJson(JSON.stringify({ session_id: UUID, task: 't', status: 'paused' }), UUID)).toMatchObject({ uuid: UUID, status: 'paused' });
    expect(() => parseSessionJson('{', UUID)).toThrow(ControlError);
  });

  it('reads reap output', () => {
    expect(parseReapOutput(`interrupted ${UUID}\nreaped 1\n`)).toEqual({ uuids: [UUID], count: 1 });
    expect(parseReapOutput('reaped 0\n')).toEqual({ uuids: [], count: 0 });
    expect(() => parseReapOutput('something else')).toThrow(ControlError);
  });

  it('parses times in the formats registries use', () => {
    expect(parseTime(1795219881)).toBe(1795219881000);
    expect(parseTime('1795219881169')).toBe(1795219881169);
    expect(parseTime('x'.repeat(100))).toBeNull();
    expect(parseTime(-1)).toBeNull();
  });
});

describe('process helpers', () => {
  it('reads the process group from /proc/<pid>/stat, even with spaces and parens in comm', () => {
    expect(parseProcStatPgid('1234 (node) S 1 1234 1234 0 -1 4194560')).toBe(1234);
    expect(parseProcStatPgid('77 (my (odd) name) R 5 70 70 0')).toBe(70);
    expect(parseProcStatPgid('garbage')).toBeNull();
    expect(parseProcStatPgid('1 (init) S 0 1 1')).toBeNull();
  });

  it('reads pgrep output and ignores junk', () => {
    expect(parsePids('12\n 34 \nabc\n1\n-5\n')).toEqual([12, 34]);
  });
});
