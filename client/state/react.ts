/**
 * Thin React binding for the vanilla store: components select one field each (`useHive((s) => s.x)`),
 * so a change re-renders only the components reading that field. The render loop must not use this:
 * it reads `useHiveStore().getState()` inside useFrame (R3F pitfalls: do not bind fast state reactively).
 * The other services (connection, positions, ...) come from client/page/context.ts.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { HiveState, HiveStore } from './store.js';

const StoreContext = createContext<HiveStore | null>(null);

export function HiveProvider(props: { store: HiveStore; children: ReactNode }) {
  return createElement(StoreContext.Provider, { value: props.store }, props.children);
}

export function useHiveStore(): HiveStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useHiveStore outside <HiveProvider>');
  return store;
}

export function useHive<T>(selector: (s: HiveState) => T): T {
  return useStore(useHiveStore(), selector);
}
