/**
 * Small overlay with fps, physics step time, node count and backend. Refreshed twice a second by writing
 * textContent directly: these numbers change every frame and must not go through React state.
 */
import { useEffect, useRef } from 'react';
import { useHive, useHiveStore } from '../state/react.js';
import { useServices } from '../page/context.js';
import { currentFps } from './frameStats.js';

export function Overlay() {
  const show = useHive((s) => s.settings.rendering.showOverlay);
  const store = useHiveStore();
  const { positions, connection } = useServices();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!show) return;
    const update = () => {
      const el = ref.current;
      if (!el) return;
      const s = store.getState();
      const fps = currentFps(performance.now());
      const step = s.physicsStepMs;
      const role = s.layoutRole ?? 'no role';
      el.textContent =
        `${fps > 0 ? fps.toFixed(0) : 'idle'} fps · physics ${step === null ? '-' : `${step.toFixed(2)} ms`}` +
        ` · ${positions.count} nodes · ${s.physicsBackend} · ${role}` +
        (connection.stats.badFrames + connection.stats.badMessages > 0 ? ` · ${connection.stats.badFrames + connection.stats.badMessages} bad msgs` : '');
    };
    update();
    const t = setInterval(update, 500);
    return () => clearInterval(t);
  }, [show, store, positions, connection]);
  const choice = useHive((s) => s.physicsChoice);
  if (!show) return null;
  return <div ref={ref} className="overlay" aria-label="Render statistics" data-testid="overlay" title={choice ?? undefined} />;
}
