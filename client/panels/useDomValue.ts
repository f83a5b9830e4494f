/**
 * For an input left uncontrolled (`defaultValue`) whose value can still change from outside it: Reset,
 * Import, a keyboard shortcut, the store. A controlled input on a busy page had React write its last
 * committed value back between two key presses (lost characters in a typed task, a slider that ended
 * one step off), so the fields people type or arrow into keep their own DOM value, and this hook copies
 * an outside change in, never while the field has focus: a value that changed then is the person's own.
 * A change skipped while focused is copied on blur.
 */
import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

export function useDomValue<T extends HTMLInputElement | HTMLTextAreaElement>(value: string): RefObject<T | null> {
  const ref = useRef<T | null>(null);
  const latest = useRef(value);
  latest.current = value;
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && el.value !== value && el.ownerDocument.activeElement !== el) el.value = value;
  }, [value]);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const onBlur = () => {
      if (el.value !== latest.current) el.value = latest.current;
    };
    el.addEventListener('blur', onBlur);
    return () => el.removeEventListener('blur', onBlur);
  }, []);
  return ref;
}
