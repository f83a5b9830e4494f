import { describe, expect, it } from 'vitest';
import { backendLabel } from './StatusBar.js';
import type { BackendInfo } from '../../shared/index.js';

const ops = (off: string[]) => Object.fromEntries(['spawn', 'list', 'stop', 'pause', 'resume', 'cleanup', 'reap', 'metrics'].map((o) => [o, !off.includes(o)])) as BackendInfo['operations'];

describe('status bar: which backend and version drive the container', () => {
  it('names the kind and the version the container printed, and what it cannot do', () => {
    const v3: BackendInfo = { kind: 'claude-flow-3', version: '3.43.0', operations: ops(['pause', 'resume', 'metrics']), limits: ['no per-agent CPU or memory (shown as unknown)'] };
    expect(backendLabel(v3)).toEqual({ text: 'claude-flow 3.43.0', detail: 'cannot: pause, resume, metrics; no per-agent CPU or memory (shown as unknown)' });
    expect(backendLabel({ kind: 'claude-flow-2', version: '2.7.47', operations: ops([]), limits: [] })).toEqual({ text: 'claude-flow 2.7.47', detail: undefined });
    expect(backendLabel({ kind: 'kit', version: '0.1.0', operations: ops([]), limits: [] }).text).toBe('hivescope kit 0.1.0');
  });

  it('an unknown version and no backend say so, never a guess', () => {
    expect(backendLabel({ kind: 'claude-flow-3', version: null, operations: ops([]), limits: [] }).text).toBe('claude-flow 3.x (version unknown)');
    expect(backendLabel(null)).toEqual({ text: 'none detected', detail: undefined });
    expect(backendLabel(undefined).text).toBe('none detected');
  });
});
