/**
 * The page's long-lived, non-React services, created once in main.tsx and handed to components through
 * context: the store, the WebSocket connection, the REST client, the typed-array positions, the layout
 * controller (physics) and the performance history. Page options come from the URL:
 *   ?token=...        relay token (WebSocket query and REST Bearer header)
 *   ?follow=1         never lead the layout (also implied while in XR)
 *   ?physics=webgpu|webgl|cpu   force a physics backend instead of the start-up trial
 *   ?xr=emulate       install the IWER emulated headset (end-to-end tests)
 *   ?hooks=1          expose window.__hivescope for tests (implied by ?xr=emulate)
 */
import { createHiveStore, type HiveStore } from './state/store.js';
import { loadSettings, saveSettings, type KeyValueStorage } from './state/settings.js';
import { PerformanceHistory } from './state/performance.js';
import { HiveConnection, websocketUrl } from './net/connection.js';
import { createRestClient, type RestClient } from './net/rest.js';
import { NodePositions } from './scene/positions.js';
import { LayoutController } from './scene/layout.js';

export interface PageOptions {
  token: string | null;
  followOnly: boolean;
  physics: 'webgpu' | 'webgl' | 'cpu' | null;
  xrEmulate: boolean;
  testHooks: boolean;
}

export function parsePageOptions(search: string): PageOptions {
  const q = new URLSearchParams(search);
  const physics = q.get('physics');
  const xrEmulate = q.get('xr') === 'emulate';
  return {
    token: q.get('token'),
    followOnly: q.get('follow') === '1' || q.get('follow') === 'true',
    physics: physics === 'webgpu' || physics === 'webgl' || physics === 'cpu' ? physics : null,
    xrEmulate,
    testHooks: xrEmulate || q.get('hooks') === '1',
  };
}

export interface HiveServices {
  options: PageOptions;
  store: HiveStore;
  connection: HiveConnection;
  rest: RestClient;
  positions: NodePositions;
  layout: LayoutController;
  performance: PerformanceHistory;
  /** Measured physics score (steps/s) sent in hello; null until measured. */
  physicsScore: number | null;
}

export function createServices(loc: { protocol: string; host: string; search: string }, storage: KeyValueStorage | null): HiveServices {
  const options = parsePageOptions(loc.search);
  const store = createHiveStore({ settings: loadSettings(storage) });
  // Settings persist locally on every change.
  store.subscribe((s, prev) => {
    if (s.settings !== prev.settings) saveSettings(storage, s.settings);
  });
  const positions = new NodePositions(256, 1);
  const performance = new PerformanceHistory();
  const services = {} as HiveServices;
  const connection = new HiveConnection({
    store,
    positions,
    performance,
    url: websocketUrl(loc),
    followOnly: options.followOnly,
    physics: () => ({ backend: store.getState().physicsBackend, score: services.physicsScore }),
    online: typeof navigator === 'undefined' ? true : navigator.onLine,
    visible: typeof document === 'undefined' ? true : document.visibilityState !== 'hidden',
  });
  const layout = new LayoutController(store, positions, {
    followOnly: options.followOnly,
    onUpload: (settled) => connection.maybeUploadPositions(settled),
  });
  // With frameloop "demand" a settled layout renders no frames, so nothing would tick the upload; the
  // relay replaces a silent leader. Keep uploading the settled layout at settledHz from a timer.
  setInterval(() => {
    if (layout.isSettled()) connection.maybeUploadPositions(true);
  }, 250);
  Object.assign(services, {
    options,
    store,
    connection,
    rest: createRestClient({ token: options.token }),
    positions,
    layout,
    performance,
    physicsScore: null,
  });
  return services;
}
