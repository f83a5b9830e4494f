// A fleet target's engine -> dockerode client (issue 14): unix, tcp with TLS from a DOCKER_CERT_PATH-style
// folder, ssh with agent or key file. Key material is read from files and never reaches a log: not through
// pino, JSON or util.inspect of the client or the driver holding it, and not in an error message.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import util from 'node:util';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerEndpoint } from '../../targets.js';
import { makeTempDir } from '../../../testkit/tempDirs.js';
import { DockerDriver, dockerErrorToControl } from './docker.js';
import { DockerConnectionError, createDocker, dockerOptionsFor, sshErrorToControl, sshTransportOf } from './dockerConnection.js';

const SECRET = 'KEYMATERIAL-d41d8cd98f00b204e9800998ecf8427e';
const PEM = (label: string, body: string) => `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;

function certDir(): string {
  const dir = makeTempDir('hivescope-certs-');
  fs.writeFileSync(path.join(dir, 'ca.pem'), PEM('CERTIFICATE', 'ca'));
  fs.writeFileSync(path.join(dir, 'cert.pem'), PEM('CERTIFICATE', 'client'));
  fs.writeFileSync(path.join(dir, 'key.pem'), PEM('PRIVATE KEY', SECRET), { mode: 0o600 });
  return dir;
}
const tcp = (certPath: string): DockerEndpoint => ({ kind: 'tcp', url: 'tcp://127.0.0.1:2376', host: '127.0.0.1', port: 2376, tls: { certPath } });
const ssh = (identityFile: string | null): DockerEndpoint => ({ kind: 'ssh', url: 'ssh://me@gpu.lan', user: 'me', host: 'gpu.lan', port: 22, identityFile, knownHosts: '/nonexistent/known_hosts' });
type Modem = { socketPath?: unknown; host?: string; port?: number; protocol?: string; key?: string; ca?: string; cert?: string; username?: string; sshOptions?: Record<string, unknown> };
const modemOf = (d: unknown) => (d as { modem: Modem }).modem;
const sshOptionsOf = (d: Docker) => sshTransportOf(d)!.connectConfig as Record<string, unknown>;

const savedEnv = { ...process.env };
afterEach(() => {
  for (const k of ['DOCKER_HOST', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

describe('docker connection options per target', () => {
  it('the environment engine stays dockerode`s own default (no options at all)', () => {
    expect(dockerOptionsFor(null, 't')).toBeUndefined();
  });

  it('a unix target ignores a tcp DOCKER_HOST and its client key in the environment', () => {
    const dir = certDir();
    process.env.DOCKER_HOST = 'tcp://10.9.9.9:2376';
    process.env.DOCKER_CERT_PATH = dir;
    const m = modemOf(createDocker({ kind: 'unix', url: 'unix:///run/x.sock', socketPath: '/run/x.sock' }, 't'));
    expect(m.socketPath).toBe('/run/x.sock');
    expect(m.host).toBeUndefined();
    expect(m.key).toBeUndefined();
    expect(m.protocol).toBe('http');
  });

  it('a tcp target speaks https with ca, cert and key read from its folder', () => {
    const dir = certDir();
    const m = modemOf(createDocker(tcp(dir), 't'));
    expect(m).toMatchObject({ host: '127.0.0.1', port: 2376, protocol: 'https' });
    expect(m.ca).toBe(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8'));
    expect(m.cert).toBe(fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'));
    expect(m.key).toBe(fs.readFileSync(path.join(dir, 'key.pem'), 'utf8')); // still there for docker-modem to use
  });

  it('plain tcp (loopback, asked for) is http without certificates', () => {
    const m = modemOf(createDocker({ kind: 'tcp', url: 'tcp://127.0.0.1:2375', host: '127.0.0.1', port: 2375, tls: null }, 't'));
    expect(m).toMatchObject({ host: '127.0.0.1', port: 2375, protocol: 'http' });
    expect(m.key).toBeUndefined();
  });

  it('names the missing or unreadable file and never prints file content', () => {
    const dir = certDir();
    fs.rmSync(path.join(dir, 'key.pem'));
    expect(() => dockerOptionsFor(tcp(dir), 'target gpu')).toThrow(new RegExp(`target gpu TLS client key: cannot read ${dir}/key\\.pem \\(ENOENT\\)`));
    fs.mkdirSync(path.join(dir, 'key.pem'));
    expect(() => dockerOptionsFor(tcp(dir), 'target gpu')).toThrow(/key\.pem is not a regular file/);
    const big = certDir();
    fs.writeFileSync(path.join(big, 'ca.pem'), Buffer.alloc(1024 * 1024 + 1, 'A'));
    expect(() => dockerOptionsFor(tcp(big), 't')).toThrow(/ca\.pem is larger than/);
    // A folder that is not a cert folder: the error is about the file, whatever it holds.
    const wrong = certDir();
    fs.writeFileSync(path.join(wrong, 'cert.pem'), SECRET);
    fs.rmSync(path.join(wrong, 'key.pem'));
    try {
      dockerOptionsFor(tcp(wrong), 't');
    } catch (e) {
      expect(e).toBeInstanceOf(DockerConnectionError);
      expect((e as Error).message).not.toContain(SECRET);
    }
  });

  it('ssh uses the named key file, else the agent, else the first default key; none is a clear error', () => {
    const home = makeTempDir('hivescope-home-');
    const keyFile = path.join(home, 'hive-key');
    fs.writeFileSync(keyFile, PEM('OPENSSH PRIVATE KEY', SECRET));
    // The modem speaks plain http through the target's ssh transport (one login for all its requests).
    const docker = createDocker(ssh(keyFile), 't', { sshAuthSock: '/tmp/agent.sock', home });
    expect(modemOf(docker)).toMatchObject({ host: 'gpu.lan', port: 22, protocol: 'http', agent: sshTransportOf(docker)!.agent });
    let o = sshOptionsOf(docker);
    expect(o).toMatchObject({ host: 'gpu.lan', port: 22, username: 'me' });
    expect(Buffer.isBuffer(o.privateKey)).toBe(true);
    expect(o.agent).toBeUndefined();
    o = sshOptionsOf(createDocker(ssh(null), 't', { sshAuthSock: '/tmp/agent.sock', home }));
    expect(o.agent).toBe('/tmp/agent.sock');
    expect(o.privateKey).toBeUndefined();
    expect(() => createDocker(ssh(null), 'target lap', { home })).toThrow(/target lap: no SSH agent \(SSH_AUTH_SOCK is not set\) and no key file/);
    fs.mkdirSync(path.join(home, '.ssh'));
    fs.writeFileSync(path.join(home, '.ssh', 'id_rsa'), 'rsa');
    fs.writeFileSync(path.join(home, '.ssh', 'id_ecdsa'), 'ecdsa');
    o = sshOptionsOf(createDocker(ssh(null), 't', { home }));
    expect(String(o.privateKey)).toBe('ecdsa');
  });

  it('ssh refuses a host key not in known_hosts and says why', () => {
    const home = makeTempDir('hivescope-home-');
    const kh = path.join(home, 'known_hosts');
    const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIHTHMaKWXQD9GMAd7ZPDWhRcpaFOWq7IvbDLn6eR38Rt', 'base64');
    fs.writeFileSync(kh, `gpu.lan ssh-ed25519 ${key.toString('base64')}\n`);
    const reasons: string[] = [];
    const opts = dockerOptionsFor({ ...ssh(null), knownHosts: kh } as DockerEndpoint, 't', { sshAuthSock: '/a', onHostKeyRefused: (r) => reasons.push(r) }) as { sshOptions: { hostVerifier: (k: Buffer) => boolean } };
    expect(opts.sshOptions.hostVerifier(key)).toBe(true);
    expect(opts.sshOptions.hostVerifier(Buffer.from('other'))).toBe(false);
    expect(reasons).toEqual([expect.stringMatching(/does NOT match known_hosts/)]);
    // Read per connection: a key added later is accepted without a restart.
    fs.writeFileSync(kh, '');
    expect(opts.sshOptions.hostVerifier(key)).toBe(false);
  });
});

