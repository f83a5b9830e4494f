/**
 * A long-lived command with its stdin open and its output streamed back: what a stdio MCP server needs
 * (claude-flow 3.x's `claude-flow mcp start`, run in a session's directory). Docker: an exec with stdin
 * attached over the hijacked connection; stdout and stderr come back in Docker's 8-byte frames and are
 * demultiplexed by our decoder, each frame bounded. Local: a child process with pipes. Closing stdin is
 * how the command is asked to end (a stdio server exits at EOF); the exec's process is a child of the
 * container's shim, which reaps it, so nothing is left behind under a PID 1 that does not reap.
 * (The bounded one-shot download stream of a file is relay/control/outputFiles/streamExec.ts.)
 */
import { spawn } from 'node:child_process';
import type Docker from 'dockerode';
import { DockerStreamDecoder } from '../dockerStream.js';
import { assertArgv } from '../exec.js';
import { dockerErrorToControl } from './docker.js';

export interface ExecStream {
  /** Bytes to the command's stdin. */
  write(text: string): Promise<void>;
  /**
   * Closes stdin and waits up to `graceMs` for the command's output to end (it exited), then drops the
   * connection. Resolves either way; calling it again is harmless.
   */
  close(graceMs?: number): Promise<void>;
  onstdout?: (chunk: Buffer) => void;
  onstderr?: (chunk: Buffer) => void;
  /** Once, when the output ended (the command exited or the connection broke); null for a clean end. */
  onclose?: (err: Error | null) => void;
}

export interface ExecStreamOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Largest Docker frame accepted; a larger one ends the stream. Default 1 MiB. */
  maxFrameBytes?: number;
}

/** Time close() waits for the command to exit after its stdin closed. */
export const CLOSE_GRACE_MS = 3000;
const MAX_FRAME_BYTES = 1024 * 1024;

type Duplex = NodeJS.ReadWriteStream & { destroy?: (e?: Error) => void; end: (cb?: () => void) => void; destroyed?: boolean };

/** Common shape of both: one end signal, close = EOF then wait then drop. */
class StreamBase {
  onstdout?: (chunk: Buffer) => void;
  onstderr?: (chunk: Buffer) => void;
  onclose?: (err: Error | null) => void;
  private ended = false;
  private readonly endWaiters: (() => void)[] = [];

  protected finish(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.endWaiters.splice(0)) w();
    this.onclose?.(err);
  }

  protected waitEnd(ms: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.endWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

class DockerExecStream extends StreamBase implements ExecStream {
  private readonly decoder = new DockerStreamDecoder();

  constructor(
    private readonly sock: Duplex,
    maxFrameBytes: number,
  ) {
    super();
    sock.on('data', (chunk: Buffer) => {
      if (this.isEnded) return;
      try {
        for (const f of this.decoder.push(chunk, maxFrameBytes)) (f.stream === 'stderr' ? this.onstderr : this.onstdout)?.(Buffer.from(f.payload));
      } catch (e) {
        // Not Docker's framing, or a frame over the bound: this stream cannot be trusted any more.
        sock.destroy?.();
        this.finish(e as Error);
      }
    });
    sock.on('end', () => this.finish(null));
    sock.on('close', () => this.finish(null));
    sock.on('error', (e: Error) => this.finish(e));
  }

  write(text: string): Promise<void> {
    if (this.isEnded || this.sock.destroyed) return Promise.reject(new Error('exec stream closed'));
    return new Promise((resolve, reject) => {
      this.sock.write(text, (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    if (!this.isEnded) {
      // Half-close: dockerd closes the command's stdin, a stdio server exits at EOF and the stream ends.
      this.sock.end();
      await this.waitEnd(graceMs);
    }
    this.sock.destroy?.();
    this.finish(null);
  }
}

/** `docker exec -i` with argv only (no shell): stdin attached, stdout/stderr demultiplexed. */
export async function openDockerExecStream(docker: Docker, container: string, argv: readonly string[], o: ExecStreamOptions = {}): Promise<ExecStream> {
  assertArgv(argv);
  const c = docker.getContainer(container);
  const env = o.env ? Object.entries(o.env).map(([k, v]) => `${k}=${v}`) : undefined;
  try {
    const exec = await c.exec({ Cmd: [...argv], Env: env, ...(o.cwd ? { WorkingDir: o.cwd } : {}), AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    const sock = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
    return new DockerExecStream(sock, o.maxFrameBytes ?? MAX_FRAME_BYTES);
  } catch (err) {
    throw dockerErrorToControl(err, container);
  }
}

class LocalExecStream extends StreamBase implements ExecStream {
  constructor(private readonly child: ReturnType<typeof spawn>) {
    super();
    child.stdout!.on('data', (b: Buffer) => this.onstdout?.(b));
    child.stderr!.on('data', (b: Buffer) => this.onstderr?.(b));
    child.stdin!.on('error', () => undefined);
    child.on('error', (e) => this.finish(e));
    child.on('close', () => this.finish(null));
  }

  write(text: string): Promise<void> {
    if (this.isEnded) return Promise.reject(new Error('process ended'));
    return new Promise((resolve, reject) => {
      this.child.stdin!.write(text, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    if (!this.isEnded) {
      this.child.stdin!.end();
      if (!(await this.waitEnd(graceMs))) {
        this.child.kill('SIGKILL');
        await this.waitEnd(graceMs);
      }
    }
    this.finish(null);
  }
}

/** The local driver's equivalent: a child process with piped stdio (it is waited for, never orphaned). */
export function openLocalExecStream(argv: readonly string[], o: ExecStreamOptions = {}): Promise<ExecStream> {
  assertArgv(argv);
  const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(new LocalExecStream(child)));
    child.once('error', reject);
  });
}
