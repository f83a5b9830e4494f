/**
 * Finding and ending a session's processes inside a container without `pgrep` (Debian's busybox has
 * none): one `ps -eo pid,ppid,pgid,stat,args` exec (busybox and procps both take it), or, where `ps` is
 * missing or prints something else, a /proc scan through `find -exec cat|grep` (still no shell). Stop
 * then sends TERM, waits a grace period, escalates to KILL and verifies; what survives is returned so
 * the caller reports an error instead of claiming `stopped`.
 */
import type { RunFn } from './types.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Process state letters (`S`, `R`, `Z`, `T`, `Ss`, ...). */
  stat: string;
  /** Command line as ps prints it ('' when only the /proc scan saw the process and it did not match). */
  args: string;
}

/** Bounds: a container with more processes than this is not one we can judge from one listing. */
export const MAX_PROCS = 20_000;
const MAX_ARGS = 4096;

export const PS_ARGV = ['ps', '-eo', 'pid,ppid,pgid,stat,args'] as const;
export const PROC_STAT_ARGV = ['find', '/proc', '-mindepth', '2', '-maxdepth', '2', '-path', '/proc/[0-9]*/stat', '-type', 'f', '-exec', 'cat', '{}', '+'] as const;
/** Lists the /proc/<pid>/cmdline files that contain the needle (cmdline is NUL-separated: -a). */
export function procGrepArgv(needle: string): string[] {
  return ['find', '/proc', '-mindepth', '2', '-maxdepth', '2', '-path', '/proc/[0-9]*/cmdline', '-type', 'f', '-exec', 'grep', '-l', '-a', '-F', '-e', needle, '{}', '+'];
}

/** `ps -eo pid,ppid,pgid,stat,args` output; null when the header is not that table (another ps, an error). */
export function parsePsTable(stdout: string): ProcInfo[] | null {
  const lines = stdout.split('\n');
  const header = lines.shift() ?? '';
  if (!/^\s*PID\s+PPID\s+PGID\s+STAT\s+(COMMAND|ARGS|CMD)\s*$/i.test(header)) return null;
  const out: ProcInfo[] = [];
  for (const line of lines) {
    if (out.length >= MAX_PROCS) break;
    const m = /^\s*(\d{1,9})\s+(\d{1,9})\s+(\d{1,9})\s+(\S{1,8})(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    out.push({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), stat: m[4]!, args: (m[5] ?? '').slice(0, MAX_ARGS) });
  }
  return out;
}

/** `/proc/<pid>/stat` lines (several concatenated); comm may hold spaces and parentheses. */
export function parseProcStats(stdout: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const line of stdout.split('\n')) {
    if (out.length >= MAX_PROCS) break;
    const open = line.indexOf(' (');
    const close = line.lastIndexOf(') ');
    if (open < 0 || close < open) continue;
    const pid = Number(line.slice(0, open));
    const rest = line.slice(close + 2).split(' ');
    const [stat, ppid, pgid] = [rest[0] ?? '', Number(rest[1]), Number(rest[2])];
    if (!Number.isInteger(pid) || pid < 1 || !Number.isInteger(ppid) || !Number.isInteger(pgid) || !/^[A-Za-z]$/.test(stat)) continue;
    out.push({ pid, ppid, pgid, stat, args: '' });
  }
  return out;
}

/** `/proc/<pid>/cmdline` paths printed by grep -l -> pids. */
export function parseProcPaths(stdout: string): Set<number> {
  const out = new Set<number>();
  for (const m of stdout.matchAll(/^\/proc\/(\d{1,9})\/cmdline$/gm)) out.add(Number(m[1]));
  return out;
}

/** Dead but not reaped: it cannot be signalled and holds nothing but a table slot. */
export const isZombie = (p: ProcInfo): boolean => p.stat.startsWith('Z');

export interface ProcScan {
  procs: ProcInfo[];
  /** Pids whose command line contains the needle. */
  matched: Set<number>;
  method: 'ps' | 'proc';
}

