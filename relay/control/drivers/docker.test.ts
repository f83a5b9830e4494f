import { describe, expect, it } from 'vitest';
import { containerStatsFromEngine, dockerErrorToControl } from './docker.js';

describe('docker error kinds', () => {
  it('maps Engine API and socket failures to kinds a person can act on', () => {
    expect(dockerErrorToControl({ statusCode: 404, json: { message: 'No such container: x' } }, 'x').kind).toBe('container-not-running');
    expect(dockerErrorToControl({ statusCode: 409, json: { message: 'Container x is paused' } }, 'x')).toMatchObject({ kind: 'container-not-running', message: expect.stringContaining('paused') });
    for (const code of ['ECONNREFUSED', 'ENOENT', 'EACCES']) expect(dockerErrorToControl({ code, message: 'connect failed' }, 'x').kind).toBe('docker-unavailable');
    expect(dockerErrorToControl({ statusCode: 500, message: 'boom' }, 'x')).toMatchObject({ kind: 'command-failed', message: expect.stringContaining('500') });
  });
});

describe('container stats', () => {
  it('computes cpu percent from the deltas and memory without page cache', () => {
    const s = containerStatsFromEngine({
      cpu_stats: { cpu_usage: { total_usage: 2_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
      memory_stats: { usage: 100_000, stats: { inactive_file: 40_000 } },
    });
    expect(s).toEqual({ cpuPercent: 20, memoryBytes: 60_000 });
  });

  it('reports unknown as null, never a made-up number', () => {
    expect(containerStatsFromEngine({})).toEqual({ cpuPercent: null, memoryBytes: null });
    expect(containerStatsFromEngine({ cpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10 }, precpu_stats: { cpu_usage: { total_usage: 5 }, system_cpu_usage: 10 } }).cpuPercent).toBeNull();
  });
});
