/**
 * Stable u32 node ids (< 2^30, the V2 frame's id space) per agent id, persisted under the state dir so
 * that layouts keyed by node id survive a relay restart. Writes are debounced and atomic
 * (write a temp file, then rename), so a crash never leaves a half-written map.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MAX_NODE_ID } from '../../shared/protocol/binaryV2.js';

export const NODE_IDS_FILE = 'node-ids.json';
/** Entries kept; beyond this the oldest ids not in use are forgotten. */
export const MAX_REMEMBERED_IDS = 100_000;
const SAVE_DEBOUNCE_MS = 500;

/**
 * What a graph needs of node ids: one number per agent id, stable, never another agent's. NodeIdStore is
 * one; `NodeIdStore.scoped(target)` is another, for one fleet target's graph (docs/fleet.md).
 */
export interface NodeIdSource {
  /** The agent's number, assigned when new; `inUse` lists the agent ids now in the caller's graph (kept on eviction). */
  get(agentId: string, inUse?: () => Iterable<string>): number;
  hasNumber(nodeId: number): boolean;
  saveNow(): void;
}

interface FileShape {
  version: 1;
  next: number;
  ids: Record<string, number>;
}

export class NodeIdStore implements NodeIdSource {
  private ids = new Map<string, number>();
  /** The numbers handed out (reverse index of `ids`). */
  private numbers = new Set<number>();
  private next = 1;
  private wrapped = false;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  /** Per scope (fleet target), the agent ids its graph holds: eviction keeps every scope's, not only the caller's. */
  private readonly scopesInUse = new Map<string, () => Iterable<string>>();
  private readonly file: string | null;

  /** `stateDir` null keeps ids in memory only (tests). */
  constructor(stateDir: string | null, private readonly onError: (e: unknown) => void = () => undefined) {
    this.file = stateDir ? path.join(stateDir, NODE_IDS_FILE) : null;
    if (this.file) this.load(this.file);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    try {
      const data = JSON.parse(text) as Partial<FileShape>;
      const seen = new Set<number>();
      if (data && typeof data.ids === 'object' && data.ids !== null) {
        for (const [k, v] of Object.entries(data.ids)) {
          if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_NODE_ID && !seen.has(v) && k.length <= 256) {
            this.ids.set(k, v);
            this.numbers.add(v);
            seen.add(v);
            if (v >= this.next) this.next = v + 1;
          }
        }
      }
      if (typeof data.next === 'number' && Number.isInteger(data.next) && data.next > this.next && data.next <= MAX_NODE_ID) this.next = data.next;
    } catch (e) {
      this.onError(e);
    }
  }

  /** True when `nodeId` was handed out to some agent (now or earlier, while remembered). */
  hasNumber(nodeId: number): boolean {
    return this.numbers.has(nodeId);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The agent's id, assigning (and scheduling a save) when new. */
  get(agentId: string, inUse?: () => Iterable<string>): number {
    const have = this.ids.get(agentId);
    if (have !== undefined) return have;
    if (this.ids.size >= MAX_REMEMBERED_IDS) this.evict(this.keepSet(inUse));
    if (this.next > MAX_NODE_ID) {
      // Wrapped after 2^30 assignments: reuse numbers no remembered agent holds.
      this.next = 1;
      this.wrapped = true;
    }
    if (this.wrapped) {
      while (this.numbers.has(this.next)) this.next = this.next >= MAX_NODE_ID ? 1 : this.next + 1;
    }
    const id = this.next++;
    this.ids.set(agentId, id);
    this.numbers.add(id);
    this.scheduleSave();
    return id;
  }

  private keepSet(inUse?: () => Iterable<string>): Set<string> {
    const keep = new Set<string>(inUse ? inUse() : []);
    for (const [prefix, ids] of this.scopesInUse) for (const id of ids()) keep.add(`${prefix}:${id}`);
    return keep;
  }

  /**
   * A view for one fleet target's graph: its raw agent ids (`agent-1`) are kept here as `<prefix>:<id>`,
   * so two targets' `agent-1` get different numbers, and the same ones after a restart (one file for the
   * relay, target names being stable). `prefix` must not contain ':' (target names cannot).
   */
  scoped(prefix: string): NodeIdSource {
    if (!prefix || prefix.includes(':')) throw new Error(`node id scope ${JSON.stringify(prefix)} must be non-empty and without ':'`);
    return {
      get: (agentId, inUse) => {
        if (inUse) this.scopesInUse.set(prefix, inUse);
        return this.get(`${prefix}:${agentId}`);
      },
      hasNumber: (n) => this.hasNumber(n),
      saveNow: () => this.saveNow(),
    };
  }

  private evict(keep: Set<string>): void {
    // Map iteration is insertion order: the oldest assignments go first.
    for (const k of this.ids.keys()) {
      if (this.ids.size < MAX_REMEMBERED_IDS * 0.9) break;
      if (keep.has(k)) continue;
      const n = this.ids.get(k);
      this.ids.delete(k);
      if (n !== undefined) this.numbers.delete(n);
    }
  }

  private scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.saveNow();
    }, SAVE_DEBOUNCE_MS);
    this.saveTimer.unref?.();
  }

  /** Writes synchronously (also used on close). */
  saveNow(): void {
    if (!this.file) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
    }
    const data: FileShape = { version: 1, next: this.next, ids: Object.fromEntries(this.ids) };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify(data));
      fs.renameSync(tmp, this.file);
    } catch (e) {
      this.onError(e);
    }
  }
}
