// HIVE_TARGETS (issue 14): the fleet's configuration is parsed once, validated as a whole, and every
// refusal names the entry and the field. Without HIVE_TARGETS today's settings describe one target.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configForTarget, loadConfig } from './config.js';
import { MAX_TARGETS, MAX_TARGETS_BYTES, TargetsError, debugEnables, engineKey, mcpPortFromContainerEnv, modemDebugRefusal, parseDockerUrl, parseHostPort, parseTargets, resolveMcpEndpoint } from './targets.js';
import { makeTempDir } from '../testkit/tempDirs.js';

const cwd = '/srv/hive';
const parse = (v: unknown, o: { dockerCertPath?: string } = {}) => parseTargets(typeof v === 'string' ? v : JSON.stringify(v), { cwd, ...o });
const refusal = (v: unknown): string => {
  try {
    parse(v);
  } catch (e) {
    expect(e).toBeInstanceOf(TargetsError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('without HIVE_TARGETS: the single-container settings are one target', () => {
  it('is named "local", on the environment engine, with HIVE_CONTAINER and MCP_HOST:MCP_PORT', () => {
    const c = loadConfig({ HIVE_CONTAINER: 'box', MCP_HOST: '10.1.2.3', MCP_PORT: '9600' }, cwd);
    expect(c.targets).toEqual([{ name: 'local', docker: null, container: 'box', mcp: { host: '10.1.2.3', port: 9600, explicit: true }, source: 'single' }]);
    expect(c.container).toBe('box');
    expect(c.mcp).toMatchObject({ host: '10.1.2.3', port: 9600 });
  });

  it('keeps the old defaults exactly', () => {
    const c = loadConfig({}, cwd);
    expect(c.targets).toEqual([{ name: 'local', docker: null, container: 'multi-agent-container', mcp: { host: '127.0.0.1', port: 9500, explicit: true }, source: 'single' }]);
    expect(c.container).toBe('multi-agent-container');
  });

  it('HIVE_TARGET_NAME renames it, and must be a slug', () => {
    expect(loadConfig({ HIVE_TARGET_NAME: 'gpu-box' }, cwd).targets[0]!.name).toBe('gpu-box');
    for (const bad of ['GPU', '-a', 'a-', 'a b', 'a:b', 'x'.repeat(33), 'ä']) expect(() => loadConfig({ HIVE_TARGET_NAME: bad }, cwd), bad).toThrow(/HIVE_TARGET_NAME/);
  });
});

describe('HIVE_TARGETS inline', () => {
  it('parses every docker URL form with its defaults', () => {
    const t = parse(
      [
        { name: 'a', container: 'c1' },
        { name: 'b', docker: 'unix:///run/other/docker.sock', container: 'c2', mcp: '127.0.0.1:9601' },
        { name: 'gpu', docker: 'tcp://gpu.lan:2376', container: 'c3', tls: { certPath: 'certs/gpu' } },
        { name: 'lo', docker: 'tcp://127.0.0.1:2375', container: 'c4', tls: false, mcp: 'localhost:9602' },
        { name: 'lap', docker: 'ssh://me@laptop.lan', container: 'c5' },
        { name: 'v6', docker: 'ssh://me@[fd00::5]:2222', container: 'c6', ssh: { identityFile: '~/.ssh/hive', knownHosts: '/etc/ssh/known' } },
      ],
      { dockerCertPath: '/etc/docker-certs' },
    );
    expect(t.map((x) => x.name)).toEqual(['a', 'b', 'gpu', 'lo', 'lap', 'v6']);
    expect(t[0]).toEqual({ name: 'a', docker: null, container: 'c1', mcp: { host: '127.0.0.1', port: 9500, explicit: false }, source: 'HIVE_TARGETS' });
    expect(t[1]!.docker).toEqual({ kind: 'unix', url: 'unix:///run/other/docker.sock', socketPath: '/run/other/docker.sock' });
    expect(t[1]!.mcp).toEqual({ host: '127.0.0.1', port: 9601, explicit: true });
    // Relative cert paths start at the cwd (inline) and the mcp host defaults to the engine's host.
    expect(t[2]!.docker).toEqual({ kind: 'tcp', url: 'tcp://gpu.lan:2376', host: 'gpu.lan', port: 2376, tls: { certPath: '/srv/hive/certs/gpu' } });
    expect(t[2]!.mcp).toEqual({ host: 'gpu.lan', port: 9500, explicit: false });
    expect(t[3]!.docker).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 2375, tls: null });
    expect(t[4]!.docker).toEqual({ kind: 'ssh', url: 'ssh://me@laptop.lan', user: 'me', host: 'laptop.lan', port: 22, identityFile: null, knownHosts: path.join(os.homedir(), '.ssh/known_hosts') });
    expect(t[5]!.docker).toMatchObject({ kind: 'ssh', user: 'me', host: 'fd00::5', port: 2222, identityFile: path.join(os.homedir(), '.ssh/hive'), knownHosts: '/etc/ssh/known' });
  });

  it('takes the TLS folder from DOCKER_CERT_PATH, else ~/.docker', () => {
    expect(parse([{ name: 'a', docker: 'tcp://h:2376', container: 'c' }], { dockerCertPath: '/e/certs' })[0]!.docker).toMatchObject({ tls: { certPath: '/e/certs' } });
    expect(parse([{ name: 'a', docker: 'tcp://h:2376', container: 'c' }])[0]!.docker).toMatchObject({ tls: { certPath: path.join(os.homedir(), '.docker') } });
  });

  it('names the entry and the field in every refusal', () => {
    expect(refusal([{ name: 'ok', container: 'c' }, { name: 'Bad Name', container: 'c' }])).toMatch(/HIVE_TARGETS\[1\] \("Bad Name"\)\.name: must be 1-32/);
    expect(refusal([{ name: 'a', container: 'x;rm -rf /' }])).toMatch(/HIVE_TARGETS\[0\] \("a"\)\.container: not a container name/);
    expect(refusal([{ name: 'a' }])).toMatch(/HIVE_TARGETS\[0\] \("a"\)\.container/);
    expect(refusal([{ name: 'a', container: 'c', mcp: 'nohost' }])).toMatch(/HIVE_TARGETS\[0\] \("a"\)\.mcp: expected host:port/);
    expect(refusal([{ name: 'a', container: 'c', mcp: 'h:70000' }])).toMatch(/\.mcp: port must be a number in 1\.\.65535/);
    expect(refusal([{ name: 'a', container: 'c', image: 'x' }])).toMatch(/HIVE_TARGETS\[0\] \("a"\)\.\(entry\): unknown field\(s\) "image"/);
    expect(refusal([{ name: 'a', container: 'c', docker: 'http://h:2375' }])).toMatch(/\.docker: expected unix:\/\/\/path, tcp:\/\/host:port or ssh:\/\/user@host/);
    expect(refusal(['a string'])).toMatch(/HIVE_TARGETS\[0\]\.\(entry\)/);
    // Every bad entry is reported at once, not only the first.
    expect(refusal([{ name: 'A', container: 'c' }, { name: 'b', container: '' }]).split('\n')).toHaveLength(3);
  });

  it('refuses duplicate names, the same container twice on one engine, and one MCP endpoint twice', () => {
    expect(refusal([{ name: 'a', container: 'c1' }, { name: 'a', container: 'c2' }])).toMatch(/HIVE_TARGETS\[1\] \("a"\)\.name: "a" is already the name of HIVE_TARGETS\[0\]/);
    expect(refusal([{ name: 'a', container: 'c' }, { name: 'b', container: 'c' }])).toMatch(/\[1\] \("b"\)\.container: c on the same engine is already target "a"/);
    expect(refusal([{ name: 'a', container: 'c', mcp: 'h:1' }, { name: 'b', container: 'd', mcp: 'h:1' }])).toMatch(/\[1\] \("b"\)\.mcp: h:1 is already the MCP endpoint of target "a"/);
    // The same container name on two engines is two targets.
    expect(parse([{ name: 'a', container: 'c' }, { name: 'b', docker: 'unix:///x.sock', container: 'c', mcp: '127.0.0.1:9501' }])).toHaveLength(2);
  });

  it('is bounded: entries, bytes, and an empty list is an error rather than zero targets', () => {
    const many = Array.from({ length: MAX_TARGETS + 1 }, (_, i) => ({ name: `t${i}`, container: `c${i}` }));
    expect(refusal(many)).toMatch(new RegExp(`${MAX_TARGETS + 1} entries; at most ${MAX_TARGETS}`));
    expect(parse(many.slice(0, MAX_TARGETS))).toHaveLength(MAX_TARGETS);
    expect(refusal(' '.repeat(MAX_TARGETS_BYTES + 1))).toMatch(/longer than 65536 bytes; use @path/);
    expect(refusal([])).toMatch(/empty/);
  });

  it('refuses what is not a JSON array, with a short message', () => {
    expect(refusal('[{"name": "a",')).toMatch(/^HIVE_TARGETS: not JSON \(HIVE_TARGETS\)/);
    expect(refusal('{"name":"a","container":"c"}')).toMatch(/expected a JSON array/);
    expect(refusal('null')).toMatch(/expected a JSON array/);
    // A __proto__ key is an unknown field, not a prototype change.
    expect(refusal('[{"name":"a","container":"c","__proto__":{"docker":"tcp://evil:1"}}]')).toMatch(/unknown field\(s\) "__proto__"/);
  });
});

describe('docker URLs are a security boundary: only the three forms, nothing smuggled', () => {
  const o = { base: '/b' };
  const bad: [string, RegExp][] = [
    ['tcp://user:pw@h:2376', /takes no user or password/],
    ['ssh://me:secret@h', /no password in the URL/],
    ['ssh://h', /needs a user/],
    ['ssh://@h', /needs a user/],
    ['ssh://-oProxyCommand=x@h', /is not a user name/],
    ['ssh://me@-oProxyCommand=touch', /is not a host name/],
    ['tcp://h', /expected host:port/],
    ['tcp://h:0', /port must be/],
    ['tcp://h:2376/v1.41', /no path, query or fragment/],
    ['tcp://h:2376?x=1', /no path, query or fragment/],
    ['tcp://h:2376#f', /no path, query or fragment/],
    ['tcp://h_:2376', /is not a host name/],
    ['tcp://::1:2376', /expected host:port/],
    ['unix://run/docker.sock', /absolute socket path/],
    [`unix:///${'a'.repeat(120)}`, /longer than 107 bytes/],
    ['unix:///x.sock\nevil', /control characters/],
    ['tcp://h :2376', /whitespace/],
    ['npipe:////./pipe/docker_engine', /expected unix/],
    ['fd://', /expected unix/],
    ['TCP://h:2376', /expected unix/],
    ['x'.repeat(600), /longer than 512/],
  ];
  for (const [url, re] of bad) it(`refuses ${JSON.stringify(url.slice(0, 40))}`, () => expect(() => parseDockerUrl(url, 'd', o)).toThrow(re));

  it('allows plain TCP only to a loopback engine, and only when asked for', () => {
    expect(() => parseDockerUrl('tcp://10.0.0.5:2375', 'd', { ...o, tls: false })).toThrow(/only for a loopback engine/);
    expect(parseDockerUrl('tcp://127.0.0.1:2375', 'd', { ...o, tls: false })).toMatchObject({ tls: null });
    expect(parseDockerUrl('tcp://[::1]:2375', 'd', { ...o, tls: false })).toMatchObject({ host: '::1', tls: null });
  });

  it('refuses settings of another transport', () => {
    expect(() => parseDockerUrl('unix:///x.sock', 'd', { ...o, tls: {} })).toThrow(/do not apply to a unix socket/);
    expect(() => parseDockerUrl('tcp://h:1', 'd', { ...o, ssh: {} })).toThrow(/ssh settings given for a tcp/);
    expect(() => parseDockerUrl('ssh://u@h', 'd', { ...o, tls: {} })).toThrow(/tls settings given for an ssh/);
    expect(refusal([{ name: 'a', container: 'c', tls: {} }])).toMatch(/tls and ssh settings need a docker URL/);
  });

  it('parses host:port forms', () => {
    expect(parseHostPort('h.lan:1', 'x')).toEqual({ host: 'h.lan', port: 1 });
    expect(parseHostPort('[fe80::1]:65535', 'x')).toEqual({ host: 'fe80::1', port: 65535 });
    for (const bad of ['h:', ':1', 'h:1:2', 'h:+1', 'h:1e3', 'h: 1', '[::1]', 'h:99999']) expect(() => parseHostPort(bad, 'x'), bad).toThrow(TargetsError);
  });
});

describe('HIVE_TARGETS=@path', () => {
  it('reads the file; relative paths inside start at its folder', () => {
    const dir = makeTempDir('hivescope-targets-');
    fs.writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify([{ name: 'gpu', docker: 'tcp://gpu:2376', container: 'c', tls: { certPath: 'certs' } }]));
    const c = loadConfig({ HIVE_TARGETS: `@${path.join(dir, 'fleet.json')}` }, '/elsewhere');
    expect(c.targets[0]!.docker).toMatchObject({ tls: { certPath: path.join(dir, 'certs') } });
    // Relative @path starts at the cwd.
    expect(loadConfig({ HIVE_TARGETS: '@fleet.json' }, dir).targets[0]!.name).toBe('gpu');
  });

  it('refuses a missing file, a folder, a device and a file over the bound, naming it', () => {
    const dir = makeTempDir('hivescope-targets-');
    expect(() => parseTargets(`@${dir}/nope.json`, { cwd })).toThrow(/cannot open .*nope\.json: ENOENT/);
    expect(() => parseTargets(`@${dir}`, { cwd })).toThrow(/is not a regular file/);
    expect(() => parseTargets('@/dev/zero', { cwd })).toThrow(/is not a regular file/);
    fs.writeFileSync(path.join(dir, 'big.json'), ' '.repeat(MAX_TARGETS_BYTES + 1));
    expect(() => parseTargets(`@${dir}/big.json`, { cwd })).toThrow(/larger than 65536 bytes/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '[1,');
    expect(() => parseTargets(`@${dir}/bad.json`, { cwd })).toThrow(new RegExp(`not JSON \\(${dir}/bad\\.json\\)`));
  });
});

