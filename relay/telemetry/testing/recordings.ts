/**
 * Recorded lines of the three MCP servers the relay must work against unchanged, written from
 * upstream-contracts.md section 3, claude-flow-2.7.md ("MCP server") and TEAM-NOTES.md (the kit's
 * engine). Each recording maps a request (method, or `tools/call:<tool>`) to the raw lines the server
 * wrote back; `{{id}}` stands for the request's id. Lines are kept as text on purpose: quirks such as
 * a reply without `jsonrpc`/`id` or a non-JSON banner must reach the client byte for byte.
 */

export interface Recording {
  name: string;
  /** Lines written as soon as a client connects, before it says anything. */
  onConnect: string[];
  replies: Record<string, string[]>;
  /** Reply for a request with no recorded answer. */
  fallback: (key: string) => string[];
  /** When set, the first message must be `authenticate` with this token (upstream front behaviour). */
  authToken?: string;
}

/** A tools/call result line carrying `payload` as content[0].text, as MCP servers send it. */
function toolLine(payload: unknown, pretty = true): string {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload, null, pretty ? 2 : undefined);
  return JSON.stringify({ jsonrpc: '2.0', id: '{{id}}', result: { content: [{ type: 'text', text }] } }).replace('"{{id}}"', '{{id}}');
}

export const SESSION_UUID = '3f2b8c1e-9a4d-4e5f-8b7a-1c2d3e4f5a6b';
export const SWARM_ID = 'swarm-1795219796568-ukraioo0q';

const kitQueen = {
  id: 'agent-queen-1',
  name: 'Queen Coordinator',
  type: 'queen',
  status: 'active',
  capabilities: ['coordination', 'planning'],
  created: '2026-11-21T00:10:00.000Z',
  lastActive: '2026-11-21T00:11:00.000Z',
  cpuUsage: 12.5,
  memoryUsage: 30.25,
  health: 98,
  workload: 0.4,
  activity: 0.7,
  tokens: 1200,
  tokenRate: 85,
  currentTask: 'plan the REST API',
  tasksActive: 1,
  tasksCompleted: 3,
  successRate: 1,
  swarmId: SWARM_ID,
  sessionId: SESSION_UUID,
  parentQueenId: null,
};
const kitCoder = {
  ...kitQueen,
  id: 'agent-coder-2',
  name: 'Coder Worker 2',
  type: 'coder',
  status: 'busy',
  capabilities: ['code'],
  cpuUsage: 3,
  memoryUsage: 11,
  health: 100,
  workload: 0,
  activity: 0.1,
  tokens: 0,
  tokenRate: 0,
  currentTask: 'write handlers',
  tasksActive: 1,
  tasksCompleted: 0,
  successRate: null,
  parentQueenId: 'agent-queen-1',
};

/** The kit's engine (hive-engine): full fields, capabilities, push notifications after initialized. */
export const KIT_ENGINE: Recording = {
  name: 'kit engine',
  onConnect: [],
  replies: {
    authenticate: ['{"jsonrpc":"2.0","id":{{id}},"result":{"authenticated":true}}'],
    initialize: [
      '{"jsonrpc":"2.0","id":{{id}},"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{},"logging":{}},"serverInfo":{"name":"hive-engine","version":"0.1.0"}}}',
    ],
    'notifications/initialized': [
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/hive/agents',
        params: { swarmId: SWARM_ID, sessionId: SESSION_UUID, agents: [kitCoder], removed: [] },
      }),
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', logger: 'hive-engine', data: { text: 'Coder Worker 2 picked up write handlers', swarmId: SWARM_ID, sessionId: SESSION_UUID, agentId: 'agent-coder-2' } },
      }),
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: 'task-7', progress: 3, total: 4, message: 'handlers 3/4', swarmId: SWARM_ID, sessionId: SESSION_UUID, agentId: 'agent-coder-2' },
      }),
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/hive/message',
        params: { seq: 2, from: 'agent-queen-1', to: 'agent-coder-2', swarmId: SWARM_ID, bytes: 640, kind: 'task', timestamp: '2026-11-21T00:11:30.000Z' },
      }),
    ],
    'tools/call:agent_list': [toolLine({ success: true, swarmId: null, agents: [kitQueen, kitCoder], count: 2, timestamp: '2026-11-21T00:11:00.000Z' })],
    'tools/call:swarm_list': [
      toolLine({
        success: true,
        swarms: [
          { swarmId: SWARM_ID, sessionId: SESSION_UUID, topology: 'hierarchical', status: 'active', queenId: 'agent-queen-1', agentCount: 2, activeAgents: 1, taskCount: 4, pendingTasks: 1, completedTasks: 3 },
        ],
      }),
    ],
    'tools/call:swarm_status': [toolLine({ success: true, swarmId: SWARM_ID, topology: 'hierarchical', agentCount: 2, activeAgents: 1, taskCount: 4, pendingTasks: 1, completedTasks: 3 })],
    'tools/call:agent_messages': [
      toolLine({ messages: [{ seq: 1, from: 'agent-queen-1', to: 'agent-coder-2', swarmId: SWARM_ID, bytes: 512, kind: 'task', timestamp: '2026-11-21T00:11:10.000Z' }], cursor: 1 }),
    ],
    'tools/call:agent_metrics': [toolLine({ agentId: 'agent-coder-2', cpuUsage: 44.5, memoryUsage: 12, tokens: 300, tokenRate: 120 })],
  },
  fallback: (key) => [`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"unknown: ${key}"}}`],
};

