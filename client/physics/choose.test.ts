// Backend choice outside a browser: only the CPU can run, a forced GPU backend falls back to the trial,
// and the query parameter parser accepts only the three names.
import { describe, expect, it } from 'vitest';
import { choosePhysicsBackend, parsePhysicsParam } from './choose.js';

describe('choosePhysicsBackend', () => {
  it('parses ?physics= strictly', () => {
    expect(parsePhysicsParam('?physics=webgpu')).toBe('webgpu');
    expect(parsePhysicsParam('?a=1&physics=webgl')).toBe('webgl');
    expect(parsePhysicsParam('physics=cpu')).toBe('cpu');
    for (const bad of ['', undefined, '?physics=', '?physics=WEBGL', '?physics=<script>alert(1)</script>', '?physics=cpu%00', '?physics=' + 'x'.repeat(10000)]) {
      expect(parsePhysicsParam(bad)).toBeNull();
    }
  });

  it('measures what can run and picks the fastest (only the CPU here)', async () => {
    const c = await choosePhysicsBackend({ nodes: 300, steps: 2 });
    expect(c.backend).toBe('cpu');
    expect(c.forced).toBe(false);
    expect(c.scores.cpu).toBeGreaterThan(0);
    expect(c.scores.webgpu).toBeNull();
    expect(c.scores.webgl).toBeNull();
    expect(c.trialNodes).toBe(300);
  });

  it('a forced backend that cannot start falls back to the measured choice and says so', async () => {
    const c = await choosePhysicsBackend({ search: '?physics=webgpu', nodes: 100, steps: 1 });
    expect(c.backend).toBe('cpu');
    expect(c.forced).toBe(false);
    expect(c.reason).toContain('physics=webgpu unavailable');
    const f = await choosePhysicsBackend({ force: 'cpu', nodes: 100 });
    expect(f).toMatchObject({ backend: 'cpu', forced: true });
  });
});
