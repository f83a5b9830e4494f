/**
 * Fleet targets (issue 14): which swarm containers this relay drives, on which Docker engines. Parsed once
 * by config.ts from HIVE_TARGETS (a JSON array inline, or `@path` to a JSON file) or, without it, from
 * today's single-container settings (one target). Pure apart from reading the `@path` file: no socket is
 * opened and no TLS or SSH key is read here (relay/control/drivers/dockerConnection.ts does that when a
 * driver is made), so the parsed config holds paths, never key material. docs/fleet.md is the user's page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

import { DEFAULT_TARGET_NAME, MAX_TARGETS, TARGET_NAME_RE } from '../shared/model/target.js';

/** MAX_TARGETS: at most this many targets (inline or file); past dozens the next step is several relays (docs/scaling.md). */
export { DEFAULT_TARGET_NAME, MAX_TARGETS, TARGET_NAME_RE };
/** HIVE_TARGETS inline, or the `@path` file, at most this many bytes. */
export const MAX_TARGETS_BYTES = 64 * 1024;
/** The kit's and upstream's MCP TCP port when nothing else says (MCP_TCP_PORT / MCP_PORT in the container). */
export const DEFAULT_MCP_PORT = 9500;

/** What Docker accepts as a container name (and what HIVE_CONTAINER accepts). */
export const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const DNS_NAME_RE = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_RE = /^[0-9a-fA-F:.]{2,45}$/;
/** A POSIX login name (what ssh accepts without quoting). */
const SSH_USER_RE = /^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}$/;
/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** A Docker engine, as named by a DOCKER_HOST-style URL. */
export type DockerEndpoint =
  | { kind: 'unix'; url: string; socketPath: string }
  | {
      kind: 'tcp';
      url: string;
      host: string;
      port: number;
      /** null only for a loopback engine explicitly configured with `"tls": false`. */
      tls: { certPath: string } | null;
    }
  | {
      kind: 'ssh';
      url: string;
      user: string;
      host: string;
      port: number;
      /** A private key file; null: the agent (SSH_AUTH_SOCK), else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
      identityFile: string | null;
      /** The known_hosts file the engine's host key must be in. Default ~/.ssh/known_hosts. */
      knownHosts: string;
    };

export interface TargetConfig {
  /** Unique slug (TARGET_NAME_RE); travels in ids, the API's `target` param and metric labels. */
  name: string;
  /** The engine; null: the environment's engine (DOCKER_HOST or the default socket), exactly as before fleets. */
  docker: DockerEndpoint | null;
  /** The container to exec into; only ever taken from configuration (or, later, a discovery label). */
  container: string;
  mcp: {
    host: string;
    port: number;
    /**
     * true: set by the configuration (`mcp`, or MCP_HOST/MCP_PORT for the single target). false: derived
     * (a tcp/ssh engine's host, else MCP_HOST; MCP_PORT, default 9500); the composition refines the port
     * from the container's environment with `resolveMcpEndpoint`.
     */
    explicit: boolean;
  };
  /** Where this target came from: the default single target, HIVE_TARGETS, or a container's discovery label (relay/fleet/discovery.ts). */
  source: 'single' | 'HIVE_TARGETS' | 'label';
}

