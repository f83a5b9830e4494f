/**
 * Docker exec driver (dockerode against DOCKER_HOST or /var/run/docker.sock). The container name comes
 * only from configuration. Output is demultiplexed by our own decoder and bounded; the exit code is
 * read only after the stream ended (before that the Engine reports ExitCode null).
 */
import Docker from 'dockerode';
import { ControlError, clip } from '../errors.js';
import { assertArgv, captureArgv, type ExecDriver, type ExecOptions, type ExecResult } from '../exec.js';
import { PS_ARGV, isZombie, leavesOf, parsePsTable, psArgsMatch, treeOf } from '../backends/processes.js';

/** Leaves-first rounds for a timed-out exec's tree (each one level), and the wait for reaping between. */
const KILL_ROUNDS = 8;
const KILL_ROUND_MS = 150;
import { DockerFrameTooLargeError, DockerStreamDecoder, DockerStreamError } from '../dockerStream.js';
import { ContainerWatch, type WatchHost } from '../containerWatch.js';
import { closeDocker } from './dockerConnection.js';

export interface ContainerState {
  exists: boolean;
  running: boolean;
  paused: boolean;
  restarting: boolean;
  startedAt: string | null;
}

export interface ContainerStatsSample {
  cpuPercent: number | null;
  memoryBytes: number | null;
}

export interface DockerEvent {
  action: string;
  container: string;
  time: number;
}

/** Node's codes for a server certificate that does not verify. */
const TLS_VERIFY_CODES = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED']);

/** Maps an Engine API / socket failure to a control error kind. */
export function dockerErrorToControl(err: unknown, container: string): ControlError {
  if (err instanceof ControlError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; json?: { message?: string } };
  const msg = e.json?.message ?? e.message ?? String(err);
  if (e.statusCode === 404) return new ControlError('container-not-running', `container ${container} does not exist: ${clip(msg)}`);
  if (e.statusCode === 409) return new ControlError('container-not-running', `container ${container} is not running: ${clip(msg)}`);
  // A TLS engine (a fleet target on tcp://) that refuses our client certificate, or whose own certificate we
  // do not trust: the engine is unusable until the certificates are fixed, and openssl's text alone says little.
  if (typeof e.code === 'string' && (/^ERR_(SSL|TLS)_/.test(e.code) || TLS_VERIFY_CODES.has(e.code))) {
    return new ControlError('docker-unavailable', `TLS with the Docker engine failed (${e.code}): check the target's certificates (ca.pem, cert.pem, key.pem): ${clip(msg)}`);
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'ECONNRESET' || e.code === 'EPIPE' || e.code === 'ETIMEDOUT') {
    return new ControlError('docker-unavailable', `Docker engine unreachable (${e.code}): ${clip(msg)}`);
  }
  return new ControlError('command-failed', `Docker API error${e.statusCode ? ` ${e.statusCode}` : ''}: ${clip(msg)}`);
}

export class DockerDriver implements ExecDriver {
  readonly kind = 'docker' as const;
  readonly docker: Docker;
  private closed = false;
  private readonly sockets = new Set<NodeJS.ReadableStream & { destroy?: () => void }>();

  /**
   * The Engine API cannot kill an exec, so a command we gave up on would linger. On our timeout one
   * follow-up `ps` finds it: an exec'd process has parent 0 (the shim, outside the container's pid
   * namespace), leads its own group, and ps prints its argv joined by spaces; that group is KILLed.
   * This replaced a `timeout -s KILL` wrapper: busybox's timeout orphans its watcher under PID 1 on
   * every exec, a zombie wherever PID 1 does not reap (measured: 10 execs, 10 zombies; 126 after
   * four minutes of one relay). Set by probeTimeoutWrapper() when the container's ps prints the table.
   */
  timeoutWrapper = false;

  constructor(
    readonly container: string,
    docker?: Docker,
  ) {
    this.docker = docker ?? new Docker();
  }

  /** Watches this driver's container for the plane (events, probe, restarts): only a Docker driver has one. */
  watch(host: WatchHost): ContainerWatch {
    return new ContainerWatch(this, host);
  }

  /** Checks once whether the container's ps prints the table kill-on-timeout reads, and enables it if so. */
  async probeTimeoutWrapper(): Promise<boolean> {
    const r = await this.exec([...PS_ARGV], { timeoutMs: 5000, maxOutputBytes: 4 * 1024 * 1024 }).catch(() => null);
    this.timeoutWrapper = r?.exitCode === 0 && parsePsTable(r.stdout) !== null;
    return this.timeoutWrapper;
  }

