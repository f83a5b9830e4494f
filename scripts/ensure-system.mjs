// Prerequisites for `npm test`: Debian's chromium, a Docker engine (docker.io), busybox-static (the
// image's rootfs), openssl (TLS certificates for a private engine on tcp://) and openssh-server (an
// sshd the ssh:// target test runs on loopback itself; the system's sshd service is never started). As root on Debian,
// whatever is missing is installed with apt-get, and dockerd is started (no iptables, no bridge: tests
// use --network host) if none answers. Otherwise each missing prerequisite is reported with the command
// that fixes it; the caller decides skip (local) or fail (CI).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function findChromium() {
  if (process.env.CHROMIUM_PATH && fs.existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH;
  return CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function isDebian() {
  return fs.existsSync('/etc/debian_version') && has('apt-get');
}

/** The OpenSSH server binary (sshd must be started by absolute path), or null. */
export function findSshd() {
  return ['/usr/sbin/sshd'].find((p) => fs.existsSync(p)) ?? null;
}

/*
 * Debian's openssh-server enables and starts the system `ssh` service when installed. The tests need
 * only the binary (they run their own sshd on 127.0.0.1), and a root login service on port 22 of the
 * developer's machine is not ours to turn on: /etc/ssh/sshd_not_to_be_run, Debian's documented switch,
 * makes both the systemd unit and the init script decline to start it (now and at boot). Written only when
 * we are about to install the package, so a machine that already runs sshd is left as it is.
 */
function keepSystemSshdOff(log) {
  const marker = '/etc/ssh/sshd_not_to_be_run';
  if (fs.existsSync(marker)) return;
  fs.mkdirSync('/etc/ssh', { recursive: true });
  fs.writeFileSync(marker, 'written by hivescope scripts/ensure-system.mjs: only the sshd binary is wanted (tests run their own); remove to enable the ssh service\n');
  log(`ensure-system: wrote ${marker} so installing openssh-server starts no ssh service`);
}

export function dockerAnswers(timeoutMs = 5000) {
  if (!has('docker')) return false;
  return spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: timeoutMs }).status === 0;
}

function aptInstall(packages, log) {
  log(`ensure-system: apt-get install ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (update.status !== 0) log('ensure-system: apt-get update failed; trying the install with the lists we have');
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  return r.status === 0;
}

async function startDockerd(log) {
  const logFile = path.join(process.env.TMPDIR ?? '/tmp', `hivescope-dockerd-${process.pid}.log`);
  const out = fs.openSync(logFile, 'a');
  log(`ensure-system: starting dockerd (log ${logFile})`);
  const child = spawn('dockerd', ['--iptables=false', '--bridge=none'], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (dockerAnswers(3000)) return child.pid ?? null;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`ensure-system: dockerd did not answer; see ${logFile}`);
  try {
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  return null;
}

/** Stops a dockerd we started (by its own pid), waiting for it to exit so no container is orphaned. */
export async function stopDockerd(pid, log = console.log) {
  if (!pid) return;
  log(`ensure-system: stopping the dockerd we started (pid ${pid})`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * @returns {Promise<{chromium: string|null, docker: boolean, busybox: boolean, startedDockerdPid: number|null, missing: {what: string, fix: string}[]}>}
 */
export async function ensureSystem({ install = true, log = console.log } = {}) {
  const canInstall = install && isRoot() && isDebian();
  const want = [];
  if (!findChromium()) want.push('chromium');
  if (!has('dockerd') || !has('docker')) want.push('docker.io');
  if (!fs.existsSync('/bin/busybox') && !has('busybox')) want.push('busybox-static');
  // The fleet's Docker tests make TLS certificates for a private engine on tcp:// (testkit/tlsCerts.ts).
  if (!has('openssl')) want.push('openssl');
  // The ssh:// target test (relay/control/dockerSsh.docker.test.ts) runs its own sshd on loopback.
  if (!findSshd()) want.push('openssh-server');
  if (want.length && canInstall) {
    if (want.includes('openssh-server')) keepSystemSshdOff(log);
    aptInstall(want, log);
  }

  let startedDockerdPid = null;
  if (has('dockerd') && !dockerAnswers() && canInstall) startedDockerdPid = await startDockerd(log);

  const chromium = findChromium();
  const docker = dockerAnswers();
  const busybox = fs.existsSync('/bin/busybox') || has('busybox');
  const missing = [];
  if (!chromium) missing.push({ what: 'chromium', fix: 'sudo apt-get install -y chromium (or set CHROMIUM_PATH)' });
  if (!docker)
    missing.push({
      what: 'docker engine',
      fix: has('dockerd') ? 'sudo dockerd --iptables=false --bridge=none &' : 'sudo apt-get install -y docker.io && sudo dockerd --iptables=false --bridge=none &',
    });
  if (!busybox) missing.push({ what: 'busybox-static', fix: 'sudo apt-get install -y busybox-static' });
  if (!has('openssl')) missing.push({ what: 'openssl', fix: 'sudo apt-get install -y openssl' });
  if (!findSshd()) missing.push({ what: 'openssh-server', fix: 'sudo mkdir -p /etc/ssh && sudo touch /etc/ssh/sshd_not_to_be_run && sudo apt-get install -y --no-install-recommends openssh-server' });
  return { chromium, docker, busybox, startedDockerdPid, missing };
}

if (process.argv[1] && import.meta.url === `file://${path.resolve(process.argv[1])}`) {
  // Stand-alone use: install and start what is missing, print the result as JSON.
  // With --stop-dockerd PID, stop a dockerd an earlier call started.
  const i = process.argv.indexOf('--stop-dockerd');
  if (i > 0) {
    await stopDockerd(Number(process.argv[i + 1]));
  } else {
    const r = await ensureSystem({ log: (m) => console.error(m) });
    console.log(JSON.stringify(r));
    if (process.env.CI === 'true' && r.missing.length) process.exit(1);
  }
}
