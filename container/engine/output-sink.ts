/**
 * What a simulated swarm leaves in its session's output directory (`<HIVE_ROOT>/ext/hive-sessions/<uuid>/`,
 * made by the session manager's `create`): one markdown note per completed subtask under `tasks/`, and the
 * queen's `result.md` when the swarm ends. So a kit session produces files a person (and the console's
 * Files tab) can open, as a real claude-flow swarm writes its results. Content comes from the swarm's own
 * figures only (objective, subtasks, who did them, attempts), deterministic for a given seed.
 *
 * Writes are asynchronous and best effort: a missing or read-only directory costs one failed write and is
 * never retried, and nothing is written for a swarm without a session or whose directory does not exist
 * (the engine never creates a session's directory itself).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SimEvent, SimSwarm, SimTask } from './sim.js';

/** Longest subtask description kept in a file name. */
const SLUG_CHARS = 48;

/** `Research: the "API" docs` -> `research-the-api-docs`. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_CHARS)
    .replace(/-+$/, '');
  return s || 'task';
}

/** The subtask's number within its swarm (`task-<swarm>-<n>`), zero-padded so files sort in order. */
export function taskFileName(task: SimTask): string {
  const n = /-(\d+)$/.exec(task.id)?.[1] ?? '0';
  return `${n.padStart(3, '0')}-${slug(task.description)}.md`;
}

function agentName(swarm: SimSwarm, id: string | null): string {
  if (!id) return 'an agent that has left';
  const a = swarm.agents.find((x) => x.id === id);
  return a ? `${a.name} (${a.type})` : id;
}

export function taskNote(swarm: SimSwarm, task: SimTask, agentId: string | null): string {
  return [
    `# ${task.description}`,
    '',
    `- Session: ${swarm.sessionId ?? 'none'}`,
    `- Swarm: ${swarm.id}`,
    `- Done by: ${agentName(swarm, agentId)}`,
    `- Attempts: ${task.attempts}`,
    `- Priority: ${task.priority}`,
    '',
    `Part of the objective: ${swarm.objective}`,
    '',
  ].join('\n');
}

export function resultNote(swarm: SimSwarm): string {
  const work = swarm.tasks.filter((t) => t.type !== 'queen');
  const line = (t: SimTask) => `- [${t.status === 'completed' ? 'x' : ' '}] ${t.description} (${t.status}, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'})`;
  const done = work.filter((t) => t.status === 'completed').length;
  return [
    `# Result: ${swarm.objective}`,
    '',
    `Swarm ${swarm.id} ${swarm.status}: ${done} of ${work.length} subtasks completed.`,
    '',
    '## Subtasks',
    '',
    ...work.map(line),
    '',
    `Topology ${swarm.topology}, strategy ${swarm.strategy}; ${swarm.messagesSent} messages between agents.`,
    '',
  ].join('\n');
}

export class OutputSink {
  /** Per swarm: its directory when it exists, null when not (asked once). */
  private readonly dirs = new WeakMap<SimSwarm, string | null>();
  private readonly finished = new WeakSet<SimSwarm>();
  stats = { writes: 0, errors: 0 };
  private pending = 0;

  constructor(readonly outputRoot: string) {}

  private dir(swarm: SimSwarm): string | null {
    let d = this.dirs.get(swarm);
    if (d === undefined) {
      d = null;
      // A session id is a uuid from the session manager; anything else never names a directory.
      if (swarm.sessionId && /^[0-9a-f-]{36}$/.test(swarm.sessionId)) {
        const candidate = path.join(this.outputRoot, swarm.sessionId);
        try {
          if (fs.statSync(candidate).isDirectory()) d = candidate;
        } catch {
          d = null;
        }
      }
      this.dirs.set(swarm, d);
    }
    return d;
  }

  /** Fed with every simulation event. */
  onEvent(e: SimEvent): void {
    if (e.type === 'progress' && e.task.status === 'completed' && e.task.type !== 'queen') {
      const d = this.dir(e.swarm);
      if (d) this.write(path.join(d, 'tasks'), taskFileName(e.task), taskNote(e.swarm, e.task, e.agentId));
    } else if (e.type === 'swarm' && (e.swarm.status === 'completed' || e.swarm.status === 'failed') && !this.finished.has(e.swarm)) {
      this.finished.add(e.swarm);
      const d = this.dir(e.swarm);
      if (d) this.write(d, 'result.md', resultNote(e.swarm));
    }
  }

  private write(dir: string, name: string, text: string): void {
    this.pending++;
    void fs.promises
      .mkdir(dir, { recursive: true })
      .then(() => fs.promises.writeFile(path.join(dir, name), text, { mode: 0o644 }))
      .then(
        () => void this.stats.writes++,
        () => void this.stats.errors++,
      )
      .finally(() => this.pending--);
  }

  /** Resolves once every write started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