/**
 * The upstream TCP front (mcp-tcp-server.js) over claude-flow 2.0.0-alpha.101: answers initialize itself
 * without capabilities; with auth on, answers authenticate with a bare `{"result":...}` (no jsonrpc, no
 * id); forwards notifications/initialized to claude-flow, which answers with an id-less error; pushes
 * upstream-style client messages; tools the server never implemented are errors.
 */
export const UPSTREAM_FRONT: Recording = {
  name: 'upstream front',
  onConnect: [],
  authToken: 'upstream-secret-token',
  replies: {
    authenticate: ['{"result":{"authenticated":true}}'],
    initialize: ['{"jsonrpc":"2.0","id":{{id}},"result":{"protocolVersion":"2024-11-05","serverInfo":{"name":"claude-flow","version":"2.0.0-alpha.101"}}}'],
    'notifications/initialized': [
      '{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"}}',
      '{"jsonrpc":"2.0","method":"notification","params":{"type":"client_message","message":"Researcher Worker 1: found 3 sources","timestamp":1795219882000,"session_id":"session-1795219881169-cq461upx2","agent_id":"agent_1795219881170_r1"}}',
    ],
    'tools/call:agent_list': [
      toolLine({
        success: true,
        swarmId: 'swarm-1795219881166-xfgygyoal',
        agents: [
          { id: 'agent_1795219881170_r1', name: 'Researcher Worker 1', type: 'researcher', status: 'idle', capabilities: ['research', 'analysis'], created: '2026-11-21T00:11:21.170Z' },
          { id: 'agent_1795219881171_c2', name: 'Coder Worker 2', type: 'coder', status: 'busy', capabilities: ['code'] },
        ],
        count: 2,
        timestamp: '2026-11-21T00:11:22.000Z',
      }),
    ],
    'tools/call:swarm_status': [
      toolLine({ success: true, swarmId: 'swarm-1795219881166-xfgygyoal', topology: 'mesh', agentCount: 2, activeAgents: 1, taskCount: 0, pendingTasks: 0, completedTasks: 0, timestamp: '2026-11-21T00:11:22.000Z' }),
    ],
  },
  fallback: (key) => [`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"Unknown tool: ${key.replace('tools/call:', '')}"}}`],
};

/**
 * claude-flow 2.7.47's own server (`claude-flow mcp start`, stdio) behind a plain TCP pipe: a banner
 * that is not JSON, an unprompted `server.initialized`, an id-less error for notifications/initialized,
 * `ping` -> method not found, hard-coded `mock-swarm` agents, stub tools answering plain text, unknown
 * tools "succeeding".
 */