describe('key material is never logged', () => {
  const collect = () => {
    let out = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    return { logger: pino({ level: 'trace' }, stream), text: () => out };
  };
  // The key as text, base64 (inside a PEM), hex and bytes (util.inspect of a Buffer) or a JSON byte array.
  const bytes = Buffer.from(SECRET);
  const forms = [SECRET, bytes.toString('base64').slice(0, 24), bytes.toString('hex').slice(0, 24), [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' '), `[${[...bytes.subarray(0, 8)].join(',')}`];
  const leaks = (s: string) => forms.some((f) => s.includes(f));

  it('not through pino, JSON or util.inspect of the client or its driver (TLS)', () => {
    const docker = createDocker(tcp(certDir()), 't');
    const driver = new DockerDriver('c', docker);
    const { logger, text } = collect();
    logger.info({ docker }, 'client');
    logger.info({ driver }, 'driver');
    logger.info({ modem: modemOf(docker) }, 'modem');
    expect(text()).toContain('"msg":"driver"');
    expect(text()).toContain('127.0.0.1'); // the log did serialise the client
    for (const s of [text(), JSON.stringify(docker), JSON.stringify(driver), util.inspect(docker, { depth: 20 }), util.inspect(driver, { depth: 20 })]) expect(leaks(s)).toBe(false);
  });

  it('not through pino, JSON or util.inspect of the client (ssh key file)', () => {
    const home = makeTempDir('hivescope-home-');
    const keyFile = path.join(home, 'k');
    fs.writeFileSync(keyFile, SECRET);
    const docker = createDocker(ssh(keyFile), 't', { home });
    const transport = sshTransportOf(docker)!;
    const { logger, text } = collect();
    logger.info({ docker }, 'client');
    logger.info({ transport, agent: transport.agent }, 'transport');
    expect(text()).toContain('gpu.lan');
    expect(text()).toContain('"msg":"transport"');
    for (const s of [text(), JSON.stringify(docker), util.inspect(docker, { depth: 20 }), util.inspect(transport, { depth: 20, showHidden: true }), JSON.stringify(transport)]) expect(leaks(s)).toBe(false);
  });
});

