/**
 * Test-only: a second, private Docker daemon (`dockerd` as root) that a test may stop, SIGKILL and start
 * again without touching the machine's own daemon, which other tests and people are using.
 *
 * Everything it owns lives in one mkdtemp folder: its data root, exec root (and so its managed
 * containerd), pidfile, config file, log and its unix socket. `--iptables=false --bridge=none` as for the
 * main daemon (machine-recipes.md): containers use `--network host`. Its containerd namespace is unique
 * too, so even where a system containerd runs (dockerd 20.10 then uses it instead of starting its own),
 * the two daemons never see each other's containers.
 *
 * `--live-restore` is on by default: stopping or killing the daemon then leaves its containers running,
 * which is what happens on a daemon upgrade or crash in production and the only case where a relay can
 * keep serving telemetry while Docker is gone. Without it, SIGTERM stops every container first (the
 * relay then sees the container down, a different fault the `docker restart` tests cover).
 *
 * With `tls: true` it also listens on tcp://127.0.0.1:<reserved port> with --tlsverify, certificates made
 * by openssl in its folder (tlsCerts.ts): a remote engine as a fleet target reaches it (issue 14). The
 * port stays the same across stop/start, as a real engine's address does.
 *
 * close() tears everything down even after a failure: containers (starting the daemon again to remove
 * them, falling back to runc), the daemon, stray shim/containerd processes that name our folder or
 * namespace, every mount under the folder (the daemon leaves its data-root bind mount and the host
 * netns mount behind even on a clean stop), and the folder (dockerdTeardown.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DIR_PREFIX, OWNER_FILE, scrub, type Owner, type TeardownReport } from './dockerdTeardown.js';
import { portAccepts, reservePort, type PortLease } from './ports.js';
import { findOnPath, runCommand, type CommandResult } from './processes.js';
import { makeDockerTlsCerts, type DockerTlsCerts } from './tlsCerts.js';

export { mountsUnder, sweepStalePrivateDockerds, type TeardownReport } from './dockerdTeardown.js';

export interface PrivateDockerdOptions {
  /** Keep containers running while the daemon is stopped (see the file comment). Default true. */
  liveRestore?: boolean;
  /** Progress lines (default: none). */
  log?: (msg: string) => void;
  /** Also listen on tcp://127.0.0.1:<port> with TLS and client verification (see the file comment). Default false. */
  tls?: boolean;
}

/** The TLS listener of a private dockerd started with `tls: true`. */
export interface PrivateDockerdTcp {
  /** `tcp://127.0.0.1:<port>`, for a target's `docker` URL or DOCKER_HOST. */
  url: string;
  port: number;
  /** DOCKER_CERT_PATH-style folder (ca.pem, cert.pem, key.pem) with a client certificate the daemon trusts. */
  clientDir: string;
  /** The daemon's CA (ca.pem) and its key, for tests that make more clients. */
  certs: DockerTlsCerts;
}

