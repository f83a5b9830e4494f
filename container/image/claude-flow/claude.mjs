#!/usr/bin/env node
// Stand-in `claude` (Claude Code) for the real-claude-flow images: installed as /usr/local/bin/claude, so
// `hive-mind spawn --claude` (3.x and 2.7) launches it in the hive's directory. From the outside it behaves
// like a working Claude Code session: coloured terminal output, and calls to the REAL MCP tools of the
// installed claude-flow (its own `claude-flow mcp start` child over stdio, in the same cwd, as Claude Code's
// MCP config would start it) that spawn agents and create, assign, progress and complete tasks over some
// seconds; then it exits, or stays in the foreground until signalled. No LLM, no network. Plain Node.
//
// Environment (default):
//   CLAUDE_STANDIN_SECONDS   length of the scripted work in seconds (20)
//   CLAUDE_STANDIN_AGENTS    agents spawned over MCP (the prompt's worker count, else 3; at most 20)
//   CLAUDE_STANDIN_TASKS     tasks created and worked through (2; at most 20)
//   CLAUDE_STANDIN_STAY      1: after the work, stay in the foreground until SIGTERM/SIGINT/SIGHUP (0)
//   CLAUDE_STANDIN_EXIT_CODE exit code after the work when not staying (0)
//   CLAUDE_STANDIN_LOG       a file to append one JSON line per tool call and its parsed result (none)
//   CLAUDE_FLOW_BIN          the claude-flow to run as the MCP server (claude-flow)
//   NO_COLOR                 no ANSI colour
// `claude --version` prints `0.0.0 (Claude Code stand-in)`. Signals end the work at once: the MCP child is
// closed and the exit code is 128 + the signal number.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const env = process.env;
const int = (v, d, max) => {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, max) : d;
};

const color = !env.NO_COLOR;
const paint = (code) => (s) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const c = { orange: paint('38;5;208'), green: paint('32'), red: paint('31'), dim: paint('2'), bold: paint('1'), cyan: paint('36') };
const out = (s = '') => process.stdout.write(`${s}\n`);

const args = process.argv.slice(2);
if (args.includes('--version') || args.includes('-v')) {
  out('0.0.0 (Claude Code stand-in)');
  process.exit(0);
}

// The prompt is the last argument that is not a flag (claude-flow passes it as one argv element), else stdin.
function readPrompt() {
  const positional = args.filter((a, i) => !a.startsWith('-') && !['--mcp-config', '--model', '--allowedTools'].includes(args[i - 1] ?? ''));
  if (positional.length > 0) return positional[positional.length - 1];
  if (process.stdin.isTTY) return '';
  try {
    return fs.readFileSync(0, 'utf8').slice(0, 1 << 20);
  } catch {
    return '';
  }
}
const prompt = readPrompt();
const field = (re) => re.exec(prompt)?.[1]?.trim() ?? null;
const objective = field(/Objective:\s*(.+)/) ?? (prompt.length < 200 ? prompt.trim() : null) ?? 'the objective';
const swarmLabel = field(/Swarm ID:\s*(\S+)/);
// 3.x's prompt lists `• coder: 2 agents` under WORKER DISTRIBUTION; 2.7's a `Worker Types: a, b` line.
const distribution = [...prompt.matchAll(/^\s*[•*-]\s*([a-z][a-z_-]*):\s*\d+\s+agents?\s*$/gm)].map((m) => m[1]);
const promptTypes = (distribution.length > 0 ? distribution : (field(/Worker Types:\s*(.+)/) ?? '').split(/[,\s]+/)).filter((t) => /^[a-z][a-z_-]*$/.test(t) && t !== 'worker');
const topology = field(/Topology:\s*([a-z-]+)/) ?? 'hierarchical';
const types = promptTypes.length > 0 ? promptTypes : ['researcher', 'coder', 'tester'];
const seconds = int(env.CLAUDE_STANDIN_SECONDS, 20, 86_400);
const agentCount = int(env.CLAUDE_STANDIN_AGENTS, int(field(/Worker Count:\s*(\d+)/) ?? undefined, 3, 20), 20);
const taskCount = int(env.CLAUDE_STANDIN_TASKS, 2, 20);
const stay = env.CLAUDE_STANDIN_STAY === '1';
const logFile = env.CLAUDE_STANDIN_LOG || null;

