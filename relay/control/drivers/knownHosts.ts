/**
 * OpenSSH known_hosts checking for `ssh://` Docker targets. docker-modem hands its options to ssh2, and
 * ssh2 accepts ANY host key unless given a `hostVerifier`: without this an attacker on the path could
 * pose as the engine and be handed every exec (prompts, session commands). The docker CLI gets this from
 * the system ssh; we read the same file. Supported: plain and hashed (`|1|salt|hash`) host patterns,
 * `[host]:port`, `*` / `?` wildcards, `!` negation, `@revoked`. `@cert-authority` lines are ignored (host
 * certificates are not supported): such a host must also have its plain key listed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

/** known_hosts files larger than this are refused (a real one is a few KiB). */
export const MAX_KNOWN_HOSTS_BYTES = 4 * 1024 * 1024;

export interface KnownHostsVerdict {
  ok: boolean;
  /** Why not, in words for the error a user sees (never the key itself). */
  reason: string;
}

function globMatch(pattern: string, s: string): boolean {
  if (pattern.length > 255) return false;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(s);
}

function hashedMatch(entry: string, name: string): boolean {
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = crypto.createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

/** Whether a known_hosts host field (comma-separated patterns) names `host` on `port`. */
export function hostFieldMatches(field: string, host: string, port: number): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  let matched = false;
  for (const pat of field.split(',')) {
    if (pat.startsWith('|')) {
      if (hashedMatch(pat, name)) matched = true;
      continue;
    }
    const negated = pat.startsWith('!');
    const p = negated ? pat.slice(1) : pat;
    if (globMatch(p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * Judges a host key (the raw SSH wire blob ssh2 passes to hostVerifier) against known_hosts text. A key
 * listed for the host is accepted; a key marked @revoked for it is refused even if also listed.
 */
export function checkKnownHosts(text: string, host: string, port: number, key: Buffer): KnownHostsVerdict {
  const keyB64 = key.toString('base64');
  let listed = false;
  let hostKnown = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: string | null = null;
    if (fields[0]!.startsWith('@')) marker = fields.shift()!;
    if (fields.length < 3) continue;
    const [hosts, , b64] = fields as [string, string, string];
    if (!hostFieldMatches(hosts, host, port)) continue;
    if (marker === '@cert-authority') continue;
    if (marker === '@revoked') {
      if (b64 === keyB64) return { ok: false, reason: `the host key of ${host}:${port} is marked @revoked in known_hosts` };
      continue;
    }
    if (marker !== null) continue;
    hostKnown = true;
    if (b64 === keyB64) listed = true;
  }
  if (listed) return { ok: true, reason: '' };
  if (hostKnown) return { ok: false, reason: `the host key of ${host}:${port} does NOT match known_hosts (a changed host or someone in between); check it and update known_hosts` };
  return { ok: false, reason: `${host}:${port} is not in known_hosts; connect once with ssh -p ${port} <user>@${host} to check and add its key` };
}

/** Reads a known_hosts file (bounded). A missing file reads as empty: every host is then unknown. */
export function readKnownHosts(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return '';
  }
  if (!st.isFile()) throw new Error(`known_hosts ${file} is not a regular file`);
  if (st.size > MAX_KNOWN_HOSTS_BYTES) throw new Error(`known_hosts ${file} is larger than ${MAX_KNOWN_HOSTS_BYTES} bytes`);
  return fs.readFileSync(file, 'utf8');
}
