/**
 * Test-only: TLS certificates for a Docker engine on tcp://127.0.0.1, made in the test with the openssl
 * CLI (node:crypto cannot issue X.509 certificates). Laid out as Docker wants them: the daemon's
 * ca.pem / server-cert.pem / server-key.pem, and a client folder in DOCKER_CERT_PATH form (ca.pem,
 * cert.pem, key.pem). EC P-256 keys: a few milliseconds each. Valid for two days, which no test outlives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findOnPath, runCommand } from './processes.js';

export interface DockerTlsCerts {
  /** The daemon's files (--tlscacert, --tlscert, --tlskey). */
  server: { ca: string; cert: string; key: string };
  /** The CA that signed both (certificate and key files), for tests that make more clients. */
  ca: { cert: string; key: string };
  /** A DOCKER_CERT_PATH-style folder with a client certificate the daemon trusts. */
  clientDir: string;
}

/** Why certificates cannot be made here (a sentence with the fix), or null. */
export function tlsCertsUnavailableReason(): string | null {
  return findOnPath('openssl') ? null : 'openssl is not installed (sudo apt-get install -y openssl, or node scripts/ensure-system.mjs)';
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand('openssl', args, { cwd, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().slice(0, 1000)}`);
}

async function key(file: string, cwd: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file], cwd);
}

/** A key and a certificate for `cn` that `ca` signs with the extensions in `ext`, into `dir`. */
async function signed(dir: string, ca: { cert: string; key: string }, name: string, cn: string, ext: string): Promise<{ cert: string; key: string }> {
  const keyFile = path.join(dir, `${name}-key.pem`);
  await key(keyFile, dir);
  await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  const certFile = path.join(dir, `${name}-cert.pem`);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now()), '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', certFile], dir);
  return { cert: certFile, key: keyFile };
}

/** A self-signed CA in `dir` (ca.pem, ca-key.pem). */
export async function makeCa(dir: string, cn = 'hivescope test CA'): Promise<{ cert: string; key: string }> {
  fs.mkdirSync(dir, { recursive: true });
  const keyFile = path.join(dir, 'ca-key.pem');
  await key(keyFile, dir);
  const cert = path.join(dir, 'ca.pem');
  await openssl(['req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert], dir);
  return { cert, key: keyFile };
}

/** A client folder (ca.pem, cert.pem, key.pem) whose certificate `ca` signed, trusting `trust` as the server's CA. */
export async function makeClientDir(dir: string, ca: { cert: string; key: string }, trust: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const c = await signed(dir, ca, 'client', 'hivescope-relay', 'extendedKeyUsage=clientAuth\n');
  fs.copyFileSync(trust, path.join(dir, 'ca.pem'));
  fs.renameSync(c.cert, path.join(dir, 'cert.pem'));
  fs.renameSync(c.key, path.join(dir, 'key.pem'));
  fs.chmodSync(path.join(dir, 'key.pem'), 0o600);
  return dir;
}

/** Certificates for a daemon on 127.0.0.1 (and localhost) and one client it trusts, under `dir`. */
export async function makeDockerTlsCerts(dir: string): Promise<DockerTlsCerts> {
  const caDir = path.join(dir, 'ca');
  const ca = await makeCa(caDir);
  const serverDir = path.join(dir, 'server');
  fs.mkdirSync(serverDir, { recursive: true });
  const server = await signed(serverDir, ca, 'server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const clientDir = await makeClientDir(path.join(dir, 'client'), ca, ca.cert);
  return { server: { ca: ca.cert, cert: server.cert, key: server.key }, ca, clientDir };
}
