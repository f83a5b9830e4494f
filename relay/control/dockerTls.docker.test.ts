// A fleet target on another Docker engine reached over tcp://127.0.0.1 with TLS (issue 14): a private
// dockerd (testkit/privateDockerd.ts, `tls: true`) with certificates made in the test by openssl, the
// kit's image loaded into it and a kit container on it. The relay's own path is used end to end:
// HIVE_TARGETS parsed by loadConfig -> chooseDriver -> dockerode with the target's TLS options. The
// driver execs in that container, finds its MCP port in the container's environment, and the engine
// refuses a client without its client certificate, one signed by another CA, and a client that does not
// trust the engine's own certificate is refused on its side.
import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { resolveMcpEndpoint } from '../targets.js';
import { chooseDriver } from './chooseDriver.js';
import { DockerDriver } from './drivers/docker.js';
import { createDocker } from './drivers/dockerConnection.js';
import { ControlError } from './errors.js';
import { dockerCli, uniqueName } from '../../testkit/docker.js';
import { loadKitImageInto } from '../../testkit/kitImage.js';
import { reservePort, type PortLease } from '../../testkit/ports.js';
import { PrivateDockerd, privateDockerdUnavailableReason } from '../../testkit/privateDockerd.js';
import { makeTempDir } from '../../testkit/tempDirs.js';
import { mcpAnswers } from '../../testkit/mcpProbe.js';
import { makeCa, makeClientDir, tlsCertsUnavailableReason } from '../../testkit/tlsCerts.js';
import { waitUntil } from '../../testkit/wait.js';

const skipReason = privateDockerdUnavailableReason() ?? tlsCertsUnavailableReason();
if (skipReason) console.warn(`dockerTls.docker.test.ts skipped: ${skipReason}`);

const o = { timeoutMs: 15_000, maxOutputBytes: 1024 * 1024 };

describe.skipIf(skipReason !== null)(`a target on a Docker engine over tcp:// with TLS${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const d = new PrivateDockerd({ tls: true, log: (m) => process.stdout.write(`[tls-engine] ${m}\n`) });
  const name = uniqueName('hive-tls');
  let mcp: PortLease;
  let driver: DockerDriver;
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    await d.start();
    const { image } = await loadKitImageInto(d);
    mcp = await reservePort();
    const run = await d.cli(['run', '-d', '--name', name, '--network', 'host', '-e', `MCP_TCP_PORT=${mcp.port}`, '-e', 'HIVE_SIM_SPEED=1', image], 60_000);
    if (run.code !== 0) throw new Error(`docker run on the private engine failed: ${run.stderr}`);
    config = loadConfig(
      {
        HIVE_TARGETS: JSON.stringify([{ name: 'remote', docker: d.tcp!.url, container: name, tls: { certPath: d.tcp!.clientDir } }]),
        HIVE_DRIVER: 'docker',
        HIVE_STATE_DIR: makeTempDir('hivescope-tls-state-'),
        LOG_LEVEL: 'silent',
      },
      process.cwd(),
    );
    driver = (await chooseDriver(config, pino({ level: 'silent' }))) as DockerDriver;
  }, 240_000);

  afterAll(async () => {
    await driver?.close();
    mcp?.release();
    await d.close();
  }, 120_000);

  it('execs in the target container through the TLS engine, chosen from HIVE_TARGETS', async () => {
    expect(config.targets[0]!.docker).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: d.tcp!.port, tls: { certPath: d.tcp!.clientDir } });
    expect(driver).toBeInstanceOf(DockerDriver);
    expect(await driver.inspectState()).toMatchObject({ exists: true, running: true });
    const r = await driver.exec(['sh', '-c', 'echo over-tls; echo err >&2; exit 3'], o);
    expect(r).toMatchObject({ exitCode: 3, stdout: 'over-tls\n', stderr: 'err\n' });
    // The container lives on the private engine only: the machine's own daemon does not know it.
    expect((await dockerCli(['container', 'inspect', name])).code).not.toBe(0);
  });

  it("finds the target's MCP port in the container's environment, and the engine answers there", async () => {
    const env = await driver.containerEnv();
    expect(env).toContain(`MCP_TCP_PORT=${mcp.port}`);
    const ep = resolveMcpEndpoint(config.targets[0]!, env);
    expect(ep).toEqual({ host: '127.0.0.1', port: mcp.port });
    await waitUntil(
      () => mcpAnswers(ep.host, ep.port),
      30_000,
      200,
    );
  });

  it('is refused without a client certificate', async () => {
    const ca = fs.readFileSync(path.join(d.tcp!.clientDir, 'ca.pem'), 'utf8');
    const noCert = new Docker({ host: '127.0.0.1', port: d.tcp!.port, protocol: 'https', ca } as Docker.DockerOptions);
    const err = await noCert.ping().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err, 'the engine answered a client without a certificate').not.toBeNull();
    process.stdout.write(`[tls-engine] no client certificate: ${err!.message}\n`);
    // And plain HTTP on the TLS port gets no API either.
    const plain = new Docker({ host: '127.0.0.1', port: d.tcp!.port, protocol: 'http' } as Docker.DockerOptions);
    await expect(plain.ping()).rejects.toBeTruthy();
  });

  it('is refused with a client certificate from another CA, and refuses an engine it cannot verify', async () => {
    const dir = makeTempDir('hivescope-tls-other-');
    const otherCa = await makeCa(path.join(dir, 'ca'), 'some other CA');
    const tcp = config.targets[0]!.docker!;
    // A client the engine does not trust.
    const stranger = new DockerDriver(name, createDocker({ ...tcp, tls: { certPath: await makeClientDir(path.join(dir, 'stranger'), otherCa, d.tcp!.certs.ca.cert) } } as typeof tcp, 'target stranger'));
    const e1 = await stranger.exec(['true'], o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(e1).toBeInstanceOf(ControlError);
    expect(e1).toMatchObject({ kind: 'docker-unavailable', message: expect.stringMatching(/^TLS with the Docker engine failed .*check the target's certificates/) });
    process.stdout.write(`[tls-engine] foreign client certificate: ${(e1 as Error).message}\n`);
    await stranger.close();
    // A client with a good certificate that trusts another CA: the engine's certificate is not accepted.
    const wary = new DockerDriver(name, createDocker({ ...tcp, tls: { certPath: await makeClientDir(path.join(dir, 'wary'), d.tcp!.certs.ca, otherCa.cert) } } as typeof tcp, 'target wary'));
    const e2 = await wary.exec(['true'], o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(e2).toBeInstanceOf(ControlError);
    expect(e2).toMatchObject({ kind: 'docker-unavailable', message: expect.stringMatching(/^TLS with the Docker engine failed .*check the target's certificates/) });
    process.stdout.write(`[tls-engine] untrusted engine: ${(e2 as Error).message}\n`);
    await wary.close();
  });
});