// ---- a minimal MCP client over the child's stdio (answers may come out of order: matched by id) ----
let mcp = null;
let nextId = 1;
const waiting = new Map();
let buf = '';

function startMcp() {
  const bin = env.CLAUDE_FLOW_BIN || 'claude-flow';
  mcp = spawn(bin, ['mcp', 'start'], { stdio: ['pipe', 'pipe', 'ignore'], env: { ...env, CLAUDE_FLOW_AUTO_UPDATE: env.CLAUDE_FLOW_AUTO_UPDATE ?? 'false' } });
  mcp.stdin.on('error', () => undefined);
  mcp.stdout.setEncoding('utf8');
  mcp.stdout.on('data', (d) => {
    buf += d;
    if (buf.length > 16 << 20) buf = ''; // a runaway line: drop it rather than grow without bound
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        continue; // log lines on stdout (2.7) are not JSON-RPC
      }
      const w = msg && msg.id != null ? waiting.get(msg.id) : undefined;
      if (!w) continue; // notifications and unprompted lines
      waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
      else w.resolve(msg.result);
    }
  });
  mcp.on('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('MCP server exited'));
    waiting.clear();
  });
}

function request(method, params, timeoutMs = 30_000) {
  if (!mcp || mcp.exitCode !== null) return Promise.reject(new Error('MCP server not running'));
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`${method} timed out`));
    }, timeoutMs);
    waiting.set(id, {
      resolve: (v) => (clearTimeout(t), resolve(v)),
      reject: (e) => (clearTimeout(t), reject(e)),
    });
    mcp.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
  });
}

/** tools/call, shown the way Claude Code shows an MCP tool use; returns the parsed text result (or null). */
async function tool(name, params = {}) {
  const shown = Object.entries(params).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ');
  out(`${c.green('●')} ${c.bold(`claude-flow - ${name} (MCP)`)}(${shown})`);
  let parsed = null;
  let error = null;
  try {
    const result = await request('tools/call', { name, arguments: params });
    const text = result?.content?.[0]?.text ?? '';
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { text };
    }
    const summary = JSON.stringify(parsed);
    out(`  ${c.dim('⎿')}  ${c.dim(summary.length > 160 ? `${summary.slice(0, 157)}...` : summary)}`);
  } catch (e) {
    error = e.message;
    out(`  ${c.dim('⎿')}  ${c.red(`Error: ${error}`)}`);
  }
  if (logFile) fs.appendFileSync(logFile, `${JSON.stringify({ at: new Date().toISOString(), pid: process.pid, tool: name, params, result: parsed, error })}\n`);
  return parsed;
}

// ---- the scripted session ----
let ending = false;
const timers = new Set();
const sleep = (ms) => new Promise((r) => {
  const t = setTimeout(() => (timers.delete(t), r()), ms);
  timers.add(t);
});

function finish(code) {
  if (ending) return;
  ending = true;
  for (const t of timers) clearTimeout(t);
  if (mcp && mcp.exitCode === null) {
    mcp.stdin.end();
    const m = mcp;
    setTimeout(() => m.exitCode === null && m.kill('SIGKILL'), 1_000).unref();
    m.once('exit', () => process.exit(code));
    m.kill('SIGTERM');
  } else process.exit(code);
}
for (const [sig, n] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]]) {
  process.on(sig, () => {
    out(`\n${c.red('⎿  Interrupted')} ${c.dim(`(${sig})`)}`);
    finish(128 + n);
  });
}

function banner() {
  const lines = [`${c.orange('✻')} Welcome to ${c.bold('Claude Code')}! ${c.dim('(stand-in)')}`, '', `  ${c.dim(`cwd: ${process.cwd()}`)}`];
  const width = 58;
  out(c.orange(`╭${'─'.repeat(width)}╮`));
  for (const l of lines) out(`${c.orange('│')} ${l}${' '.repeat(Math.max(0, width - 1 - l.replace(/\x1b\[[0-9;]*m/g, '').length))}${c.orange('│')}`);
  out(c.orange(`╰${'─'.repeat(width)}╯`));
  out('');
  out(`${c.dim('>')} ${objective}`);
  out('');
}