  /**
   * KILLs the process tree of an exec we gave up on (best effort: the call already failed with timeout),
   * leaves first: a KILLed leaf is reaped by its living parent, and the exec's own process (parent 0) by
   * the shim. KILLing the whole group at once sent a child to PID 1 when its parent died first, a zombie
   * wherever PID 1 does not reap (2.7's claude-flow is two node processes). An identical command started
   * at the same moment would be ended too; the commands run this way are reads the next poll repeats.
   */
  private async killTimedOut(argv: readonly string[]): Promise<void> {
    const o = { timeoutMs: 5000, maxOutputBytes: 4 * 1024 * 1024 };
    const table = async () => {
      const r = await this.exec([...PS_ARGV], o).catch(() => null);
      return r?.exitCode === 0 ? (parsePsTable(r.stdout) ?? []) : [];
    };
    let procs = await table();
    const roots = procs.filter((p) => p.ppid === 0 && p.pid > 1 && !isZombie(p) && psArgsMatch(p.args, argv));
    if (roots.length === 0) return;
    const ids = treeOf(procs, roots);
    for (let round = 0; round < KILL_ROUNDS; round++) {
      for (const id of treeOf(procs, procs.filter((p) => ids.has(p.pid)))) ids.add(id);
      if (!procs.some((p) => ids.has(p.pid) && !isZombie(p))) return;
      // Past half the rounds a parent that has not reaped its child is ended anyway.
      const targets = leavesOf(procs, ids, round >= KILL_ROUNDS / 2);
      if (targets.length > 0) await this.exec(['kill', '-KILL', ...targets.map((p) => String(p.pid))], o).catch(() => null);
      await new Promise((res) => setTimeout(res, KILL_ROUND_MS));
      procs = (await table()).filter((p) => p.pid > 1);
    }
  }

