/**
 * The session manager's hot commands served by the running hive-engine, so that `docker exec
 * hive-session-manager.sh create --start ...` costs a busybox sh and an nc instead of a Node start-up
 * (about 30 ms of bootstrap plus 20 ms of module loading per exec in the container, which put spawn at
 * 2.2x a bare `docker exec true`).
 *
 * Transport: a TCP listener on 127.0.0.1 at a free port. Its port and a random token are written to
 * `<HIVE_ROOT>/.swarm/engine.ctl` (mode 0600, so only the container's root can use the port; the file
 * sits beside the registry it serves, so a session manager only ever talks to the engine of its own
 * registry). A request is the token and then argv, each NUL-terminated, ended by the client's
 * half-close (busybox nc does that on stdin EOF). The answer is `<exit code>\n<one stderr line>\n<stdout>`
 * and the connection closes. Exit code 255 means "not served here": the script runs the Node CLI, which
 * stays the reference for every command (and the only path for stop, pause, resume, reap, cleanup,
 * start, and for claude-flow containers).
 *
 * Served: create [--start] (simulated engine only), list, status, get, capabilities. The read-only ones
 * are answered by the CLI's own readAnswer (from a cached registry) and errors by its failure(), so
 * stdout, stderr and exit codes are the CLI's (session-service.integration.test.ts runs the same cases
 * through both paths). Registry
 * writes use the same lock + temp + fsync + rename as the CLI, but wait for a busy lock on timers, never
 * blocking the simulation's event loop.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { failure, parseMetadata, prepareSession, readAnswer, splitFlags, type RegistryView } from '../session-manager/cli.js';
import { readRegistry, toSessionFile, updateRegistryAsync, writeSessionFile, type Paths, type Registry } from '../session-manager/registry.js';
import { claudeFlowBin } from '../session-manager/runner.js';
import type { RegistrySink } from './registry-sink.js';
import type { Simulation } from './sim.js';
import { swarmForSession, swarmMetadata } from './tools.js';

/** Exit code that sends the script to the Node CLI. */
export const NOT_SERVED = 255;
/** A request is a token, a command and create's three arguments: 8 KB task, 16 KB metadata, flags. */
const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_CONNECTIONS = 64;
const REQUEST_TIMEOUT_MS = 5_000;
const REGISTRY_WAIT_MS = 10_000;

export interface Answer {
  code: number;
  out: string;
  err: string;
}

const ok = (out: string): Answer => ({ code: 0, out, err: '' });
const notServed = (why: string): Answer => ({ code: NOT_SERVED, out: '', err: why });

export function ctlFilePath(p: Paths): string {
  return path.join(path.dirname(p.sessionsDir), 'engine.ctl');
}

/** The registry, re-read only when index.json was replaced (every write renames); its `list` text made once. */
class RegistryCache {
  private key = '';
  private view: RegistryView | null = null;
  constructor(private readonly p: Paths) {}

  read(): RegistryView | null {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.p.registry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (key !== this.key || !this.view) {
      const reg: Registry = readRegistry(this.p);
      let text: string | null = null;
      this.view = { reg, text: () => (text ??= JSON.stringify(reg, null, 2)) };
      this.key = key;
    }
    return this.view;
  }
}

export class SessionService {
  private readonly cache: RegistryCache;

  constructor(
    private readonly p: Paths,
    private readonly sim: Simulation,
    private readonly registry: RegistrySink,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.cache = new RegistryCache(p);
  }

  async handle(argv: string[]): Promise<Answer> {
    const [cmd, ...args] = argv;
    try {
      // capabilities, status, get, list: the CLI's own answers, from the cached registry.
      const read = readAnswer(this.p, cmd, args, () => this.cache.read());
      if (read) return { ...read, err: '' };
      if (cmd === 'create') return await this.create(args);
      return notServed(`${String(cmd).slice(0, 40)} is not served by hive-engine`);
    } catch (e) {
      return { ...failure(e), out: '' };
    }
  }

