// Pure parts of the stream: the event ring's resume rules, leader election, delta merging.
import { describe, expect, it } from 'vitest';
import { EventRing } from './eventRing.js';
import { electLeader, LEADER_SILENCE_MS, type LayoutCandidate } from './layout.js';
import { filterDelta } from './deltas.js';
import { ChangeSetAccumulator } from '../graph/changeSet.js';
import { unknownAgent } from '../../shared/model/index.js';

const ev = (message: string) => ({ time: 0, kind: 'log' as const, level: 'info' as const, message, agentId: null, swarmId: null, sessionUuid: null, progress: null });

describe('EventRing', () => {
  it('resumes after a cursor without gap or duplicate, and reports a gap past the ring', () => {
    const r = new EventRing(4, 100);
    for (let i = 0; i < 3; i++) r.push(ev(`e${i}`));
    expect(r.latest).toBe(102);
    expect(r.since(100)).toEqual({ events: [expect.objectContaining({ seq: 101 }), expect.objectContaining({ seq: 102 })], gap: false });
    expect(r.since(102)).toEqual({ events: [], gap: false });
    for (let i = 3; i < 8; i++) r.push(ev(`e${i}`));
    const old = r.since(100);
    expect(old.gap).toBe(true);
    expect(old.events.map((e) => e.seq)).toEqual([104, 105, 106, 107]);
    expect(r.since(103)).toMatchObject({ gap: false });
    expect(r.since(999).gap).toBe(true); // a cursor from another relay run
    expect(r.since(null).gap).toBe(false);
  });
});

describe('electLeader', () => {
  const c = (id: string, score: number | null, extra: Partial<LayoutCandidate> = {}): LayoutCandidate => ({ id, helloed: true, visible: true, followOnly: false, score, joinedAt: 0, lastUploadAt: 1000, silenced: false, ...extra });
  it('picks the best eligible client and keeps it against a marginally better one', () => {
    expect(electLeader([c('a', 10), c('b', 20)], null, 1000)).toBe('b');
    expect(electLeader([c('a', 100), c('b', 110)], 'a', 1000)).toBe('a');
    expect(electLeader([c('a', 100), c('b', 200)], 'a', 1000)).toBe('b');
    expect(electLeader([c('a', 100, { visible: false }), c('b', 1)], 'a', 1000)).toBe('b');
    expect(electLeader([c('a', 100, { followOnly: true })], null, 1000)).toBeNull();
    expect(electLeader([c('a', 100, { helloed: false })], null, 1000)).toBeNull();
  });
  it('replaces a silent leader when someone else can lead', () => {
    const a = c('a', 100, { lastUploadAt: 0 });
    expect(electLeader([a, c('b', 1)], 'a', LEADER_SILENCE_MS + 1)).toBe('b');
    expect(a.silenced).toBe(true);
    expect(electLeader([c('a', 100, { lastUploadAt: 0 })], 'a', LEADER_SILENCE_MS + 1)).toBe('a');
  });
});

describe('ChangeSetAccumulator', () => {
  it('merges by id: newest wins, removal cancels upsert and vice versa', () => {
    const acc = new ChangeSetAccumulator();
    const a1 = unknownAgent('a', 1, 0);
    const a2 = { ...a1, tokens: 5 };
    acc.add({ upserts: { agents: [a1] }, removals: {} });
    acc.add({ upserts: { agents: [a2] }, removals: {} });
    expect(acc.toDelta().upserts.agents).toEqual([a2]);
    acc.add({ upserts: {}, removals: { agents: ['a'] } });
    expect(acc.toDelta()).toEqual({ upserts: {}, removals: { agents: ['a'] } });
    acc.add({ upserts: { agents: [a1] }, removals: {} });
    expect(acc.toDelta()).toEqual({ upserts: { agents: [a1] }, removals: {} });
  });
  it('filters mock agents into removals for clients that hide them', () => {
    const m = { ...unknownAgent('m', 2, 0), mock: true };
    const d = filterDelta({ upserts: { agents: [m] }, removals: {} }, { swarmIds: null, includeMock: false }, () => true);
    expect(d).toEqual({ upserts: {}, removals: { agents: ['m'] } });
  });
});
