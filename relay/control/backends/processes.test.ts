import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../exec.js';
import { PROC_STAT_ARGV, PS_ARGV, endProcesses, leavesOf, parseProcPaths, psArgsMatch, treeOf, parseProcStats, parsePsTable, procGrepArgv, scanProcesses, sessionProcesses, type ProcInfo } from './processes.js';
import type { RunFn } from './types.js';

const U = '3f1c2a9e-1111-4222-8333-444455556666';
const res = (stdout: string, exitCode = 0, stderr = ''): ExecResult => ({ exitCode, stdout, stderr, durationMs: 1, pid: null });

/** A container's process table that reacts to kill like the real thing (TERM can be ignored). */
class Procs {
  calls: string[][] = [];
  procs: ProcInfo[];
  ignoreTerm = new Set<number>();
  ignoreKill = new Set<number>();
  hasPs = true;
  /** Parents that exit on TERM without waiting for their children (3.x's spawn): the children go to PID 1. */
  abandonOnTerm = new Set<number>();
  /** PID 1 reaps (docker --init); false: node as PID 1, an orphan that ends stays a zombie. */
  initReaps = true;
  /** A live parent reaps its ended child only after the next listing (its event loop is not instant). */
  reapLater = false;
  /** Children forked by a running parent just before the n-th exec (1-based): Claude Code started after stop's first scan. */
  forks = new Map<number, ProcInfo>();
  /** TERMs sent while stopped: acted on at CONT, as the kernel does. */
  private pendingTerm = new Set<number>();
  private readonly frozen = (p: ProcInfo) => p.stat.startsWith('T');
  constructor(procs: ProcInfo[]) {
    this.procs = procs;
  }
  run: RunFn = async (argv) => {
    const a = [...argv];
    this.calls.push(a);
    for (const [n, child] of this.forks) {
      const parent = this.procs.find((q) => q.pid === child.ppid);
      // A stopped parent cannot fork: the child comes once it runs again (or never, once it ended).
      if (n > this.calls.length || !parent || parent.stat.startsWith('Z') || this.frozen(parent)) continue;
      this.procs.push(child);
      this.forks.delete(n);
    }
    if (a.join(' ') === PS_ARGV.join(' ')) {
      if (!this.hasPs) return res('', 127, 'ps: not found');
      const out = res(['  PID  PPID  PGID STAT COMMAND', ...this.procs.map((p) => `${p.pid} ${p.ppid} ${p.pgid} ${p.stat} ${p.args}`)].join('\n') + '\n');
      this.procs = this.procs.filter((p) => !(p.stat === 'Z' && p.ppid > 1 && this.procs.some((q) => q.pid === p.ppid && q.stat !== 'Z' && !this.frozen(q))));
      return out;
    }
    if (a.join(' ') === PROC_STAT_ARGV.join(' ')) return res(this.procs.map((p) => `${p.pid} (${p.args.split(' ')[0]!.slice(0, 15)}) ${p.stat[0]} ${p.ppid} ${p.pgid} ${p.pgid} 0 -1`).join('\n') + '\n');
    if (a[0] === 'find' && a.includes('grep')) {
      const needle = a[a.indexOf('-e') + 1]!;
      return res(this.procs.filter((p) => p.args.includes(needle)).map((p) => `/proc/${p.pid}/cmdline\n`).join(''));
    }
    if (a[0] === 'kill') {
      const sig = a[1]!.slice(1);
      const targets = (a[2] === '--' ? this.procs.filter((p) => p.pgid === -Number(a[3])) : this.procs.filter((p) => a.slice(2).includes(String(p.pid)))).map((p) => p.pid);
      for (const pid of targets) {
        const p = this.procs.find((q) => q.pid === pid);
        if (!p || p.stat.startsWith('Z')) continue;
        if (sig === 'STOP') this.procs = this.procs.map((q) => (q === p ? { ...q, stat: 'T' } : q));
        else if (sig === 'CONT' && this.frozen(p)) {
          const running = { ...p, stat: 'S' };
          this.procs = this.procs.map((q) => (q === p ? running : q));
          if (this.pendingTerm.delete(p.pid)) this.end(running, 'TERM');
        } else if (sig === 'TERM' && this.frozen(p)) {
          if (!this.ignoreTerm.has(p.pid)) this.pendingTerm.add(p.pid);
        } else if ((sig === 'TERM' && !this.ignoreTerm.has(p.pid)) || (sig === 'KILL' && !this.ignoreKill.has(p.pid))) this.end(p, sig);
      }
      return res('');
    }
    return res('', 127, 'not found');
  };
  /** A process ends: its parent reaps it if alive (else PID 1, or nobody); one that abandons its children orphans them. */
  private end(p: ProcInfo, sig: string): void {
    if (!this.procs.includes(p) || p.stat.startsWith('Z')) return;
    const parentAlive = this.procs.some((q) => q.pid === p.ppid && !q.stat.startsWith('Z'));
    const parentFrozen = this.procs.some((q) => q.pid === p.ppid && this.frozen(q));
    if (parentAlive && p.ppid !== 1) this.procs = this.reapLater || parentFrozen ? this.procs.map((q) => (q === p ? { ...q, stat: 'Z' } : q)) : this.procs.filter((q) => q !== p);
    else if (p.ppid === 1 || p.ppid === 0) this.procs = this.initReaps || p.ppid === 0 ? this.procs.filter((q) => q !== p) : this.procs.map((q) => (q === p ? { ...q, stat: 'Z' } : q));
    else this.procs = this.procs.filter((q) => q !== p);
    if (sig === 'TERM' && this.abandonOnTerm.has(p.pid)) this.procs = this.procs.map((q) => (q.ppid === p.pid ? { ...q, ppid: 1 } : q));
  }
}

