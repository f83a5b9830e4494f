/**
 * Browser entry: creates the services (store, connection, physics), publishes page state on <body>
 * data attributes, wires the browser's visibility/online hints into the reconnect machine, chooses the
 * physics backend, connects, and renders the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createXRStore } from '@react-three/xr';
import { createServices } from './services.js';
import { bindPageAttributes } from './page/attributes.js';
import { startPhysics } from './scene/startPhysics.js';
import { HiveProvider } from './state/react.js';
import { ServicesProvider } from './page/context.js';
import { App } from './App.js';
import { installTestHooks } from './xr/testHooks.js';

interface EmulatorDevice {
  installRuntime?(o: { forceInstall: boolean }): void;
  installDevUI?(ctor: new (device: unknown) => unknown): void;
}

/**
 * An IWER dev UI that draws nothing and leaves the emulated poses to whoever sets them. IWER appends its
 * canvas and container beside the app's canvas in its centred flex row: left displayed, the empty 300 px
 * canvas pushed the headset view 180 px right, partly off the page.
 */
class HeadlessDevUI {
  readonly version = 'headless';
  readonly devUICanvas = hidden(document.createElement('canvas'));
  readonly devUIContainer = hidden(document.createElement('div'));
  render(): void {}
}

function hidden<T extends HTMLElement>(el: T): T {
  el.style.display = 'none';
  return el;
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const services = createServices(window.location, safeStorage());
const { store, connection } = services;
bindPageAttributes(store, document.body);

// Controller and hand models (and controller layouts) come from the WebXR input-profiles CDN. The
// emulated headset (tests, offline machines) uses the minimal local layout in public/xr-profiles/ and
// draws rays without models.
const emulate = services.options.xrEmulate;
// The IWER emulator is only installed on request; otherwise @react-three/xr would inject it on localhost.
const xrStore = createXRStore({
  emulate: emulate ? { type: 'metaQuest3', inject: true, syntheticEnvironment: false } : false,
  ...(emulate ? { baseAssetPath: new URL('/xr-profiles/', window.location.href).href } : {}),
  // Pointer rays on controllers, touch pointers on hands: both select agents through onClick.
  controller: { rayPointer: true, model: !emulate },
  hand: { touchPointer: true, rayPointer: true, model: !emulate },
  offerSession: false,
});

if (emulate) {
  // Headless Chromium exposes a native navigator.xr with no devices, so IWER declines to replace it;
  // with ?xr=emulate we want the emulated headset regardless. Its dev UI drives the controllers from its
  // own widgets every frame; tests drive them programmatically, so it is replaced by a headless one
  // unless ?devui=1 asks for it.
  const keepDevUi = new URLSearchParams(window.location.search).get('devui') === '1';
  const unsub = xrStore.subscribe((s) => {
    const emulator = s.emulator as unknown as EmulatorDevice | undefined;
    if (!emulator) return;
    unsub();
    if (!keepDevUi) emulator.installDevUI?.(HeadlessDevUI);
    void navigator.xr?.isSessionSupported('immersive-vr').then((ok) => {
      if (!ok) emulator.installRuntime?.({ forceInstall: true });
    });
  });
}
if (services.options.testHooks) installTestHooks(services, xrStore);

document.addEventListener('visibilitychange', () => connection.setVisible(document.visibilityState !== 'hidden'));
window.addEventListener('online', () => connection.setOnline(true));
window.addEventListener('offline', () => connection.setOnline(false));
window.addEventListener('pagehide', () => connection.stop());
// Coming back from the back/forward cache: the socket was closed on pagehide, so connect again.
window.addEventListener('pageshow', (e) => {
  if (e.persisted) connection.retryNow();
});

// Physics starts on the CPU at once; the measured backend choice finishes in the background.
void startPhysics({
  store,
  layout: services.layout,
  followOnly: services.options.followOnly,
  search: window.location.search,
  onChosen: (score) => {
    services.physicsScore = score;
    connection.resendHello();
  },
});
connection.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <HiveProvider store={store}>
      <ServicesProvider services={services}>
        <App xrStore={xrStore} />
      </ServicesProvider>
    </HiveProvider>
  </StrictMode>,
);
