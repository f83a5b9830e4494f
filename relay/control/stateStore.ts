/**
 * The relay's own memory of sessions, persisted under config.stateDir so it survives a relay restart:
 * uuid -> swarm id (and, for the bare claude-flow backend, everything it cannot ask claude-flow again).
 * The container's registry stays the source of truth; this only fills gaps. Writes are debounced and
 * atomic (temp file then rename); the file is bounded to MAX_ENTRIES, oldest first out.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Session, SessionStatus, SwarmConfig } from '../../shared/model/session.js';
import { SESSION_UUID_PATTERN } from '../../shared/api.js';

export const MAX_ENTRIES = 20_000;

export interface StoredSession {
  swarmId: string | null;
  backend: Session['backend'];
  updatedAt: number;
  /** Set once this session was re-spawned after a container restart (never restore it twice). */
  replacedBy?: string | null;
  /** claude-flow backend only: what claude-flow cannot tell us back. */
  cf?: {
    sessionId: string | null;
    task: string;
    priority: Session['priority'];
    config: Partial<SwarmConfig> | null;
    status: SessionStatus;
    createdAt: number;
    pid: number | null;
    replaces: string | null;
    progress: number | null;
    agentCount: number | null;
    /** The file the spawn's stdout and stderr go to in the container (absent: the relay did not capture it). */
    logPath?: string | null;
  };
}

interface FileShape {
  version: 1;
  sessions: Record<string, StoredSession>;
}

export class StateStore {
  readonly file: string;
  private readonly map = new Map<string, StoredSession>();
  private timer: NodeJS.Timeout | null = null;

  constructor(stateDir: string, private readonly onError: (err: Error) => void = () => {}) {
    this.file = path.join(stateDir, 'control', 'sessions.json');
    this.load();
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      const doc = JSON.parse(text) as FileShape;
      if (doc?.version !== 1 || typeof doc.sessions !== 'object' || doc.sessions === null) throw new Error('unknown format');
      for (const [uuid, s] of Object.entries(doc.sessions)) {
        if (SESSION_UUID_PATTERN.test(uuid) && typeof s === 'object' && s !== null) this.map.set(uuid, s);
      }
    } catch (err) {
      // A corrupt file must not stop the relay: the registry is the source of truth. Keep a copy to inspect.
      this.onError(new Error(`ignoring unreadable ${this.file}: ${(err as Error).message}`));
      try {
        fs.renameSync(this.file, `${this.file}.corrupt`);
      } catch {
        /* nothing to keep */
      }
    }
  }

  get(uuid: string): StoredSession | undefined {
    return this.map.get(uuid);
  }

  entries(): [string, StoredSession][] {
    return [...this.map.entries()];
  }

  set(uuid: string, s: StoredSession): void {
    this.map.delete(uuid);
    this.map.set(uuid, s);
    while (this.map.size > MAX_ENTRIES) this.map.delete(this.map.keys().next().value as string);
    this.schedule();
  }

  update(uuid: string, patch: Partial<StoredSession>, backend: Session['backend'] = 'session-manager'): StoredSession {
    const cur = this.map.get(uuid) ?? { swarmId: null, backend, updatedAt: Date.now() };
    const next = { ...cur, ...patch, updatedAt: Date.now() };
    this.set(uuid, next);
    return next;
  }

  delete(uuid: string): void {
    if (this.map.delete(uuid)) this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, 200);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const doc: FileShape = { version: 1, sessions: Object.fromEntries(this.map) };
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(doc));
      fs.renameSync(tmp, this.file);
    } catch (err) {
      this.onError(err as Error);
    }
  }
}
