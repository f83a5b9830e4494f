/**
 * Enter VR / Enter AR buttons, shown only where the browser supports the session mode (or the IWER
 * emulator is installed with ?xr=emulate). Entering XR makes this page a layout follower.
 */
import { useEffect, useState } from 'react';
import type { XRStore } from '@react-three/xr';
import { useServices } from '../page/context.js';

function useSupported(mode: XRSessionMode, xrStore: XRStore): boolean {
  const [ok, setOk] = useState(false);
  useEffect(() => {
    let alive = true;
    const check = () => {
      const xr = (navigator as Navigator & { xr?: XRSystem }).xr;
      if (!xr) return;
      xr.isSessionSupported(mode)
        .then((v) => {
          if (alive && v) setOk(true);
        })
        .catch(() => undefined);
    };
    check();
    // An emulated runtime (and some browsers' device detection) appears asynchronously: check again
    // for a little while.
    let tries = 0;
    const timer = setInterval(() => {
      if (++tries > 30) clearInterval(timer);
      check();
    }, 1000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [mode, xrStore]);
  return ok;
}

export function XRButtons(props: { xrStore: XRStore }) {
  const vr = useSupported('immersive-vr', props.xrStore);
  const ar = useSupported('immersive-ar', props.xrStore);
  const { connection, store, options } = useServices();
  if (!vr && !ar) return null;
  const enter = async (mode: 'vr' | 'ar') => {
    try {
      connection.setFollowOnly(true);
      await (mode === 'vr' ? props.xrStore.enterVR() : props.xrStore.enterAR());
    } catch (e) {
      connection.setFollowOnly(options.followOnly);
      store.getState().notify('error', `Could not start ${mode.toUpperCase()}: ${(e as Error).message}`);
    }
  };
  return (
    <div className="xr-buttons">
      {vr && (
        <button type="button" onClick={() => void enter('vr')} data-testid="enter-vr">
          Enter VR
        </button>
      )}
      {ar && (
        <button type="button" onClick={() => void enter('ar')} data-testid="enter-ar">
          Enter AR
        </button>
      )}
    </div>
  );
}
