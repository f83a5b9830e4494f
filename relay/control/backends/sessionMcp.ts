/**
 * One MCP server per running claude-flow 3.x session, run in that session's directory: 3.x's MCP sees a
 * hive only there (claude-flow-3.md table row 15), and it is how agents spawned through MCP and tasks
 * are read and made. The control plane does not speak MCP itself: the relay's composition root hands
 * it an opener (telemetry's stdio client over the control plane's exec stream). This pool opens one
 * server per live session, at most `max` per container (each is a ~70 MB node process), closes those
 * whose session ended, and gives up on one that keeps dying (its session is then read by exec only).
 */
import type { Logger } from 'pino';

/** A stdio MCP server for one directory (structurally telemetry's StdioMcp). */
export interface SessionMcp {
  readonly state: string;
  readonly reconnects: number;
  callTool(name: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  close(): Promise<void>;
}

/** argv, cwd and env of the server; the opener runs it (docker exec -i, or a local child). */
export interface SessionMcpSpec {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
}
export type SessionMcpOpener = (spec: SessionMcpSpec) => SessionMcp;

/** Servers per container at once: sessions past it are read by exec (`hive-mind status`) only. */
export const MAX_SESSION_MCP = 6;
/** A server that exited this many times is closed; the session is read by exec for RETRY_AFTER_MS. */
const MAX_RECONNECTS = 5;
const RETRY_AFTER_MS = 60_000;

export class SessionMcpPool {
  private readonly open = new Map<string, SessionMcp>();
  /** Sessions whose server kept dying, and when to try again. */
  private readonly failed = new Map<string, number>();

  constructor(
    private readonly opener: () => SessionMcpOpener | null,
    private readonly spec: (uuid: string) => SessionMcpSpec,
    private readonly log: Logger | null,
    private readonly max = MAX_SESSION_MCP,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * The session's server, opened if there is room; null when there is no opener (no driver that can
   * stream), the pool is full, or its server kept dying lately.
   */
  get(uuid: string): SessionMcp | null {
    const cur = this.open.get(uuid);
    if (cur) {
      if (cur.reconnects < MAX_RECONNECTS) return cur;
      this.log?.warn({ uuid, reconnects: cur.reconnects }, 'session MCP keeps exiting; reading the session by exec for a while');
      this.failed.set(uuid, Date.now() + RETRY_AFTER_MS);
      void this.close(uuid);
      return null;
    }
    const open = this.opener();
    if (!open || this.open.size >= this.max || (this.failed.get(uuid) ?? 0) > Date.now()) return null;
    const m = open(this.spec(uuid));
    this.open.set(uuid, m);
    return m;
  }

  /** The session's server when it is connected now (never opens one). */
  ready(uuid: string): SessionMcp | null {
    const m = this.open.get(uuid);
    return m && m.state === 'ready' ? m : null;
  }

  /** Closes every server whose session is not in `live`. */
  async retain(live: ReadonlySet<string>): Promise<void> {
    await Promise.all([...this.open.keys()].filter((u) => !live.has(u)).map((u) => this.close(u)));
    for (const u of this.failed.keys()) if (!live.has(u)) this.failed.delete(u);
  }

  /** Ends the session's server (stdin EOF; it exits) and waits for it. */
  async close(uuid: string): Promise<void> {
    const m = this.open.get(uuid);
    if (!m) return;
    this.open.delete(uuid);
    await m.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((u) => this.close(u)));
  }
}
