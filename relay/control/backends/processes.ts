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

async function signalPids(run: RunFn, sig: 'TERM' | 'KILL' | 'STOP' | 'CONT', pids: readonly number[]): Promise<void> {
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
 * Whether a ps `args` column is the process an exec of `argv` started: the argv joined by spaces, or a
 * script run through its shebang, which ps shows as `<interpreter> [flags] <path>/<argv[0]'s name> <argv[1..]>`
 * (`claude-flow hive-mind spawn x` runs as `node /usr/local/bin/claude-flow hive-mind spawn x`: matching the
 * joined argv alone never found it, and every timed-out claude-flow command ran on).
 */
export function psArgsMatch(args: string, argv: readonly string[]): boolean {
  const line = argv.join(' ');
  if (args === line) return true;
  const first = argv[0] ?? '';
  const base = first.slice(first.lastIndexOf('/') + 1);
  if (base === '') return false;
  const tail = argv.length > 1 ? ` ${argv.slice(1).join(' ')}` : '';
  if (!args.endsWith(tail)) return false;
  const head = args.slice(0, args.length - tail.length);
  // Interpreter, then the script: a path ending in argv[0]'s name (or argv[0] itself when it was a path).
  const sp = head.indexOf(' ');
  return sp > 0 && (head.endsWith(` ${first}`) || head.endsWith(`/${base}`));
}

/**
 * The processes of a tree to end now, leaves first: the live ones among `ids` with no child (a zombie
 * child counts: its parent has to reap it first, or it goes to PID 1). None while every live one still
 * waits to reap a child; with `force`, then all live ones (a parent that never reaps must not keep the
 * rest running for ever).
 */
export function leavesOf(procs: readonly ProcInfo[], ids: ReadonlySet<number>, force = false): ProcInfo[] {
  const live = procs.filter((p) => ids.has(p.pid) && !isZombie(p));
  const leaves = live.filter((p) => !procs.some((q) => q.ppid === p.pid && ids.has(q.pid)));
  return leaves.length > 0 || !force ? leaves : live;
}

/** `ids` grown to a fixed point with every process whose parent or group is in it (pid 1 never). */
export function treeOf(procs: readonly ProcInfo[], roots: readonly ProcInfo[]): Set<number> {
  const ids = new Set(roots.map((p) => p.pid));
  const groups = new Set(roots.filter((p) => p.pgid === p.pid).map((p) => p.pgid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (p.pid > 1 && !ids.has(p.pid) && (ids.has(p.ppid) || groups.has(p.pgid))) {
        ids.add(p.pid);
        grew = true;
      }
    }
  }
  return ids;
}

/** Stopped (SIGSTOP, `T`) or traced (`t`): it runs no code, so it cannot fork, exit or reap until CONT. */
export const isFrozen = (p: ProcInfo): boolean => /^[Tt]/.test(p.stat);

/** Rounds of freeze-signal-wait before giving up (a session forking without end is not one we can end). */
const MAX_ROUNDS = 64;
/** STOP passes before the tree counts as frozen (each one catches the children forked before the last). */
const FREEZE_PASSES = 4;

/**
 * Ends the processes matching the needle, leaves first, one round at a time: freeze the whole session
 * (STOP, re-scanned until every live process is stopped: a stopped process cannot fork, so the tree it
 * shows is the tree that gets signalled), signal the live processes that have no child at all (a zombie
 * child is one its parent has yet to reap), CONT everything (the signalled act on it, their parents
 * reap them), and wait until those are reaped; then the next round sees their parents as leaves.
 * TERM while the grace period lasts (polling time shared by all rounds), KILL after it; verify.
 *
 * Why leaves of a fresh, frozen listing rather than levels of the first one: 3.x's `spawn --claude`
 * answers TERM with `claude.kill(); process.exit(0)`. Its Claude Code started after the first listing
 * (a stop right after a start, or a slow machine) was not in any level, the spawn was signalled with a
 * live child, and that child went to PID 1, which in many containers never reaps: a `[node]` zombie.
 * Zombies left are counted.
 */
export async function endProcesses(run: RunFn, needle: string, o: EndOptions = {}): Promise<EndResult> {
  const graceMs = o.graceMs ?? 3000;
  const pollMs = o.pollMs ?? 250;
  const sleep = o.sleep ?? defaultSleep;
  const first = sessionProcesses(await scanProcesses(run, needle));
  const live = (t: { procs: ProcInfo[] }) => t.procs.filter((p) => !isZombie(p));
  const found = live(first).length;
  if (found === 0) return { found: 0, escalated: false, remaining: [], zombies: first.procs.length };
  // Everything seen once stays the session's: a process that exec'd lost its tag, one whose parent ended
  // was re-parented, and a child forked later sits in the group its parent led.
  const ids = new Set(first.procs.map((p) => p.pid));
  const groups = new Set(first.groups);
  const rescan = async () => {
    const scan = await scanProcesses(run, needle);
    const kept = scan.procs.filter((p) => p.pid > 1 && (ids.has(p.pid) || groups.has(p.pgid))).map((p) => p.pid);
    const cur = sessionProcesses({ ...scan, matched: new Set([...scan.matched, ...kept]) });
    for (const p of cur.procs) ids.add(p.pid);
    for (const g of cur.groups) groups.add(g);
    return cur;
  };
  const hasChild = (cur: { procs: ProcInfo[] }, p: ProcInfo) => cur.procs.some((q) => q.ppid === p.pid);
  /** STOPs and re-scans until every live process is stopped (or the passes run out: the rest waits a round). */
  const freeze = async (from: { procs: ProcInfo[] }) => {
    let cur = from;
    for (let i = 0; i < FREEZE_PASSES; i++) {
      const running = live(cur).filter((p) => !isFrozen(p));
      if (running.length === 0) break;
      await signalPids(run, 'STOP', running.map((p) => p.pid));
      cur = await rescan();
    }
    return cur;
  };
  /**
   * Re-scans until none of `pids` is pending or `ms` of polling passed. A zombie whose parent still lives
   * is pending: that parent has yet to reap it, and signalling the parent now would leave it to PID 1.
   */
  const waitGone = async (ms: number, pids: readonly number[]) => {
    for (let waited = 0; ; waited += pollMs) {
      const cur = await rescan();
      const parentLives = (p: ProcInfo) => p.ppid > 1 && cur.procs.some((q) => q.pid === p.ppid && !isZombie(q));
      const pending = cur.procs.filter((p) => pids.includes(p.pid) && (!isZombie(p) || parentLives(p)));
      if (pending.length === 0 || waited >= ms) return { cur, waited };
      await sleep(pollMs);
    }
  };
  const killWaitMs = Math.min(graceMs, 2000);
  let escalated = false;
  let left = graceMs;
  const termed = new Set<number>();
  const killed = new Set<number>();
  let cur: { procs: ProcInfo[] } = first;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    cur = await freeze(cur);
    const alive = live(cur);
    if (alive.length === 0) break;
    let leaves = alive.filter((p) => !hasChild(cur, p));
    // Only parents of unreaped zombies are left: let them run and reap, within the grace period; past
    // it they are signalled anyway (a parent that never reaps leaves its zombie whatever we do).
    if (leaves.length === 0 && left > 0) {
      await signalPids(run, 'CONT', alive.map((p) => p.pid));
      await sleep(pollMs);
      left = Math.max(0, left - pollMs);
      cur = await rescan();
      continue;
    }
    if (leaves.length === 0) leaves = alive.filter((p) => !cur.procs.some((q) => q.ppid === p.pid && !isZombie(q)));
    if (leaves.length === 0) leaves = alive; // a torn listing with a cycle
    // Everyone gets TERM first; one that outlived it and the grace period gets KILL.
    let kill = left === 0 ? leaves.filter((p) => termed.has(p.pid)) : [];
    const term = leaves.filter((p) => !kill.includes(p));
    // Leaves that outlived KILL (uninterruptible): waiting on them ends nothing. KILL the rest once and
    // report what survives; their parents going first cannot be helped then.
    const last = term.length === 0 && kill.every((p) => killed.has(p.pid));
    if (last) kill = alive;
    if (kill.length > 0) escalated = true;
    for (const p of term) termed.add(p.pid);
    for (const p of kill) killed.add(p.pid);
    // Signalled while stopped, it acts on it at CONT: without a handler it ends before running any code;
    // a handler (3.x's spawn) runs with the children it had when it was frozen, and those were ended first.
    await signalPids(run, 'TERM', term.map((p) => p.pid));
    await signalPids(run, 'KILL', kill.map((p) => p.pid));
    await signalPids(run, 'CONT', alive.map((p) => p.pid));
    const w = await waitGone(left > 0 ? left : killWaitMs, [...term, ...kill].map((p) => p.pid));
    left = Math.max(0, left - w.waited);
    cur = w.cur;
    if (last) break;
  }
  cur = await rescan();
  // Nothing of the session stays frozen, whatever happened above (a process that survived KILL, or rounds ran out).
  await signalPids(run, 'CONT', live(cur).filter(isFrozen).map((p) => p.pid));
  return { found, escalated, remaining: live(cur), zombies: cur.procs.length - live(cur).length };
}
