#!/usr/bin/env node
// Builds, runs and removes the hive container image offline (`npm run container:build|up|down`).
// build: compiles the kit (dist/), makes a rootfs of busybox + this machine's node + the libraries ldd
// lists + the compiled kit and only the runtime packages it imports (@modelcontextprotocol/sdk, zod),
// `docker import`s it as hivescope/multi-agent-base and `docker build`s container/image/Dockerfile on it
// (legacy builder, no pull). Skips the work when the image's kit-hash label matches the sources.
// up: runs it as multi-agent-container (HIVE_CONTAINER or --name overrides) with --network host and a named
// volume on /workspace; --mcp-port P sets MCP_TCP_PORT so several kit containers share a host network;
// --docker URL (+ --certs DIR for tcp://) runs it, and builds the image, on another engine (docs/fleet.md).
// down: removes the container (and the volume with --volumes).
// Also a module: buildImage/up/down/imageStatus for tests and the lead's scripts. Docker is driven with
// execFile/spawn argv arrays, never a shell.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNode } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const IMAGE = 'hivescope/multi-agent:latest';
export const BASE_IMAGE = 'hivescope/multi-agent-base:latest';
export const DEFAULT_VOLUME = 'hivescope-workspace';
export const KIT_HASH_LABEL = 'org.hivescope.kit-hash';
export const defaultContainerName = () => process.env.HIVE_CONTAINER || 'multi-agent-container';

/** Runtime packages the compiled kit imports (checked by the image's docker test). */
const RUNTIME_PACKAGES = ['@modelcontextprotocol/sdk', 'zod'];
const SKIP_FILE = /\.(map|d\.ts|d\.cts|d\.mts|cjs|md|ts)$/;
const SKIP_DIR = new Set(['cjs', 'src', 'testing', 'test', 'tests', 'node_modules']);

function run(cmd, args, { input, env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${(stderr || err.message).trim().slice(0, 2000)}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

export function docker(args, opts) {
  return run('docker', args, opts);
}

function copyTree(src, dst, filter = () => true) {
  const st = fs.statSync(src);
  if (st.isDirectory()) {
    if (SKIP_DIR.has(path.basename(src))) return;
    fs.mkdirSync(dst, { recursive: true });
    for (const e of fs.readdirSync(src)) copyTree(path.join(src, e), path.join(dst, e), filter);
  } else if (st.isFile() && !SKIP_FILE.test(src) && filter(src)) {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
  }
}

function listFiles(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIR.has(e.name)) listFiles(p, out);
    } else if (e.isFile() && !SKIP_FILE.test(p)) out.push(p);
  }
  return out;
}

/** What goes into the image, hashed: the compiled kit, the image files, node and the runtime package versions. */
export function kitHash() {
  const h = crypto.createHash('sha256');
  const files = [
    ...listFiles(path.join(root, 'dist/container')),
    ...listFiles(path.join(root, 'dist/shared')),
    // container/image/claude-flow/ holds the real-claude-flow images (scripts/claude-flow-images.mjs), not the kit's.
    ...listFiles(path.join(root, 'container/image')).filter((f) => !f.startsWith(path.join(root, 'container/image/claude-flow') + path.sep)),
  ].sort();
  for (const f of files) {
    h.update(path.relative(root, f));
    h.update(fs.readFileSync(f));
  }
  h.update(process.version);
  h.update(String(fs.statSync(process.execPath).size));
  for (const pkg of RUNTIME_PACKAGES) h.update(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json')));
  return h.digest('hex').slice(0, 32);
}

/** { exists, hash, sizeBytes } of the image (hash: the value of its `label`), or exists:false. */
export async function imageStatus(image = IMAGE, label = KIT_HASH_LABEL) {
  try {
    const out = await docker(['image', 'inspect', '--format', `{{ index .Config.Labels "${label}" }} {{ .Size }}`, image]);
    const [hash, size] = out.trim().split(' ');
    return { exists: true, hash: hash || null, sizeBytes: Number(size) };
  } catch {
    return { exists: false, hash: null, sizeBytes: null };
  }
}

/** The shared libraries `ldd` lists for a binary or a native addon (absolute paths, loader included). */
export function lddLibraries(binary) {
  return run('ldd', [binary]).then((out) => {
    const libs = [];
    for (const line of out.split('\n')) {
      const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
      if (m) libs.push(m[1]);
    }
    return libs;
  });
}

/** Copies the libraries `ldd` lists for `binary` into the rootfs at the same paths (symlinks resolved). */
export async function copyLddLibraries(dir, binary) {
  for (const lib of await lddLibraries(binary)) {
    const dst = path.join(dir, lib);
    if (fs.existsSync(dst)) continue;
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib), dst);
  }
}

