/**
 * Supervises the kit's engine (`node dist/container/engine/main.js`) for the embedded hive that
 * `npm start` runs with the local driver: starts it with HIVE_ROOT and MCP on 127.0.0.1, restarts it
 * with backoff when it dies, and ends it on stop(). It is started with a preload that ends it when the
 * relay goes away, so it is never orphaned.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { diesWithParentPreload, localEngineMain } from './paths.js';

export interface EmbeddedEngineOptions {
  hiveRoot: string;
  port: number;
  authToken: string | null;
  logger: Logger;
  /** argv that runs the engine; default [node, --import, preload, dist/container/engine/main.js]. */
  argv?: string[];
  onState?: (s: { running: boolean; pid: number | null; restarts: number; lastExit: string | null }) => void;
}

export class EmbeddedEngine {
  private child: ChildProcess | null = null;
  private stopped = false;
  private restarts = 0;
  private backoffMs = 500;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  lastExit: string | null = null;
  /** Host and port from the engine's readiness line (`hive-engine listening on <host>:<port>`), per run. */
  listening: { host: string; port: number } | null = null;
  private readyWaiters: ((l: { host: string; port: number }) => void)[] = [];

  constructor(private readonly o: EmbeddedEngineOptions) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether the compiled engine exists (the kit may not be built yet). */
  static available(): boolean {
    return fs.existsSync(localEngineMain());
  }

  start(): void {
    if (this.stopped || this.running) return;
    const argv = this.o.argv ?? [process.execPath, '--import', diesWithParentPreload(), localEngineMain()];
    fs.mkdirSync(this.o.hiveRoot, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HIVE_ROOT: this.o.hiveRoot,
      MCP_HOST: '127.0.0.1',
      // Both names: the engine reads MCP_TCP_PORT first, and one inherited from our environment must not win.
      MCP_PORT: String(this.o.port),
      MCP_TCP_PORT: String(this.o.port),
      HIVESCOPE_DIE_WITH_PARENT: '1',
    };
    if (this.o.authToken) env.MCP_AUTH_TOKEN = this.o.authToken;
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    this.child = child;
    this.startedAt = Date.now();
    const log = (level: 'info' | 'warn') => {
      let buf = '';
      return (b: Buffer) => {
        buf += b.toString('utf8');
        if (buf.length > 65536) buf = buf.slice(-65536);
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const m = /hive-engine listening on (\S+):(\d+)/.exec(line);
          if (m) {
            this.listening = { host: m[1]!, port: Number(m[2]) };
            for (const w of this.readyWaiters.splice(0)) w(this.listening);
          }
          this.o.logger[level]({ engine: child.pid }, line.slice(0, 2000));
        }
      };
    };
    child.stdout!.on('data', log('info'));
    child.stderr!.on('data', log('warn'));
    child.stdin!.on('error', () => {});
    child.on('error', (err) => {
      this.lastExit = `cannot start the engine: ${err.message}`;
      this.o.logger.error({ err }, 'embedded engine failed to start');
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.listening = null;
      this.lastExit = signal ? `killed by ${signal}` : `exited with ${code}`;
      this.o.onState?.({ running: false, pid: null, restarts: this.restarts, lastExit: this.lastExit });
      if (this.stopped) return;
      // A run that lasted 30 s resets the backoff; a crash loop backs off up to 10 s.
      if (Date.now() - this.startedAt > 30_000) this.backoffMs = 500;
      this.o.logger.warn({ code, signal, inMs: this.backoffMs }, 'embedded engine died; restarting');
      this.timer = setTimeout(() => {
        this.timer = null;
        this.restarts++;
        this.start();
      }, this.backoffMs);
      this.backoffMs = Math.min(10_000, this.backoffMs * 2);
    });
    child.once('spawn', () => this.o.onState?.({ running: true, pid: child.pid ?? null, restarts: this.restarts, lastExit: this.lastExit }));
  }

  /** Resolves when the engine printed its readiness line (at once if it already has). */
  ready(): Promise<{ host: string; port: number }> {
    if (this.listening && this.running) return Promise.resolve(this.listening);
    return new Promise((r) => this.readyWaiters.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        c.kill('SIGKILL');
      }, 3000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }
}

/**
 * Starts the embedded engine for the local driver, or says why there is none: the kit is not built
 * until `npm run build`. Its state changes become activity entries through `onState`.
 */
export function startEmbeddedEngine(o: Omit<EmbeddedEngineOptions, 'argv'>): EmbeddedEngine | null {
  if (!EmbeddedEngine.available()) {
    o.logger.warn('embedded engine not built (dist/container/engine/main.js missing): no live swarm until `npm run build`');
    return null;
  }
  const engine = new EmbeddedEngine(o);
  engine.start();
  return engine;
}