const table = (): ProcInfo[] => [
  { pid: 1, ppid: 0, pgid: 1, stat: 'Ss', args: 'node /app/server.js' },
  { pid: 40, ppid: 0, pgid: 40, stat: 'Ss', args: `node cli.js hive-mind spawn x --claude --hivescope-session ${U}` },
  { pid: 41, ppid: 40, pgid: 40, stat: 'S', args: 'claude --dangerously-skip-permissions prompt' },
  { pid: 42, ppid: 41, pgid: 42, stat: 'S', args: 'node mcp-server.js' },
  { pid: 50, ppid: 0, pgid: 50, stat: 'Ss', args: 'node cli.js hive-mind spawn y --hivescope-session 11111111-1111-4111-8111-111111111111' },
  { pid: 60, ppid: 1, pgid: 1, stat: 'Z', args: '[timeout]' },
];
const noSleep = { sleep: async () => undefined, graceMs: 1000, pollMs: 250 };

describe('process tables without pgrep', () => {
  it('reads busybox and procps ps -o tables; anything else is not a table', () => {
    const busybox = 'PID   PPID  PGID  STAT  COMMAND\n    1     0     1 S     node server.js\n   77     1     1 Z     [timeout]\n';
    expect(parsePsTable(busybox)).toEqual([
      { pid: 1, ppid: 0, pgid: 1, stat: 'S', args: 'node server.js' },
      { pid: 77, ppid: 1, pgid: 1, stat: 'Z', args: '[timeout]' },
    ]);
    expect(parsePsTable('    PID    PPID    PGID STAT COMMAND\n 123 1 123 Ssl+ node a b\n')).toEqual([{ pid: 123, ppid: 1, pgid: 123, stat: 'Ssl+', args: 'node a b' }]);
    expect(parsePsTable('ps: unrecognized option: o\nBusyBox v1.36 multi-call binary.\n')).toBeNull();
  });

  it('reads /proc/<pid>/stat lines whose comm holds spaces and parentheses', () => {
    expect(parseProcStats('12 (a) b) (c) S 1 12 12 0\n13 (node) Z 12 12 12\nnot a stat line\n')).toEqual([
      { pid: 12, ppid: 1, pgid: 12, stat: 'S', args: '' },
      { pid: 13, ppid: 12, pgid: 12, stat: 'Z', args: '' },
    ]);
    expect([...parseProcPaths('/proc/12/cmdline\n/proc/self/cmdline\n/proc/13/cmdline\n')]).toEqual([12, 13]);
  });

  it("a session's processes: the tagged one, its descendants and its group, never PID 1 or another session", () => {
    const s = sessionProcesses({ procs: table(), matched: new Set([40]), method: 'ps' });
    expect(s.procs.map((p) => p.pid)).toEqual([40, 41, 42]);
    expect(s.groups).toEqual([40]);
    // A tagged process inside PID 1's group: its group is not signalled.
    expect(sessionProcesses({ procs: [{ pid: 1, ppid: 0, pgid: 1, stat: 'S', args: '' }, { pid: 9, ppid: 1, pgid: 1, stat: 'S', args: U }], matched: new Set([1, 9]), method: 'ps' })).toEqual({
      procs: [{ pid: 9, ppid: 1, pgid: 1, stat: 'S', args: U }],
      groups: [],
    });
  });

  it('falls back to a /proc scan when ps is missing, and does not count its own find/grep', async () => {
    const c = new Procs(table());
    c.hasPs = false;
    const scan = await scanProcesses(c.run, U);
    expect(scan.method).toBe('proc');
    expect([...scan.matched]).toEqual([40]);
    expect(c.calls.map((x) => x[0])).toEqual(['ps', 'find', 'find']);
    expect(procGrepArgv(U)).toContain(U);
  });
});

