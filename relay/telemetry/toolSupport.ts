/**
 * Which MCP tools the server on the current connection really has. Each server is used as it is: a tool
 * that answered "not found" (-32601, or an `isError` result saying "Tool not found" / "Unknown tool")
 * or a stub ("Tool X executed successfully", claude-flow 2.7's answer for tools it does not implement)
 * is not called again on that connection. A new connection, or another backend after a container
 * restart, may be another server: reset() forgets every verdict.
 */
import { McpRpcError } from './rpc.js';

export type ToolVerdict = 'missing' | 'stub';

/** Thrown instead of calling a tool the server does not have; callers treat it as "no data". */
export class ToolUnsupportedError extends Error {
  override name = 'ToolUnsupportedError';
  constructor(
    readonly tool: string,
    readonly verdict: ToolVerdict,
  ) {
    super(`MCP tool ${tool} is ${verdict === 'missing' ? 'not on this server' : 'a stub on this server'}; not called again on this connection`);
  }
}

/** Most verdicts kept per connection: tool names come from our own code, this only bounds a bug. */
const MAX_VERDICTS = 256;
const NOT_FOUND_TEXT = /^\s*(tool not found|unknown tool|method not found)\b/i;
/** 2.7's stub answer (and its "success" for tools it does not know): plain text, no data. */
const STUB_TEXT = /^\s*Tool \S{1,128} executed successfully\.?\s*$/i;

/** True for an answer that says the tool does not exist on this server. */
export function isToolMissing(e: unknown): boolean {
  if (!(e instanceof McpRpcError)) return false;
  if (e.code === -32601) return true;
  // `isError` results (3.x over http) carry no JSON-RPC code: only their text says "not found".
  return e.code === null && NOT_FOUND_TEXT.test(e.message);
}

/** True for a stub answer: text where a tool with data answers JSON. */
export function isStubAnswer(payload: unknown): boolean {
  return typeof payload === 'string' && STUB_TEXT.test(payload);
}

export interface ToolCaller {
  callTool(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
}

export class ToolSupport {
  private readonly off = new Map<string, ToolVerdict>();
  /** Bumped by reset(): an answer to a call made on an older connection sets no verdict. */
  private epoch = 0;

  /** A new connection or another backend: every tool gets one more try. */
  reset(): void {
    this.off.clear();
    this.epoch++;
  }

  verdict(tool: string): ToolVerdict | null {
    return this.off.get(tool) ?? null;
  }

  /** Tools not called any more on this connection, with why (health and tests). */
  list(): { tool: string; verdict: ToolVerdict }[] {
    return [...this.off].map(([tool, verdict]) => ({ tool, verdict }));
  }

  /**
   * Calls the tool unless it was found missing or a stub on this connection (then ToolUnsupportedError
   * without a request). A "not found" or a stub answer marks it and rejects with ToolUnsupportedError;
   * other failures pass through unchanged (a timeout says nothing about the tool).
   */
  async call(client: ToolCaller, tool: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<unknown> {
    const known = this.off.get(tool);
    if (known) throw new ToolUnsupportedError(tool, known);
    const epoch = this.epoch;
    let payload: unknown;
    try {
      payload = await client.callTool(tool, args, timeoutMs);
    } catch (e) {
      if (isToolMissing(e)) throw this.mark(tool, 'missing', epoch);
      throw e;
    }
    if (isStubAnswer(payload)) throw this.mark(tool, 'stub', epoch);
    return payload;
  }

  private mark(tool: string, verdict: ToolVerdict, epoch: number): ToolUnsupportedError {
    if (epoch === this.epoch && (this.off.size < MAX_VERDICTS || this.off.has(tool))) this.off.set(tool, verdict);
    return new ToolUnsupportedError(tool, verdict);
  }
}
