/**
 * A fleet target's Docker engine (relay/targets.ts's DockerEndpoint) -> a dockerode client, the way the
 * docker CLI reaches it with DOCKER_HOST: a unix socket; tcp:// with TLS from a DOCKER_CERT_PATH-style
 * folder (ca.pem, cert.pem, key.pem; the server is always verified against ca.pem and its name, as with
 * DOCKER_TLS_VERIFY=1); ssh://user@host through one SSH connection per client (sshTransport.ts: ssh2
 * running `docker system dial-stdio` on the host, one channel per HTTP connection) with the user's agent
 * (SSH_AUTH_SOCK) or a key file, and the host key checked against known_hosts (knownHosts.ts; ssh2 would
 * accept any key otherwise). closeDocker() ends that connection (DockerDriver.close calls it).
 *
 * Key material is read from files here, when a driver is made, and never logged: errors name the file,
 * never its content; on the client the private key and the ssh options are non-enumerable (the ssh
 * transport keeps them in a private field), so pino, JSON.stringify and util.inspect pass over them; and a
 * DEBUG setting that would make docker-modem print its request options is refused by config.ts
 * (targets.ts's `modemDebugRefusal`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { DockerEndpoint } from '../../targets.js';
import { ControlError, clip } from '../errors.js';
import { checkKnownHosts, readKnownHosts } from './knownHosts.js';
import { SshTransport } from './sshTransport.js';

/** A certificate or key file larger than this is refused (real ones are a few KiB). */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;
type SshEndpoint = Extract<DockerEndpoint, { kind: 'ssh' }>;

/** Tried in this order when an ssh:// target names no key file and no agent runs (as ssh does). */
export const DEFAULT_SSH_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class DockerConnectionError extends Error {
  override name = 'DockerConnectionError';
}