describe('a TLS failure with an engine', () => {
  it('is Docker unavailable, naming the certificates, whichever side refused', () => {
    for (const code of ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED']) {
      const e = dockerErrorToControl(Object.assign(new Error('openssl says no'), { code }), 'c');
      expect(e, code).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`TLS with the Docker engine failed (${code}): check the target's certificates`) });
    }
    expect(dockerErrorToControl(Object.assign(new Error('x'), { code: 'ERR_SOMETHING' }), 'c').kind).toBe('command-failed');
  });
});

describe('an ssh failure with an engine', () => {
  const ep = { ...ssh('/k'), url: 'ssh://me@gpu.lan:2222', port: 2222 } as Extract<DockerEndpoint, { kind: 'ssh' }>;
  const ssh2Error = (message: string, level: string) => Object.assign(new Error(message), { level });

  it("is Docker unavailable, naming the target's URL and what to fix; the driver keeps it as is", () => {
    const hostKey = sshErrorToControl(ssh2Error('Host denied (verification failed)', 'handshake'), { ...ep, knownHosts: '/h/known_hosts' }, 'the host key of gpu.lan:2222 does NOT match known_hosts', 'k');
    expect(hostKey).toMatchObject({ kind: 'docker-unavailable', message: 'ssh://me@gpu.lan:2222: SSH host key refused: the host key of gpu.lan:2222 does NOT match known_hosts (known_hosts: /h/known_hosts)' });
    expect(dockerErrorToControl(hostKey, 'c')).toBe(hostKey);
    expect(sshErrorToControl(ssh2Error('All configured authentication methods failed', 'client-authentication'), ep, null, 'the key of "ssh.identityFile"')).toMatchObject({
      kind: 'docker-unavailable',
      message: 'ssh://me@gpu.lan:2222: SSH authentication as me failed: the server did not accept the key of "ssh.identityFile"; its public key must be in ~me/.ssh/authorized_keys on gpu.lan',
    });
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(sshErrorToControl(hangUp, ep, null, 'k')?.message).toMatch(/^ssh:\/\/me@gpu\.lan:2222: logged in, but .*`docker system dial-stdio` must work for me/);
    for (const level of ['agent', 'client-timeout']) expect(sshErrorToControl(ssh2Error('x', level), ep, null, 'k')?.kind, level).toBe('docker-unavailable');
  });

  it('leaves other errors to the driver (a refused TCP connection keeps its code)', () => {
    expect(sshErrorToControl(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:22'), { code: 'ECONNREFUSED', level: 'client-socket' }), ep, null, 'k')).toBeNull();
    expect(sshErrorToControl(Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404 }), ep, null, 'k')).toBeNull();
    expect(sshErrorToControl(null, ep, null, 'k')).toBeNull();
  });
});
