/**
 * Test-only: an OpenSSH server of the test's own on 127.0.0.1 (and 127.0.0.2), for ssh:// Docker targets
 * (issue 14). `sshd -D -e -f <config>` with everything in one temp folder: its host key (made here by
 * ssh-keygen), the authorized_keys file, the pid file. Public-key login only, as root (the suite runs
 * as root), no PAM. The machine's own ssh service is never touched (scripts/ensure-system.mjs installs
 * openssh-server with it switched off); a session's `docker system dial-stdio` reaches the machine's
 * dockerd, so a target "on another host" is the machine's engine reached through sshd.
 *
 * The server's log (sshd -e writes it to stderr) is followed: `accepted()` lists the logins it let in
 * with the fingerprint of the key used, so a test can tell which key got in, and that none did.
 * `connectionPids()` and `killConnection()` let a test end one client connection from the server's side.
 */
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { portAccepts, reservePort, type PortLease } from './ports.js';
import { findOnPath, followLines, runCommand, startUntilLine, stopProcess, type OutputTail } from './processes.js';
import { makeTempDir } from './tempDirs.js';

/** Absolute, as sshd insists ("sshd re-exec requires execution with an absolute path"). */
export const SSHD = '/usr/sbin/sshd';
/** sshd's privilege separation directory (Debian's build); the system service makes it at boot, a bare machine may lack it. */
const PRIVSEP_DIR = '/run/sshd';
/** Logins remembered from the log (a test makes a handful; the bound keeps a runaway loop from growing it). */
const MAX_ACCEPTED = 1000;

/** Why a loopback sshd cannot run here (a sentence naming the fix), or null when it can. */
export function sshdUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `the loopback sshd test needs Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'the loopback sshd needs root (run the docker suite as root, as CI does)';
  if (!fs.existsSync(SSHD)) return `${SSHD} is missing (sudo apt-get install -y --no-install-recommends openssh-server, or node scripts/ensure-system.mjs)`;
  if (!findOnPath('ssh-keygen')) return 'ssh-keygen is missing (sudo apt-get install -y openssh-client)';
  return null;
}

export interface SshKey {
  /** The private key file (OpenSSH format, mode 0600). */
  file: string;
  /** The public key line: `ssh-ed25519 AAAA... comment`. */
  pub: string;
  /** `SHA256:...`, as sshd logs it on a login. */
  fingerprint: string;
}

/** A fresh ed25519 key pair in `dir` named `name` (no passphrase). */
export async function makeSshKey(dir: string, name: string): Promise<SshKey> {
  const file = path.join(dir, name);
  const r = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `hivescope-test-${name}`, '-f', file]);
  if (r.code !== 0) throw new Error(`ssh-keygen ${name} failed: ${r.stderr}`);
  const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
  const fp = await runCommand('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`]);
  const fingerprint = /SHA256:\S+/.exec(fp.stdout)?.[0];
  if (!fingerprint) throw new Error(`ssh-keygen -l ${name}: no fingerprint in ${JSON.stringify(fp.stdout)}`);
  return { file, pub, fingerprint };
}

/** The key type and base64 blob of a public key line: what a known_hosts line carries after the host. */
export const keyPart = (k: SshKey) => k.pub.split(/\s+/).slice(0, 2).join(' ');

export interface AcceptedLogin {
  user: string;
  /** The client key's fingerprint (SHA256:...). */
  fingerprint: string;
}

export class LoopbackSshd {
  readonly dir = makeTempDir('hivescope-sshd-');
  private ownKey: SshKey | null = null;
  private lease: PortLease | null = null;
  private child: ChildProcess | null = null;
  private tail: OutputTail | null = null;
  private readonly logins: AcceptedLogin[] = [];

  constructor(private readonly log: (m: string) => void = () => undefined) {}

  get port(): number {
    if (!this.lease) throw new Error('LoopbackSshd: not started');
    return this.lease.port;
  }

  /** The server's host key (what a known_hosts must list), made by the first start(). */
  get hostKey(): SshKey {
    if (!this.ownKey) throw new Error('LoopbackSshd: not started');
    return this.ownKey;
  }

  /** Logins sshd let in so far (oldest first). */
  accepted(): readonly AcceptedLogin[] {
    return this.logins;
  }

  /** sshd's last log lines, for failure messages. */
  logTail(n = 40): string {
    return this.tail?.text(n) ?? '';
  }

  /** A `[host]:port type key` known_hosts line for this server, with `key` in place of its own if given. */
  knownHostsLine(host = '127.0.0.1', key: SshKey = this.hostKey): string {
    return `[${host}]:${this.port} ${keyPart(key)}\n`;
  }

