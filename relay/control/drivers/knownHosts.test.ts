// ssh:// targets: the engine's host key must be in known_hosts (ssh2 accepts any key otherwise). Golden
// lines made by OpenSSH's ssh-keygen (-H hashes the host names).
import { describe, expect, it } from 'vitest';
import { checkKnownHosts, hostFieldMatches } from './knownHosts.js';

const KEY_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHTHMaKWXQD9GMAd7ZPDWhRcpaFOWq7IvbDLn6eR38Rt';
const KEY = Buffer.from(KEY_B64, 'base64');
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'base64');
// `ssh-keygen -H` of "gpu.lan <key>" and "[gpu.lan]:2222 <key>".
const HASHED = [
  `|1|7V7wtz5ExVDBjh/hrKc8gcWV+Jo=|npEHzNYC6g2f1RUzUrTgy7F+ul0= ssh-ed25519 ${KEY_B64}`,
  `|1|YpV/auWfOOQCwW2jO7mG8hg61Kc=|F7onyz1TWzA4RTdtowm9DYbYlrE= ssh-ed25519 ${KEY_B64}`,
].join('\n');

describe('known_hosts', () => {
  it('accepts the listed key for a plain host name, and only on its port', () => {
    const text = `# comment\n\ngpu.lan,10.0.0.5 ssh-ed25519 ${KEY_B64} me@gpu\n`;
    expect(checkKnownHosts(text, 'gpu.lan', 22, KEY).ok).toBe(true);
    expect(checkKnownHosts(text, '10.0.0.5', 22, KEY).ok).toBe(true);
    expect(checkKnownHosts(text, 'gpu.lan', 2222, KEY)).toMatchObject({ ok: false, reason: expect.stringMatching(/not in known_hosts; connect once with ssh -p 2222/) });
    expect(checkKnownHosts(`[gpu.lan]:2222 ssh-ed25519 ${KEY_B64}`, 'gpu.lan', 2222, KEY).ok).toBe(true);
  });

  it('refuses a different key for a known host, saying it changed', () => {
    const v = checkKnownHosts(`gpu.lan ssh-ed25519 ${KEY_B64}`, 'gpu.lan', 22, OTHER);
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(/does NOT match known_hosts/);
    expect(v.reason).not.toContain(KEY_B64);
  });

  it('matches hashed host names made by ssh-keygen -H', () => {
    expect(checkKnownHosts(HASHED, 'gpu.lan', 22, KEY).ok).toBe(true);
    expect(checkKnownHosts(HASHED, 'gpu.lan', 2222, KEY).ok).toBe(true);
    expect(checkKnownHosts(HASHED, 'gpu.lan', 2223, KEY).ok).toBe(false);
    expect(checkKnownHosts(HASHED, 'gpu.lam', 22, KEY).ok).toBe(false);
  });

  it('honours wildcards, negation and @revoked; ignores @cert-authority', () => {
    expect(hostFieldMatches('*.lan', 'gpu.lan', 22)).toBe(true);
    expect(hostFieldMatches('gpu.la?', 'gpu.lan', 22)).toBe(true);
    expect(hostFieldMatches('*.lan,!gpu.lan', 'gpu.lan', 22)).toBe(false);
    expect(hostFieldMatches('gpu.lan', 'gpu_lan', 22)).toBe(false);
    expect(hostFieldMatches('gpu.lan', 'gpuXlan', 22)).toBe(false); // '.' is literal
    expect(checkKnownHosts(`*.lan ssh-ed25519 ${KEY_B64}\n@revoked gpu.lan ssh-ed25519 ${KEY_B64}`, 'gpu.lan', 22, KEY).reason).toMatch(/@revoked/);
    expect(checkKnownHosts(`@cert-authority *.lan ssh-ed25519 ${KEY_B64}`, 'gpu.lan', 22, KEY).ok).toBe(false);
  });

  it('survives garbage lines', () => {
    const junk = ['|1|x|y', '|1|', '@revoked', 'a b', '\u0000\u0001 x y', `${'*'.repeat(10_000)} ssh-ed25519 ${KEY_B64}`].join('\n');
    expect(checkKnownHosts(junk, 'gpu.lan', 22, KEY).ok).toBe(false);
    expect(checkKnownHosts('', 'gpu.lan', 22, KEY).ok).toBe(false);
  });
});
