/**
 * Loads something from the relay now and every `ms` while the calling panel is shown (the console's
 * file list and tasks change as a swarm works). One request at a time: a slow answer is not overtaken by
 * the next poll, and unmounting cancels the one in flight. The last good answer stays shown when a later
 * poll fails; the error says so beside it.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { RestError } from '../net/rest.js';

export interface Polled<T> {
  data: T | null;
  /** The last poll's failure, or null after a success. */
  error: { message: string; code: string } | null;
  /** Loads again now. */
  reload(): void;
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, ms: number, key: string): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<Polled<T>['error']>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setData(null);
    setError(null);
  }, [key]);
  useEffect(() => {
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = async () => {
      try {
        const d = await loadRef.current(ctrl.signal);
        if (ctrl.signal.aborted) return;
        setData(d);
        setError(null);
      } catch (e) {
        if (ctrl.signal.aborted) return;
        setError(e instanceof RestError ? { message: e.message, code: e.code } : { message: String(e), code: 'internal' });
      }
      if (!ctrl.signal.aborted) timer = setTimeout(() => void run(), ms);
    };
    void run();
    return () => {
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [key, ms, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}