  /**
   * Starts sshd letting in the given public keys (as any user; root is the one that exists for sure),
   * each with authorized_keys options if given (`command="..."` to stand for a host without docker).
   * A second start() after stop() reuses the port and host key, as a rebooted host would.
   */
  async start(authorized: (SshKey | { key: SshKey; options: string })[]): Promise<void> {
    if (this.child) throw new Error('LoopbackSshd: already running');
    this.lease ??= await reservePort();
    this.ownKey ??= await makeSshKey(this.dir, 'host_ed25519');
    fs.mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
    const authFile = path.join(this.dir, 'authorized_keys');
    fs.writeFileSync(authFile, authorized.map((k) => ('options' in k ? `${k.options} ${k.key.pub}\n` : `${k.pub}\n`)).join(''));
    const config = path.join(this.dir, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        // A second loopback address: a target URL naming it is another "host" to known_hosts.
        'ListenAddress 127.0.0.2',
        `HostKey ${this.hostKey.file}`,
        `AuthorizedKeysFile ${authFile}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        // The temp folder is not laid out as a home directory; modes are not what this test is about.
        'StrictModes no',
        'UsePAM no',
        `PidFile ${path.join(this.dir, 'sshd.pid')}`,
        // INFO logs each accepted key's fingerprint (what accepted() reads).
        'LogLevel INFO',
        '',
      ].join('\n'),
    );
    // -D: stay in the foreground (our child); -e: log to stderr (followed below).
    const started = await startUntilLine(SSHD, ['-D', '-e', '-f', config], /Server listening on /, { timeoutMs: 15_000, what: 'sshd' });
    this.child = started.child;
    this.tail = started.tail;
    // One line per address, in no fixed order (9.2 logs 127.0.0.2 first): ready once both are listed.
    const listening = () => ['127.0.0.1', '127.0.0.2'].every((a) => started.tail.text(400).includes(`Server listening on ${a} port ${this.port}.`));
    const deadline = Date.now() + 10_000;
    while (!listening()) {
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`sshd did not listen on both loopback addresses:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    followLines(this.child, (line) => {
      const m = /Accepted publickey for (\S+) from \S+ port \d+ ssh2: \S+ (SHA256:\S+)/.exec(line);
      if (m && this.logins.length < MAX_ACCEPTED) this.logins.push({ user: m[1]!, fingerprint: m[2]! });
    });
    if (!(await portAccepts(this.port))) throw new Error(`sshd said it listens but 127.0.0.1:${this.port} does not accept:\n${this.logTail()}`);
    this.log(`sshd pid ${this.child.pid} on 127.0.0.1:${this.port} and 127.0.0.2:${this.port}`);
  }

  /**
   * Stops every sshd session process and then the listener, by pid: a session's sshd and what it runs
   * (`docker system dial-stdio`) would outlive the listener's SIGTERM. TERM first (a login's rc file
   * may hold a lock it cleans up on exit), then KILL deepest first, each level while its parent still
   * runs to reap it: an orphan goes to PID 1, which on some machines never reaps.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await killBelow(child.pid!);
    await stopProcess(child, { graceMs: 3000 });
  }

  /** The processes sshd forked for its client connections now, one per connection (the listener's children). */
  connectionPids(): number[] {
    return this.child ? (descendantLevels(this.child.pid!)[0] ?? []) : [];
  }

  /**
   * Ends one client connection from the server's side, as a host going away would: the process sshd
   * forked for it and everything under it (the session, the commands it runs): TERM, then KILL deepest first, so each is
   * reaped by its parent and the last by the listener.
   */
  async killConnection(pid: number): Promise<void> {
    if (!this.connectionPids().includes(pid)) throw new Error(`LoopbackSshd: ${pid} is not one of its connections`);
    await killBelow(pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    const deadline = Date.now() + 10_000;
    while (this.connectionPids().includes(pid)) {
      if (Date.now() > deadline) throw new Error(`LoopbackSshd: connection process ${pid} did not end`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** stop(), then the port and the folder go. */
  async close(): Promise<void> {
    await this.stop();
    this.lease?.release();
    this.lease = null;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** KILLs every process below `root`, deepest level first, while its parent still runs to reap it. */
async function killBelow(root: number): Promise<void> {
  // TERM first, to the whole tree at once (deepest first): a login's shell may be running the user's rc
  // file, and on this machine root's ~/.bashrc runs `pyenv rehash`, whose lock file only its EXIT trap
  // removes. A KILL left the lock behind and every later login (any ssh to this machine) then waited 60 s.
  for (const pid of descendantLevels(root).reverse().flat()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* ended meanwhile */
    }
  }
  const deadline = Date.now() + 1_000;
  while (descendantLevels(root).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // Whatever ignored TERM: KILL, deepest level first, each while its parent still runs to reap it.
  for (let round = 0; round < 10; round++) {
    const deepest = descendantLevels(root).at(-1);
    if (!deepest) return;
    for (const pid of deepest) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* ended with its connection */
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The processes below `root`, by level (its children, theirs, ...), from /proc's parent pids; zombies included. */
function descendantLevels(root: number): number[][] {
  const parentOf = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* exited meanwhile */
    }
  }
  const levels: number[][] = [];
  let level = [root];
  // Bounded: a process tree is never this deep, and a pid cycle (reuse mid-scan) must not loop forever.
  while (levels.length < 32) {
    const next = [...parentOf].filter(([, ppid]) => level.includes(ppid)).map(([pid]) => pid);
    if (next.length === 0) break;
    levels.push(next);
    level = next;
  }
  return levels;
}