export class TargetsError extends Error {
  override name = 'TargetsError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

function validHost(host: string): boolean {
  return DNS_NAME_RE.test(host) || IPV4_RE.test(host) || (host.includes(':') && IPV6_RE.test(host));
}

function parsePort(raw: string, what: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw new TargetsError(`${what}: port must be a number in 1..65535`);
  const n = Number(raw);
  if (n < 1 || n > 65535) throw new TargetsError(`${what}: port must be a number in 1..65535`);
  return n;
}

/** `host:port` or `[v6]:port` -> parts. Throws TargetsError naming `what`. */
export function parseHostPort(raw: string, what: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(raw) ?? /^([^:[\]]+):([^:]*)$/.exec(raw);
  if (!m) throw new TargetsError(`${what}: expected host:port (or [ipv6]:port), got ${JSON.stringify(clip(raw))}`);
  const host = m[1]!;
  if (!validHost(host)) throw new TargetsError(`${what}: ${JSON.stringify(clip(host))} is not a host name or IP address`);
  return { host, port: parsePort(m[2]!, what) };
}

function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}...` : s;
}

/** `~/x` and relative paths made absolute (relative to `base`, the targets file's folder or the cwd). */
function resolvePath(p: string, base: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(os.homedir(), p.slice(1));
  return path.resolve(base, p);
}

export interface EndpointOptions {
  /** `tls` of the entry: `false` (plain TCP, loopback only) or `{ certPath? }`. */
  tls?: false | { certPath?: string | undefined } | undefined;
  ssh?: { identityFile?: string | undefined; knownHosts?: string | undefined } | undefined;
  /** Where relative paths start. */
  base: string;
  /** DOCKER_CERT_PATH of the environment (the default cert folder, else ~/.docker). */
  dockerCertPath?: string | undefined;
}

/**
 * A DOCKER_HOST-style URL -> endpoint: `unix:///abs/path.sock`, `tcp://host:port` (TLS from a
 * DOCKER_CERT_PATH-style folder; `"tls": false` only for loopback), `ssh://user@host[:port]`. Anything
 * else (other schemes, passwords, paths, queries) is refused with a message naming `what`.
 */
export function parseDockerUrl(url: string, what: string, o: EndpointOptions): DockerEndpoint {
  if (url.length > 512) throw new TargetsError(`${what}: longer than 512 characters`);
  if (/[\u0000-\u001f\u007f\s]/.test(url)) throw new TargetsError(`${what}: contains whitespace or control characters`);
  const scheme = /^([a-z]+):\/\//.exec(url)?.[1];
  if (scheme === 'unix') {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new TargetsError(`${what}: unix:// needs an absolute socket path (unix:///var/run/docker.sock)`);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) throw new TargetsError(`${what}: socket path longer than ${MAX_SOCKET_PATH} bytes`);
    if (o.tls !== undefined || o.ssh !== undefined) throw new TargetsError(`${what}: tls and ssh settings do not apply to a unix socket`);
    return { kind: 'unix', url, socketPath: path.normalize(socketPath) };
  }
  if (scheme !== 'tcp' && scheme !== 'ssh') {
    throw new TargetsError(`${what}: expected unix:///path, tcp://host:port or ssh://user@host[:port], got ${JSON.stringify(clip(url))}`);
  }
  // Parsed by hand: WHATWG URL accepts and silently rewrites too much for a security boundary.
  const rest = url.slice(scheme.length + 3);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : null;
  const hostport = at >= 0 ? rest.slice(at + 1) : rest;
  if (/[/?#]/.test(hostport)) throw new TargetsError(`${what}: no path, query or fragment allowed after the host`);
  if (scheme === 'tcp') {
    if (userinfo !== null) throw new TargetsError(`${what}: tcp:// takes no user or password (TLS client certificates authenticate)`);
    if (o.ssh !== undefined) throw new TargetsError(`${what}: ssh settings given for a tcp:// engine`);
    const { host, port } = parseHostPort(hostport, what);
    if (o.tls === false) {
      if (!isLoopback(host)) throw new TargetsError(`${what}: "tls": false is allowed only for a loopback engine; the Docker API is root on its host`);
      return { kind: 'tcp', url, host, port, tls: null };
    }
    const certPath = resolvePath(o.tls?.certPath ?? o.dockerCertPath ?? path.join(os.homedir(), '.docker'), o.base);
    return { kind: 'tcp', url, host, port, tls: { certPath } };
  }
  if (o.tls !== undefined) throw new TargetsError(`${what}: tls settings given for an ssh:// engine`);
  if (userinfo === null || userinfo === '') throw new TargetsError(`${what}: ssh:// needs a user (ssh://user@host)`);
  if (userinfo.includes(':')) throw new TargetsError(`${what}: no password in the URL; use the SSH agent or a key file`);
  if (!SSH_USER_RE.test(userinfo)) throw new TargetsError(`${what}: ${JSON.stringify(clip(userinfo))} is not a user name`);
  // host, host:port, [v6] or [v6]:port; the port defaults to 22 as for ssh itself.
  const bracketed = /^\[([^\]]+)\]$/.exec(hostport);
  const { host, port } = bracketed ? { host: bracketed[1]!, port: 22 } : /^[^:]+$/.test(hostport) ? { host: hostport, port: 22 } : parseHostPort(hostport, what);
  if (!validHost(host)) throw new TargetsError(`${what}: ${JSON.stringify(clip(host))} is not a host name or IP address`);
  return {
    kind: 'ssh',
    url,
    user: userinfo,
    host,
    port,
    identityFile: o.ssh?.identityFile ? resolvePath(o.ssh.identityFile, o.base) : null,
    knownHosts: resolvePath(o.ssh?.knownHosts ?? '~/.ssh/known_hosts', o.base),
  };
}

