// The session manager and runner find the engine with the same variables the engine reads.
import { describe, expect, it } from 'vitest';
import { mcpEnv } from './client.js';

describe('mcpEnv', () => {
  it('takes MCP_TCP_PORT (upstream name) before MCP_PORT, and 9500 without either', () => {
    expect(mcpEnv({ MCP_TCP_PORT: '9612', MCP_PORT: '9500' }).port).toBe(9612);
    expect(mcpEnv({ MCP_PORT: '9501' }).port).toBe(9501);
    expect(mcpEnv({ MCP_TCP_PORT: '', MCP_PORT: '9502' }).port).toBe(9502);
    expect(mcpEnv({}).port).toBe(9500);
    expect(mcpEnv({ MCP_TCP_PORT: 'x' }).port).toBe(9500);
  });

  it('connects to loopback when the engine binds every address', () => {
    expect(mcpEnv({ MCP_HOST: '0.0.0.0' }).host).toBe('127.0.0.1');
  });
});
