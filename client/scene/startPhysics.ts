/**
 * Installs the physics at start-up without holding the page back: the CPU core runs on the main thread
 * at once (so the first snapshot is laid out immediately), while client/physics's measured trial picks the
 * backend (`?physics=` forces one); the chosen engine then takes over from the current positions and
 * `onChosen` gets its score (steps/s), which main.tsx re-sends in the hello so the relay can elect a
 * layout leader. Pages that only follow (`?follow=1`) run no physics.
 */
import { choosePhysicsBackend, createLocalCpuEngine, createPhysicsEngine } from '../physics/index.js';
import type { HiveStore } from '../state/store.js';
import type { LayoutController } from './layout.js';
import { adaptPhysicsEngine } from './physicsAdapter.js';

/** Trial size and budget: short, so a slow software rasteriser costs seconds, not tens of seconds. */
export const PHYSICS_TRIAL_NODES = 1024;
export const PHYSICS_TRIAL_TIMEOUT_MS = 3000;

export interface StartPhysicsDeps {
  store: HiveStore;
  layout: LayoutController;
  followOnly: boolean;
  /** The page's query string (`?physics=` forces a backend). */
  search: string;
  /** Called once the measured backend runs, with its score in steps/s (null when not measured). */
  onChosen(score: number | null): void;
}

export async function startPhysics(deps: StartPhysicsDeps): Promise<void> {
  const { store, layout, followOnly, search } = deps;
  if (followOnly) {
    store.setState({ physicsBackend: 'none' });
    return;
  }
  const params = { ...store.getState().settings.physics };
  layout.setEngine(adaptPhysicsEngine(createLocalCpuEngine(params)));
  store.setState({ physicsBackend: 'cpu' });
  try {
    const choice = await choosePhysicsBackend({ search, nodes: PHYSICS_TRIAL_NODES, timeoutMs: PHYSICS_TRIAL_TIMEOUT_MS, params });
    const engine = await createPhysicsEngine({ backend: choice.backend, params: { ...store.getState().settings.physics } });
    layout.setEngine(adaptPhysicsEngine(engine));
    const ms = choice.scores[choice.backend];
    store.setState({ physicsBackend: engine.backend, physicsChoice: choice.reason });
    deps.onChosen(ms !== null && ms > 0 ? 1000 / ms : null);
  } catch (e) {
    console.warn('hivescope: physics backend choice failed; staying on the main-thread CPU core', e);
    store.setState({ physicsChoice: `trial failed: ${(e as Error).message}` });
  }
}
