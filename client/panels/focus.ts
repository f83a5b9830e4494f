/**
 * Keyboard focus for panels that appear and disappear: a modal keeps Tab inside itself (WAI-ARIA dialog
 * pattern), and a panel that closes hands focus back to whatever opened it, so a keyboard user is not
 * dropped at the top of the page each time a dialog or the agent detail closes.
 */
import { useLayoutEffect, useRef, type KeyboardEvent } from 'react';

const FOCUSABLE = 'a[href], button:not(:disabled), input:not(:disabled):not([type="hidden"]), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

/**
 * Where Tab (or Shift+Tab) from focusable `index` of `count` must go to stay inside a modal, or null
 * when the browser's own move already stays inside (focus is not at either end). An index of -1
 * (focus on the container itself or outside the list) enters at the first or last element.
 */
export function wrapTabIndex(index: number, count: number, backwards: boolean): number | null {
  if (count === 0) return null;
  if (index < 0) return backwards ? count - 1 : 0;
  if (backwards && index === 0) return count - 1;
  if (!backwards && index === count - 1) return 0;
  return null;
}

/** keydown handler for a modal's root element: Tab and Shift+Tab cycle through its controls only. */
export function containTab(e: KeyboardEvent<HTMLElement>): void {
  if (e.key !== 'Tab' || e.altKey || e.ctrlKey || e.metaKey) return;
  // Hidden and display:none controls cannot take focus; skip them or the wrap would stall.
  const items = [...e.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
  const target = wrapTabIndex(items.indexOf(document.activeElement as HTMLElement), items.length, e.shiftKey);
  if (target === null) return;
  e.preventDefault();
  items[target]!.focus();
}

/**
 * While `open`, remembers the element that had focus when it opened; when it closes and its own
 * controls took focus with them (focus fell back to <body>), focus returns there. A focus the user
 * moved elsewhere meanwhile is left alone. A layout effect, so it sees the opener before a child's
 * autofocus moves it, and its cleanup runs after React has removed the closed panel's elements.
 */
export function useReturnFocus(open: boolean): void {
  const opener = useRef<HTMLElement | null>(null);
  useLayoutEffect(() => {
    if (!open) return;
    opener.current = document.activeElement instanceof HTMLElement && document.activeElement !== document.body ? document.activeElement : null;
    return () => {
      const el = opener.current;
      opener.current = null;
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (el && lost && el.isConnected) el.focus();
    };
  }, [open]);
}
