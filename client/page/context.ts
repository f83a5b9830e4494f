/**
 * The page's long-lived services as components see them, handed down through React context: the store,
 * the WebSocket connection, the REST client, the typed-array positions, the layout controller and the
 * performance history. main.tsx creates them (client/services.ts, the composition root) and provides
 * them here; everything below imports this file, never the root, so layers point down. Per-frame data
 * (positions) stays in these objects, never in React state.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { HiveStore } from '../state/store.js';
import type { PerformanceHistory } from '../state/performance.js';
import type { HiveConnection } from '../net/connection.js';
import type { RestClient } from '../net/rest.js';
import type { NodePositions } from '../scene/positions.js';
import type { LayoutController } from '../scene/layout.js';
import type { PageOptions } from './options.js';

export interface PageServices {
  options: PageOptions;
  store: HiveStore;
  connection: HiveConnection;
  rest: RestClient;
  positions: NodePositions;
  layout: LayoutController;
  performance: PerformanceHistory;
}

const ServicesContext = createContext<PageServices | null>(null);

export function ServicesProvider(props: { services: PageServices; children: ReactNode }) {
  return createElement(ServicesContext.Provider, { value: props.services }, props.children);
}

export function useServices(): PageServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside <ServicesProvider>');
  return s;
}

export function usePerformanceHistory(): PerformanceHistory {
  return useServices().performance;
}