async function v3Session(step) {
  const hive = await tool('hive-mind_status', {});
  out(`${c.cyan('●')} Hive ${hive?.hiveId ?? swarmLabel ?? '?'} has ${hive?.workerCount ?? 0} worker(s); spawning ${agentCount} agent(s) and ${taskCount} task(s).`);
  await step();
  const swarm = await tool('swarm_init', { topology, maxAgents: Math.max(agentCount, 1), strategy: 'specialized' });
  const swarmId = swarm?.swarmId;
  const agents = [];
  for (let i = 0; i < agentCount; i++) {
    const r = await tool('agent_spawn', { agentType: types[i % types.length], ...(swarmId ? { swarmId } : {}) });
    if (r?.agentId) agents.push(r.agentId);
    await step();
  }
  await tool('hive-mind_spawn', { count: 1, agentType: types[0] });
  for (let i = 0; i < taskCount; i++) {
    const task = await tool('task_create', { type: 'feature', description: `${objective} (part ${i + 1} of ${taskCount})`, priority: 'high' });
    const taskId = task?.taskId;
    if (!taskId) continue;
    const agentId = agents[i % Math.max(agents.length, 1)];
    if (agentId) await tool('task_assign', { taskId, agentIds: [agentId] });
    await step();
    await tool('task_update', { taskId, status: 'in_progress', progress: 50 });
    await step();
    await tool('task_complete', { taskId, result: { summary: `part ${i + 1} done` } });
  }
  await tool('task_summary', {});
}

async function v27Session(step) {
  const swarm = await tool('swarm_init', { topology: 'hierarchical', maxAgents: Math.max(agentCount, 1), strategy: 'auto' });
  const swarmId = swarm?.swarmId;
  await step();
  for (let i = 0; i < agentCount; i++) {
    await tool('agent_spawn', { type: types[i % types.length], name: `${types[i % types.length]}-${i + 1}`, ...(swarmId ? { swarmId } : {}) });
    await step();
  }
  for (let i = 0; i < taskCount; i++) {
    await tool('task_orchestrate', { task: `${objective} (part ${i + 1} of ${taskCount})`, priority: 'high', strategy: 'parallel' });
    await step();
    await tool('swarm_status', swarmId ? { swarmId } : {});
    await step();
  }
  await tool('agent_list', swarmId ? { swarmId } : {});
}

async function main() {
  banner();
  const t0 = Date.now();
  startMcp();
  let names = new Set();
  try {
    await request('initialize', { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'claude-code-standin', version: '0.0.0' } });
    mcp.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const list = await request('tools/list', {});
    names = new Set((list?.tools ?? []).map((t) => t.name));
    out(`${c.dim(`MCP server claude-flow connected: ${names.size} tools`)}`);
  } catch (e) {
    out(c.red(`MCP server claude-flow failed: ${e.message}`));
  }
  const v3 = names.has('hive-mind_status') && names.has('task_create');
  const v27 = !v3 && names.has('agent_spawn') && names.has('task_orchestrate');
  // Steps spread the work over CLAUDE_STANDIN_SECONDS.
  const steps = v3 ? 2 + agentCount + 2 * taskCount : 1 + agentCount + 2 * taskCount;
  const stepMs = (seconds * 1000) / Math.max(steps, 1);
  const step = () => (ending ? new Promise(() => undefined) : sleep(stepMs));
  if (v3) await v3Session(step);
  else if (v27) await v27Session(step);
  else await sleep(seconds * 1000);
  const rest = seconds * 1000 - (Date.now() - t0);
  if (rest > 0) await sleep(rest);
  out('');
  out(`${c.green('●')} Done: ${agentCount} agent(s), ${taskCount} task(s) for "${objective}" in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  if (mcp && mcp.exitCode === null) mcp.stdin.end();
  if (stay) {
    out(c.dim('Waiting for input (stand-in: stays until signalled).'));
    setInterval(() => undefined, 1 << 30);
    return;
  }
  finish(int(env.CLAUDE_STANDIN_EXIT_CODE, 0, 255));
}

main().catch((e) => {
  out(c.red(`stand-in failed: ${e.stack ?? e}`));
  finish(1);
});
