// spawnEngineProcess: the engine as a real child process on a free port, reachable and stoppable.
import { describe, expect, it } from 'vitest';
import { McpClient } from './client.js';
import { spawnEngineProcess } from './process.js';

describe('spawnEngineProcess', () => {
  it('starts hive-engine on a free port with auth, answers MCP, and stops on request', async () => {
    const engine = await spawnEngineProcess({ port: 0, authToken: 't0k', seed: 5, speed: 10 });
    try {
      expect(engine.port).toBeGreaterThan(0);
      const c = new McpClient({ host: '127.0.0.1', port: engine.port, authToken: 't0k' });
      await c.connect();
      const s = await c.callTool<{ sim_speed: number; pid: number }>('performance_summary');
      expect(s).toMatchObject({ sim_speed: 10, pid: engine.pid });
      c.close();
    } finally {
      await engine.stop();
    }
    expect(engine.child.exitCode ?? engine.child.signalCode).not.toBeNull();
  });

  it('reports a port that is already taken as a failed start', async () => {
    const a = await spawnEngineProcess({ port: 0, stderr: 'ignore' });
    try {
      await expect(spawnEngineProcess({ port: a.port, stderr: 'ignore' })).rejects.toThrow(/exited/);
    } finally {
      await a.stop();
    }
  });
});
