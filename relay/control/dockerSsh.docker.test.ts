// A fleet target on a Docker engine reached over ssh:// (issue 14), against a real OpenSSH server: the
// test's own sshd on 127.0.0.1 (testkit/sshd.ts) with a host key and a client key made here by
// ssh-keygen. The relay's own path end to end: HIVE_TARGETS parsed by loadConfig -> chooseDriver ->
// dockerode through our ssh transport (drivers/sshTransport.ts: one SSH login per target, each HTTP
// connection a channel running `docker system dial-stdio` on the "remote": this machine, so the engine
// behind sshd is the machine's dockerd), the host key checked against the target's known_hosts. Proved:
// the engine answers and execs in a kit container; twenty execs are one login, concurrent first calls
// share it, a connection sshd lost is replaced on the next call, closing the driver ends it; a whole
// relay with one local and one ssh target lands a spawn on the ssh one. Refused: a host key other than known_hosts
// lists (before any login: no engine call), a host missing from known_hosts, and a client key sshd does
// not accept; each error names the target's host, and the relay serves its other targets meanwhile.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startRelay, type RelayHandle } from '../app.js';
import { resolveMcpEndpoint, type DockerEndpoint } from '../targets.js';
import { InitializeSwarmResponseSchema } from '../../shared/api.js';
import { chooseDriver } from './chooseDriver.js';
import { DockerDriver } from './drivers/docker.js';
import { createDocker, sshTransportOf } from './drivers/dockerConnection.js';
import { ControlError } from './errors.js';
import { relayApi } from '../../testkit/relayApi.js';
import { SESSION_MANAGER_PATH } from './backends/sessionManager.js';
import { dockerCli, uniqueName } from '../../testkit/docker.js';
import { dockerAvailable } from '../../testkit/kitContainer.js';
import { ensureImage, kitModule } from '../../testkit/kitImage.js';
import { mcpAnswers } from '../../testkit/mcpProbe.js';
import { portAccepts, reservePort, type PortLease } from '../../testkit/ports.js';
import { LoopbackSshd, makeSshKey, sshdUnavailableReason, type SshKey } from '../../testkit/sshd.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { waitUntil } from '../../testkit/wait.js';

const skipReason = !dockerAvailable() ? 'Docker is not available' : sshdUnavailableReason();
if (skipReason) console.warn(`dockerSsh.docker.test.ts skipped: ${skipReason}`);

const o = { timeoutMs: 15_000, maxOutputBytes: 1024 * 1024 };