describe('endProcesses: TERM, grace, KILL, verify', () => {
  it('TERM is enough: the session frozen, then leaves first, each reaped before its parent; the rest untouched', async () => {
    const c = new Procs(table());
    const r = await endProcesses(c.run, U, noSleep);
    expect(r).toEqual({ found: 3, escalated: false, remaining: [], zombies: 0 });
    expect(c.procs.map((p) => p.pid)).toEqual([1, 50, 60]);
    // Each round: STOP what runs, TERM the childless, CONT all (the signalled end, their parents reap them).
    expect(c.calls.filter((x) => x[0] === 'kill').map((x) => x.join(' '))).toEqual([
      'kill -STOP 40 41 42',
      'kill -TERM 42',
      'kill -CONT 40 41 42',
      'kill -STOP 40 41',
      'kill -TERM 41',
      'kill -CONT 40 41',
      'kill -STOP 40',
      'kill -TERM 40',
      'kill -CONT 40',
    ]);
  });

  it("a parent that exits on TERM without waiting (3.x's spawn) leaves no zombie under a PID 1 that does not reap", async () => {
    const c = new Procs(table());
    c.initReaps = false;
    c.abandonOnTerm.add(40);
    expect(await endProcesses(c.run, U, noSleep)).toEqual({ found: 3, escalated: false, remaining: [], zombies: 0 });
    expect(c.procs.filter((p) => p.stat.startsWith('Z')).map((p) => p.pid)).toEqual([60]); // only the one that was there before
  });

  it("a child forked after stop's first listing (Claude Code started a moment late) is ended before its parent: no zombie", async () => {
    // The bench's zombie: five 3.x sessions stopped while starting, under load. The spawn's first listing
    // had no Claude Code yet; it came before the spawn was signalled, and the spawn (TERM: kill the
    // child, exit at once) left it to a PID 1 that does not reap.
    const c = new Procs([table()[0]!, table()[1]!, table()[4]!]);
    c.initReaps = false;
    c.abandonOnTerm.add(40);
    c.forks.set(2, { pid: 41, ppid: 40, pgid: 40, stat: 'S', args: 'node /usr/local/bin/claude --dangerously-skip-permissions prompt' });
    c.forks.set(4, { pid: 42, ppid: 41, pgid: 40, stat: 'S', args: 'node /usr/local/bin/claude-flow mcp start' });
    expect(await endProcesses(c.run, U, noSleep)).toEqual({ found: 1, escalated: false, remaining: [], zombies: 0 });
    expect(c.procs.map((p) => p.pid)).toEqual([1, 50]);
    const kills = c.calls.filter((x) => x[0] === 'kill').map((x) => x.join(' '));
    expect(kills.indexOf('kill -TERM 42')).toBeLessThan(kills.indexOf('kill -TERM 41'));
    expect(kills.indexOf('kill -TERM 41')).toBeLessThan(kills.indexOf('kill -TERM 40'));
  });

  it('waits for a live parent to reap its ended child before signalling that parent', async () => {
    const c = new Procs(table());
    c.initReaps = false;
    c.reapLater = true;
    c.abandonOnTerm.add(40);
    expect(await endProcesses(c.run, U, noSleep)).toMatchObject({ found: 3, remaining: [] });
    expect(c.procs.filter((p) => p.stat.startsWith('Z')).map((p) => p.pid)).toEqual([60]);
  });

  it('a torn listing with a cycle does not loop', async () => {
    const c = new Procs([
      { pid: 1, ppid: 0, pgid: 1, stat: 'S', args: 'node server.js' },
      { pid: 5, ppid: 6, pgid: 5, stat: 'S', args: `x --hivescope-session ${U}` },
      { pid: 6, ppid: 5, pgid: 5, stat: 'S', args: 'y' },
    ]);
    expect(await endProcesses(c.run, U, noSleep)).toMatchObject({ found: 2, remaining: [] });
  });

  it('escalates to KILL after the grace period when TERM is ignored', async () => {
    const c = new Procs(table());
    c.ignoreTerm.add(41);
    const r = await endProcesses(c.run, U, noSleep);
    expect(r).toMatchObject({ found: 3, escalated: true, remaining: [] });
    expect(c.calls.some((x) => x.join(' ') === 'kill -KILL 41')).toBe(true);
    // Its parent was TERMed only once it was gone (and reaped).
    expect(c.calls.findIndex((x) => x.join(' ') === 'kill -TERM 40')).toBeGreaterThan(c.calls.findIndex((x) => x.join(' ') === 'kill -KILL 41'));
  });

  it('reports what survives KILL (never a silent success)', async () => {
    const c = new Procs(table());
    c.ignoreTerm.add(41);
    c.ignoreKill.add(41);
    const r = await endProcesses(c.run, U, noSleep);
    expect(r.remaining.map((p) => p.pid)).toEqual([41]);
  });

  it('nothing to end: no signal sent', async () => {
    const c = new Procs(table().filter((p) => p.pid !== 40));
    expect(await endProcesses(c.run, U, noSleep)).toMatchObject({ found: 0, remaining: [] });
    expect(c.calls.some((x) => x[0] === 'kill')).toBe(false);
  });
});

