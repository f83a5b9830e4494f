/**
 * The fault suite (issue 7), bounded: the scenarios in relay/testing/faultScenarios.ts (real relays, the
 * kit's real engine and session manager, real sockets) with the issue's requirements asserted on the
 * figures they return. Each test prints one `FAULT <name> key=value ...` line to stdout; bench/faults.bench.ts
 * runs the same scenarios for the benchmark report.
 *
 * a. The engine killed with SIGKILL: browsers stay connected and are told (health `mcp-down`); telemetry
 *    is connected again within 5 s of the restarted engine listening.
 * b. The relay killed with SIGKILL and restarted on the same state dir: every session listed with the
 *    same uuid -> swarm id, and a browser resuming from its event cursor gets no gap and no duplicate.
 * c. A browser that stops reading while 2k-agent frames stream at 20 Hz: its buffer stays bounded and
 *    another browser keeps at least half the frame rate it had without the stalled one (same run).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FaultResources, missingKit } from '../testkit/faults/resources.js';
import { ENGINE_RECONNECT_LIMIT_MS, engineSigkill } from '../testkit/faults/engineSigkill.js';
import { relaySigkill } from '../testkit/faults/relaySigkill.js';
import { STALLED_MIN_FPS_RATIO, stalledBrowser } from '../testkit/faults/stalledBrowser.js';

function figure(name: string, values: Record<string, number | string | null>): void {
  const line = `FAULT ${name} ${Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 100) / 100 : v}`)
    .join(' ')}`;
  process.stdout.write(line + '\n');
}

// Each scenario stops what it started; this catches what a timed-out test left running.
const resources = new FaultResources();
afterAll(() => resources.dispose(), 30_000);

describe.skipIf(missingKit().length > 0)('faults', () => {
  it('a: engine killed with SIGKILL: browsers stay connected and see the outage; telemetry back within 5 s of the engine listening', async () => {
    // Waits a little past the limit, so a miss fails on the figure rather than on a timeout.
    const f = await engineSigkill({ resources, reconnectWaitMs: ENGINE_RECONNECT_LIMIT_MS + 1000 });
    figure('engine-sigkill', {
      reconnect_ms: f.reconnectMs,
      outage_shown_ms: f.outageShownMs,
      outage_total_ms: f.outageTotalMs,
      engine_restart_ms: f.engineRestartMs,
      ws_disconnects: f.wsDisconnects,
    });
    // Goal (issue 7): telemetry connected again, shown to the browser, within 5 s of the engine listening.
    expect(f.reconnectMs).not.toBeNull();
    expect(f.reconnectMs!).toBeLessThanOrEqual(ENGINE_RECONNECT_LIMIT_MS);
    expect(f.wsDisconnects).toBe(0);
    expect(f.clientsAfter).toBe(1);
  }, 45_000);

  it('b: relay killed with SIGKILL and restarted: sessions and uuid -> swarm ids intact, events resume with no gap and no duplicate', async () => {
    const f = await relaySigkill({ resources, sessions: 3 });
    figure('relay-sigkill', {
      sessions: f.sessions,
      sessions_intact: f.sessionsIntact,
      restart_to_listening_ms: f.restartToListeningMs,
      restart_to_sessions_ms: f.restartToSessionsMs,
      missed_before_kill: f.lastPersisted - f.cursor,
      replayed_events: f.replayed,
      gap: String(f.anyGap),
      duplicates: f.duplicates,
      missing: f.missing,
    });
    // Every session is listed again with the same swarm id.
    expect(f.before.size).toBe(f.sessions);
    for (const [uuid, swarmId] of f.before) expect(f.after.get(uuid)).toBe(swarmId);
    expect(f.firstResume).toEqual({ replay: true, gap: false });
    // No duplicate: everything after the cursor. No gap: it continues at exactly cursor + 1, contiguously.
    expect(f.seqs[0]).toBe(f.cursor + 1);
    for (let i = 1; i < f.seqs.length; i++) expect(f.seqs[i]).toBe(f.seqs[i - 1]! + 1);
    expect(f.anyGap).toBe(false);
    expect(f.duplicates).toBe(0);
    // Every event written before the kill and after the cursor came back (and then the new run's).
    expect(f.seqs.at(-1)!).toBeGreaterThanOrEqual(f.lastPersisted);
    expect(f.missing).toBe(0);
  }, 120_000);

  it('c: a browser that stops reading stays bounded; another keeps at least half its frame rate', async () => {
    const f = await stalledBrowser({ resources });
    figure('stalled-browser', {
      healthy_fps_alone: f.fpsAlone,
      healthy_fps_with_stalled: f.fpsWithStalled,
      ratio: f.fpsAlone > 0 ? f.fpsWithStalled / f.fpsAlone : 0,
      stalled_buffered_max_bytes: f.maxBufferedBytes,
      buffer_bound_bytes: f.boundBytes,
      frames_dropped: f.framesDropped,
      rss_growth_mb: f.rssGrowthMb,
    });
    expect(f.agentsInSnapshot).toBe(2000);
    expect(f.maxBufferedBytes).toBeLessThanOrEqual(f.boundBytes);
    expect(f.fpsWithStalled).toBeGreaterThanOrEqual(STALLED_MIN_FPS_RATIO * f.fpsAlone);
    expect(f.healthyClosed).toBe(false);
    expect(f.stalledDestroyed).toBe(false);
    expect(f.clientsAfter).toBe(3);
  }, 90_000);
});
