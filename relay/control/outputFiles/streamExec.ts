/**
 * One command whose stdout is a byte stream rather than a bounded string: a file download from the
 * container (docker exec through the Engine API, demultiplexed by our decoder) or from the embedded hive
 * (a local child). Backpressure runs end to end: when the reader (an HTTP response) stops reading, the
 * Docker socket or the child's pipe is paused. stderr is kept (bounded) for error messages. No shell is
 * added: argv goes as it is.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ControlError } from '../errors.js';
import { assertArgv, type ExecDriver } from '../exec.js';
import { DockerStreamDecoder } from '../dockerStream.js';
import { DockerDriver, dockerErrorToControl } from '../drivers/docker.js';
import { LocalDriver, killGroup } from '../drivers/local.js';

export interface ExecStream {
  stdout: Readable;
  /** Resolves when the command ended: its exit code (null when unknown) and the first bytes of stderr. */
  done: Promise<{ exitCode: number | null; stderr: string }>;
  /** Ends the command now (a reader went away). */
  abort(): void;
}

const MAX_STDERR = 16 * 1024;
/** Largest Docker frame accepted (the Engine sends at most 32 KiB; this leaves room). */
const MAX_FRAME = 1024 * 1024;

export async function execStream(driver: ExecDriver, argv: readonly string[], o: { timeoutMs: number }): Promise<ExecStream> {
  assertArgv(argv);
  if (driver instanceof DockerDriver) return dockerStream(driver, argv, o.timeoutMs);
  if (driver instanceof LocalDriver) return localStream(argv, o.timeoutMs);
  throw new ControlError('unsupported', `the ${driver.kind} driver here cannot stream a command's output`);
}

async function dockerStream(driver: DockerDriver, argv: readonly string[], timeoutMs: number): Promise<ExecStream> {
  const c = driver.docker.getContainer(driver.container);
  const abortCtl = new AbortController();
  let exec: Docker.Exec;
  let sock: NodeJS.ReadableStream & { destroy?: () => void; pause(): void; resume(): void };
  try {
    exec = await c.exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true, Tty: false, abortSignal: abortCtl.signal });
    sock = (await exec.start({ hijack: true, stdin: false, abortSignal: abortCtl.signal })) as typeof sock;
  } catch (err) {
    throw dockerErrorToControl(err, driver.container);
  }
  const out = new PassThrough();
  let stderr = '';
  let finished = false;
  const dec = new DockerStreamDecoder();
  let resolveDone!: (v: { exitCode: number | null; stderr: string }) => void;
  const done = new Promise<{ exitCode: number | null; stderr: string }>((r) => (resolveDone = r));
  /** `quiet`: the reader asked to stop; it is not told an error it caused (nobody listens any more). */
  const finish = (err: Error | null, quiet = false) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (err) {
      sock.destroy?.();
      out.destroy(quiet ? undefined : err);
      resolveDone({ exitCode: null, stderr });
      return;
    }
    out.end();
    exec.inspect().then(
      (i) => resolveDone({ exitCode: i.ExitCode ?? null, stderr }),
      () => resolveDone({ exitCode: null, stderr }),
    );
  };
  const timer = setTimeout(() => finish(new ControlError('timeout', `${argv[0]} did not finish within ${timeoutMs} ms`)), timeoutMs);
  sock.on('data', (chunk: Buffer) => {
    if (finished) return;
    let frames;
    try {
      frames = dec.push(chunk, MAX_FRAME);
    } catch (err) {
      finish(new ControlError('parse-error', (err as Error).message));
      return;
    }
    for (const f of frames) {
      if (f.stream === 'stderr') {
        if (stderr.length < MAX_STDERR) stderr += f.payload.toString('utf8').slice(0, MAX_STDERR - stderr.length);
      } else if (!out.write(Buffer.from(f.payload))) {
        sock.pause();
        out.once('drain', () => sock.resume());
      }
    }
  });
  sock.on('end', () => finish(dec.buffered === 0 ? null : new ControlError('parse-error', 'exec stream ended inside a frame')));
  sock.on('close', () => finish(dec.buffered === 0 ? null : new ControlError('parse-error', 'exec stream closed inside a frame')));
  sock.on('error', (err: Error) => finish(dockerErrorToControl(err, driver.container)));
  return { stdout: out, done, abort: () => finish(new ControlError('command-failed', 'aborted'), true) };
}

function localStream(argv: readonly string[], timeoutMs: number): Promise<ExecStream> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, shell: false });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => {
      if (stderr.length < MAX_STDERR) stderr += b.toString('utf8').slice(0, MAX_STDERR - stderr.length);
    });
    const kill = () => child.pid !== undefined && child.exitCode === null && killGroup(child.pid, 'SIGKILL');
    const timer = setTimeout(() => {
      kill();
      child.stdout!.destroy(new ControlError('timeout', `${cmd} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = new Promise<{ exitCode: number | null; stderr: string }>((r) =>
      child.once('close', (code) => {
        clearTimeout(timer);
        r({ exitCode: code, stderr });
      }),
    );
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new ControlError('command-failed', `cannot run ${cmd}: ${err.message}`));
    });
    child.once('spawn', () => resolve({ stdout: child.stdout!, done, abort: kill }));
  });
}
