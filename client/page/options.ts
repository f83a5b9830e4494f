/**
 * The page's options, read once from the URL:
 *   ?token=...        relay token (WebSocket query and REST Bearer header)
 *   ?follow=1         never lead the layout (also implied while in XR)
 *   ?physics=webgpu|webgl|cpu   force a physics backend instead of the start-up trial
 *   ?xr=emulate       install the IWER emulated headset (end-to-end tests)
 *   ?hooks=1          expose window.__hivescope for tests (implied by ?xr=emulate)
 */

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