describe('HIVE_TARGETS in the relay config', () => {
  const fleet = JSON.stringify([
    { name: 'one', container: 'c1', mcp: '127.0.0.1:9601' },
    { name: 'two', docker: 'tcp://127.0.0.1:2375', tls: false, container: 'c2' },
  ]);

  it('lists the targets; the first is the one container and MCP endpoint a single-target relay uses', () => {
    const c = loadConfig({ HIVE_TARGETS: fleet }, cwd);
    expect(c.targets.map((t) => t.name)).toEqual(['one', 'two']);
    expect(c.container).toBe('c1');
    expect(c.mcp).toMatchObject({ host: '127.0.0.1', port: 9601 });
  });

  it('derives an entry without mcp from MCP_HOST and MCP_PORT (a tcp engine from its host)', () => {
    const c = loadConfig({ HIVE_TARGETS: JSON.stringify([{ name: 'a', container: 'c' }, { name: 'b', docker: 'tcp://127.0.0.2:2375', tls: false, container: 'c' }]), MCP_HOST: '127.0.0.9', MCP_PORT: '9700' }, cwd);
    expect(c.targets.map((t) => t.mcp)).toEqual([{ host: '127.0.0.9', port: 9700, explicit: false }, { host: '127.0.0.2', port: 9700, explicit: false }]);
  });

  it('refuses HIVE_CONTAINER or HIVE_TARGET_NAME beside it (one of them would be silently ignored)', () => {
    expect(() => loadConfig({ HIVE_TARGETS: fleet, HIVE_CONTAINER: 'x' }, cwd)).toThrow(/HIVE_CONTAINER and HIVE_TARGETS are both set/);
    expect(() => loadConfig({ HIVE_TARGETS: fleet, HIVE_TARGET_NAME: 'x' }, cwd)).toThrow(/HIVE_TARGET_NAME/);
  });

  it('refuses the local driver: targets are Docker containers', () => {
    expect(() => loadConfig({ HIVE_TARGETS: fleet, HIVE_DRIVER: 'local' }, cwd)).toThrow(/HIVE_DRIVER=local runs the embedded hive/);
    expect(loadConfig({ HIVE_TARGETS: fleet, HIVE_DRIVER: 'docker' }, cwd).driver).toBe('docker');
  });

  it('reports a bad entry as a ConfigError', () => {
    expect(() => loadConfig({ HIVE_TARGETS: '[{"name":"a"}]' }, cwd)).toThrow(ConfigError);
  });

  it('refuses DEBUG that makes docker-modem print keys when a target holds any', () => {
    const tls = JSON.stringify([{ name: 'a', docker: 'tcp://h:2376', container: 'c' }]);
    expect(() => loadConfig({ HIVE_TARGETS: tls, DEBUG: 'modem' }, cwd)).toThrow(/DEBUG=modem enables docker-modem's request log/);
    expect(() => loadConfig({ HIVE_TARGETS: tls, DEBUG: '*' }, cwd)).toThrow(/remove "modem"/);
    expect(loadConfig({ HIVE_TARGETS: tls, DEBUG: '*,-modem' }, cwd).targets).toHaveLength(1);
    expect(loadConfig({ HIVE_TARGETS: tls, DEBUG: 'express:*' }, cwd).targets).toHaveLength(1);
    // The environment's engine with DOCKER_CERT_PATH reads a key too (docker-modem's own defaults).
    expect(() => loadConfig({ DEBUG: 'mod*', DOCKER_CERT_PATH: '/c' }, cwd)).toThrow(/DEBUG/);
    expect(loadConfig({ DEBUG: 'modem' }, cwd).targets).toHaveLength(1);
  });
});

describe('the debug package syntax', () => {
  it('matches lists, wildcards and exclusions as `debug` does', () => {
    expect(debugEnables('modem', 'modem')).toBe(true);
    expect(debugEnables('a, modem', 'modem')).toBe(true);
    expect(debugEnables('a modem', 'modem')).toBe(true);
    expect(debugEnables('mo*', 'modem')).toBe(true);
    expect(debugEnables('*,-mod*', 'modem')).toBe(false);
    expect(debugEnables('modem:x', 'modem')).toBe(false);
    expect(debugEnables('', 'modem')).toBe(false);
    expect(debugEnables(undefined, 'modem')).toBe(false);
    expect(modemDebugRefusal('modem', [], null)).toBeNull();
  });
});

describe("the MCP endpoint from the container's environment", () => {
  it('reads MCP_TCP_PORT before MCP_PORT, ignoring junk', () => {
    expect(mcpPortFromContainerEnv(['PATH=/bin', 'MCP_PORT=9500', 'MCP_TCP_PORT=9612'])).toBe(9612);
    expect(mcpPortFromContainerEnv(['MCP_PORT=9501'])).toBe(9501);
    expect(mcpPortFromContainerEnv(['MCP_TCP_PORT=0', 'MCP_PORT=9502'])).toBe(9502);
    expect(mcpPortFromContainerEnv(['MCP_TCP_PORT=99999', 'MCP_TCP_PORT', '=1', 'MCP_PORT=+1'])).toBeNull();
    expect(mcpPortFromContainerEnv(null)).toBeNull();
    expect(mcpPortFromContainerEnv('MCP_PORT=1' as unknown as string[])).toBeNull();
    expect(mcpPortFromContainerEnv([1, {}, 'MCP_PORT=7'] as unknown as string[])).toBe(7);
  });

  it('keeps an explicit endpoint; refines a derived one', () => {
    const [explicit, derived] = parse([{ name: 'a', container: 'c', mcp: 'h:1' }, { name: 'b', container: 'd' }]);
    expect(resolveMcpEndpoint(explicit!, ['MCP_TCP_PORT=9700'])).toEqual({ host: 'h', port: 1 });
    expect(resolveMcpEndpoint(derived!, ['MCP_TCP_PORT=9700'])).toEqual({ host: '127.0.0.1', port: 9700 });
    expect(resolveMcpEndpoint(derived!, null)).toEqual({ host: '127.0.0.1', port: 9500 });
  });
});

describe('one target as its planes see the config', () => {
  it('gives a HIVE_TARGETS target its container, MCP endpoint and own state folder', () => {
    const c = loadConfig({ HIVE_TARGETS: JSON.stringify([{ name: 'a', container: 'c1', mcp: '127.0.0.1:9601' }, { name: 'b', container: 'c2' }]), HIVE_STATE_DIR: 'st' }, cwd);
    const b = configForTarget(c, c.targets[1]!, { host: '127.0.0.1', port: 9702 });
    expect(b).toMatchObject({ container: 'c2', targets: [c.targets[1]], stateDir: '/srv/hive/st/targets/b', mcp: { host: '127.0.0.1', port: 9702, pollMs: c.mcp.pollMs } });
    expect(configForTarget(c, c.targets[0]!).mcp).toMatchObject({ port: 9601 });
    expect(c.container).toBe('c1'); // the relay config itself is untouched
  });

  it('leaves the single target where it always was', () => {
    const c = loadConfig({ HIVE_STATE_DIR: 'st' }, cwd);
    expect(configForTarget(c, c.targets[0]!)).toEqual(c);
  });
});

describe('HIVE_DISCOVER: label discovery, and a fleet from labels alone', () => {
  const fleet = JSON.stringify([{ name: 'a', container: 'c' }]);

  it('is on with HIVE_TARGETS and off without, unless said otherwise', () => {
    expect(loadConfig({}, cwd).discover).toBe(false);
    expect(loadConfig({ HIVE_TARGETS: fleet }, cwd).discover).toBe(true);
    expect(loadConfig({ HIVE_TARGETS: fleet, HIVE_DISCOVER: '0' }, cwd).discover).toBe(false);
    expect(loadConfig({ HIVE_TARGETS: fleet, HIVE_DISCOVER: '' }, cwd).discover).toBe(true);
    expect(loadConfig({ HIVE_DISCOVER: 'off' }, cwd)).toMatchObject({ discover: false, targets: [{ source: 'single' }] });
  });

  it('without HIVE_TARGETS makes a fleet: the default target becomes a configured one, with its own state folder', () => {
    const c = loadConfig({ HIVE_DISCOVER: '1', HIVE_CONTAINER: 'box', HIVE_TARGET_NAME: 'home', MCP_PORT: '9601', HIVE_STATE_DIR: 'st' }, cwd);
    expect(c.discover).toBe(true);
    expect(c.targets).toEqual([{ name: 'home', docker: null, container: 'box', mcp: { host: '127.0.0.1', port: 9601, explicit: true }, source: 'HIVE_TARGETS' }]);
    expect(configForTarget(c, c.targets[0]!).stateDir).toBe('/srv/hive/st/targets/home');
    expect(loadConfig({ HIVE_DISCOVER: 'yes' }, cwd).targets[0]).toMatchObject({ name: 'local', container: 'multi-agent-container', source: 'HIVE_TARGETS' });
  });

  it('refuses the embedded hive beside it, and values that are not a yes or a no', () => {
    expect(() => loadConfig({ HIVE_DISCOVER: '1', HIVE_DRIVER: 'local' }, cwd)).toThrow(/HIVE_DRIVER=local runs the embedded hive; HIVE_DISCOVER=1/);
    expect(loadConfig({ HIVE_DISCOVER: '0', HIVE_DRIVER: 'local' }, cwd).driver).toBe('local');
    for (const bad of ['2', 'enable', 'TRUE ', '1;rm']) expect(() => loadConfig({ HIVE_DISCOVER: bad }, cwd), bad).toThrow(/HIVE_DISCOVER/);
  });
});

describe('HIVE_TARGETS=[]: a fleet of labelled containers alone', () => {
  it('is accepted with discovery on (its default with HIVE_TARGETS): no configured target, no container, MCP_HOST:MCP_PORT for the labelled ones', () => {
    const c = loadConfig({ HIVE_TARGETS: '[]', MCP_HOST: '10.0.0.7', MCP_PORT: '9601' }, cwd);
    expect(c).toMatchObject({ targets: [], discover: true, container: null, mcp: { host: '10.0.0.7', port: 9601 } });
    for (const on of ['1', 'true', 'yes', 'on', '']) expect(loadConfig({ HIVE_TARGETS: '[]', HIVE_DISCOVER: on }, cwd).targets, on).toEqual([]);
    // JSON's own whitespace, and a file holding an empty array, are the same empty array.
    expect(loadConfig({ HIVE_TARGETS: ' \n[ \t]\r\n ' }, cwd).targets).toEqual([]);
    const dir = makeTempDir('hivescope-targets-empty-');
    fs.writeFileSync(path.join(dir, 'targets.json'), '[]\n');
    expect(loadConfig({ HIVE_TARGETS: `@${path.join(dir, 'targets.json')}` }, cwd).targets).toEqual([]);
  });

  it('is refused with discovery off: that fleet could never have a target', () => {
    for (const off of ['0', 'false', 'no', 'off']) {
      expect(() => loadConfig({ HIVE_TARGETS: '[]', HIVE_DISCOVER: off }, cwd), off).toThrow(/^HIVE_TARGETS is empty and HIVE_DISCOVER is off: that fleet could never have a target/);
    }
    // parseTargets alone still refuses it unless told otherwise.
    expect(() => parseTargets('[]', { cwd })).toThrow(/empty/);
    expect(parseTargets('[]', { cwd, allowEmpty: true })).toEqual([]);
  });

  it('refuses hostile variants as any HIVE_TARGETS: not an empty array, other settings beside it', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env, cwd);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`expected a refusal of ${JSON.stringify(env)}`);
    };
    expect(refused({ HIVE_TARGETS: '[null]' })).toMatch(/HIVE_TARGETS\[0\]\.\(entry\)/);
    expect(refused({ HIVE_TARGETS: '[[]]' })).toMatch(/HIVE_TARGETS\[0\]/);
    expect(refused({ HIVE_TARGETS: '[{}]' })).toMatch(/HIVE_TARGETS\[0\]\.name/);
    for (const notArray of ['{}', '"[]"', '0', 'null', 'false']) expect(refused({ HIVE_TARGETS: notArray }), notArray).toMatch(/expected a JSON array/);
    for (const notJson of ['[', '[]]', '[],[]', '[]x', '\uFEFF[]', '[,]', "['']"]) expect(refused({ HIVE_TARGETS: notJson }), notJson).toMatch(/not JSON/);
    expect(refused({ HIVE_TARGETS: `[${' '.repeat(MAX_TARGETS_BYTES)}]` })).toMatch(/longer than 65536 bytes/);
    // The settings of the single default target would be silently ignored beside it; the embedded hive is no container.
    expect(refused({ HIVE_TARGETS: '[]', HIVE_CONTAINER: 'box' })).toMatch(/HIVE_CONTAINER and HIVE_TARGETS are both set/);
    expect(refused({ HIVE_TARGETS: '[]', HIVE_TARGET_NAME: 'home' })).toMatch(/HIVE_TARGET_NAME names the single default target/);
    expect(refused({ HIVE_TARGETS: '[]', HIVE_DRIVER: 'local' })).toMatch(/HIVE_DRIVER=local runs the embedded hive/);
  });

  it("refuses docker-modem's request log when the environment's engine it watches holds a TLS key", () => {
    expect(() => loadConfig({ HIVE_TARGETS: '[]', DEBUG: 'modem', DOCKER_CERT_PATH: '/c' }, cwd)).toThrow(/DOCKER_CERT_PATH, watched for labelled containers\); remove "modem"/);
    expect(loadConfig({ HIVE_TARGETS: '[]', DEBUG: '*,-modem', DOCKER_CERT_PATH: '/c' }, cwd).targets).toEqual([]);
    expect(loadConfig({ HIVE_TARGETS: '[]', DEBUG: 'modem' }, cwd).targets).toEqual([]);
    expect(modemDebugRefusal('modem', [], '/c')).toBeNull();
    expect(modemDebugRefusal('modem', [], '/c', true)).toMatch(/DOCKER_CERT_PATH/);
  });
});

