/** Whether an MCP server answers `ping` on host:port within `timeoutMs` (tests waiting for an engine to come up, or checking it stayed up). */
import { McpClient } from '../container/engine/client.js';

export async function mcpAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  const c = new McpClient({ host, port, timeoutMs });
  try {
    await c.connect();
    await c.request('ping');
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}