/** Every process, and which match the needle: ps when it can, else /proc (two execs). */
export async function scanProcesses(run: RunFn, needle: string): Promise<ProcScan> {
  const ps = await run([...PS_ARGV], { idempotent: true }).catch(() => null);
  const table = ps && ps.exitCode === 0 ? parsePsTable(ps.stdout) : null;
  if (table) return { procs: table, matched: new Set(table.filter((p) => p.args.includes(needle)).map((p) => p.pid)), method: 'ps' };
  // Stat first: the find/grep of the second exec carries the needle in its own argv, and it is not in this list.
  const st = await run([...PROC_STAT_ARGV], { idempotent: true });
  const procs = parseProcStats(st.stdout);
  if (procs.length === 0) throw new Error(`cannot list processes: ps and /proc both failed (${(ps?.stderr || st.stderr).trim().slice(0, 200) || 'no output'})`);
  const known = new Set(procs.map((p) => p.pid));
  const g = await run(procGrepArgv(needle), { idempotent: true });
  const matched = new Set([...parseProcPaths(g.stdout)].filter((pid) => known.has(pid)));
  return { procs, matched, method: 'proc' };
}

/**
 * The session's processes: those whose argv holds the needle, their descendants, and the members of
 * any group one of them leads (setsid made it leader; Claude Code started by it stays in that group).
 * PID 1 is never part of it.
 */
export function sessionProcesses(scan: ProcScan): { procs: ProcInfo[]; groups: number[] } {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of scan.procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const roots = scan.procs.filter((p) => scan.matched.has(p.pid) && p.pid > 1);
  const groups = [...new Set(roots.filter((p) => p.pgid === p.pid).map((p) => p.pgid))];
  const ids = new Set<number>();
  const stack = [...roots];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (ids.has(p.pid) || p.pid <= 1) continue;
    ids.add(p.pid);
    stack.push(...(byParent.get(p.pid) ?? []));
  }
  for (const p of scan.procs) if (groups.includes(p.pgid) && p.pid > 1) ids.add(p.pid);
  return { procs: scan.procs.filter((p) => ids.has(p.pid)), groups };
}

export interface EndResult {
  /** Live processes found at the start. */
  found: number;
  /** Whether KILL was needed. */
  escalated: boolean;
  /** Still alive after KILL (zombies excluded: they are dead). */
  remaining: ProcInfo[];
  /** Zombies left behind (a PID 1 that does not reap keeps them). */
  zombies: number;
}

export interface EndOptions {
  /** TERM -> KILL after this long. Default 3000 ms. */
  graceMs?: number;
  /** Re-scan interval while waiting. Default 250 ms. */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

/**
 * The live processes by depth below the session's roots, deepest first (a root: no parent among them).
 * Signalling in this order lets every parent outlive its child and reap it: a parent that exits on TERM
 * without waiting for its child (claude-flow 3.x's `spawn --claude` does `claude.kill(); process.exit(0)`)
 * would orphan it to PID 1, which in many containers never reaps, and leave a zombie.
 */
export function deepestFirst(procs: readonly ProcInfo[]): number[][] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const depth = new Map<number, number>();
  const depthOf = (p: ProcInfo): number => {
    const known = depth.get(p.pid);
    if (known !== undefined) return known;
    depth.set(p.pid, 0); // a cycle in a torn listing counts as a root
    const parent = byPid.get(p.ppid);
    const d = parent && parent.pid !== p.pid ? depthOf(parent) + 1 : 0;
    depth.set(p.pid, d);
    return d;
  };
  const levels: number[][] = [];
  for (const p of procs) (levels[depthOf(p)] ??= []).push(p.pid);
  return levels.filter((l) => l.length > 0).reverse();
}

async function signalPids(run: RunFn, sig: 'TERM' | 'KILL', pids: readonly number[]): Promise<void> {
  if (pids.length > 0) await run(['kill', `-${sig}`, ...pids.map(String)], { idempotent: true }).catch(() => undefined);
}

/**
 * Signals the groups (`kill -SIG -- -PGID`) and the processes outside them. Exit codes are not judged:
 * busybox's kill delivers `-- -PGID` and still exits 1 ("invalid number '--'"); callers verify with a scan.
 */