/** A pino logger into a bounded list of parsed lines: what the relay logged about its targets. */
function collectingLogger(max = 2000) {
  const lines: { level: number; target?: string; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        try {
          if (lines.length < max) lines.push(JSON.parse(l) as (typeof lines)[number]);
        } catch {
          /* not a log line */
        }
      }
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe.skipIf(skipReason !== null)(`a target on a Docker engine over ssh://, through a real sshd${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const sshd = new LoopbackSshd((m) => process.stdout.write(`[ssh-engine] ${m}\n`));
  const keysDir = makeTempDir('hivescope-ssh-keys-');
  const sshName = uniqueName('hive-ssh');
  const localName = uniqueName('hive-ssh-local');
  const mcpPorts: PortLease[] = [];
  let client: SshKey;
  let stranger: SshKey;
  let noDocker: SshKey;
  let impostor: SshKey;
  let knownHosts: string;
  let image = '';
  let endpoint: Extract<DockerEndpoint, { kind: 'ssh' }>;
  let driver: DockerDriver;
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    [client, stranger, impostor, noDocker] = [await makeSshKey(keysDir, 'client'), await makeSshKey(keysDir, 'stranger'), await makeSshKey(keysDir, 'impostor_host'), await makeSshKey(keysDir, 'nodocker')];
    // A login with this key gets what a host without the docker CLI answers to `docker system dial-stdio`.
    await sshd.start([client, { key: noDocker, options: `command="echo 'sh: 1: docker: not found' >&2; exit 127"` }]);
    knownHosts = path.join(keysDir, 'known_hosts');
    fs.writeFileSync(knownHosts, sshd.knownHostsLine('127.0.0.1'));

    await ensureImage();
    image = (await kitModule()).IMAGE;
    // Two kit containers on the machine's engine, each on its own MCP port; speed 10: agents appear within a second or two of a spawn.
    for (const name of [sshName, localName]) {
      const mcp = await reservePort();
      mcpPorts.push(mcp);
      const run = await dockerCli(['run', '-d', '--name', name, '--network', 'host', '-e', `MCP_TCP_PORT=${mcp.port}`, '-e', 'HIVE_SIM_SPEED=10', image]);
      if (run.code !== 0) throw new Error(`docker run ${name} failed: ${run.stderr}`);
    }
    config = loadConfig(
      {
        HIVE_TARGETS: JSON.stringify([{ name: 'remote', docker: `ssh://root@127.0.0.1:${sshd.port}`, container: sshName, ssh: { identityFile: client.file, knownHosts } }]),
        HIVE_DRIVER: 'docker',
        HIVE_STATE_DIR: makeTempDir('hivescope-ssh-state-'),
        LOG_LEVEL: 'silent',
      },
      process.cwd(),
    );
    endpoint = config.targets[0]!.docker as typeof endpoint;
    driver = (await chooseDriver(config, pino({ level: 'silent' }))) as DockerDriver;
  }, 240_000);

  afterAll(async () => {
    await driver?.close();
    await dockerCli(['rm', '-f', '-v', sshName, localName]);
    for (const p of mcpPorts) p.release();
    await sshd.close();
  }, 120_000);

  /** The logins sshd let in since `n` (an index into accepted()). */
  const loginsSince = (n: number) => sshd.accepted().slice(n);

  it('the engine answers through sshd with our key, and execs in the target container', async () => {
    expect(endpoint).toMatchObject({ kind: 'ssh', user: 'root', host: '127.0.0.1', port: sshd.port, identityFile: client.file, knownHosts });
    expect(driver).toBeInstanceOf(DockerDriver);
    const before = sshd.accepted().length;
    expect(String(await driver.docker.ping())).toBe('OK');
    // The engine behind sshd is the machine's (dial-stdio runs there): the same version the CLI reports.
    const cliVersion = (await dockerCli(['version', '--format', '{{.Server.Version}}'])).stdout.trim();
    expect((await driver.docker.version()).Version).toBe(cliVersion);
    expect(await driver.inspectState()).toMatchObject({ exists: true, running: true });
    const r = await driver.exec(['sh', '-c', 'echo over-ssh; echo err >&2; exit 3'], o);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'over-ssh\n', stderr: 'err\n' });
    // All those calls were one login by sshd, with the target's key.
    const logins = loginsSince(before);
    expect(logins, sshd.logTail()).toEqual([{ user: 'root', fingerprint: client.fingerprint }]);
    // What an exec costs over ssh, beside the same exec on the unix socket, interleaved (printed, not
    // asserted: the machine's load varies). Back to back, each exec's new connection (its stream is
    // hijacked) may wait for a spare dial-stdio still starting; the relay's polls, a second or so apart, do not.
    const local = new DockerDriver(localName);
    const ssh: number[] = [];
    const unix: number[] = [];
    const n0 = sshd.accepted().length;
    for (let i = 0; i < 20; i++) {
      for (const [d, ms] of [[driver, ssh], [local, unix]] as const) {
        const t = performance.now();
        await d.exec(['true'], o);
        ms.push(performance.now() - t);
      }
    }
    const median = (ms: number[]) => Math.round([...ms].sort((a, b) => a - b)[10]!);
    process.stdout.write(`[ssh-engine] exec of \`true\`, median of 20: ${median(ssh)} ms over ssh (${sshd.accepted().length - n0} more sshd logins), ${median(unix)} ms on the unix socket\n`);
    await local.close();
  });

  /** A driver of its own for the ssh target (its own transport, so its logins are its own). */
  const freshDriver = () => new DockerDriver(sshName, createDocker(endpoint, 'target fresh'));

  it('twenty successive execs through the ssh target are one SSH login', async () => {
    const d = freshDriver();
    const before = sshd.accepted().length;
    for (let i = 0; i < 20; i++) expect(await d.exec(['sh', '-c', `echo run-${i}`], o)).toMatchObject({ exitCode: 0, stdout: `run-${i}\n` });
    expect(loginsSince(before), sshd.logTail()).toEqual([{ user: 'root', fingerprint: client.fingerprint }]);
    expect(sshTransportOf(d.docker)!.logins).toBe(1);
    await d.close();
  });

  it('concurrent first calls share one login', async () => {
    const d = freshDriver();
    const before = sshd.accepted().length;
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => d.exec(['sh', '-c', `echo at-once-${i}`], o)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 6 }, (_, i) => `at-once-${i}\n`));
    expect(loginsSince(before), sshd.logTail()).toHaveLength(1);
    await d.close();
  });

  it('a connection sshd lost is replaced on the next call, with one new login; closing the driver ends it', async () => {
    const d = freshDriver();
    const transport = sshTransportOf(d.docker)!;
    const others = new Set(sshd.connectionPids());
    const before = sshd.accepted().length;
    expect(await d.exec(['echo', 'first'], o)).toMatchObject({ exitCode: 0, stdout: 'first\n' });
    const ours = sshd.connectionPids().filter((p) => !others.has(p));
    expect(ours).toHaveLength(1);
    // The process sshd forked for this connection, and everything under it, killed: the host "went away".
    await sshd.killConnection(ours[0]!);
    await waitUntil(() => !transport.connected, 10_000, 20, 'the transport saw its connection end');
    expect(await d.exec(['echo', 'again'], o)).toMatchObject({ exitCode: 0, stdout: 'again\n' });
    expect(loginsSince(before), sshd.logTail()).toHaveLength(2);
    const replaced = sshd.connectionPids().filter((p) => !others.has(p));
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).not.toBe(ours[0]);
    // close() leaves no connection, and so no sshd child or dial-stdio, behind.
    await d.close();
    await waitUntil(() => !sshd.connectionPids().includes(replaced[0]!), 10_000, 20, "sshd's process for the closed connection gone");
    expect(transport.connected).toBe(false);
  });

  it("finds the target's MCP port in the container's environment over ssh, and the engine answers there", async () => {
    const env = await driver.containerEnv();
    expect(env).toContain(`MCP_TCP_PORT=${mcpPorts[0]!.port}`);
    const ep = resolveMcpEndpoint(config.targets[0]!, env);
    expect(ep).toEqual({ host: '127.0.0.1', port: mcpPorts[0]!.port });
    await waitUntil(() => mcpAnswers(ep.host, ep.port), 30_000, 200, 'the ssh target container MCP');
  });

  /** Runs `touch marker` through a driver for `ep`; returns the error and whether the marker appeared. */
  const attempt = async (ep: DockerEndpoint, what: string, refusals: string[] = []) => {
    const marker = `/tmp/hive-ssh-${what}-${Date.now()}`;
    const d = new DockerDriver(sshName, createDocker(ep, `target ${what}`, { onHostKeyRefused: (r) => refusals.push(r) }));
    const before = sshd.accepted().length;
    const err = await d.exec(['touch', marker], o).then(
      () => null,
      (e: unknown) => e as Error,
    );
    await d.close();
    const touched = (await dockerCli(['exec', sshName, 'test', '-e', marker])).code === 0;
    return { err, touched, logins: loginsSince(before) };
  };

  it('refuses an engine whose host key is not the one known_hosts lists, before logging in: no engine call is made', async () => {
    const forgedKh = path.join(keysDir, 'known_hosts.forged');
    // known_hosts says 127.0.0.1 on this port has another key: the server we reach is "someone in between".
    fs.writeFileSync(forgedKh, sshd.knownHostsLine('127.0.0.1', impostor));
    const refusals: string[] = [];
    const r = await attempt({ ...endpoint, knownHosts: forgedKh }, 'forged', refusals);
    expect(r.err).toBeInstanceOf(ControlError);
    expect(r.err).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`ssh://root@127.0.0.1:${sshd.port}`) });
    expect(r.err!.message).toContain(`the host key of 127.0.0.1:${sshd.port} does NOT match known_hosts`);
    expect(r.err!.message).toContain(forgedKh);
    process.stdout.write(`[ssh-engine] forged host key: ${r.err!.message}\n`);
    expect(refusals[0]).toMatch(/does NOT match known_hosts/);
    // Nothing got in, and nothing ran in the container.
    expect(r.logins).toEqual([]);
    expect(r.touched).toBe(false);
  });

  it('refuses a host missing from known_hosts, saying how to add it', async () => {
    const emptyKh = path.join(keysDir, 'known_hosts.empty');
    fs.writeFileSync(emptyKh, '');
    const r = await attempt({ ...endpoint, knownHosts: emptyKh }, 'unknown');
    expect(r.err).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`127.0.0.1:${sshd.port} is not in known_hosts; connect once with ssh -p ${sshd.port}`) });
    process.stdout.write(`[ssh-engine] unknown host: ${r.err!.message}\n`);
    expect(r.logins).toEqual([]);
    expect(r.touched).toBe(false);
  });

  it('is refused with a client key sshd does not accept, with an authentication error naming user and host', async () => {
    const r = await attempt({ ...endpoint, identityFile: stranger.file }, 'stranger');
    expect(r.err).toBeInstanceOf(ControlError);
    expect(r.err).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`ssh://root@127.0.0.1:${sshd.port}`) });
    expect(r.err!.message).toMatch(/authentication as root failed/);
    // The key path is the user's to know; the message says which setting held it, never its content.
    expect(r.err!.message).not.toContain(fs.readFileSync(stranger.file, 'utf8').split('\n')[1]!);
    process.stdout.write(`[ssh-engine] unaccepted client key: ${r.err!.message}\n`);
    expect(r.logins).toEqual([]);
    expect(r.touched).toBe(false);
  });

  it('says what to check when the login works but the host runs no `docker system dial-stdio`', async () => {
    const r = await attempt({ ...endpoint, identityFile: noDocker.file }, 'nodocker');
    expect(r.logins.map((l) => l.fingerprint)).toContain(noDocker.fingerprint);
    process.stdout.write(`[ssh-engine] no docker on the host: ${r.err?.message}\n`);
    expect(r.err).toMatchObject({ kind: 'docker-unavailable', message: expect.stringContaining(`ssh://root@127.0.0.1:${sshd.port}`) });
    expect(r.err!.message).toContain('docker system dial-stdio');
    expect(r.touched).toBe(false);
  });

  describe('a whole relay: one local target, one ssh:// target, and two ssh:// targets it must refuse', () => {
    let relay: RelayHandle;
    const { logger, lines } = collectingLogger();
    const { spawn, target } = relayApi(() => relay.url);
    const uuidsIn = async (name: string) => (await dockerCli(['exec', name, SESSION_MANAGER_PATH, 'list'])).stdout;

    beforeAll(async () => {
      await waitUntil(async () => (await portAccepts(mcpPorts[0]!.port)) && (await portAccepts(mcpPorts[1]!.port)), 60_000, 100, 'both kit engines');
      // 127.0.0.2 is the same sshd on another loopback address: known_hosts lists a different key for it.
      const forgedKh = path.join(keysDir, 'known_hosts.relay');
      fs.writeFileSync(forgedKh, `${sshd.knownHostsLine('127.0.0.1')}${sshd.knownHostsLine('127.0.0.2', impostor)}`);
      const cfg = loadConfig({
        PORT: '0',
        HIVE_DRIVER: 'docker',
        HIVE_TARGETS: JSON.stringify([
          { name: 'local', container: localName },
          { name: 'remote', docker: `ssh://root@127.0.0.1:${sshd.port}`, container: sshName, ssh: { identityFile: client.file, knownHosts } },
          // Either would drive a running kit container if ssh let it through.
          { name: 'forged', docker: `ssh://root@127.0.0.2:${sshd.port}`, container: sshName, ssh: { identityFile: client.file, knownHosts: forgedKh } },
          { name: 'intruder', docker: `ssh://root@127.0.0.1:${sshd.port}`, container: localName, ssh: { identityFile: stranger.file, knownHosts } },
        ]),
        HIVE_STATE_DIR: makeTempDir('hivescope-ssh-relay-'),
        HIVE_DEMO: '0',
        LOG_LEVEL: 'info',
      });
      relayStarted = performance.now();
      loginsAtStart = sshd.accepted().length;
      relay = await startRelay(cfg, logger);
      await waitUntil(async () => (await target('local'))?.status === 'healthy' && (await target('remote'))?.status === 'healthy', 60_000, 200, 'local and remote healthy');
    }, 120_000);

    let relayStarted = 0;
    let loginsAtStart = 0;

    afterAll(async () => {
      if (relay) process.stdout.write(`[ssh-engine] relay: ${sshd.accepted().length - loginsAtStart} sshd logins in ${((performance.now() - relayStarted) / 1000).toFixed(1)} s (the healthy ssh target's Docker calls, spawns included; the refused ones never log in)\n`);
      await relay?.close();
    }, 60_000);

    it('reports the ssh target healthy with its engine URL, MCP from the container, and no key path', async () => {
      const remote = (await target('remote'))!;
      expect(remote).toMatchObject({ source: 'config', lifecycle: 'running', container: sshName, docker: `ssh://root@127.0.0.1:${sshd.port}`, telemetry: { state: 'connected', port: mcpPorts[0]!.port } });
      expect(JSON.stringify(remote)).not.toContain(client.file);
    });

    it('a spawn aimed at the ssh target lands in its container, one aimed at the local target in the other', async () => {
      const onSsh = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'ssh: on the engine behind sshd', target: 'remote' })).body);
      const onLocal = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'ssh: on the local engine', target: 'local' })).body);
      expect([onSsh.target, onLocal.target]).toEqual(['remote', 'local']);
      expect(await uuidsIn(sshName)).toContain(onSsh.uuid);
      expect(await uuidsIn(sshName)).not.toContain(onLocal.uuid);
      expect(await uuidsIn(localName)).toContain(onLocal.uuid);
      expect(await uuidsIn(localName)).not.toContain(onSsh.uuid);
      // The remote target reaches its engine through sshd, logged in with its key: no new login need come
      // for this spawn (the relay keeps its connection), so any login of this relay's counts.
      expect(sshd.accepted().some((l) => l.fingerprint === client.fingerprint), sshd.logTail()).toBe(true);
    });

    it('the refused targets are unavailable, each saying why and naming its host; the relay and its other targets go on', async () => {
      await waitUntil(async () => Boolean((await target('forged'))?.control.lastError) && Boolean((await target('intruder'))?.control.lastError), 30_000, 200, 'both refusals recorded');
      const [forged, intruder] = [(await target('forged'))!, (await target('intruder'))!];
      process.stdout.write(`[ssh-engine] relay, forged: ${forged.control.lastError}\n[ssh-engine] relay, intruder: ${intruder.control.lastError}\n`);
      expect(forged).toMatchObject({ status: 'unavailable', lifecycle: 'starting', docker: `ssh://root@127.0.0.2:${sshd.port}` });
      expect(forged.control.lastError).toContain(`the host key of 127.0.0.2:${sshd.port} does NOT match known_hosts`);
      expect(intruder).toMatchObject({ status: 'unavailable', lifecycle: 'starting' });
      expect(intruder.control.lastError).toMatch(new RegExp(`ssh://root@127\\.0\\.0\\.1:${sshd.port}.*authentication as root failed`));
      // The relay's log names the target and the host key verdict.
      expect(lines.some((l) => l.target === 'forged' && l.msg.includes(`ssh host key refused: the host key of 127.0.0.2:${sshd.port} does NOT match known_hosts`))).toBe(true);
      // No login with the stranger's key ever happened.
      expect(sshd.accepted().some((l) => l.fingerprint === stranger.fingerprint)).toBe(false);
      // Spawns there are refused with the reason; the others still work.
      const refused = await spawn({ customPrompt: 'ssh: on a forged host', target: 'forged' });
      expect(refused.status).toBe(503);
      expect(JSON.stringify(refused.body)).toContain('does NOT match known_hosts');
      const onSsh = InitializeSwarmResponseSchema.parse((await spawn({ customPrompt: 'ssh: while others are refused', target: 'remote' })).body);
      expect(await uuidsIn(sshName)).toContain(onSsh.uuid);
      expect(await target('local')).toMatchObject({ status: 'healthy' });
      expect(await target('remote')).toMatchObject({ status: 'healthy' });
    });
  });
});