const pathField = z.string().min(1).max(1024).refine((s) => !s.includes('\0'), 'contains a NUL byte');

/** One HIVE_TARGETS entry as written; unknown keys are refused (a typo must not silently mean "default"). */
export const TargetEntrySchema = z
  .object({
    name: z.string().regex(TARGET_NAME_RE, 'must be 1-32 of a-z, 0-9 and "-", not starting or ending with "-"'),
    docker: z.string().min(1).max(512).optional(),
    container: z.string().regex(CONTAINER_NAME_RE, 'not a container name'),
    mcp: z.string().min(3).max(300).optional(),
    tls: z.union([z.literal(false), z.object({ certPath: pathField.optional() }).strict()]).optional(),
    ssh: z.object({ identityFile: pathField.optional(), knownHosts: pathField.optional() }).strict().optional(),
  })
  .strict();
export type TargetEntry = z.infer<typeof TargetEntrySchema>;

/** What describes the single target when HIVE_TARGETS is not set. */
export interface SingleTargetSettings {
  name: string;
  container: string;
  mcpHost: string;
  mcpPort: number;
}

export function singleTarget(s: SingleTargetSettings): TargetConfig {
  return { name: s.name, docker: null, container: s.container, mcp: { host: s.mcpHost, port: s.mcpPort, explicit: true }, source: 'single' };
}

function entryLabel(i: number, raw: unknown): string {
  const name = raw && typeof raw === 'object' && typeof (raw as { name?: unknown }).name === 'string' ? (raw as { name: string }).name : null;
  return name !== null && name.length <= 40 ? `HIVE_TARGETS[${i}] (${JSON.stringify(name)})` : `HIVE_TARGETS[${i}]`;
}

/**
 * Reads HIVE_TARGETS's text: inline JSON, or `@path` (relative to `cwd`; a regular file of at most
 * MAX_TARGETS_BYTES). Returns the text and the folder relative paths inside it start from.
 */
