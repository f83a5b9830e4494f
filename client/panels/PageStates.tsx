/**
 * What the page says when there is nothing (or nothing current) to show: loading, reconnecting/offline
 * (the last known swarm stays visible underneath), stale telemetry, a protocol mismatch, and the empty
 * state with a way to spawn the first swarm.
 */
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { visibleAgentCount } from '../state/store.js';
import { formatAge, useNow } from './useNow.js';

/** Telemetry older than this is called stale, ms. */
export const STALE_AFTER_MS = 30_000;

export function PageStates() {
  const store = useHiveStore();
  const { connection: conn } = useServices();
  const connection = useHive((s) => s.connection);
  const snapshot = useHive((s) => s.snapshotApplied);
  const agents = useHive((s) => s.agents);
  const showMock = useHive((s) => s.settings.rendering.showMock);
  const mismatch = useHive((s) => s.protocolMismatch);
  const reason = useHive((s) => s.lastCloseReason);
  const nextAt = useHive((s) => s.nextAttemptAt);
  const health = useHive((s) => s.health);
  const healthAt = useHive((s) => s.healthReceivedAt);
  const spawnNotice = useHive((s) => s.spawnNotice);
  const now = useNow(1000);
  const count = visibleAgentCount(agents, showMock);

  if (mismatch) {
    return (
      <div className="page-state" role="alert" data-state="protocol-mismatch">
        <h2>Version mismatch</h2>
        <p>{mismatch}</p>
      </div>
    );
  }
  if ((connection === 'idle' || connection === 'connecting') && !snapshot && count === 0) {
    return (
      <div className="page-state" role="status" data-state="loading">
        <h2>Connecting to the relay…</h2>
        <p>Waiting for the first snapshot of the swarm.</p>
      </div>
    );
  }
  if (connection === 'reconnecting' || connection === 'offline' || connection === 'closed') {
    const wait = nextAt !== null ? Math.max(0, Math.ceil((nextAt - now) / 1000)) : null;
    return (
      <div className="page-state compact" role="alert" data-state={connection}>
        <strong>{connection === 'offline' ? 'Your browser is offline.' : connection === 'closed' ? 'Disconnected.' : 'Connection to the relay lost.'}</strong>{' '}
        {count > 0 ? 'Showing the last known state; it is not updating. ' : ''}
        {connection === 'reconnecting' && wait !== null ? `Retrying in ${wait} s` : ''}
        {reason ? <span className="muted"> ({reason})</span> : null}{' '}
        {connection !== 'offline' && (
          <button type="button" onClick={() => conn.retryNow()}>
            Retry now
          </button>
        )}
      </div>
    );
  }
  const teleAge = health?.telemetry.ageMs != null && healthAt !== null ? health.telemetry.ageMs + (now - healthAt) : null;
  const stale = connection === 'open' && snapshot && count > 0 && teleAge !== null && teleAge > STALE_AFTER_MS;
  if (stale) {
    return (
      <div className="page-state compact warn" role="status" data-state="stale">
        <strong>Telemetry is stale:</strong> the last update from the swarm is {formatAge(teleAge)} old. Agents show their last known values.
      </div>
    );
  }
  if (connection === 'open' && snapshot && count === 0 && !spawnNotice) {
    return (
      <div className="page-state" role="status" data-state="empty">
        <h2>No swarm is running</h2>
        <p>Spawn a hive-mind swarm to watch its agents work here.</p>
        <button type="button" className="primary" onClick={() => store.setState({ spawnOpen: true })}>
          Spawn a swarm
        </button>
      </div>
    );
  }
  return null;
}