export const CLAUDE_FLOW: Recording = {
  name: 'claude-flow 2.7',
  onConnect: [
    '[2026-11-21T00:12:00.000Z] INFO [claude-flow-mcp] (mcp-server) Claude-Flow MCP server starting in stdio mode',
    '{"jsonrpc":"2.0","method":"server.initialized","params":{"serverInfo":{"name":"claude-flow","version":"2.7.47","capabilities":{"tools":{"listChanged":true}}}}}',
  ],
  replies: {
    authenticate: ['{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"Method not found","data":"authenticate"}}'],
    initialize: [
      '{"jsonrpc":"2.0","id":{{id}},"result":{"protocolVersion":"2024-11-05","capabilities":{"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true}},"serverInfo":{"name":"claude-flow","version":"2.7.47"}}}',
    ],
    'notifications/initialized': ['{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found","data":"notifications/initialized"}}'],
    ping: ['{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"Method not found","data":"ping"}}'],
    'tools/call:agent_list': [
      toolLine({
        success: true,
        swarmId: 'mock-swarm',
        agents: [
          { id: 'agent-1', name: 'coordinator-1', type: 'coordinator', status: 'active', capabilities: [] },
          { id: 'agent-2', name: 'researcher-1', type: 'researcher', status: 'active', capabilities: [] },
          { id: 'agent-3', name: 'coder-1', type: 'coder', status: 'busy', capabilities: [] },
        ],
        count: 3,
        timestamp: '2026-11-21T00:12:01.000Z',
      }),
    ],
    'tools/call:swarm_status': [
      toolLine({ success: true, swarmId: 'mock-swarm', topology: 'hierarchical', agentCount: 3, activeAgents: 3, taskCount: 0, pendingTasks: 0, completedTasks: 0, timestamp: '2026-11-21T00:12:01.000Z' }),
    ],
    'tools/call:agent_metrics': [toolLine('Tool agent_metrics executed successfully')],
  },
  // Unknown tools and invalid arguments "succeed".
  fallback: (key) => [toolLine(`Tool ${key.replace('tools/call:', '')} executed successfully`)],
};

export const RECORDINGS = [KIT_ENGINE, UPSTREAM_FRONT, CLAUDE_FLOW] as const;

/** 3.43.0's hive workers and one agent_spawn agent, as `agent_list` answered in a hive's directory (claude-flow-3.md 3.2). */
export const V3_WORKER_ID = 'hive-worker-1796422148173-sgyd';
export const V3_MCP_AGENT_ID = 'mcp-coder-1';

/**
 * claude-flow 3.43.0's own server (`claude-flow mcp start`, stdio, run in a hive's directory) behind a
 * plain pipe: no unprompted line, no reply to notifications/initialized, `ping` -> {}, every tool it
 * lacks (swarm_list, agent_messages, agent_metrics, ...) -> JSON-RPC -32601 "Tool not found: X". With
 * `isError: true`, missing tools answer as its http transport does: a result with isError and the text.
 */
export function claudeFlow3Recording(o: { isError?: boolean } = {}): Recording {
  return {
    name: `claude-flow 3.43.0${o.isError ? ' (isError answers)' : ''}`,
    onConnect: [],
    replies: {
      initialize: ['{"jsonrpc":"2.0","id":{{id}},"result":{"protocolVersion":"2024-11-05","serverInfo":{"name":"ruflo","version":"3.0.0"},"capabilities":{"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true}}}}'],
      'notifications/initialized': [],
      ping: ['{"jsonrpc":"2.0","id":{{id}},"result":{}}'],
      'tools/call:agent_list': [
        toolLine({
          agents: [
            { agentId: V3_WORKER_ID, agentType: 'coder', status: 'idle', health: 1, taskCount: 0, createdAt: '2026-12-04T22:09:08.173Z', domain: 'hive-mind' },
            { agentId: V3_MCP_AGENT_ID, agentType: 'coder', status: 'active', health: 0.85, taskCount: 1, createdAt: '2026-12-04T22:09:19.014Z' },
          ],
          total: 2,
          filters: {},
        }),
      ],
      'tools/call:swarm_status': [toolLine({ status: 'no_swarm', message: 'No active swarms. Use swarm_init to create one.', totalSwarms: 0 })],
      'tools/call:agent_health': [toolLine({ agents: [], overall: { healthy: 0, degraded: 0, unhealthy: 0, cpu: null, memory: null, _note: 'Per-agent CPU/memory not available — use system_metrics for real OS-level stats', score: 100, issues: 0 }, total: 0 })],
    },
    fallback: (key) => {
      const tool = key.replace('tools/call:', '');
      if (!key.startsWith('tools/call:')) return [`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"Method not found: ${key}"}}`];
      return o.isError
        ? [JSON.stringify({ jsonrpc: '2.0', id: '{{id}}', result: { content: [{ type: 'text', text: `Tool not found: ${tool}` }], isError: true } }).replace('"{{id}}"', '{{id}}')]
        : [`{"jsonrpc":"2.0","id":{{id}},"error":{"code":-32601,"message":"Tool not found: ${tool}"}}`];
    },
  };
}
