// The ssh:// transport (sshTransport.ts): one SSH login per target, one exec channel running
// `docker system dial-stdio` per HTTP connection. Against an SSH server in this process (ssh2's own
// Server on 127.0.0.1, public-key login) whose dial-stdio channels are served by a small fake engine
// (node:http on the channel): logins, channels, the bound, reconnects and the idle close are counted on
// the server's side, and the relay's own path (createDocker -> DockerDriver.exec, a hijacked stream) runs
// through it. relay/control/dockerSsh.docker.test.ts proves the same against OpenSSH and dockerd.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import util from 'node:util';
import ssh2 from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerEndpoint } from '../../targets.js';
import { makeTempDir } from '../../../testkit/tempDirs.js';
import { waitUntil } from '../../../testkit/wait.js';
import { ControlError } from '../errors.js';
import { DockerDriver } from './docker.js';
import { createDocker, sshTransportOf } from './dockerConnection.js';
import { DIAL_STDIO, SshConnectionLostError, SshTransport, SshTransportClosedError, type SshTransportLimits } from './sshTransport.js';

/** sshd's default MaxSessions: the server refuses a session past it, as OpenSSH does. */
const MAX_SESSIONS = 10;

/**
 * A fresh ed25519 key pair. ssh2's generator now and then writes a private key its own parser refuses
 * ("Malformed OpenSSH private key": 5 of 2000 here), so one that does not parse is made again.
 */
function newKey(): { private: string; public: string } {
  for (let i = 0; ; i++) {
    const k = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(k.private) instanceof Error) || i >= 20) return k;
  }
}

/** A Docker stream frame (stdout 1, stderr 2): 8-byte header, then the payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/**
 * An SSH host with a Docker engine behind `docker system dial-stdio`: lets in one client key, counts
 * what a test asserts (TCP connections, logins, sessions now and at most), and serves the Engine API
 * calls an exec makes (create, hijacked start, inspect), a ping, and /hold (answered on release()).
 */
class FakeSshHost {
  readonly hostKey = newKey();
  readonly clientKey = newKey();
  connections = 0;
  logins = 0;
  sessionsOpen = 0;
  maxSessionsOpen = 0;
  sessionsTotal = 0;
  readonly held: http.ServerResponse[] = [];
  /** The channel (numbered in the order they were opened, from 1) each request came on. */
  readonly requestChannels: number[] = [];
  private readonly channelIds = new WeakMap<object, number>();
  private readonly live = new Set<ssh2.Connection>();
  private readonly engine = http.createServer((req, res) => this.answer(req, res));
  private readonly server = new ssh2.Server({ hostKeys: [this.hostKey.private] }, (client) => this.accept(client));

  async start(): Promise<number> {
    this.engine.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      if (req.url !== '/exec/e1/start') return socket.destroy();
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      socket.end(Buffer.concat([frame(1, 'over-ssh\n'), frame(2, 'err\n')]));
      // Read to its end, so the channel's close is seen here too (ssh2 emits it after 'end').
      socket.resume();
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Connections the server holds now. */
  get open(): number {
    return this.live.size;
  }

  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostKey.public.split(' ').slice(0, 2).join(' ')}\n`;
  }

  /** Answers every /hold request so far. */
  release(): void {
    for (const res of this.held.splice(0)) res.end('released');
  }

  /** Cuts every connection from the server's side, as a host going away (or a killed sshd child) would. */
  dropAll(): void {
    for (const c of this.live) c.end();
  }

  async close(): Promise<void> {
    this.release();
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(client: ssh2.Connection): void {
    this.connections++;
    this.live.add(client);
    // As our side does (sshTransport.ts): without it each small answer waits for a delayed ACK.
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    const allowed = ssh2.utils.parseKey(this.clientKey.public) as ssh2.ParsedKey;
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject(['publickey']);
      if (ctx.signature && !allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.reject(['publickey']);
      ctx.accept();
    });
    client.on('ready', () => {
      this.logins++;
      let sessions = 0;
      client.on('session', (acceptSession, rejectSession) => {
        if (sessions >= MAX_SESSIONS) return rejectSession();
        sessions++;
        const session = acceptSession();
        session.on('exec', (acceptExec, rejectExec, info) => {
          if (info.command !== DIAL_STDIO) return rejectExec();
          const ch = acceptExec();
          this.channelIds.set(ch, ++this.sessionsTotal);
          this.sessionsOpen++;
          this.maxSessionsOpen = Math.max(this.maxSessionsOpen, this.sessionsOpen);
          ch.once('close', () => {
            sessions--;
            this.sessionsOpen--;
          });
          this.engine.emit('connection', ch);
        });
      });
    });
    client.on('close', () => this.live.delete(client));
    client.on('error', () => undefined);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    this.requestChannels.push(this.channelIds.get(req.socket) ?? 0);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/_ping') return void res.end('OK');
    if (req.url === '/hold') return void this.held.push(res);
    if (req.method === 'POST' && req.url === '/containers/c/exec') return json(201, { Id: 'e1' });
    if (req.url === '/exec/e1/json') return json(200, { ExitCode: 3, Running: false, Pid: 0 });
    json(404, { message: `no route ${req.method} ${req.url}` });
  }
}

const hosts: FakeSshHost[] = [];
const transports: SshTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

async function startHost(): Promise<FakeSshHost> {
  const host = new FakeSshHost();
  hosts.push(host);
  await host.start();
  return host;
}

function transportTo(host: FakeSshHost, limits: SshTransportLimits = {}, privateKey = host.clientKey.private): SshTransport {
  const t = new SshTransport({ host: '127.0.0.1', port: host.port, username: 'me', privateKey }, limits);
  transports.push(t);
  return t;
}

/** A GET through the transport's agent: the body, or the request's error. */
function get(t: SshTransport, p: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: 2222, path: p, agent: t.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as Error & { level?: string; code?: string },
  );

/** The relay's own client for the fake host: createDocker with a key file and a known_hosts naming the host's key. */
function dockerFor(host: FakeSshHost, clientKey = host.clientKey.private, knownHostsText = host.knownHostsLine()) {
  const dir = makeTempDir('hivescope-ssh-transport-');
  const identityFile = path.join(dir, 'id');
  fs.writeFileSync(identityFile, clientKey, { mode: 0o600 });
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHosts, knownHostsText);
  const endpoint: DockerEndpoint = { kind: 'ssh', url: `ssh://me@127.0.0.1:${host.port}`, user: 'me', host: '127.0.0.1', port: host.port, identityFile, knownHosts };
  const docker = createDocker(endpoint, 'target t');
  transports.push(sshTransportOf(docker)!);
  return docker;
}

