/**
 * JSON-RPC and MCP message shapes as the client meets them: the errors a request can end in, a JSON-RPC
 * error object turned into one, and a tool's payload taken out of a tools/call result.
 */
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class McpRpcError extends Error {
  override name = 'McpRpcError';
  constructor(
    readonly code: number | null,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}
export class McpTimeoutError extends Error {
  override name = 'McpTimeoutError';
}
export class McpUnavailableError extends Error {
  override name = 'McpUnavailableError';
}
export class McpBusyError extends Error {
  override name = 'McpBusyError';
}

/** The answer to a request from the server: we offer no client features, but answer ping. */
export function replyToServerRequest(id: unknown, method: string): Record<string, unknown> {
  return method === 'ping'
    ? { jsonrpc: '2.0', id, result: {} }
    : { jsonrpc: '2.0', id, error: { code: -32601, message: `method not found: ${method.slice(0, 100)}` } };
}

/** A JSON-RPC `error` member (or a bare string some servers send) as an McpRpcError. */
export function toRpcError(e: unknown): McpRpcError {
  if (isObject(e)) {
    const code = typeof e.code === 'number' ? e.code : null;
    const message = typeof e.message === 'string' ? e.message.slice(0, 1000) : 'MCP error';
    return new McpRpcError(code, message, e.data);
  }
  return new McpRpcError(null, typeof e === 'string' ? e.slice(0, 1000) : 'MCP error');
}

/** Extracts a tool's payload (see McpClient.callTool). Throws McpRpcError for `isError` results. */
export function unwrapToolResult(result: unknown): unknown {
  const parsed = CallToolResultSchema.safeParse(result);
  if (!parsed.success || !Array.isArray(parsed.data.content) || parsed.data.content.length === 0) return result;
  const first = parsed.data.content[0];
  const text = first && first.type === 'text' ? first.text : null;
  if (parsed.data.isError) throw new McpRpcError(null, text?.slice(0, 1000) ?? 'tool failed');
  if (text === null) return result;
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}
