// `npm run container:up -- --name N --mcp-port P [--docker URL]` (issue 14): argument parsing refuses
// anything it does not understand with a message naming the argument, and builds the docker CLI's
// environment for another engine (tcp:// always TLS-verified).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, dockerEnvFor, parseArgs } from './container.mjs';
import { makeTempDir } from '../testkit/tempDirs.js';

const refusal = (argv: string[], env: Record<string, string> = {}): string => {
  try {
    parseArgs(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
};

function certs(): string {
  const dir = makeTempDir('hivescope-cli-certs-');
  for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(dir, f), 'x');
  return dir;
}

describe('container.mjs arguments', () => {
  it('parses up with a name, an MCP port and its own volume', () => {
    expect(parseArgs(['up', '--name', 'hive-a', '--mcp-port', '9601'])).toEqual({ cmd: 'up', force: false, volumes: false, dockerEnv: null, name: 'hive-a', volume: 'hive-a-workspace', mcpPort: 9601 });
    expect(parseArgs(['up', '--name=hive-b', '--mcp-port=9602', '--volume=ws'])).toMatchObject({ name: 'hive-b', mcpPort: 9602, volume: 'ws' });
    // No options: today's defaults (HIVE_CONTAINER, HIVE_VOLUME, MCP_PORT) apply in up().
    expect(parseArgs(['up'])).toEqual({ cmd: 'up', force: false, volumes: false, dockerEnv: null });
    expect(parseArgs(['down', '--volumes', '--name', 'x'])).toMatchObject({ cmd: 'down', volumes: true, name: 'x', volume: 'x-workspace' });
    expect(parseArgs(['build', '--force'])).toMatchObject({ cmd: 'build', force: true });
  });

  it('refuses bad values naming the argument', () => {
    expect(refusal(['up', '--mcp-port', '0'])).toMatch(/--mcp-port: must be a port number in 1\.\.65535, got "0"/);
    expect(refusal(['up', '--mcp-port', '65536'])).toMatch(/--mcp-port/);
    expect(refusal(['up', '--mcp-port', '9e3'])).toMatch(/--mcp-port/);
    expect(refusal(['up', '--mcp-port', '-1'])).toMatch(/--mcp-port needs a value|--mcp-port: must be/);
    expect(refusal(['up', '--name', 'a;rm -rf /'])).toMatch(/--name: "a;rm -rf \/" is not a container name/);
    expect(refusal(['up', '--name', '-rm'])).toMatch(/--name/);
    expect(refusal(['up', '--volume', '../etc'])).toMatch(/--volume/);
    expect(refusal(['up', '--name'])).toMatch(/up: --name needs a value/);
    expect(refusal(['up', '--name', '--mcp-port', '1'])).toMatch(/--name needs a value/);
    expect(refusal(['up', '--name='])).toMatch(/--name needs a value/);
  });

  it('refuses unknown commands and arguments, repeats, and flags given values', () => {
    expect(refusal([])).toBe('no command');
    expect(refusal(['start'])).toMatch(/unknown command "start"/);
    expect(refusal(['up', '--port', '1'])).toMatch(/up: unknown argument "--port"/);
    expect(refusal(['up', 'extra'])).toMatch(/unknown argument "extra"/);
    expect(refusal(['down', '--mcp-port', '1'])).toMatch(/down: unknown argument "--mcp-port"/);
    expect(refusal(['up', '--name', 'a', '--name', 'b'])).toMatch(/--name given twice/);
    expect(refusal(['down', '--volumes=yes'])).toMatch(/--volumes takes no value/);
    expect(refusal(['up', '--certs', '/x'])).toMatch(/--certs needs --docker tcp/);
  });

  it('takes the three docker URL forms; tcp is TLS-verified with certificates that exist', () => {
    expect(parseArgs(['up', '--docker', 'unix:///run/d.sock']).dockerEnv).toEqual({ DOCKER_HOST: 'unix:///run/d.sock' });
    expect(parseArgs(['up', '--docker', 'ssh://me@gpu.lan:2222']).dockerEnv).toEqual({ DOCKER_HOST: 'ssh://me@gpu.lan:2222' });
    const dir = certs();
    expect(parseArgs(['up', '--docker', 'tcp://127.0.0.1:2376', '--certs', dir]).dockerEnv).toEqual({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(dockerEnvFor('tcp://h:2376', undefined, { DOCKER_CERT_PATH: dir })).toMatchObject({ DOCKER_CERT_PATH: dir });
    const empty = makeTempDir('hivescope-cli-nocerts-');
    expect(refusal(['up', '--docker', 'tcp://h:2376', '--certs', empty])).toMatch(/ca\.pem is missing \(TLS client certificates/);
  });

  it('refuses other docker URLs', () => {
    for (const url of ['http://h:2375', 'tcp://h', 'tcp://u@h:1', 'tcp://h:99999', 'ssh://h', 'ssh://me:pw@h', 'ssh://me@h/x', 'ssh://-oProxyCommand=x@h', 'unix://rel.sock', 'tcp://h :1', 'tcp://h:1\n']) {
      expect(refusal(['up', '--docker', url]), url).toMatch(/--docker/);
    }
    expect(refusal(['up', '--docker', 'ssh://me@h', '--certs', '/x'])).toMatch(/--certs applies to a tcp/);
  });
});