export function readTargetsSource(raw: string, cwd: string): { text: string; base: string; origin: string } {
  if (!raw.startsWith('@')) {
    if (Buffer.byteLength(raw) > MAX_TARGETS_BYTES) throw new TargetsError(`HIVE_TARGETS: longer than ${MAX_TARGETS_BYTES} bytes; use @path to a file`);
    return { text: raw, base: cwd, origin: 'HIVE_TARGETS' };
  }
  const file = resolvePath(raw.slice(1), cwd);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new TargetsError(`HIVE_TARGETS: cannot open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new TargetsError(`HIVE_TARGETS: ${file} is not a regular file`);
    if (st.size > MAX_TARGETS_BYTES) throw new TargetsError(`HIVE_TARGETS: ${file} is larger than ${MAX_TARGETS_BYTES} bytes`);
    // Read at most one byte past the bound: a file that grows after fstat is still refused, never read whole.
    const buf = Buffer.alloc(MAX_TARGETS_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    if (n > MAX_TARGETS_BYTES) throw new TargetsError(`HIVE_TARGETS: ${file} is larger than ${MAX_TARGETS_BYTES} bytes`);
    return { text: buf.subarray(0, n).toString('utf8'), base: path.dirname(file), origin: file };
  } finally {
    fs.closeSync(fd);
  }
}

export interface ParseTargetsOptions {
  cwd: string;
  /** DOCKER_CERT_PATH of the environment. */
  dockerCertPath?: string | undefined;
  /**
   * The MCP endpoint an entry without `mcp` starts from (MCP_HOST, MCP_PORT): the host is used for an entry
   * on the environment's engine or a unix socket; a tcp:// or ssh:// engine's own host replaces it.
   */
  mcpDefault?: { host: string; port: number };
  /**
   * Whether `[]` is accepted (zero configured targets: label discovery brings them, docs/fleet.md section
   * 5). config.ts allows it and refuses it itself when discovery is off; default false.
   */
  allowEmpty?: boolean;
}

/**
 * Which Docker engine a target is on, as a key: its docker URL, or `environment` for DOCKER_HOST and the
 * default socket. Two targets name one container only on different engines; discovery watches each engine
 * once; the fleet's exec bound is per engine.
 */
export function engineKey(docker: DockerEndpoint | null): string {
  return docker === null ? 'environment' : docker.url;
}

/**
 * HIVE_TARGETS -> targets, validated as a whole: every entry by TargetEntrySchema, names unique, no two
 * entries naming the same container on the same engine or the same MCP endpoint. Errors name the entry
 * (index and name) and the field.
 */
export function parseTargets(raw: string, o: ParseTargetsOptions): TargetConfig[] {
  const { text, base, origin } = readTargetsSource(raw, o.cwd);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TargetsError(`HIVE_TARGETS: not JSON (${origin}): ${clip((e as Error).message, 120)}`);
  }
  if (!Array.isArray(json)) throw new TargetsError('HIVE_TARGETS: expected a JSON array of { name, docker?, container, mcp? }');
  if (json.length === 0 && !o.allowEmpty) throw new TargetsError('HIVE_TARGETS: the array is empty; unset it for the single default target');
  if (json.length > MAX_TARGETS) throw new TargetsError(`HIVE_TARGETS: ${json.length} entries; at most ${MAX_TARGETS}`);
  const problems: string[] = [];
  const out: TargetConfig[] = [];
  const names = new Map<string, number>();
  const places = new Map<string, string>();
  const mcps = new Map<string, string>();
  json.forEach((rawEntry: unknown, i) => {
    const label = entryLabel(i, rawEntry);
    const parsed = TargetEntrySchema.safeParse(rawEntry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = issue.path.length ? issue.path.join('.') : '(entry)';
        const msg = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.map((k) => JSON.stringify(clip(k, 40))).join(', ')}` : issue.message;
        problems.push(`${label}.${field}: ${msg}`);
      }
      return;
    }
    const e = parsed.data;
    try {
      const docker = e.docker === undefined ? null : parseDockerUrl(e.docker, `${label}.docker`, { tls: e.tls, ssh: e.ssh, base, dockerCertPath: o.dockerCertPath });
      if (docker === null && (e.tls !== undefined || e.ssh !== undefined)) throw new TargetsError(`${label}: tls and ssh settings need a docker URL`);
      const mcp = e.mcp !== undefined ? { ...parseHostPort(e.mcp, `${label}.mcp`), explicit: true } : { host: docker && docker.kind !== 'unix' ? docker.host : (o.mcpDefault?.host ?? '127.0.0.1'), port: o.mcpDefault?.port ?? DEFAULT_MCP_PORT, explicit: false };
      const seen = names.get(e.name);
      if (seen !== undefined) throw new TargetsError(`${label}.name: ${JSON.stringify(e.name)} is already the name of HIVE_TARGETS[${seen}]`);
      names.set(e.name, i);
      const place = `${engineKey(docker)}|${e.container}`;
      const other = places.get(place);
      if (other) throw new TargetsError(`${label}.container: ${e.container} on the same engine is already target ${JSON.stringify(other)}`);
      places.set(place, e.name);
      if (mcp.explicit) {
        const key = `${mcp.host}:${mcp.port}`;
        const dup = mcps.get(key);
        if (dup) throw new TargetsError(`${label}.mcp: ${key} is already the MCP endpoint of target ${JSON.stringify(dup)}`);
        mcps.set(key, e.name);
      }
      out.push({ name: e.name, docker, container: e.container, mcp, source: 'HIVE_TARGETS' });
    } catch (err) {
      if (err instanceof TargetsError) problems.push(err.message);
      else throw err;
    }
  });
  if (problems.length > 0) throw new TargetsError(`invalid HIVE_TARGETS:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`);
  return out;
}