/** Why a private daemon cannot run here (a sentence naming the fix), or null when it can. */
export function privateDockerdUnavailableReason(): string | null {
  if (process.platform !== 'linux') return `a private dockerd needs Linux (this is ${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'a private dockerd needs root (run the docker suite as root, as CI does)';
  if (!findOnPath('dockerd')) return 'dockerd is not installed (sudo apt-get install -y docker.io, or node scripts/ensure-system.mjs)';
  if (!findOnPath('docker')) return 'the docker CLI is not installed (sudo apt-get install -y docker.io)';
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a pid runs, has exited but is not yet reaped (zombie), or is gone. */
function procState(pid: number): 'alive' | 'zombie' | 'absent' {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": the state follows the last ')' (comm may contain anything).
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z' ? 'zombie' : 'alive';
  } catch {
    return 'absent';
  }
}

/** GET /_ping on a unix socket: true when the daemon's API answers OK. */
export function pingSocket(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export class PrivateDockerd {
  readonly dir: string;
  readonly socket: string;
  /** For DOCKER_HOST and `docker -H`. */
  readonly host: string;
  readonly namespace: string;
  readonly liveRestore: boolean;
  readonly logFile: string;
  /** Set by the first start() when `tls` was asked for. */
  tcp: PrivateDockerdTcp | null = null;
  private readonly wantTls: boolean;
  private tcpLease: PortLease | null = null;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private closed: Promise<TeardownReport> | null = null;
  private readonly log: (msg: string) => void;

  constructor(o: PrivateDockerdOptions = {}) {
    this.liveRestore = o.liveRestore ?? true;
    this.log = o.log ?? (() => undefined);
    this.wantTls = o.tls ?? false;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
    this.socket = path.join(this.dir, 'docker.sock');
    this.host = `unix://${this.socket}`;
    this.namespace = `hivescope-${crypto.randomBytes(4).toString('hex')}`;
    this.logFile = path.join(this.dir, 'dockerd.log');
    fs.mkdirSync(path.join(this.dir, 'data'));
    fs.mkdirSync(path.join(this.dir, 'exec'));
    // Our own (empty) config file: /etc/docker/daemon.json may name hosts or a data root.
    fs.writeFileSync(path.join(this.dir, 'daemon.json'), '{}\n');
    fs.writeFileSync(path.join(this.dir, OWNER_FILE), JSON.stringify({ pid: process.pid, namespace: this.namespace } satisfies Owner));
  }

  /** True while the daemon process we started has not exited. */
  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts dockerd and waits until its API answers; returns how long that took. */
  async start(o: { readyTimeoutMs?: number } = {}): Promise<{ readyMs: number }> {
    if (this.closed) throw new Error('private dockerd is closed');
    if (this.child) throw new Error('private dockerd already runs');
    if (this.wantTls && !this.tcp) {
      this.tcpLease = await reservePort();
      const certs = await makeDockerTlsCerts(path.join(this.dir, 'tls'));
      this.tcp = { url: `tcp://127.0.0.1:${this.tcpLease.port}`, port: this.tcpLease.port, clientDir: certs.clientDir, certs };
    }
    const tcp = this.tcp;
    const args = [
      '--config-file', path.join(this.dir, 'daemon.json'),
      '--iptables=false',
      '--bridge=none',
      '--data-root', path.join(this.dir, 'data'),
      '--exec-root', path.join(this.dir, 'exec'),
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '--containerd-namespace', this.namespace,
      '--containerd-plugins-namespace', `${this.namespace}-plugins`,
      '-H', this.host,
      ...(tcp ? ['-H', tcp.url, '--tlsverify', '--tlscacert', tcp.certs.server.ca, '--tlscert', tcp.certs.server.cert, '--tlskey', tcp.certs.server.key] : []),
      ...(this.liveRestore ? ['--live-restore'] : []),
    ];
    const out = fs.openSync(this.logFile, 'a');
    const t0 = performance.now();
    // Its own process group: a Ctrl-C meant for the test runner must not stop it behind our back.
    const child = spawn('dockerd', args, { stdio: ['ignore', out, out], detached: true });
    fs.closeSync(out);
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.child = null;
        resolve();
      });
      child.once('error', () => {
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    const deadline = Date.now() + (o.readyTimeoutMs ?? 30_000);
    while (!(await pingSocket(this.socket, 1000)) || (tcp && !(await portAccepts(tcp.port)))) {
      if (!this.child) throw new Error(`private dockerd exited while starting; log ${this.logFile}:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`private dockerd did not answer within ${o.readyTimeoutMs ?? 30_000} ms; log ${this.logFile}:\n${this.logTail()}`);
      await sleep(25);
    }
    const readyMs = performance.now() - t0;
    this.log(`private dockerd pid ${child.pid} answers on ${this.socket} after ${readyMs.toFixed(0)} ms`);
    return { readyMs };
  }

  /**
   * Sends `signal` to the daemon and waits for it to exit (SIGKILL after `timeoutMs`). Returns the time
   * from the signal to the exit. Then waits (up to 10 s) for its managed containerd to end too, and
   * drops containerd's pidfile once that process is gone or a zombie: after a SIGKILL the orphaned
   * containerd lingers as a zombie until init reaps it (about a second here), and a dockerd started
   * meanwhile "adopts" it through that pidfile and fails after 15 s ("timeout waiting for containerd
   * to start"). A containerd that really still runs is left to be adopted, as dockerd intends. The
   * daemon's own pidfile is removed too (we saw the process go), so a start never trips over a reused pid.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 20_000): Promise<{ exitMs: number }> {
    const child = this.child;
    if (!child) return { exitMs: 0 };
    const t0 = performance.now();
    child.kill(signal);
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) {
      this.log(`private dockerd did not exit ${timeoutMs} ms after ${signal}: SIGKILL`);
      child.kill('SIGKILL');
      await this.exited;
    }
    const exitMs = performance.now() - t0;
    const containerdPidfile = path.join(this.dir, 'exec', 'containerd', 'containerd.pid');
    const containerdPid = Number(fs.existsSync(containerdPidfile) ? fs.readFileSync(containerdPidfile, 'utf8').trim() : NaN);
    if (Number.isInteger(containerdPid) && containerdPid > 0) {
      for (let i = 0; i < 200 && procState(containerdPid) === 'alive'; i++) await sleep(50);
      if (procState(containerdPid) !== 'alive') fs.rmSync(containerdPidfile, { force: true });
    }
    fs.rmSync(path.join(this.dir, 'dockerd.pid'), { force: true });
    return { exitMs };
  }

  /** `docker -H <our socket> ...` (never the machine's daemon). */
  cli(args: string[], timeoutMs = 120_000): Promise<CommandResult> {
    return runCommand('docker', ['-H', this.host, ...args], { timeoutMs, maxBuffer: 32 * 1024 * 1024 });
  }

  /** `docker save IMAGE` from the machine's daemon piped into `docker -H <ours> load`. */
  loadImageFrom(image: string, o: { timeoutMs?: number } = {}): Promise<{ ms: number }> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
      const load = spawn('docker', ['-H', this.host, 'load', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      const timer = setTimeout(() => {
        save.kill('SIGKILL');
        load.kill('SIGKILL');
      }, o.timeoutMs ?? 120_000);
      save.stderr.on('data', (d: Buffer) => (err += d.toString()));
      load.stderr.on('data', (d: Buffer) => (err += d.toString()));
      load.stdout.resume();
      save.stdout.pipe(load.stdin);
      let saveCode: number | null = null;
      save.on('exit', (code) => (saveCode = code));
      save.on('error', reject);
      load.on('error', reject);
      load.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0 && saveCode === 0) resolve({ ms: performance.now() - t0 });
        else reject(new Error(`docker save ${image} | docker -H ${this.host} load failed (save ${saveCode}, load ${code}): ${err.trim().slice(0, 2000)}`));
      });
    });
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Removes every container, stops the daemon, and leaves nothing behind (see the file comment).
   * Idempotent; safe after any failure, including with the daemon stopped or killed.
   */
  close(): Promise<TeardownReport> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<TeardownReport> {
    const forced: string[] = [];
    const runcRoot = path.join(this.dir, 'exec', 'runtime-runc', this.namespace);
    const containersLeft = () => (fs.existsSync(runcRoot) ? fs.readdirSync(runcRoot).length : 0);
    // With live-restore, containers outlive a stopped daemon: start it again to remove them properly.
    if (!this.child && containersLeft() > 0) {
      await this.start({ readyTimeoutMs: 20_000 }).catch((err: unknown) => forced.push(`restart for cleanup failed: ${(err as Error).message.split('\n')[0]}`));
    }
    if (this.child) {
      const ids = (await this.cli(['ps', '-aq'], 20_000)).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) {
        const rm = await this.cli(['rm', '-f', '-v', ...ids], 60_000);
        if (rm.code !== 0) forced.push(`docker rm failed: ${rm.stderr.trim().slice(0, 200)}`);
      }
      await this.stop('SIGTERM', 20_000);
    }
    const report = await scrub(this.dir, this.namespace, forced);
    this.tcpLease?.release();
    this.log(`private dockerd torn down: ${report.dirRemoved ? 'folder removed' : `folder kept (${report.mountsLeft.length} mounts left)`}${forced.length ? `; forced: ${forced.join(', ')}` : ''}`);
    return report;
  }
}
