/**
 * Vite config for the browser app (index.html -> client/main.tsx), built to build/client, which the relay
 * serves. `npm run dev` proxies the relay's HTTP API and WebSocket (HIVESCOPE_RELAY, default
 * http://127.0.0.1:3000) so the dev server and the relay look like one origin to the page.
 */
import { defineConfig } from 'vite';

const relay = process.env.HIVESCOPE_RELAY ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: '.',
  publicDir: 'public',
  // No React plugin is installed: Vite 8 transforms TSX with oxc; the automatic runtime imports
  // react/jsx-runtime itself. Hot reload is full-page (no fast refresh without the plugin).
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'build/client',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  // The IWER emulator's dev UI (loaded only with ?xr=emulate) pins an older three; two copies in one
  // page make one renderer meet the other's materials ("onBuild is not a function"). One three for all.
  resolve: { dedupe: ['three'] },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: relay, changeOrigin: true },
      '/health': { target: relay, changeOrigin: true },
      '/wss': { target: relay.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
    },
  },
  preview: { host: '127.0.0.1' },
});
