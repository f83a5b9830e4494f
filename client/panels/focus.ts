/**
 * Keyboard focus for panels that appear and disappear: a modal keeps Tab inside itself (WAI-ARIA dialog
 * pattern), a panel that closes hands focus back to whatever opened it, and a live list keeps focus
 * when an update removes or reorders the focused item (KeepFocus), so a keyboard user is not dropped
 * at the top of the page each time a dialog closes or a swarm finishes.
 */
import { Component, useLayoutEffect, useRef, type KeyboardEvent, type ReactNode, type RefObject } from 'react';

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

/** Focus inside a live list as it was just before an update: the element and the list's other stops. */
export interface FocusSnapshot<T = HTMLElement> {
  active: T;
  /** The list's focusable elements after `active` in document order, nearest first. */
  after: T[];
  /** Those before it, nearest first. */
  before: T[];
}

/** Where focus should go once `snap.active` lost it: itself if still there (moved), the next stop, the previous one, then the list. */
export function focusCandidates<T>(snap: FocusSnapshot<T>, list: T | null): T[] {
  return [snap.active, ...snap.after, ...snap.before, ...(list ? [list] : [])];
}

function focusLost(): boolean {
  return document.activeElement === null || document.activeElement === document.body;
}

/**
 * Wraps a list that live updates change under the user (agents come and go, sessions reorder, the
 * activity log rolls over). React removes a row's elements, or moves them with insertBefore, and either
 * drops browser focus to <body>: Tab then starts again from the top of the page. Before each update
 * this notes the focused element inside `list` (getSnapshotBeforeUpdate sees the DOM before React
 * changes it); after it, if focus fell to <body>, focus goes back to that element when it was only
 * moved, else to the next item, the previous one, or the list itself (give it tabIndex -1 and a name).
 * Focus the user moved elsewhere is left alone.
 */
export class KeepFocus extends Component<{ list: RefObject<HTMLElement | null>; children: ReactNode }> {
  override getSnapshotBeforeUpdate(): FocusSnapshot | null {
    const list = this.props.list.current;
    const active = document.activeElement;
    if (!list || !(active instanceof HTMLElement) || !list.contains(active) || active === list) return null;
    const after: HTMLElement[] = [];
    const before: HTMLElement[] = [];
    // The focused element may be a stop or a row that took focus (tabIndex -1): place the stops by document order.
    for (const el of list.querySelectorAll<HTMLElement>(FOCUSABLE)) {
      if (el === active || active.contains(el)) continue;
      if (active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) after.push(el);
      else before.push(el);
    }
    return { active, after, before: before.reverse() };
  }

  override componentDidUpdate(_props: unknown, _state: unknown, snap: FocusSnapshot | null): void {
    if (!snap || !focusLost()) return;
    for (const el of focusCandidates(snap, this.props.list.current)) {
      if (!el.isConnected) continue;
      el.focus();
      if (document.activeElement === el) return;
    }
  }

  override render(): ReactNode {
    return this.props.children;
  }
}
