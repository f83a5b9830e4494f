/**
 * Label discovery (issue 14, docs/fleet.md section 5): on each engine of the configured targets (with
 * none configured, HIVE_TARGETS=[], the environment's engine), a running container labelled
 * `org.hivescope.target=<name>` joins the fleet as target `<name>` by itself,
 * and leaves (kept as `gone`, its swarms stale) when it is removed. Per engine: one list, then Docker's
 * event stream filtered to that label, resubscribed with backoff when it ends (the engine restarted or
 * went away), listing again each time so nothing that happened meanwhile is missed.
 *
 * A name and a container come only from the engine (the label and Docker's own container name, both
 * checked), never from a request; the engine's TLS/SSH settings are those of the configured target on it.
 * Refused with a warning, never joined: a name failing TARGET_NAME_RE, a name already taken by a
 * configured target or another container, more than MAX_TARGETS in all.
 */
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { closeDocker, createDocker } from '../control/drivers/dockerConnection.js';
import { CONTAINER_NAME_RE, MAX_TARGETS, TARGET_NAME_RE, TargetsError, engineKey, parseHostPort, type DockerEndpoint, type TargetConfig } from '../targets.js';
import type { Fleet } from './fleet.js';

export const TARGET_LABEL = 'org.hivescope.target';
/** Optional: the container's MCP endpoint `host:port`; else found in its environment (MCP_TCP_PORT). */
export const MCP_LABEL = 'org.hivescope.mcp';
const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000] as const;
/** Longest event line kept; Docker's are far shorter, anything longer is dropped. */
const MAX_EVENT_LINE = 64 * 1024;

/** What a labelled container on an engine inherits: the engine (URL, TLS/SSH) and the MCP host to start from. */
export type EngineTemplate = Pick<TargetConfig, 'docker' | 'mcp'>;

/** The engine calls discovery makes; tests give a fake engine. */
export type DiscoveryEngineClient = Pick<Docker, 'getEvents' | 'listContainers'>;

export interface DiscoveryOptions {
  /** Tests: the client for an engine instead of dockerode on it. */
  engineClient?: (docker: DockerEndpoint | null) => DiscoveryEngineClient;
}

interface Engine {
  key: string;
  /** A configured target on the engine (its docker URL, TLS/SSH and derived MCP host are reused), or the environment's engine. */
  template: EngineTemplate;
  docker: DiscoveryEngineClient;
  stop: (() => void) | null;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

/** A labelled container as the engine describes it (from a list or an inspect). */
export interface LabelledContainer {
  name: string;
  labels: Record<string, string>;
}

/** What joins for a labelled container, or why not (pure; unit-tested). */
export function labelTarget(c: LabelledContainer, template: EngineTemplate): { ok: true; target: TargetConfig } | { ok: false; reason: string } {
  const name = c.labels[TARGET_LABEL] ?? '';
  if (!TARGET_NAME_RE.test(name)) return { ok: false, reason: `label ${TARGET_LABEL}=${JSON.stringify(name.slice(0, 64))} is not a target name (1-32 of a-z, 0-9, "-")` };
  if (!CONTAINER_NAME_RE.test(c.name)) return { ok: false, reason: `container name ${JSON.stringify(c.name.slice(0, 64))} is not a Docker container name` };
  let mcp: TargetConfig['mcp'] = { host: template.mcp.explicit && template.docker === null ? '127.0.0.1' : template.mcp.host, port: 9500, explicit: false };
  const raw = c.labels[MCP_LABEL];
  if (raw !== undefined) {
    try {
      mcp = { ...parseHostPort(raw, `label ${MCP_LABEL}`), explicit: true };
    } catch (err) {
      if (err instanceof TargetsError) return { ok: false, reason: err.message };
      throw err;
    }
  }
  return { ok: true, target: { name, docker: template.docker, container: c.name, mcp, source: 'label' } };
}

export class Discovery {
  private readonly engines: Engine[] = [];
  private closed = false;

  constructor(
    private readonly fleet: Fleet,
    private readonly logger: Logger,
    opts: DiscoveryOptions = {},
  ) {
    // One watch per distinct engine of the configured targets. With none configured (HIVE_TARGETS=[]) the
    // environment's engine, its containers' MCP looked for as an entry without `mcp` would be (MCP_HOST).
    const templates: { template: EngineTemplate; what: string }[] = [...fleet.targets.values()].map((rt) => ({ template: rt.config, what: `discovery on target ${rt.config.name}'s engine` }));
    if (fleet.config.targets.length === 0) templates.push({ template: { docker: null, mcp: { host: fleet.config.mcp.host, port: fleet.config.mcp.port, explicit: false } }, what: "discovery on the environment's engine" });
    const seen = new Set<string>();
    for (const { template: t, what } of templates) {
      const key = engineKey(t.docker);
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        const docker = opts.engineClient ? opts.engineClient(t.docker) : createDocker(t.docker, what, { sshAuthSock: process.env.SSH_AUTH_SOCK });
        this.engines.push({ key, template: t, docker, stop: null, attempt: 0, timer: null });
      } catch (err) {
        logger.warn({ engine: key, err: (err as Error).message }, 'label discovery: engine not watched');
      }
    }
  }

