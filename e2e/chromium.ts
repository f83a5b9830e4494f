/**
 * Debian's Chromium for every browser run (tests and benches): Playwright cannot download browsers here.
 * As root it needs --no-sandbox; the background-networking flags stop it from calling closed hosts;
 * SwiftShader makes WebGL and WebGPU deterministic (and slow: GPU speed is measured on a real GPU only).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
];

export const chromiumPath = (): string => process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
