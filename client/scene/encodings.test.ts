import { describe, expect, it } from 'vitest';
import {
  agentSize,
  shapeForStatus,
  colorForType,
  healthBand,
  healthColor,
  pulseHz,
  isWorking,
  topBusiest,
  edgeIsActive,
  edgeRadius,
  edgeWeight,
  particleCount,
  formatMetric,
  labelText,
  typeGroup,
  SIZE_MAX,
  SIZE_MIN,
} from './encodings.js';
import { DEFAULT_SETTINGS, LABEL_MODES, nextLabelMode } from '../state/settings.js';
import { AGENT_STATUSES, AGENT_TYPES, unknownAgent, type Agent } from '../../shared/index.js';

const colors = DEFAULT_SETTINGS.colors;
const a = (patch: Partial<Agent>): Agent => ({ ...unknownAgent('x', 1, 0), ...patch });

describe('agent size (upstream formula)', () => {
  it('is 1 when every metric is unknown: nothing is invented', () => {
    expect(agentSize(a({}))).toBe(1);
  });
  it('matches 1 + cpu/100*0.8 + workload*0.6 + activity*0.4 + min(tokenRate/50, 0.5)', () => {
    expect(agentSize(a({ cpuUsage: 50, workload: 0.5, activity: 0.5, tokenRate: 10 }))).toBeCloseTo(1 + 0.4 + 0.3 + 0.2 + 0.2);
  });
  it('is clamped to [0.5, 3] and caps the token term at 0.5', () => {
    expect(agentSize(a({ cpuUsage: 100, workload: 1, activity: 1, tokenRate: 1e9 }))).toBeLessThanOrEqual(SIZE_MAX);
    expect(agentSize(a({ tokenRate: 1e9 }))).toBeCloseTo(1.5);
    expect(agentSize(a({}))).toBeGreaterThanOrEqual(SIZE_MIN);
  });
});

describe('shape, colour, glow, pulse', () => {
  it('every status has a shape, and working differs from idle', () => {
    for (const s of AGENT_STATUSES) expect(shapeForStatus(s)).toBeTruthy();
    expect(shapeForStatus('busy')).not.toBe(shapeForStatus('idle'));
    expect(shapeForStatus('error')).not.toBe(shapeForStatus('idle'));
  });
  it('coordination types are gold, development green, unknown types fall back to operations', () => {
    expect(colorForType('queen', colors)).toBe(colors.coordination);
    expect(colorForType('coordinator', colors)).toBe(colors.coordination);
    expect(colorForType('coder', colors)).toBe(colors.development);
    expect(colorForType('<img onerror=x>', colors)).toBe(colors.operations);
    for (const t of AGENT_TYPES) expect(typeGroup(t)).toBeTruthy();
  });
  it('health bands go from green to red; unknown health is the neutral colour, labelled unknown', () => {
    expect(healthBand(100).label).toBe('excellent');
    expect(healthBand(95).label).toBe('excellent');
    expect(healthBand(80).label).toBe('good');
    expect(healthBand(10).label).toBe('critical');
    expect(healthBand(null)).toEqual({ color: null, label: 'unknown' });
    expect(healthColor(null, colors)).toBe(colors.unknown);
    expect(healthColor(Number.NaN, colors)).toBe(colors.unknown);
  });
  it('pulse is 0 for unknown or zero token rate and grows, bounded, with the rate', () => {
    expect(pulseHz(null)).toBe(0);
    expect(pulseHz(0)).toBe(0);
    expect(pulseHz(100)).toBeGreaterThan(pulseHz(10));
    expect(pulseHz(1e12)).toBeLessThanOrEqual(3);
  });
});

