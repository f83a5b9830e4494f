// spawnEngineProcess: the engine as a real child process on a free port, reachable and stoppable.
import { describe, expect, it } from 'vitest';
import { McpClient } from './client.js';
import { spawnEngineProcess } from './process.js';
import { startEngineProcess } from '../../testkit/kitProcesses.js';
import { freePort } from '../../testkit/ports.js';

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

  it('listens on MCP_TCP_PORT ahead of MCP_PORT (upstream name: kit containers share a host network on different ports)', async () => {
    const port = await freePort();
    const e = await startEngineProcess({ MCP_TCP_PORT: String(port), MCP_PORT: '0', MCP_HOST: '127.0.0.1' });
    try {
      expect(e.port).toBe(port);
      const c = new McpClient({ host: '127.0.0.1', port });
      await c.connect();
      expect(await c.request('ping')).toBeDefined();
      c.close();
    } finally {
      await e.stop();
    }
  });

  it('refuses a bad MCP_TCP_PORT naming it, rather than falling back to another port', async () => {
    await expect(startEngineProcess({ MCP_TCP_PORT: '70000', MCP_PORT: '0' })).rejects.toThrow(/MCP_TCP_PORT must be a number in 0\.\.65535/);
  });
});
