/**
 * The composition root: creates the page's long-lived, non-React services once (the store, the WebSocket
 * connection, the REST client, the typed-array positions, the layout controller and the performance
 * history) from the URL's options (client/page/options.ts). Only main.tsx imports this file; it hands
 * the services down through React context (client/page/context.ts) and explicit arguments.
 */
import { createHiveStore } from './state/store.js';
import { loadSettings, saveSettings, type KeyValueStorage } from './state/settings.js';
import { PerformanceHistory } from './state/performance.js';
import { HiveConnection, websocketUrl } from './net/connection.js';
import { createRestClient } from './net/rest.js';
import { NodePositions } from './scene/positions.js';
import { LayoutController } from './scene/layout.js';
import { parsePageOptions } from './page/options.js';
import type { PageServices } from './page/context.js';

export interface HiveServices extends PageServices {
  /** Measured physics score (steps/s) sent in hello; null until measured (set by main.tsx). */
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