/**
 * The MCP port a kit or claude-flow container listens on, from its environment as `docker inspect`
 * reports it (Config.Env, `K=V` strings): MCP_TCP_PORT (upstream's name) first, then MCP_PORT (the kit's
 * older name); null when neither is a valid port. Bounded: at most 4096 entries are looked at.
 */
export function mcpPortFromContainerEnv(env: readonly string[] | null | undefined): number | null {
  if (!Array.isArray(env)) return null;
  const vars = new Map<string, string>();
  for (const kv of env.slice(0, 4096)) {
    if (typeof kv !== 'string') continue;
    const eq = kv.indexOf('=');
    if (eq > 0) vars.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  for (const k of ['MCP_TCP_PORT', 'MCP_PORT']) {
    const v = vars.get(k);
    if (v !== undefined && /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) return Number(v);
  }
  return null;
}

/** The MCP endpoint to connect to: an explicit one as configured; a derived one takes the container's port when it names one. */
export function resolveMcpEndpoint(target: TargetConfig, containerEnv: readonly string[] | null): { host: string; port: number } {
  if (target.mcp.explicit) return { host: target.mcp.host, port: target.mcp.port };
  return { host: target.mcp.host, port: mcpPortFromContainerEnv(containerEnv) ?? target.mcp.port };
}

/** Whether a DEBUG value (the `debug` package's syntax: comma/space list, `*` wildcards, `-` exclusions) enables `namespace`. */
export function debugEnables(debugValue: string | undefined | null, namespace: string): boolean {
  if (!debugValue) return false;
  const toRe = (p: string) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*?')}$`);
  const parts = debugValue.split(/[\s,]+/).filter(Boolean);
  if (parts.some((p) => p.startsWith('-') && toRe(p.slice(1)).test(namespace))) return false;
  return parts.some((p) => !p.startsWith('-') && toRe(p).test(namespace));
}

/**
 * docker-modem prints every request's options, client key included, when DEBUG enables `modem`; the
 * `debug` package reads DEBUG once when loaded, so that cannot be switched off later. A relay that would
 * hold key material (a TLS or ssh:// target, or the environment's engine with DOCKER_CERT_PATH) refuses
 * to start instead. `watchesEnvironment`: no target names the environment's engine, but label discovery
 * watches it (HIVE_TARGETS=[]). Returns the refusal's message, or null.
 */
export function modemDebugRefusal(debugValue: string | undefined | null, targets: readonly TargetConfig[], envCertPath: string | null | undefined, watchesEnvironment = false): string | null {
  if (!debugEnables(debugValue, 'modem')) return null;
  const secret = targets.find((t) => (t.docker === null ? Boolean(envCertPath) : (t.docker.kind === 'tcp' && t.docker.tls !== null) || t.docker.kind === 'ssh'));
  const fix = 'remove "modem" from DEBUG (e.g. DEBUG=*,-modem)';
  if (secret) return `DEBUG=${debugValue} enables docker-modem's request log, which prints TLS and SSH keys (target ${JSON.stringify(secret.name)}); ${fix}`;
  // A fleet of labelled containers alone has no target yet, but discovery and every container that joins use the environment's engine.
  if (watchesEnvironment && envCertPath) return `DEBUG=${debugValue} enables docker-modem's request log, which prints TLS keys (the environment's engine, DOCKER_CERT_PATH, watched for labelled containers); ${fix}`;
  return null;
}
