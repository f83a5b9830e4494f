/** Short-lived messages (action results, relay errors); each dismissable, the newest 5 kept. */
import { useEffect } from 'react';
import { useHive, useHiveStore } from '../state/react.js';

/** Info notices disappear after this long; errors stay until dismissed. */
export const NOTICE_TTL_MS = 6000;

export function Notices() {
  const store = useHiveStore();
  const notices = useHive((s) => s.notices);
  useEffect(() => {
    const timers = notices.filter((n) => n.level === 'info').map((n) => setTimeout(() => store.getState().dismissNotice(n.id), NOTICE_TTL_MS));
    return () => timers.forEach(clearTimeout);
  }, [notices, store]);
  if (notices.length === 0) return null;
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.level}`} role={n.level === 'error' ? 'alert' : 'status'}>
          <span>{n.text}</span>
          <button type="button" aria-label="Dismiss" onClick={() => store.getState().dismissNotice(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
