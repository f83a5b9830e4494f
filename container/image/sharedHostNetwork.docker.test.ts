// Several kit containers on one host network (issue 14): `npm run container:up -- --name N --mcp-port P`
// starts each with MCP_TCP_PORT=P and its own workspace volume; both engines answer on their own port, the
// relay finds each port in its container's environment, and stopping one leaves the other answering.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerDriver } from '../../relay/control/drivers/docker.js';
import { mcpPortFromContainerEnv } from '../../relay/targets.js';
import { repoRoot } from '../../relay/control/paths.js';
import { dockerAvailable, dockerCli, uniqueName } from '../../testkit/docker.js';
import { ensureImage } from '../../testkit/kitImage.js';
import { reservePort, type PortLease } from '../../testkit/ports.js';
import { runCommand } from '../../testkit/processes.js';
import { waitUntil } from '../../testkit/wait.js';
import { mcpAnswers } from '../../testkit/mcpProbe.js';

const haveDocker = dockerAvailable();

const answers = (port: number): Promise<boolean> => mcpAnswers('127.0.0.1', port);

const cli = (...args: string[]) => runCommand(process.execPath, [path.join(repoRoot(), 'scripts/container.mjs'), ...args], { cwd: repoRoot(), timeoutMs: 300_000 });

describe.skipIf(!haveDocker)('two kit containers with different MCP ports on one host network', () => {
  const names = [uniqueName('hive-net-a'), uniqueName('hive-net-b')];
  const leases: PortLease[] = [];

  beforeAll(async () => {
    await ensureImage();
    for (const name of names) {
      const lease = await reservePort();
      leases.push(lease);
      const r = await cli('up', '--name', name, '--mcp-port', String(lease.port));
      expect(r.stdout + r.stderr, `container:up ${name}`).toContain(`started ${name} (MCP on port ${lease.port})`);
    }
  }, 300_000);

  afterAll(async () => {
    for (const name of names) await cli('down', '--name', name, '--volumes');
    for (const l of leases) l.release();
  }, 120_000);

  it('both engines answer, each on its own port, each with its own volume', async () => {
    for (const l of leases) await waitUntil(() => answers(l.port), 30_000, 200, `engine on ${l.port}`);
    for (const name of names) {
      const mounts = await dockerCli(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', name]);
      expect(mounts.stdout.trim()).toBe(`${name}-workspace`);
    }
  });

  it("the relay finds each container's MCP port in its environment", async () => {
    for (const [i, name] of names.entries()) {
      const d = new DockerDriver(name);
      expect(mcpPortFromContainerEnv(await d.containerEnv())).toBe(leases[i]!.port);
      await d.close();
    }
  });

  it('stopping one leaves the other answering', async () => {
    expect((await dockerCli(['stop', '-t', '2', names[0]!])).code).toBe(0);
    await waitUntil(async () => !(await answers(leases[0]!.port)), 15_000, 100, 'first engine gone');
    expect(await answers(leases[1]!.port)).toBe(true);
  });

  it('container:down removes it and its volume', async () => {
    const r = await cli('down', '--name', names[0]!, '--volumes');
    expect(r.stdout).toContain(`removed ${names[0]}`);
    expect((await dockerCli(['volume', 'inspect', `${names[0]}-workspace`])).code).not.toBe(0);
  });
});
