/**
 * A fleet target's Docker engine (relay/targets.ts's DockerEndpoint) -> a dockerode client, the way the
 * docker CLI reaches it with DOCKER_HOST: a unix socket; tcp:// with TLS from a DOCKER_CERT_PATH-style
 * folder (ca.pem, cert.pem, key.pem; the server is always verified against ca.pem and its name, as with
 * DOCKER_TLS_VERIFY=1); ssh://user@host through docker-modem's ssh transport (ssh2 running
 * `docker system dial-stdio` on the host) with the user's agent (SSH_AUTH_SOCK) or a key file, and the
 * host key checked against known_hosts (knownHosts.ts; ssh2 would accept any key otherwise).
 *
 * Key material is read from files here, when a driver is made, and never logged: errors name the file,
 * never its content; on the client the private key and the ssh options are non-enumerable, so pino,
 * JSON.stringify and util.inspect pass over them; and a DEBUG setting that would make docker-modem print
 * its request options (key included) is refused by config.ts (targets.ts's `modemDebugRefusal`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { DockerEndpoint } from '../../targets.js';
import { checkKnownHosts, readKnownHosts } from './knownHosts.js';

/** A certificate or key file larger than this is refused (real ones are a few KiB). */
export const MAX_KEY_FILE_BYTES = 1024 * 1024;
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
      if (endpoint.identityFile !== null) {
        sshOptions.privateKey = readSecretFile(endpoint.identityFile, `${what} SSH key`);
      } else if (env.sshAuthSock) {
        sshOptions.agent = env.sshAuthSock;
      } else {
        const home = env.home ?? os.homedir();
        const found = DEFAULT_SSH_KEYS.map((k) => path.join(home, '.ssh', k)).find((f) => fs.existsSync(f));
        if (!found) throw new DockerConnectionError(`${what}: no SSH agent (SSH_AUTH_SOCK is not set) and no key file (${DEFAULT_SSH_KEYS.map((k) => `~/.ssh/${k}`).join(', ')}); set "ssh": { "identityFile": ... } or start ssh-agent`);
        sshOptions.privateKey = readSecretFile(found, `${what} SSH key`);
      }
      return { ...none, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'ssh', username: endpoint.user, sshOptions } as Docker.DockerOptions;
    }
  }
}

/** Makes `prop` of `obj` non-enumerable (still readable by the code that uses it). */
function hide(obj: object, prop: string): void {
  if (!Object.prototype.hasOwnProperty.call(obj, prop)) return;
  const value = (obj as Record<string, unknown>)[prop];
  Object.defineProperty(obj, prop, { value, enumerable: false, writable: true, configurable: true });
}

/**
 * A dockerode client for the endpoint (the environment's engine for null) with its secrets hidden from
 * serialisation: the modem's private key and ssh options (private key, agent, verifier).
 */
export function createDocker(endpoint: DockerEndpoint | null, what: string, env: ConnectionEnv = {}): Docker {
  const docker = new Docker(dockerOptionsFor(endpoint, what, env));
  const modem = (docker as unknown as { modem: object }).modem;
  hide(modem, 'key');
  hide(modem, 'sshOptions');
  return docker;
}

/** A short, secret-free description of an endpoint for logs and status ("tcp://h:2376 (TLS)"). */
export function describeEndpoint(endpoint: DockerEndpoint | null): string {
  if (endpoint === null) return process.env.DOCKER_HOST ? `${process.env.DOCKER_HOST} (DOCKER_HOST)` : 'the local engine';
  if (endpoint.kind === 'tcp') return `${endpoint.url} (${endpoint.tls ? 'TLS' : 'plain, loopback'})`;
  return endpoint.url;
}
