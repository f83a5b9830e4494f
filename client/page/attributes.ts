/**
 * Publishes the page's state on <body> data attributes for tests and tools (documented in docs/client.md):
 *   data-ready            "true" once the socket is open and this connection's first snapshot is applied
 *   data-connection       the reconnect state machine's state (idle|connecting|open|reconnecting|offline|closed)
 *   data-agent-count      agents drawn (mock agents excluded unless shown)
 *   data-physics-backend  webgpu|webgl|cpu|none (none: following the relay's layout, or not chosen yet)
 *   data-selected-agent   id of the selected agent, or ""
 *   data-session-count    sessions known to the relay
 *   data-degraded         space-separated degraded-mode codes from the relay's health, or ""
 *   data-xr               "true" while an XR session runs
 *   data-xr-card          id of the agent whose in-scene XR card is showing, or ""
 *   data-console          uuid of the session whose console is open, or ""
 */
import { visibleAgentCount, type HiveState, type HiveStore } from '../state/store.js';

export interface AttributeTarget {
  setAttribute(name: string, value: string): void;
}

export function pageAttributes(s: HiveState): Record<string, string> {
  return {
    'data-ready': String(s.connection === 'open' && s.snapshotApplied),
    'data-connection': s.connection,
    'data-agent-count': String(visibleAgentCount(s.agents, s.settings.rendering.showMock)),
    'data-physics-backend': s.physicsBackend,
    'data-selected-agent': s.selectedAgentId ?? '',
    'data-session-count': String(s.sessions.size),
    'data-degraded': (s.health?.degraded ?? []).map((d) => d.code).join(' '),
    'data-xr': String(s.inXR),
    'data-xr-card': s.xrCardAgentId ?? '',
    'data-console': s.consoleSession ?? '',
  };
}

/** Keeps `target`'s attributes in step with the store; returns the unsubscribe function. */
export function bindPageAttributes(store: HiveStore, target: AttributeTarget): () => void {
  let last: Record<string, string> = {};
  const write = (s: HiveState) => {
    const next = pageAttributes(s);
    for (const [k, v] of Object.entries(next)) if (last[k] !== v) target.setAttribute(k, v);
    last = next;
  };
  write(store.getState());
  return store.subscribe(write);
}
