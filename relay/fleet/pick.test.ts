// The pick policy for a spawn without `target` (issue 14): the healthy target with the fewest running
// sessions; reproducible ties; a clear refusal naming every target's state when none is healthy.
import { describe, expect, it } from 'vitest';
import { pickTarget, type PickCandidate } from './pick.js';

const t = (name: string, o: Partial<PickCandidate> = {}): PickCandidate => ({ name, source: 'config', order: 0, control: 'healthy', telemetry: 'connected', runningSessions: 0, ...o });

describe('pickTarget', () => {
  it('takes the healthy target with the fewest running sessions', () => {
    const r = pickTarget([t('a', { order: 0, runningSessions: 3 }), t('b', { order: 1, runningSessions: 1 }), t('c', { order: 2, runningSessions: 2 })]);
    expect(r).toEqual({ ok: true, name: 'b', reason: 'fewest running sessions (1) among 3 healthy targets' });
  });

  it('passes over a target that is not healthy, however idle', () => {
    const cands = [t('idle-down', { runningSessions: 0, control: 'unavailable' }), t('idle-blind', { runningSessions: 0, telemetry: 'reconnecting' }), t('idle-degraded', { control: 'degraded' }), t('busy', { runningSessions: 9 })];
    expect(pickTarget(cands)).toMatchObject({ ok: true, name: 'busy', reason: expect.stringContaining('among 1 healthy target') });
  });

  it('breaks ties: configured before discovered, then HIVE_TARGETS order, then name', () => {
    expect(pickTarget([t('z', { source: 'label', order: 0 }), t('y', { source: 'config', order: 5 })])).toMatchObject({ name: 'y' });
    expect(pickTarget([t('b', { order: 2 }), t('a', { order: 1 })])).toMatchObject({ name: 'a' });
    expect(pickTarget([t('b', { order: 1 }), t('a', { order: 1 })])).toMatchObject({ name: 'a' });
    // The input order does not matter.
    const cands = [t('q', { order: 3, runningSessions: 1 }), t('p', { order: 4, runningSessions: 1 }), t('r', { order: 2, runningSessions: 1 })];
    expect(pickTarget(cands)).toMatchObject({ name: 'r' });
    expect(pickTarget([...cands].reverse())).toMatchObject({ name: 'r' });
  });

  it('refuses when none is healthy, naming each target and its state', () => {
    const r = pickTarget([t('gpu', { control: 'unavailable', telemetry: 'disconnected' }), t('lap', { telemetry: 'reconnecting' })]);
    expect(r).toEqual({ ok: false, reason: 'no healthy target (gpu: control unavailable, telemetry disconnected; lap: control healthy, telemetry reconnecting)' });
    expect(pickTarget([])).toEqual({ ok: false, reason: 'no targets are configured' });
    const many = Array.from({ length: 25 }, (_, i) => t(`t${i}`, { control: 'unavailable' }));
    expect((pickTarget(many) as { reason: string }).reason).toMatch(/; and 5 more\)$/);
  });
});