/**
 * The rootfs every local image starts from (no hivescope code): busybox and its applets, this machine's
 * node and the libraries it links, /etc basics, plus `dirs`.
 */
export async function makeBaseRootfs(dir, dirs = []) {
  for (const d of ['bin', 'usr/bin', 'usr/local/bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', ...dirs]) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  // busybox and its applets
  const busybox = fs.existsSync('/bin/busybox') ? '/bin/busybox' : '/usr/bin/busybox';
  fs.copyFileSync(busybox, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const applets = (await run(busybox, ['--list'])).split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  for (const a of applets) {
    const link = path.join(dir, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  // `#!/usr/bin/env node` scripts (claude-flow's bin) need env where Debian puts it.
  fs.symlinkSync('/bin/busybox', path.join(dir, 'usr/bin/env'));
  // node and the libraries it links
  fs.copyFileSync(process.execPath, path.join(dir, 'usr/local/bin/node'));
  fs.chmodSync(path.join(dir, 'usr/local/bin/node'), 0o755);
  await copyLddLibraries(dir, process.execPath);
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(dir, 'etc/hosts'), '127.0.0.1 localhost\n');
  return applets.length;
}

async function makeRootfs(dir, log) {
  const applets = await makeBaseRootfs(dir, ['workspace', 'var/log/multi-agent', 'app/scripts']);
  // the kit
  const app = path.join(dir, 'app');
  fs.writeFileSync(path.join(app, 'package.json'), `${JSON.stringify({ name: 'hivescope-container-kit', private: true, type: 'module' }, null, 2)}\n`);
  copyTree(path.join(root, 'dist/container'), path.join(app, 'dist/container'));
  copyTree(path.join(root, 'dist/shared'), path.join(app, 'dist/shared'));
  for (const pkg of RUNTIME_PACKAGES) copyTree(path.join(root, 'node_modules', pkg), path.join(app, 'node_modules', pkg));
  fs.copyFileSync(path.join(root, 'container/image/entrypoint.sh'), path.join(app, 'entrypoint.sh'));
  fs.copyFileSync(path.join(root, 'container/image/hive-session-manager.sh'), path.join(app, 'scripts/hive-session-manager.sh'));
  fs.chmodSync(path.join(app, 'entrypoint.sh'), 0o755);
  fs.chmodSync(path.join(app, 'scripts/hive-session-manager.sh'), 0o755);
  log(`rootfs ready (${applets} busybox applets)`);
}

/** `tar | docker import` of a rootfs folder as `tag`; `changes` are Dockerfile instructions (`-c`). */
export function importRootfs(dir, tag, changes = ['ENV PATH=/usr/local/bin:/usr/bin:/bin']) {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const imp = spawn('docker', ['import', ...changes.flatMap((c) => ['-c', c]), '-', tag], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    tar.stderr.on('data', (d) => (err += d));
    imp.stderr.on('data', (d) => (err += d));
    tar.stdout.pipe(imp.stdin);
    tar.on('error', reject);
    imp.on('error', reject);
    imp.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import failed (${code}): ${err.trim().slice(0, 2000)}`))));
  });
}

/**
 * Builds hivescope/multi-agent:latest unless an image with the same kit hash exists.
 * Returns { image, built, hash, seconds, sizeBytes }.
 */
export async function buildImage({ force = false, log = (m) => console.error(`[container] ${m}`) } = {}) {
  const t0 = Date.now();
  buildNode();
  const hash = kitHash();
  const current = await imageStatus(IMAGE);
  if (!force && current.exists && current.hash === hash) {
    return { image: IMAGE, built: false, hash, seconds: 0, sizeBytes: current.sizeBytes };
  }
  const previous = [];
  for (const img of [IMAGE, BASE_IMAGE]) {
    const id = await docker(['image', 'inspect', '--format', '{{.Id}}', img]).then((o) => o.trim()).catch(() => null);
    if (id) previous.push(id);
  }
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'hive-image-'));
  try {
    const rootfs = path.join(staging, 'rootfs');
    await makeRootfs(rootfs, log);
    await importRootfs(rootfs, BASE_IMAGE);
    log(`imported ${BASE_IMAGE}`);
    const ctx = path.join(staging, 'ctx');
    fs.mkdirSync(ctx);
    fs.copyFileSync(path.join(root, 'container/image/Dockerfile'), path.join(ctx, 'Dockerfile'));
    await docker(['build', '-q', '--label', `${KIT_HASH_LABEL}=${hash}`, '-t', IMAGE, ctx], { env: { DOCKER_BUILDKIT: '0' } });
    // The replaced images are now untagged: drop them (an image a container still uses stays).
    for (const id of previous.reverse()) await docker(['rmi', id]).catch(() => undefined);
    const status = await imageStatus(IMAGE);
    const seconds = (Date.now() - t0) / 1000;
    log(`built ${IMAGE} in ${seconds.toFixed(1)} s, ${(status.sizeBytes / 1e6).toFixed(1)} MB`);
    return { image: IMAGE, built: true, hash, seconds, sizeBytes: status.sizeBytes };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** { exists, running } of a container. */
export async function containerState(name = defaultContainerName()) {
  try {
    const out = await docker(['container', 'inspect', '--format', '{{.State.Running}}', name]);
    return { exists: true, running: out.trim() === 'true' };
  } catch {
    return { exists: false, running: false };
  }
}

/**
 * Runs the image (idempotent: starts an existing stopped container, leaves a running one).
 * opts: name, volume, port (MCP_PORT), mcpPort (MCP_TCP_PORT: wins over MCP_PORT in the kit),
 * authToken (MCP_AUTH_TOKEN), env (extra {K: V}), image.
 */
export async function up({ name = defaultContainerName(), volume = process.env.HIVE_VOLUME || DEFAULT_VOLUME, port, mcpPort, authToken, env = {}, image = IMAGE } = {}) {
  const state = await containerState(name);
  if (state.running) return { name, started: false };
  if (state.exists) {
    await docker(['start', name]);
    return { name, started: true };
  }
  const allEnv = { ...env };
  if (port !== undefined) allEnv.MCP_PORT = String(port);
  else if (process.env.MCP_PORT) allEnv.MCP_PORT = process.env.MCP_PORT;
  if (mcpPort !== undefined) allEnv.MCP_TCP_PORT = String(mcpPort);
  if (authToken) allEnv.MCP_AUTH_TOKEN = authToken;
  for (const k of ['HIVE_SIM_SPEED', 'HIVE_SIM_SEED']) if (process.env[k] && allEnv[k] === undefined) allEnv[k] = process.env[k];
  const args = ['run', '-d', '--name', name, '--network', 'host', '--restart', 'unless-stopped', '-v', `${volume}:/workspace`];
  for (const [k, v] of Object.entries(allEnv)) args.push('-e', `${k}=${v}`);
  args.push(image);
  await docker(args);
  return { name, started: true };
}

/** Removes the container (and its volume when `volumes`). */
export async function down({ name = defaultContainerName(), volume = process.env.HIVE_VOLUME || DEFAULT_VOLUME, volumes = false } = {}) {
  const state = await containerState(name);
  if (state.exists) await docker(['rm', '-f', name]);
  if (volumes) await docker(['volume', 'rm', '-f', volume]).catch(() => undefined);
  return { name, removed: state.exists };
}

export class UsageError extends Error {
  name = 'UsageError';
}

export const USAGE = `usage: node scripts/container.mjs build [--force] [--docker URL [--certs DIR]]
       node scripts/container.mjs up [--name N] [--mcp-port P] [--volume V] [--docker URL [--certs DIR]]
       node scripts/container.mjs down [--name N] [--volume V] [--volumes] [--docker URL [--certs DIR]]
  --docker: unix:///path.sock, tcp://host:port (TLS from --certs, else DOCKER_CERT_PATH, else ~/.docker) or ssh://user@host[:port]`;

const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const HOST_RE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]{2,45}\])$/;
const OPTIONS = {
  build: { '--force': false, '--docker': true, '--certs': true },
  up: { '--name': true, '--mcp-port': true, '--volume': true, '--docker': true, '--certs': true },
  down: { '--name': true, '--volume': true, '--volumes': false, '--docker': true, '--certs': true },
};

/**
 * The environment the docker CLI needs for a DOCKER_HOST-style URL (the same three forms as HIVE_TARGETS,
 * relay/targets.ts; checked here again because this script runs without a build). tcp:// is always TLS
 * with verification, as the relay requires for a remote engine.
 */
export function dockerEnvFor(url, certs, env = process.env) {
  if (url.length > 512 || /[\s\u0000-\u001f]/.test(url)) throw new UsageError('--docker: not a docker URL');
  if (url.startsWith('unix://')) {
    if (!url.slice(7).startsWith('/')) throw new UsageError('--docker: unix:// needs an absolute socket path (unix:///var/run/docker.sock)');
    if (certs !== undefined) throw new UsageError('--certs applies to a tcp:// engine only');
    return { DOCKER_HOST: url };
  }
  const tcp = /^tcp:\/\/(.+):(\d{1,5})$/.exec(url);
  if (tcp) {
    if (!HOST_RE.test(tcp[1]) || Number(tcp[2]) < 1 || Number(tcp[2]) > 65535) throw new UsageError(`--docker: ${url} is not tcp://host:port`);
    const certPath = path.resolve(certs ?? env.DOCKER_CERT_PATH ?? path.join(os.homedir(), '.docker'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) {
      if (!fs.existsSync(path.join(certPath, f))) throw new UsageError(`--docker ${url}: ${path.join(certPath, f)} is missing (TLS client certificates: --certs DIR or DOCKER_CERT_PATH)`);
    }
    return { DOCKER_HOST: url, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certPath };
  }
  const ssh = /^ssh:\/\/([a-zA-Z_][a-zA-Z0-9_.-]{0,31})@([^:@/]+|\[[^\]]+\])(?::(\d{1,5}))?$/.exec(url);
  if (ssh) {
    if (!HOST_RE.test(ssh[2]) || (ssh[3] !== undefined && (Number(ssh[3]) < 1 || Number(ssh[3]) > 65535))) throw new UsageError(`--docker: ${url} is not ssh://user@host[:port]`);
    if (certs !== undefined) throw new UsageError('--certs applies to a tcp:// engine only');
    return { DOCKER_HOST: url };
  }
  throw new UsageError(`--docker: expected unix:///path, tcp://host:port or ssh://user@host[:port], got ${JSON.stringify(url.slice(0, 80))}`);
}

/** Parses `cmd ...args` (argv after the script). Throws UsageError with a message naming the argument. */
export function parseArgs(argv, env = process.env) {
  const [cmd, ...rest] = argv;
  const allowed = OPTIONS[cmd];
  if (!allowed) throw new UsageError(cmd === undefined ? 'no command' : `unknown command ${JSON.stringify(String(cmd).slice(0, 40))}`);
  const seen = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (!(flag in allowed)) throw new UsageError(`${cmd}: unknown argument ${JSON.stringify(a.slice(0, 40))}`);
    if (flag in seen) throw new UsageError(`${cmd}: ${flag} given twice`);
    if (!allowed[flag]) {
      if (eq > 0) throw new UsageError(`${cmd}: ${flag} takes no value`);
      seen[flag] = true;
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : rest[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`${cmd}: ${flag} needs a value`);
    seen[flag] = value;
  }
  const out = { cmd, force: Boolean(seen['--force']), volumes: Boolean(seen['--volumes']), dockerEnv: null };
  if (seen['--name'] !== undefined) {
    if (!CONTAINER_NAME_RE.test(seen['--name'])) throw new UsageError(`--name: ${JSON.stringify(seen['--name'].slice(0, 40))} is not a container name (letters, digits, _ . -)`);
    out.name = seen['--name'];
  }
  if (seen['--volume'] !== undefined) {
    if (!CONTAINER_NAME_RE.test(seen['--volume'])) throw new UsageError(`--volume: ${JSON.stringify(seen['--volume'].slice(0, 40))} is not a volume name`);
    out.volume = seen['--volume'];
  } else if (out.name !== undefined) {
    // A named container gets its own workspace: two kits on one volume would share a session registry.
    out.volume = `${out.name}-workspace`;
  }
  if (seen['--mcp-port'] !== undefined) {
    const v = seen['--mcp-port'];
    if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new UsageError(`--mcp-port: must be a port number in 1..65535, got ${JSON.stringify(v.slice(0, 20))}`);
    out.mcpPort = Number(v);
  }
  if (seen['--certs'] !== undefined && seen['--docker'] === undefined) throw new UsageError('--certs needs --docker tcp://host:port');
  if (seen['--docker'] !== undefined) out.dockerEnv = dockerEnvFor(seen['--docker'], seen['--certs'], env);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`error: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  // One engine per invocation: every docker call below (build included) goes to it.
  if (args.dockerEnv) {
    for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CONTEXT']) delete process.env[k];
    Object.assign(process.env, args.dockerEnv);
  }
  try {
    if (args.cmd === 'build') {
      const r = await buildImage({ force: args.force });
      console.log(r.built ? `built ${r.image} (${(r.sizeBytes / 1e6).toFixed(1)} MB, ${r.seconds.toFixed(1)} s)` : `${r.image} is up to date`);
    } else if (args.cmd === 'up') {
      if (!(await imageStatus()).exists) await buildImage();
      const r = await up({ name: args.name, volume: args.volume, mcpPort: args.mcpPort });
      console.log(r.started ? `started ${r.name}${args.mcpPort ? ` (MCP on port ${args.mcpPort})` : ''}` : `${r.name} is already running`);
    } else {
      const r = await down({ name: args.name, volume: args.volume, volumes: args.volumes });
      console.log(r.removed ? `removed ${r.name}` : `${r.name} does not exist`);
    }
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