  private async create(args: string[]): Promise<Answer> {
    const { positional, flags } = splitFlags(args, ['--start']);
    const start = flags.has('--start');
    // claude-flow sessions run as a detached process group the CLI owns: that path stays in Node.
    if (start && claudeFlowBin(this.env)) return notServed('claude-flow sessions are started by the CLI');
    // Validate the metadata as session_run would before anything exists, so both paths agree on what a
    // bad one does (the CLI creates, then fails the start with exit 4): leave such requests to the CLI.
    // The CLI's own check comes first, so usage errors are the same.
    const meta = start ? swarmMetadata(parseMetadata(positional[2])) : null;
    if (meta === undefined) return notServed('metadata the engine would refuse: the CLI reports it');
    const { uuid, entry } = prepareSession(this.p, positional, start ? 'simulated' : null, null);
    if (start) {
      // The swarm first, so the session is born running with its swarm id: one registry write where
      // the CLI needs two (created/starting, then running) and an MCP round trip between them.
      const { swarm } = swarmForSession(this.sim, uuid, entry.task, meta);
      this.registry.own(uuid, swarm.id);
      entry.status = 'running';
      entry.swarm_id = swarm.id;
      entry.agent_count = swarm.agents.length > 0 ? swarm.agents.length : null;
      try {
        await this.write(uuid, entry);
      } catch (e) {
        // Nothing recorded: the swarm must not run unrecorded.
        this.registry.disown(uuid);
        this.sim.destroy(swarm.id);
        throw e;
      }
      return ok(`${uuid}\n`);
    }
    await this.write(uuid, entry);
    return ok(`${uuid}\n`);
  }

  private async write(uuid: string, entry: Parameters<typeof toSessionFile>[2]): Promise<void> {
    await updateRegistryAsync(
      this.p,
      (reg) => {
        writeSessionFile(this.p, uuid, toSessionFile(this.p, uuid, entry));
        reg.sessions[uuid] = entry;
      },
      REGISTRY_WAIT_MS,
    );
  }
}

/** Splits a request into NUL-terminated fields; null when it is not one (no terminator at the end). */
export function parseRequest(buf: Buffer): string[] | null {
  if (buf.length === 0 || buf[buf.length - 1] !== 0) return null;
  const fields: string[] = [];
  let from = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      fields.push(buf.toString('utf8', from, i));
      from = i + 1;
    }
  }
  return fields;
}

export function encodeAnswer(a: Answer): string {
  return `${a.code}\n${a.err.replace(/[\r\n]+/g, ' ')}\n${a.out}`;
}

export interface ControlListener {
  port: number;
  file: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 and publishes port + token in engine.ctl (see the header). */
export async function listenControl(service: SessionService, p: Paths): Promise<ControlListener> {
  const token = crypto.randomBytes(24).toString('hex');
  const tokenBuf = Buffer.from(token);
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: the client half-closes to mark the end of its request and then waits for the answer.
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    if (sockets.size >= MAX_CONNECTIONS) {
      sock.end(encodeAnswer(notServed('hive-engine control connections exhausted')));
      return;
    }
    sockets.add(sock);
    sock.setTimeout(REQUEST_TIMEOUT_MS, () => sock.destroy());
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REQUEST_BYTES) {
        sock.end(encodeAnswer({ code: 2, out: '', err: `error: request exceeds ${MAX_REQUEST_BYTES} bytes` }));
        sock.removeAllListeners('data');
        return;
      }
      chunks.push(d);
    });
    sock.on('end', () => {
      if (size > MAX_REQUEST_BYTES) return;
      const fields = parseRequest(Buffer.concat(chunks));
      const given = fields?.[0] !== undefined ? Buffer.from(fields[0]) : null;
      if (!fields || !given || given.length !== tokenBuf.length || !crypto.timingSafeEqual(given, tokenBuf)) {
        // Not our client: it learns nothing beyond "use the CLI".
        sock.end(encodeAnswer(notServed('not a hive-engine control request')));
        return;
      }
      void service.handle(fields.slice(1)).then(
        (a) => sock.end(encodeAnswer(a)),
        (e: Error) => sock.end(encodeAnswer({ code: 3, out: '', err: `error: ${e.message}` })),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const file = ctlFilePath(p);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Created 0600 (never readable by others, not even between write and rename), then renamed into place.
  const tmp = `${file}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, `${port} ${token}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  return {
    port,
    file,
    async close() {
      // Only remove the file if it is still ours (a newer engine on the same root may have replaced it).
      try {
        if (fs.readFileSync(file, 'utf8').includes(token)) fs.unlinkSync(file);
      } catch {
        // gone
      }
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