describe('one SSH login per ssh:// target', () => {
  it('twenty execs through the driver are one login, each with its output, exit code and a hijacked stream', async () => {
    const host = await startHost();
    const docker = dockerFor(host);
    const driver = new DockerDriver('c', docker);
    for (let i = 0; i < 20; i++) expect(await driver.exec(['sh', '-c', 'true'], { timeoutMs: 10_000, maxOutputBytes: 1024 })).toMatchObject({ exitCode: 3, stdout: 'over-ssh\n', stderr: 'err\n' });
    expect(host.connections).toBe(1);
    expect(host.logins).toBe(1);
    expect(sshTransportOf(docker)!.logins).toBe(1);
    // Channels are reused by plain calls: far fewer than the 60 API calls made, and never past the bound.
    expect(host.sessionsTotal).toBeLessThan(60);
    expect(host.maxSessionsOpen).toBeLessThanOrEqual(8);
    process.stdout.write(`[ssh-transport] 20 execs (60 API calls): ${host.logins} login, ${host.sessionsTotal} dial-stdio channels, at most ${host.maxSessionsOpen} open at once\n`);
    // A live connection, its agent and its channels print no key material.
    const body = host.clientKey.private.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const agent = sshTransportOf(docker)!.agent;
    for (const s of [util.inspect(driver, { depth: 30 }), util.inspect(agent, { depth: 30 }), JSON.stringify(Object.values(agent.freeSockets).flat().map((s) => util.inspect(s, { depth: 30 })))]) {
      expect(s).not.toContain(body.slice(0, 40));
      expect(s).not.toContain(body.slice(40, 80));
    }
    await driver.close();
    await waitUntil(() => host.open === 0, 10_000, 20, 'the connection closed by driver.close()');
  });

  it('concurrent first requests wait for the same login', async () => {
    const host = await startHost();
    const t = transportTo(host);
    expect(await Promise.all(Array.from({ length: 6 }, (_, i) => get(t, '/_ping').then((b) => `${i} ${b}`)))).toEqual(Array.from({ length: 6 }, (_, i) => `${i} OK`));
    expect(host.connections).toBe(1);
    expect(host.logins).toBe(1);
  });

  it('opens a spare channel ahead, so a request needing a new connection finds dial-stdio already started', async () => {
    const host = await startHost();
    const t = transportTo(host);
    expect(await get(t, '/_ping')).toBe('OK');
    // The ping's channel, parked for the next request, and a spare opened after it was handed out.
    await waitUntil(() => host.sessionsOpen === 2 && t.channels === 2, 10_000, 20, 'the spare opened');
    const held = [get(t, '/hold'), get(t, '/hold')];
    await waitUntil(() => host.held.length === 2, 10_000, 20, 'both requests held');
    // Both came on channels opened before they were made: the parked one and the spare.
    expect(host.requestChannels.slice(1).sort()).toEqual([1, 2]);
    // Taking the spare opened the next one.
    await waitUntil(() => host.sessionsOpen === 3, 10_000, 20, 'the next spare opened');
    host.release();
    expect(await Promise.all(held)).toEqual(['released', 'released']);
    expect(host.logins).toBe(1);
  });

  it('keeps at most maxChannels channels open; the requests past it wait their turn', async () => {
    const host = await startHost();
    const t = transportTo(host);
    const answers = Array.from({ length: 12 }, () => get(t, '/hold'));
    await waitUntil(() => host.held.length === 8, 10_000, 20, 'eight requests held by the engine');
    expect(host.sessionsOpen).toBe(8);
    expect(t.channels).toBe(8);
    // The four others get theirs as the first ones end.
    let settled = 0;
    for (const a of answers) void a.finally(() => settled++).catch(() => undefined);
    await waitUntil(
      () => {
        host.release();
        return settled === answers.length;
      },
      10_000,
      20,
      'every held request answered',
    );
    expect(await Promise.all(answers)).toEqual(Array(12).fill('released'));
    expect(host.maxSessionsOpen).toBe(8);
    expect(host.logins).toBe(1);
  });

  it('a connection the host cut fails the request on it as the engine out of reach; the next request logs in again', async () => {
    const host = await startHost();
    const t = transportTo(host);
    expect(await get(t, '/_ping')).toBe('OK');
    const held = errorOf(get(t, '/hold'));
    await waitUntil(() => host.held.length === 1, 10_000, 20, 'the request held');
    host.dropAll();
    const err = await held;
    expect(err).toBeInstanceOf(SshConnectionLostError);
    expect(err).toMatchObject({ code: 'ECONNRESET', message: `the SSH connection to 127.0.0.1:${host.port} was lost` });
    await waitUntil(() => !t.connected, 10_000, 20, 'the transport saw the loss');
    expect(await get(t, '/_ping')).toBe('OK');
    expect(host.logins).toBe(2);
    expect(t.logins).toBe(2);
  });

  it('a refused login fails every request that waited for it, with ssh2`s level, and the next request tries again', async () => {
    const host = await startHost();
    const stranger = newKey();
    const t = transportTo(host, {}, stranger.private);
    const errs = await Promise.all(Array.from({ length: 3 }, () => errorOf(get(t, '/_ping'))));
    for (const e of errs) expect(e).toMatchObject({ level: 'client-authentication' });
    expect(host.connections).toBe(1);
    expect(host.logins).toBe(0);
    expect(t.connected).toBe(false);
    expect(await errorOf(get(t, '/_ping'))).toMatchObject({ level: 'client-authentication' });
    expect(host.connections).toBe(2);
  });

  it('through the driver, a refused key or an unknown host keeps its ControlError wording', async () => {
    const host = await startHost();
    const stranger = newKey();
    const refused = new DockerDriver('c', dockerFor(host, stranger.private));
    const err = await errorOf(refused.exec(['true'], { timeoutMs: 10_000, maxOutputBytes: 1024 }));
    expect(err).toBeInstanceOf(ControlError);
    expect(err).toMatchObject({ kind: 'docker-unavailable', message: `ssh://me@127.0.0.1:${host.port}: SSH authentication as me failed: the server did not accept the key of "ssh.identityFile"; its public key must be in ~me/.ssh/authorized_keys on 127.0.0.1` });
    await refused.close();
    const forged = new DockerDriver('c', dockerFor(host, host.clientKey.private, ''));
    expect(await errorOf(forged.exec(['true'], { timeoutMs: 10_000, maxOutputBytes: 1024 }))).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`SSH host key refused: 127.0.0.1:${host.port} is not in known_hosts`) });
    await forged.close();
    expect(host.logins).toBe(0);
  });

  it('closes a connection nobody used for idleMs; the next request logs in again', async () => {
    const host = await startHost();
    const t = transportTo(host, { idleMs: 150 });
    expect(await get(t, '/_ping')).toBe('OK');
    await waitUntil(() => !t.connected && host.open === 0, 10_000, 20, 'the idle connection closed');
    expect(t.channels).toBe(0);
    expect(await get(t, '/_ping')).toBe('OK');
    expect(host.logins).toBe(2);
  });

  it('a channel in use keeps the connection past idleMs', async () => {
    const host = await startHost();
    const t = transportTo(host, { idleMs: 100 });
    const held = get(t, '/hold');
    await waitUntil(() => host.held.length === 1, 10_000, 20, 'the request held');
    await new Promise((r) => setTimeout(r, 600));
    expect(t.connected).toBe(true);
    host.release();
    expect(await held).toBe('released');
    expect(host.logins).toBe(1);
    await waitUntil(() => !t.connected, 10_000, 20, 'closed once idle');
  });

  it('close() ends the connection and its channels; later requests fail and nothing reconnects', async () => {
    const host = await startHost();
    const t = transportTo(host);
    expect(await get(t, '/_ping')).toBe('OK');
    const held = errorOf(get(t, '/hold'));
    await waitUntil(() => host.held.length === 1, 10_000, 20, 'the request held');
    await t.close();
    expect(await held).toBeInstanceOf(SshTransportClosedError);
    await waitUntil(() => host.open === 0 && host.sessionsOpen === 0, 10_000, 20, 'the server saw the connection end');
    expect(await errorOf(get(t, '/_ping'))).toBeInstanceOf(SshTransportClosedError);
    expect(host.connections).toBe(1);
  });
});
