/**
 * Orders a session's start and stop, for the backends whose start launches processes in steps (claude-flow
 * 2.7 and 3.x). A stop waits for its session's start in flight to settle before it looks at the process
 * table, and while it runs `isStopping` tells the start to launch nothing more and not to mark the session
 * live. Without it a stop right after a start (the bench's) found nothing to end, and the start then
 * launched its spawn for a session already marked stopped (docs/claude-flow-observed.md).
 */
export class StartStopOrder {
  /** Starts in flight, per session. */
  private readonly starting = new Map<string, Promise<void>>();
  /** Sessions a stop was asked for and has not finished. */
  private readonly stopping = new Set<string>();

  isStopping(uuid: string): boolean {
    return this.stopping.has(uuid);
  }

  /** Runs the start's steps, known to stops of the same session until they settle. */
  async start(uuid: string, steps: () => Promise<void>): Promise<void> {
    const p = steps();
    this.starting.set(uuid, p);
    try {
      await p;
    } finally {
      if (this.starting.get(uuid) === p) this.starting.delete(uuid);
    }
  }

  /** Marks the session stopping, waits for its start in flight (failed or not), then runs the stop's steps. */
  async stop<T>(uuid: string, steps: () => Promise<T>): Promise<T> {
    this.stopping.add(uuid);
    try {
      await this.starting.get(uuid)?.catch(() => undefined);
      return await steps();
    } finally {
      this.stopping.delete(uuid);
    }
  }
}
