/**
 * Which backend runs the commands: the kit's session manager when its script is in the container (with
 * the local driver: when the kit is built), else a bare claude-flow CLI. Detected once (single-flight:
 * concurrent callers share one detection), and tried again on the next call while none answered.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { RequestContext } from '../context.js';
import { ControlError } from './errors.js';
import type { ExecDriver } from './exec.js';
import type { StateStore } from './stateStore.js';
import type { Backend, RunFn } from './backends/types.js';
import type { SessionMcpOpener } from './backends/sessionMcp.js';
import { SessionManagerBackend, SESSION_MANAGER_PATH } from './backends/sessionManager.js';
import { claudeFlowBackend, detectClaudeFlow } from './backends/detect.js';
import { localSessionManagerCli } from './paths.js';
import type { BackendName } from './planeHealth.js';

/** Tests and benches: the backend to use instead of probing for one. */
export type BackendFactory = (run: RunFn, store: StateStore) => Backend;

export interface BackendSlotDeps {
  driver: ExecDriver | null;
  run: RunFn;
  store: StateStore;
  logger: Logger;
  factory?: BackendFactory | undefined;
  /** argv prefix running the session manager with the local driver. Default [node, dist/container/session-manager/cli.js]. */
  localSessionManager?: string[] | undefined;
  /** True while the container watch knows the container is not running (the error then says so). */
  containerStopped(): boolean;
  /** A backend was found (health changes from degraded). */
  onDetected(): void;
  /** claude-flow 3.x: opens an MCP server in a session's directory, once the relay provides one. */
  sessionMcp?: () => SessionMcpOpener | null;
}

export class BackendSlot {
  private impl: Backend | null = null;
  private detecting: Promise<Backend | null> | null = null;

  constructor(private readonly d: BackendSlotDeps) {}

  /**
   * After a container restart the image (and its claude-flow) may be another one: probe again. The
   * current backend keeps serving until the probe answers (health does not flicker to "no backend"), and
   * stays when the probe finds the same kind and version (its state, e.g. what it last reported, is kept).
   */
  async redetect(ctx?: RequestContext): Promise<Backend | null> {
    const old = this.impl;
    if (!old) return this.detect(ctx);
    const found = await this.probe(ctx);
    if (found && (found.name !== old.name || found.describe?.().version !== old.describe?.().version)) {
      this.d.logger.info({ from: old.describe?.() ?? old.name, to: found.describe?.() ?? found.name }, 'backend changed after a container restart');
      this.impl = found;
    }
    return this.impl;
  }

  get current(): Backend | null {
    return this.impl;
  }

  get name(): BackendName {
    return this.impl?.name ?? 'none';
  }

  /** Session manager first (probe the script), else a bare claude-flow CLI. Null when neither answers. */
  detect(ctx?: RequestContext): Promise<Backend | null> {
    if (this.impl) return Promise.resolve(this.impl);
    if (this.detecting) return this.detecting;
    this.detecting = (async () => {
      try {
        const found = await this.probe(ctx);
        if (found && !this.impl) this.impl = found;
        return this.impl;
      } finally {
        this.detecting = null;
        if (this.impl) this.d.onDetected();
      }
    })();
    return this.detecting;
  }

  /** One probe of the container for a backend; assigns nothing. */
  private async probe(ctx?: RequestContext): Promise<Backend | null> {
    const { driver, run } = this.d;
    try {
      if (!driver) return null;
      if (this.d.factory) return this.d.factory(run, this.d.store);
      if (driver.kind === 'local') {
        const prefix = this.d.localSessionManager ?? [process.execPath, localSessionManagerCli()];
        if (!this.d.localSessionManager && !fs.existsSync(prefix[1]!)) return null;
        return new SessionManagerBackend(run, prefix);
      }
      const t = await run(['test', '-x', SESSION_MANAGER_PATH], { idempotent: true, timeoutMs: 5000, ctx });
      if (t.exitCode === 0) return new SessionManagerBackend(run, [SESSION_MANAGER_PATH]);
      // 3.x (`ruflo v3.43.0`) and 2.x (`v2.7.47`) are different products: one backend each, by what --version says.
      const cf = await detectClaudeFlow(run, ctx);
      return cf ? claudeFlowBackend(cf, { run, store: this.d.store, driverKind: 'docker', sessionMcp: this.d.sessionMcp, logger: this.d.logger }) : null;
    } catch (err) {
      (ctx?.log ?? this.d.logger).debug({ err }, 'backend detection failed');
      return null;
    }
  }

  /** The backend, detecting it first if needed; an error that says what to do when there is none. */
  async require(ctx?: RequestContext): Promise<Backend> {
    if (this.impl) return this.impl;
    const b = await this.detect(ctx);
    if (b) return b;
    const { driver } = this.d;
    if (driver?.kind === 'docker' && this.d.containerStopped()) {
      throw new ControlError('container-not-running', `container ${driver.container} is not running; start it (npm run container:up) and try again`);
    }
    throw new ControlError(
      'command-failed',
      driver?.kind === 'local'
        ? `the session manager is not built (${localSessionManagerCli()} is missing); run npm run build`
        : `neither ${SESSION_MANAGER_PATH} nor claude-flow was found in container ${driver?.container ?? '?'}`,
    );
  }
}