export async function signal(run: RunFn, sig: 'TERM' | 'KILL' | 'CONT' | 'STOP', target: { procs: ProcInfo[]; groups: number[] }): Promise<void> {
  for (const g of target.groups) await run(['kill', `-${sig}`, '--', `-${g}`], { idempotent: true }).catch(() => undefined);
  const loose = target.procs.filter((p) => !target.groups.includes(p.pgid) && !isZombie(p)).map((p) => String(p.pid));
  if (loose.length > 0) await run(['kill', `-${sig}`, ...loose], { idempotent: true }).catch(() => undefined);
}

/**
 * Ends the processes matching the needle: CONT (a paused group ignores TERM), then TERM deepest first,
 * one level at a time, each waited for so its parents reap it (the levels share the grace period; a level
 * that outlasts it, e.g. a child that ignores TERM, is KILLed before the level above is signalled), then
 * the groups they led (stragglers); what is left is KILLed the same way; verify. Zombies left are counted.
 */
export async function endProcesses(run: RunFn, needle: string, o: EndOptions = {}): Promise<EndResult> {
  const graceMs = o.graceMs ?? 3000;
  const pollMs = o.pollMs ?? 250;
  const sleep = o.sleep ?? defaultSleep;
  const first = sessionProcesses(await scanProcesses(run, needle));
  const live = (t: { procs: ProcInfo[] }) => t.procs.filter((p) => !isZombie(p));
  const found = live(first).length;
  if (found === 0) return { found: 0, escalated: false, remaining: [], zombies: first.procs.length };
  const ids = new Set(first.procs.map((p) => p.pid));
  const rescan = async () => {
    const scan = await scanProcesses(run, needle);
    // Keep the ones found before that lost their tag (exec'd) or their parent (re-parented).
    return sessionProcesses({ ...scan, matched: new Set([...scan.matched, ...scan.procs.filter((p) => ids.has(p.pid)).map((p) => p.pid)]) });
  };
  /**
   * Re-scans until none of `pids` (all of the session's when absent) is alive, or `ms` of polling passed;
   * returns the scan, the time waited and what is still pending. For a level, a zombie whose parent still
   * lives is pending too: that parent has yet to reap it, and signalling the parent now (3.x's spawn exits
   * on TERM at once) would leave it to PID 1.
   */
  const waitGone = async (ms: number, pids?: readonly number[]) => {
    for (let waited = 0; ; waited += pollMs) {
      const cur = await rescan();
      const parentLives = (p: ProcInfo) => p.ppid > 1 && cur.procs.some((q) => q.pid === p.ppid && !isZombie(q));
      const pending = pids ? cur.procs.filter((p) => pids.includes(p.pid) && (!isZombie(p) || parentLives(p))) : live(cur);
      if (pending.length === 0 || waited >= ms) return { cur, waited, pending };
      await sleep(pollMs);
    }
  };
  const killWaitMs = Math.min(graceMs, 2000);
  let escalated = false;
  let left = graceMs;
  await signal(run, 'CONT', first);
  // TERM level by level within the grace period; a level still alive when it is spent is KILLed before
  // the level above is signalled, so its parents outlive it and reap it.
  for (const level of deepestFirst(live(first))) {
    await signalPids(run, 'TERM', level);
    const w = await waitGone(left, level);
    left = Math.max(0, left - w.waited);
    const stuck = live({ procs: w.pending }).map((p) => p.pid);
    if (stuck.length > 0) {
      escalated = true;
      await signalPids(run, 'KILL', stuck);
      await waitGone(killWaitMs, stuck);
    }
  }
  await signal(run, 'TERM', { procs: [], groups: first.groups });
  let cur = (await waitGone(left)).cur;
  if (escalated || live(cur).length > 0) {
    escalated = true;
    for (const level of deepestFirst(live(cur))) {
      await signalPids(run, 'KILL', level);
      await waitGone(killWaitMs, level);
    }
    await signal(run, 'KILL', { procs: [], groups: first.groups });
    cur = (await waitGone(killWaitMs)).cur;
  }
  return { found, escalated, remaining: live(cur), zombies: cur.procs.length - live(cur).length };
}