describe('running vs working', () => {
  it('an active-status agent with no activity and no task is not working', () => {
    expect(isWorking(a({ status: 'active' }))).toBe(false);
  });
  it('busy, an active task, or current activity count as work', () => {
    expect(isWorking(a({ status: 'busy' }))).toBe(true);
    expect(isWorking(a({ status: 'idle', tasksActive: 1 }))).toBe(true);
    expect(isWorking(a({ status: 'active', activity: 0.5 }))).toBe(true);
  });
  it('an idle agent is not working even with a trailing token rate or residual activity', () => {
    expect(isWorking(a({ status: 'idle', tokenRate: 3, activity: 0.5 }))).toBe(false);
  });
});

describe('labels go to the busiest agents only', () => {
  it('picks the top N by busyness, ignores agents with nothing reported', () => {
    const list = [a({ id: 'q', activity: 0.1 }), a({ id: 'w', activity: 0.9 }), a({ id: 'e' }), a({ id: 'r', tokenRate: 500 })];
    expect(topBusiest(list, 2)).toEqual(['r', 'w']);
    expect(topBusiest(list, 10)).not.toContain('e');
    expect(topBusiest(list, 0)).toEqual([]);
  });
});

describe('edges', () => {
  const now = 1_000_000;
  it('are active for 5 s after a message', () => {
    expect(edgeIsActive({ lastMessageTime: now - 4999 }, now, 5)).toBe(true);
    expect(edgeIsActive({ lastMessageTime: now - 5001 }, now, 5)).toBe(false);
    expect(edgeIsActive({ lastMessageTime: null }, now, 5)).toBe(false);
  });
  it('widen with traffic, bounded', () => {
    const thin = edgeRadius({ kind: 'message', messageCount: 1, dataVolume: 100 });
    const thick = edgeRadius({ kind: 'message', messageCount: 1000, dataVolume: 1e7 });
    expect(thick).toBeGreaterThan(thin);
    expect(edgeRadius({ kind: 'message', messageCount: 1e12, dataVolume: 1e15 })).toBeLessThanOrEqual(2);
  });
  it('hierarchy binds tighter than topology; particles grow with traffic up to 3', () => {
    expect(edgeWeight({ kind: 'hierarchy', messageCount: 0 })).toBeGreaterThan(edgeWeight({ kind: 'topology', messageCount: 0 }));
    expect(particleCount({ messageCount: 1 })).toBe(1);
    expect(particleCount({ messageCount: 1e6 })).toBe(3);
  });
});

describe('formatMetric', () => {
  it('says unknown for null and non-finite values, never 0', () => {
    expect(formatMetric(null, '%')).toBe('unknown');
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe('unknown');
    expect(formatMetric(0, '%')).toBe('0%');
    expect(formatMetric(0.42, 'ratio')).toBe('42%');
    expect(formatMetric(12.345, '/min')).toBe('12.3/min');
  });
});

describe('label modes', () => {
  const agent = a({ name: 'Coder 1', type: 'coder', status: 'busy', cpuUsage: 40, memoryUsage: null, tokens: 1200, tokenRate: 30, health: 90, currentTask: 'Parse the input', tasksCompleted: 3 });
  it('overview, performance, tasks, network and resources say different things; unknown stays unknown', () => {
    expect(labelText(agent, 'overview')).toBe('Coder 1\ncoder · working · cpu 40%');
    expect(labelText(agent, 'performance')).toContain('30/min tokens');
    expect(labelText(agent, 'tasks')).toContain('Parse the input');
    expect(labelText(agent, 'network', { messages: 12, bytes: 4096, links: 2 })).toContain('2 links · 12 msgs · 4 KiB');
    expect(labelText(agent, 'network')).toContain('no traffic seen');
    expect(labelText(agent, 'resources')).toContain('mem unknown');
  });
  it('cycles through every mode', () => {
    let m: (typeof LABEL_MODES)[number] = 'overview';
    const seen = new Set<string>();
    for (let i = 0; i < LABEL_MODES.length; i++) seen.add((m = nextLabelMode(m)));
    expect(seen.size).toBe(LABEL_MODES.length);
  });
});