  async exec(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
    assertArgv(argv);
    if (this.closed) throw new ControlError('command-failed', 'docker driver is closed');
    const started = performance.now();
    const c = this.docker.getContainer(this.container);
    const env = o.env ? Object.entries(o.env).map(([k, v]) => `${k}=${v}`) : undefined;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        if (this.timeoutWrapper && !o.detached) void this.killTimedOut(argv);
        reject(new ControlError('timeout', `${argv[0]} ${argv[1] ?? ''} did not finish within ${o.timeoutMs} ms`));
      }, o.timeoutMs);
    });
    const cmd = o.detached && o.outputFile ? captureArgv(o.outputFile, argv) : [...argv];
    const work = async (): Promise<ExecResult> => {
      let exec: Docker.Exec;
      try {
        exec = await c.exec({ Cmd: cmd, Env: env, ...(o.cwd ? { WorkingDir: o.cwd } : {}), AttachStdout: !o.detached, AttachStderr: !o.detached, Tty: false, abortSignal: abort.signal });
      } catch (err) {
        throw dockerErrorToControl(err, this.container);
      }
      if (o.detached) {
        try {
          await exec.start({ Detach: true, abortSignal: abort.signal });
        } catch (err) {
          throw dockerErrorToControl(err, this.container);
        }
        return { exitCode: 0, stdout: '', stderr: '', durationMs: performance.now() - started, pid: null };
      }
      let stream: NodeJS.ReadableStream & { destroy?: () => void };
      try {
        stream = (await exec.start({ hijack: true, stdin: false, abortSignal: abort.signal })) as typeof stream;
      } catch (err) {
        throw dockerErrorToControl(err, this.container);
      }
      this.sockets.add(stream);
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        const dec = new DockerStreamDecoder();
        const out: Buffer[] = [];
        const errb: Buffer[] = [];
        let total = 0;
        let done = false;
        const finish = (e?: Error) => {
          if (done) return;
          done = true;
          this.sockets.delete(stream);
          abort.signal.removeEventListener('abort', onAbort);
          if (e) {
            stream.destroy?.();
            reject(e);
          } else resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errb).toString('utf8') });
        };
        const onAbort = () => finish(new ControlError('timeout', 'exec aborted'));
        abort.signal.addEventListener('abort', onAbort);
        stream.on('data', (chunk: Buffer) => {
          if (done) return;
          try {
            for (const f of dec.push(chunk, o.maxOutputBytes)) {
              total += f.payload.length;
              if (total > o.maxOutputBytes) {
                finish(new ControlError('output-too-large', `${argv[0]} wrote more than ${o.maxOutputBytes} bytes of output`));
                return;
              }
              (f.stream === 'stderr' ? errb : out).push(Buffer.from(f.payload));
            }
          } catch (err) {
            if (err instanceof DockerFrameTooLargeError) finish(new ControlError('output-too-large', `${argv[0]} wrote more than ${o.maxOutputBytes} bytes of output`));
            else finish(err instanceof DockerStreamError ? new ControlError('parse-error', err.message) : (err as Error));
          }
        });
        stream.on('end', () => (dec.buffered === 0 ? finish() : finish(new ControlError('parse-error', 'exec stream ended inside a frame'))));
        stream.on('close', () => (dec.buffered === 0 ? finish() : finish(new ControlError('parse-error', 'exec stream closed inside a frame'))));
        stream.on('error', (err: Error) => finish(dockerErrorToControl(err, this.container)));
      });
      let info: Docker.ExecInspectInfo;
      try {
        info = await exec.inspect({ abortSignal: abort.signal });
      } catch (err) {
        throw dockerErrorToControl(err, this.container);
      }
      // A stream that ended while the process still runs means the container stopped under us.
      if (info.ExitCode === null) throw new ControlError('container-not-running', `exec in ${this.container} ended without an exit code (container stopped?)`);
      return { exitCode: info.ExitCode, stdout, stderr, durationMs: performance.now() - started, pid: null };
    };
    try {
      return await Promise.race([work(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async inspectState(): Promise<ContainerState> {
    try {
      const info = await this.docker.getContainer(this.container).inspect();
      return {
        exists: true,
        running: info.State.Running && !info.State.Paused,
        paused: info.State.Paused,
        restarting: info.State.Restarting,
        startedAt: info.State.StartedAt ?? null,
      };
    } catch (err) {
      const e = err as { statusCode?: number };
      if (e.statusCode === 404) return { exists: false, running: false, paused: false, restarting: false, startedAt: null };
      throw dockerErrorToControl(err, this.container);
    }
  }

  /**
   * The container's environment as created (`K=V` strings, bounded), or null when it does not exist: where
   * a fleet target without an explicit `mcp` finds its MCP port (relay/targets.ts resolveMcpEndpoint).
   */
  async containerEnv(): Promise<string[] | null> {
    try {
      const info = await this.docker.getContainer(this.container).inspect();
      const env: unknown = info.Config?.Env;
      return Array.isArray(env) ? env.filter((kv): kv is string => typeof kv === 'string' && kv.length <= 64 * 1024).slice(0, 4096) : [];
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw dockerErrorToControl(err, this.container);
    }
  }

  /** One stats sample (cpu from the pre/cur deltas the Engine returns with one-shot=false). */
  async stats(): Promise<ContainerStatsSample> {
    try {
      const s = (await this.docker.getContainer(this.container).stats({ stream: false })) as unknown as {
        cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
        precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
        memory_stats?: { usage?: number; stats?: { cache?: number; inactive_file?: number } };
      };
      return containerStatsFromEngine(s);
    } catch (err) {
      throw dockerErrorToControl(err, this.container);
    }
  }

  /** Subscribes to the container's lifecycle events; returns an unsubscribe. Errors end the subscription. */
  async subscribeEvents(onEvent: (e: DockerEvent) => void, onEnd: (err: Error | null) => void): Promise<() => void> {
    let stream: NodeJS.ReadableStream & { destroy?: () => void };
    try {
      stream = (await this.docker.getEvents({
        filters: { type: ['container'], container: [this.container], event: ['start', 'die', 'restart', 'oom', 'pause', 'unpause', 'stop', 'kill', 'destroy', 'create'] },
      })) as typeof stream;
    } catch (err) {
      throw dockerErrorToControl(err, this.container);
    }
    this.sockets.add(stream);
    let buf = '';
    let ended = false;
    const end = (err: Error | null) => {
      if (ended) return;
      ended = true;
      this.sockets.delete(stream);
      onEnd(err);
    };
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      if (buf.length > 1024 * 1024) buf = ''; // an event is small; garbage this large is dropped
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { Action?: string; status?: string; Actor?: { Attributes?: { name?: string } }; time?: number };
          const action = ev.Action ?? ev.status;
          if (typeof action === 'string') onEvent({ action: action.split(':')[0]!, container: ev.Actor?.Attributes?.name ?? this.container, time: (ev.time ?? 0) * 1000 });
        } catch {
          // not an event line; the Engine only sends JSON here
        }
      }
    });
    stream.on('end', () => end(null));
    stream.on('close', () => end(null));
    stream.on('error', (err: Error) => end(err));
    return () => {
      ended = true;
      this.sockets.delete(stream);
      stream.destroy?.();
    };
  }

  async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (err) {
      throw dockerErrorToControl(err, this.container);
    }
  }

  /** Ends its streams and, for an ssh:// engine, its SSH connection (the driver owns its client). */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy?.();
    this.sockets.clear();
    await closeDocker(this.docker);
  }
}

/** CPU percent and memory from one Engine stats document (null when a field is missing). */
export function containerStatsFromEngine(s: {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; stats?: { cache?: number; inactive_file?: number } };
}): ContainerStatsSample {
  let cpuPercent: number | null = null;
  const cu = s.cpu_stats?.cpu_usage?.total_usage;
  const pcu = s.precpu_stats?.cpu_usage?.total_usage;
  const sys = s.cpu_stats?.system_cpu_usage;
  const psys = s.precpu_stats?.system_cpu_usage;
  if (cu !== undefined && pcu !== undefined && sys !== undefined && psys !== undefined && sys > psys) {
    cpuPercent = ((cu - pcu) / (sys - psys)) * (s.cpu_stats?.online_cpus ?? 1) * 100;
  }
  const usage = s.memory_stats?.usage;
  const memoryBytes = usage === undefined ? null : usage - (s.memory_stats?.stats?.inactive_file ?? s.memory_stats?.stats?.cache ?? 0);
  return { cpuPercent, memoryBytes };
}