describe('HIVE_STALE_TTL: how long a removed labelled target stays, stale', () => {
  it('defaults to an hour, 0 keeps it until it returns, in seconds up to 30 days', () => {
    expect(loadConfig({}, cwd).staleTtlMs).toBe(3_600_000);
    expect(loadConfig({ HIVE_STALE_TTL: '0' }, cwd).staleTtlMs).toBe(0);
    expect(loadConfig({ HIVE_STALE_TTL: '90' }, cwd).staleTtlMs).toBe(90_000);
    for (const bad of ['-1', '1.5', 'x', '1h', String(30 * 24 * 3600 + 1)]) expect(() => loadConfig({ HIVE_STALE_TTL: bad }, cwd), bad).toThrow(/HIVE_STALE_TTL/);
  });
});

describe('HIVE_ENGINE_EXECS: execs at once on one Docker engine, all its targets together', () => {
  it('defaults to 16; takes 1 to 1024; anything else is refused naming the variable', () => {
    expect(loadConfig({}, cwd).engineExecs).toBe(16);
    expect(loadConfig({ HIVE_ENGINE_EXECS: '1' }, cwd).engineExecs).toBe(1);
    expect(loadConfig({ HIVE_ENGINE_EXECS: '1024' }, cwd).engineExecs).toBe(1024);
    for (const bad of ['0', '-1', '2.5', 'x', '1025', '9'.repeat(30)]) expect(() => loadConfig({ HIVE_ENGINE_EXECS: bad }, cwd), bad).toThrow(/HIVE_ENGINE_EXECS/);
  });

  it('engineKey: targets on one engine share a key, the environment has its own', () => {
    const t = parseTargets(JSON.stringify([{ name: 'a', container: 'c1' }, { name: 'b', container: 'c2' }, { name: 'c', docker: 'unix:///var/run/other.sock', container: 'c1' }]), { cwd });
    expect(t.map((x) => engineKey(x.docker))).toEqual(['environment', 'environment', 'unix:///var/run/other.sock']);
  });
});