describe("a timed-out exec's process tree (DockerDriver.killTimedOut)", () => {
  const P = (pid: number, ppid: number, pgid: number, args: string, stat = 'S'): ProcInfo => ({ pid, ppid, pgid, stat, args });

  it('finds the exec by its argv, also when a shebang script shows as interpreter plus path', () => {
    const argv = ['claude-flow', 'hive-mind', 'spawn', 'probe 0'];
    expect(psArgsMatch('claude-flow hive-mind spawn probe 0', argv)).toBe(true);
    // Seen in the 2.7.47 image: the bin is a node script.
    expect(psArgsMatch('node /usr/local/bin/claude-flow hive-mind spawn probe 0', argv)).toBe(true);
    expect(psArgsMatch('/bin/sh /tmp/two.sh', ['/tmp/two.sh'])).toBe(true);
    expect(psArgsMatch('/bin/sh /tmp/two.sh', ['two.sh'])).toBe(true);
    // Other commands are not it: other arguments, another program, a name that only ends the same way.
    expect(psArgsMatch('node /usr/local/bin/claude-flow hive-mind spawn probe 1', argv)).toBe(false);
    expect(psArgsMatch('node /usr/local/bin/claude-flow hive-mind status', argv)).toBe(false);
    expect(psArgsMatch('node /usr/local/bin/my-claude-flow hive-mind spawn probe 0', argv)).toBe(false);
    expect(psArgsMatch('/usr/local/bin/claude-flow hive-mind spawn probe 0', argv)).toBe(false);
    expect(psArgsMatch('sleep 370', ['sleep', '37'])).toBe(false);
    expect(psArgsMatch('anything', [])).toBe(false);
  });

  it('the tree is the exec, its descendants and its group; leaves go first, a zombie child holds its parent back', () => {
    const procs = [
      P(1, 0, 1, 'node /opt/upstream/mcp-tcp-server.mjs'),
      P(17, 1, 1, 'node /usr/local/bin/claude-flow mcp start'),
      P(667, 0, 667, 'node /usr/local/bin/claude-flow hive-mind spawn probe 0'),
      P(683, 667, 667, 'node simple-cli.js hive-mind spawn probe 0'),
      P(690, 683, 690, 'node child in a group of its own'),
      P(700, 0, 700, 'another exec'),
    ];
    const ids = treeOf(procs, [procs[2]!]);
    expect([...ids].sort((a, b) => a - b)).toEqual([667, 683, 690]);
    expect(leavesOf(procs, ids).map((p) => p.pid)).toEqual([690]);
    // 690 ended but 683 has not reaped it yet: 683 must not be killed now (690 would go to PID 1).
    const later = procs.map((p) => (p.pid === 690 ? { ...p, stat: 'Z' } : p));
    expect(leavesOf(later, ids).map((p) => p.pid)).toEqual([]);
    // Forced (a parent that never reaps): every live one.
    expect(leavesOf(later, ids, true).map((p) => p.pid)).toEqual([667, 683]);
    // Reaped: 683 is the leaf now, then 667.
    const reaped = procs.filter((p) => p.pid !== 690);
    expect(leavesOf(reaped, ids).map((p) => p.pid)).toEqual([683]);
    expect(leavesOf(reaped.filter((p) => p.pid !== 683), ids).map((p) => p.pid)).toEqual([667]);
  });
});