  start(): void {
    for (const e of this.engines) void this.watch(e);
  }

  private async watch(e: Engine): Promise<void> {
    if (this.closed) return;
    try {
      const stream = (await e.docker.getEvents({ filters: { type: ['container'], label: [TARGET_LABEL], event: ['start', 'destroy'] } })) as NodeJS.ReadableStream & { destroy?: () => void };
      if (this.closed) {
        stream.destroy?.();
        return;
      }
      e.stop = () => stream.destroy?.();
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        if (buf.length > MAX_EVENT_LINE) buf = '';
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) this.onEvent(e, line);
        }
      });
      const ended = () => {
        if (e.stop === null) return;
        e.stop = null;
        this.retry(e);
      };
      stream.on('end', ended);
      stream.on('close', ended);
      stream.on('error', ended);
      // Subscribed first, listed second: a container started in between is seen at least once.
      const list = await e.docker.listContainers({ filters: { label: [TARGET_LABEL] } });
      e.attempt = 0;
      const present = new Set<string>();
      for (const c of list) {
        const name = (c.Names?.[0] ?? '').replace(/^\//, '');
        present.add(name);
        this.join(e, { name, labels: c.Labels ?? {} });
      }
      // Labelled containers removed while the stream was down.
      for (const rt of this.fleet.targets.values()) {
        if (rt.source === 'label' && rt.lifecycle !== 'gone' && engineKey(rt.config.docker) === e.key && !present.has(rt.config.container)) void this.fleet.remove(rt.config.name);
      }
    } catch (err) {
      this.logger.debug({ engine: e.key, err: (err as Error).message }, 'label discovery: engine not answering');
      e.stop?.();
      e.stop = null;
      this.retry(e);
    }
  }

  private retry(e: Engine): void {
    if (this.closed || e.timer) return;
    const ms = BACKOFF_MS[Math.min(e.attempt++, BACKOFF_MS.length - 1)]!;
    e.timer = setTimeout(() => {
      e.timer = null;
      void this.watch(e);
    }, ms);
    e.timer.unref();
  }

  private onEvent(e: Engine, line: string): void {
    let ev: { Action?: string; status?: string; Actor?: { Attributes?: Record<string, unknown> } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return;
    }
    const action = String(ev.Action ?? ev.status ?? '').split(':')[0];
    const attrs = ev.Actor?.Attributes ?? {};
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs)) if (typeof v === 'string') labels[k] = v;
    const name = labels.name ?? '';
    if (action === 'start') this.join(e, { name, labels });
    else if (action === 'destroy') {
      const target = labels[TARGET_LABEL];
      const rt = target !== undefined ? this.fleet.targets.get(target) : undefined;
      // Only the container that joined under that name leaves with it.
      if (rt && rt.source === 'label' && rt.config.container === name && engineKey(rt.config.docker) === e.key) {
        this.logger.info({ target: target, container: name }, 'labelled container removed: target gone');
        void this.fleet.remove(rt.config.name);
      }
    }
  }

  private join(e: Engine, c: LabelledContainer): void {
    const r = labelTarget(c, e.template);
    if (!r.ok) {
      this.logger.warn({ engine: e.key, container: c.name.slice(0, 128) }, `label discovery refused a container: ${r.reason}`);
      return;
    }
    const t = r.target;
    const existing = this.fleet.targets.get(t.name);
    if (existing) {
      const sameContainer = existing.config.container === t.container && engineKey(existing.config.docker) === e.key;
      // A configured target whose container also carries the label is already here.
      if (sameContainer && existing.source !== 'label') return;
      const same = existing.source === 'label' && sameContainer;
      if (same && existing.lifecycle !== 'gone') return;
      if (!same || existing.lifecycle !== 'gone') {
        this.logger.warn({ engine: e.key, container: t.container }, `label discovery refused target "${t.name}": the name is taken by ${existing.source === 'label' ? `container ${existing.config.container}` : 'a configured target'}`);
        return;
      }
    } else if (this.fleet.targets.size >= MAX_TARGETS) {
      this.logger.warn({ engine: e.key, container: t.container }, `label discovery refused target "${t.name}": already ${MAX_TARGETS} targets`);
      return;
    }
    this.logger.info({ target: t.name, container: t.container, engine: e.key }, 'labelled container joined');
    void this.fleet.add(t, 'label').catch((err: unknown) => this.logger.warn({ target: t.name, err: (err as Error).message }, 'labelled target not added'));
  }

  /** Stops every watch; resolves once each engine's client let go of its connection (an ssh:// login). */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.engines) {
      if (e.timer) clearTimeout(e.timer);
      e.timer = null;
      const stop = e.stop;
      e.stop = null;
      stop?.();
    }
    await Promise.all(this.engines.map((e) => closeDocker(e.docker as Docker)));
  }
}
