/**
 * Tabs as the WAI-ARIA Authoring Practices tabs pattern describes them (automatic activation): a
 * tablist of tabs, each tab naming the panel it controls, a roving tabindex so Tab enters the list once
 * (on the selected tab) and leaves it on the next Tab, and ArrowLeft/ArrowRight (wrapping), Home and
 * End moving focus and selection together. Every tab has a panel element in the DOM so aria-controls
 * always points at something; only the selected panel is shown and only it renders its content.
 */
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

/**
 * The tab a key moves to from tab `index` of `count`, or null when the key is not a tab-list key.
 * Arrows wrap around at both ends (APG: "If focus is on the last tab, moves focus to the first tab").
 */
export function tabKeyTarget(key: string, index: number, count: number): number | null {
  if (count <= 0) return null;
  switch (key) {
    case 'ArrowRight':
      return (index + 1) % count;
    case 'ArrowLeft':
      return (index - 1 + count) % count;
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** Element ids of a tab and its panel; both sides of aria-controls / aria-labelledby use these. */
export function tabIds(base: string, tab: string): { tab: string; panel: string } {
  return { tab: `${base}-tab-${tab}`, panel: `${base}-panel-${tab}` };
}

export interface TabSpec<T extends string> {
  id: T;
  label: string;
}

export function TabList<T extends string>(props: {
  /** Accessible name of the list (what the tabs choose between). */
  label: string;
  /** Prefix for element ids, unique in the page (React's useId). */
  idBase: string;
  tabs: readonly TabSpec<T>[];
  selected: T;
  onSelect: (tab: T) => void;
  className?: string;
  /** data-testid of each tab is `${testIdPrefix}${id}` (kept for the existing specs). */
  testIdPrefix?: string;
}) {
  const refs = useRef(new Map<T, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const target = tabKeyTarget(e.key, index, props.tabs.length);
    if (target === null) return;
    // Arrows would otherwise scroll the panel; Home/End the page.
    e.preventDefault();
    const next = props.tabs[target]!.id;
    props.onSelect(next);
    refs.current.get(next)?.focus();
  };
  return (
    // The list lays its tabs out in a row itself: it may sit inside another flex row (the control
    // panel puts its collapse button beside it, outside the list, since a tablist may hold only tabs).
    <div role="tablist" aria-label={props.label} aria-orientation="horizontal" className={props.className} style={{ display: 'flex', gap: 2 }}>
      {props.tabs.map((t, i) => {
        const ids = tabIds(props.idBase, t.id);
        const selected = t.id === props.selected;
        return (
          <button
            key={t.id}
            ref={(el) => {
              if (el) refs.current.set(t.id, el);
              else refs.current.delete(t.id);
            }}
            type="button"
            role="tab"
            id={ids.tab}
            aria-selected={selected}
            aria-controls={ids.panel}
            tabIndex={selected ? 0 : -1}
            onClick={() => props.onSelect(t.id)}
            onKeyDown={(e) => onKeyDown(e, i)}
            data-testid={props.testIdPrefix ? `${props.testIdPrefix}${t.id}` : undefined}
          >
            {t.label}
          </button>
        );
      })}
    </div>
  );
}

/**
 * One panel per tab. Hidden panels stay in the DOM (empty) so every tab's aria-controls resolves;
 * the panel is focusable (APG) because its first content is not always a control (the sessions list
 * can be plain text), so Tab from the tab always lands somewhere that shows what the tab chose.
 */
export function TabPanel(props: { idBase: string; tab: string; selected: boolean; hidden?: boolean; className?: string; children?: ReactNode }) {
  const ids = tabIds(props.idBase, props.tab);
  const shown = props.selected && !props.hidden;
  return (
    <div role="tabpanel" id={ids.panel} aria-labelledby={ids.tab} tabIndex={0} hidden={!shown} className={props.className} data-tab={props.tab}>
      {shown ? props.children : null}
    </div>
  );
}