/** Reads a small regular file for its bytes; errors name the file and what is wrong, never the content. */
export function readSecretFile(file: string, what: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new DockerConnectionError(`${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!st.isFile()) throw new DockerConnectionError(`${what}: ${file} is not a regular file`);
  if (st.size > MAX_KEY_FILE_BYTES) throw new DockerConnectionError(`${what}: ${file} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new DockerConnectionError(`${what}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export interface ConnectionEnv {
  /** SSH_AUTH_SOCK: the agent an ssh:// target uses when it names no key file. */
  sshAuthSock?: string | undefined;
  /** Where ~/.ssh is. Default os.homedir(). */
  home?: string;
  /** Called when an ssh:// host key is refused, with the reason (never the key). */
  onHostKeyRefused?: (reason: string) => void;
}

/**
 * dockerode options for an endpoint, or undefined for the environment's engine (`new Docker()` reads
 * DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY itself, exactly as before fleets). docker-modem merges
 * the environment's DOCKER_HOST settings UNDER the options given, so every field it could take from
 * there is set here, undefined where it must not apply (a unix target must not inherit a tcp host or a
 * client key from the environment).
 */
export function dockerOptionsFor(endpoint: DockerEndpoint | null, what: string, env: ConnectionEnv = {}): Docker.DockerOptions | undefined {
  if (endpoint === null) return undefined;
  const none = { host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined, username: undefined, sshOptions: undefined } as const;
  switch (endpoint.kind) {
    case 'unix':
      return { ...none, socketPath: endpoint.socketPath };
    case 'tcp': {
      if (endpoint.tls === null) return { ...none, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'http', pathPrefix: '/' } as Docker.DockerOptions;
      const dir = endpoint.tls.certPath;
      const ca = readSecretFile(path.join(dir, 'ca.pem'), `${what} TLS CA`).toString('utf8');
      const cert = readSecretFile(path.join(dir, 'cert.pem'), `${what} TLS client certificate`).toString('utf8');
      const key = readSecretFile(path.join(dir, 'key.pem'), `${what} TLS client key`).toString('utf8');
      return { ...none, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'https', pathPrefix: '/', ca, cert, key } as Docker.DockerOptions;
    }
    case 'ssh': {
      const sshOptions: Record<string, unknown> = {
        // Read on every connection, so a key added to known_hosts applies without a relay restart.
        hostVerifier: (hostKey: Buffer) => {
          let text: string;
          try {
            text = readKnownHosts(endpoint.knownHosts);
          } catch (e) {
            env.onHostKeyRefused?.((e as Error).message);
            return false;
          }
          const v = checkKnownHosts(text, endpoint.host, endpoint.port, hostKey);
          if (!v.ok) env.onHostKeyRefused?.(v.reason);
          return v.ok;
        },
      };
      const key = sshKeyChoice(endpoint, env);
      if (key === null) throw new DockerConnectionError(`${what}: no SSH agent (SSH_AUTH_SOCK is not set) and no key file (${DEFAULT_SSH_KEYS.map((k) => `~/.ssh/${k}`).join(', ')}); set "ssh": { "identityFile": ... } or start ssh-agent`);
      if ('file' in key) sshOptions.privateKey = readSecretFile(key.file, `${what} SSH key`);
      else sshOptions.agent = key.agent;
      return { ...none, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'ssh', username: endpoint.user, sshOptions } as Docker.DockerOptions;
    }
  }
}

/**
 * Which client key an ssh:// target logs in with, as ssh picks it: the named key file, else the agent
 * (SSH_AUTH_SOCK), else the first default key in ~/.ssh; null when there is none. Nothing is read here.
 * `source` names it for errors without the path of a private key (errors reach the status page).
 */
export function sshKeyChoice(endpoint: SshEndpoint, env: ConnectionEnv = {}): { file: string; source: string } | { agent: string; source: string } | null {
  if (endpoint.identityFile !== null) return { file: endpoint.identityFile, source: 'the key of "ssh.identityFile"' };
  if (env.sshAuthSock) return { agent: env.sshAuthSock, source: "the SSH agent's keys (SSH_AUTH_SOCK)" };
  const home = env.home ?? os.homedir();
  const found = DEFAULT_SSH_KEYS.map((k) => path.join(home, '.ssh', k)).find((f) => fs.existsSync(f));
  return found ? { file: found, source: `~/.ssh/${path.basename(found)}` } : null;
}

/**
 * ssh2's own failures say neither where nor why ("Host denied (verification failed)", "All configured
 * authentication methods failed") and carry no errno code, so the driver reported them as a Docker API
 * error (502, counted by the breaker) naming no host; a host where `docker system dial-stdio` cannot run
 * (no docker CLI, no access to the engine, the engine down) read as "socket hang up". Seen against a real
 * sshd (relay/control/dockerSsh.docker.test.ts), each is the engine out of reach until a person fixes
 * known_hosts, authorized_keys or the host, as a refused TLS certificate is: a 'docker-unavailable'
 * ControlError naming the target's URL and what to check (for a host key, known_hosts's verdict and
 * file). null for anything else (a refused TCP connection keeps its code and the driver's wording).
 */
export function sshErrorToControl(err: unknown, endpoint: SshEndpoint, hostKeyRefusal: string | null, keySource: string): ControlError | null {
  const e = err as { level?: unknown; code?: unknown; message?: unknown } | null;
  if (!e) return null;
  const msg = clip(String(e.message ?? ''), 200);
  const where = endpoint.url;
  // Each HTTP connection is an exec channel running dial-stdio (sshTransport.ts): a hang-up is the remote command ending before the engine answered.
  if (e.code === 'ECONNRESET' && msg === 'socket hang up')
    return new ControlError('docker-unavailable', `${where}: logged in, but the connection to the engine closed before it answered: on ${endpoint.host}, \`docker system dial-stdio\` must work for ${endpoint.user} (the docker CLI on the PATH of a non-interactive login, and a running engine ${endpoint.user} may use)`);
  switch (e.level) {
    case 'handshake':
      if (msg.startsWith('Host denied')) return new ControlError('docker-unavailable', `${where}: SSH host key refused: ${hostKeyRefusal ?? 'the host key failed verification'} (known_hosts: ${endpoint.knownHosts})`);
      return new ControlError('docker-unavailable', `${where}: SSH handshake failed: ${msg}`);
    case 'client-authentication':
      return new ControlError('docker-unavailable', `${where}: SSH authentication as ${endpoint.user} failed: the server did not accept ${keySource}; its public key must be in ~${endpoint.user}/.ssh/authorized_keys on ${endpoint.host}`);
    case 'agent':
      return new ControlError('docker-unavailable', `${where}: the SSH agent failed (${msg}); check SSH_AUTH_SOCK or set "ssh": { "identityFile": ... }`);
    case 'client-timeout':
      return new ControlError('docker-unavailable', `${where}: no SSH handshake within the time allowed (${msg})`);
    default:
      return null;
  }
}

/** Makes `prop` of `obj` non-enumerable (still readable by the code that uses it). */
function hide(obj: object, prop: string): void {
  if (!Object.prototype.hasOwnProperty.call(obj, prop)) return;
  const value = (obj as Record<string, unknown>)[prop];
  Object.defineProperty(obj, prop, { value, enumerable: false, writable: true, configurable: true });
}

/** The ssh transport under each ssh:// client createDocker made (closeDocker ends it). */
const transports = new WeakMap<Docker, SshTransport>();

/**
 * A dockerode client for the endpoint (the environment's engine for null) with its secrets hidden from
 * serialisation. An ssh:// client speaks plain http through an agent whose connections are channels of
 * one SSH connection (sshTransport.ts), made on its first request; docker-modem's own ssh transport
 * (`protocol: 'ssh'`) would log in for every request.
 */
export function createDocker(endpoint: DockerEndpoint | null, what: string, env: ConnectionEnv = {}): Docker {
  if (endpoint?.kind !== 'ssh') return hideSecrets(new Docker(dockerOptionsFor(endpoint, what, env)));
  // The verifier's last verdict, for the error ssh2 raises right after it (see sshErrorToControl).
  let refusal: string | null = null;
  const options = dockerOptionsFor(endpoint, what, {
    ...env,
    onHostKeyRefused: (reason) => {
      refusal = reason;
      env.onHostKeyRefused?.(reason);
    },
  }) as Docker.DockerOptions & { sshOptions: Record<string, unknown> };
  const transport = new SshTransport({ ...options.sshOptions, host: endpoint.host, port: endpoint.port, username: endpoint.user });
  // username and sshOptions stay unset: docker-modem only reads them for its own ssh transport. No socket
  // timeout either (DOCKER_CLIENT_TIMEOUT from the environment): the driver aborts its requests itself.
  const docker = hideSecrets(new Docker({ ...options, protocol: 'http', agent: transport.agent, username: undefined, sshOptions: undefined, timeout: undefined } as Docker.DockerOptions));
  transports.set(docker, transport);
  const keySource = sshKeyChoice(endpoint, env)?.source ?? 'no key';
  // Every dockerode call goes through modem.dial with a callback: its ssh2 errors are explained there.
  type Dial = (options: unknown, callback: (err: unknown, data?: unknown) => void) => unknown;
  const modem = (docker as unknown as { modem: { dial: Dial } }).modem;
  const dial = modem.dial.bind(modem);
  Object.defineProperty(modem, 'dial', {
    value: ((options, callback) => dial(options, (err, data) => callback(err ? (sshErrorToControl(err, endpoint, refusal, keySource) ?? err) : err, data))) satisfies Dial,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return docker;
}

/** The ssh transport of a client createDocker made for an ssh:// endpoint; undefined for any other. */
export function sshTransportOf(docker: Docker): SshTransport | undefined {
  return transports.get(docker);
}

/** Ends what a client holds open beyond a request: an ssh:// client's SSH connection. Others hold nothing. */
export async function closeDocker(docker: Docker): Promise<void> {
  await transports.get(docker)?.close();
}

function hideSecrets(docker: Docker): Docker {
  const modem = (docker as unknown as { modem: object }).modem;
  hide(modem, 'key');
  hide(modem, 'sshOptions');
  hide(modem, 'agent');
  return docker;
}

/** A short, secret-free description of an endpoint for logs and status ("tcp://h:2376 (TLS)"). */
export function describeEndpoint(endpoint: DockerEndpoint | null): string {
  if (endpoint === null) return process.env.DOCKER_HOST ? `${process.env.DOCKER_HOST} (DOCKER_HOST)` : 'the local engine';
  if (endpoint.kind === 'tcp') return `${endpoint.url} (${endpoint.tls ? 'TLS' : 'plain, loopback'})`;
  return endpoint.url;
}
