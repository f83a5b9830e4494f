// Test-only: a relay process that owns a control plane with the embedded engine (compiled dist/),
// spawns one swarm, prints the pids it owns as one JSON line, and then waits to be killed.
import { pino } from 'pino';
import { loadConfig } from '../../../dist/relay/config.js';
import { createControlPlane } from '../../../dist/relay/control/index.js';

const config = loadConfig(process.env);
const cp = await createControlPlane({ config, logger: pino({ level: 'silent' }) });
await cp.engine.ready();
const { uuid } = await cp.spawnSwarm({
  topology: 'mesh',
  maxAgents: 3,
  strategy: 'adaptive',
  priority: 'medium',
  enableNeural: true,
  agentTypes: ['coder'],
  customPrompt: 'orphan test',
});
for (let i = 0; i < 400; i++) {
  const s = cp.sessions().sessions.find((x) => x.uuid === uuid);
  if (s?.status === 'running' && s.swarmId) break;
  await new Promise((r) => setTimeout(r, 50));
  await cp.refresh().catch(() => {});
}
console.log(JSON.stringify({ enginePid: cp.engine.pid, uuid }));
setInterval(() => {}, 1000);
