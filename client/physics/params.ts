/**
 * Spring-system parameters shared by every physics backend: one typed, documented object, validated once
 * when it is set (a live edit from the control panel goes through `resolveParams` too). The one source
 * of the defaults and of the ranges a person may tune (`TUNABLE_RANGES`): the visual settings
 * (client/state/settings.ts) and the control panel's sliders read them from here.
 * Model (upstream-contracts.md section 6, improved): see `docs/progress/physics.md` and `reference.ts`.
 */

export interface PhysicsParams {
  /** Spring stiffness on edges: F = springK * (d - restLength) * weight. Default 10. */
  springK: number;
  /** Repulsion strength: F = min(repelK / (d^2 + repulsionEpsilon), maxForce). Default 100. */
  repelK: number;
  /**
   * Fraction of velocity removed per step: v = (v + F*dt) * (1 - damping). Default 0.1.
   * (Upstream multiplied by `damping` itself; with 0.1 that keeps 10 % of the velocity and a 16k-node
   * layout needs tens of thousands of steps, so the number now means what its name says.)
   */
  damping: number;
  /** Integration step in simulation seconds. Default 0.05 (upstream 0.016; see DEFAULT_PARAMS). */
  dt: number;
  /** Velocity clamp, |v| <= maxVelocity. Default 50. */
  maxVelocity: number;
  /** Force clamp on each repulsive pair and on a node's total force. Default 500. */
  maxForce: number;
  /** Spring rest length. Default 50. */
  restLength: number;
  /** Repulsion acts only between nodes closer than this (grid cell size). Default 50. */
  repulsionCutoff: number;
  /** Softening of the repulsion at d = 0. Default 0.01. */
  repulsionEpsilon: number;
  /**
   * Pull towards the origin: F = -pos * centerGravityK. Default 0.001 (upstream 0): the per-node force
   * clamps break action = reaction, so with 0 the centroid of disconnected swarms creeps out of view.
   * At 1000 units from the centre this is a force of 1, negligible beside a spring.
   */
  centerGravityK: number;
  /**
   * Pull of a clustered node towards its cluster's anchor (a fleet target's swarms: PhysicsGraph.cluster):
   * F = -(pos - anchor) * clusterK. Default 0.1: 50 units from its anchor a force of 5, beside a queen
   * spring's 8 per unit of stretch, so a swarm keeps its shape and drifts as a whole to its target's place
   * (an offset shrinks e-fold per damping / (clusterK dt^2 (1 - damping)) = 440 steps; 0.02 took 2200).
   * Nodes without a cluster feel none; a graph without clusters is laid out exactly as before.
   */
  clusterK: number;
  /** Steps over which the velocity limit ramps from 1/warmup to full after a start or a structural change. Default 30 (upstream 100). */
  warmup: number;
  /** Settled when mean |v|^2 falls below this (after warm-up). Default 0.01. */
  settleThreshold: number;
  /** Seed for reproducible initial placement. Default 1. */
  seed: number;
}

export const DEFAULT_PARAMS: Readonly<PhysicsParams> = Object.freeze({
  springK: 10,
  repelK: 100,
  damping: 0.1,
  // dt and warmup differ from upstream's 0.016 / 100: at upstream's step a node moves at most 0.8 units
  // per step, and a 16k swarm is still tangled after 50 steps (bench row physics.goal.16k). These settle
  // to better edge stress than ngraph.forcelayout in the same number of steps; `upstream` restores them.
  dt: 0.05,
  maxVelocity: 50,
  maxForce: 500,
  restLength: 50,
  repulsionCutoff: 50,
  repulsionEpsilon: 0.01,
  centerGravityK: 0.001,
  clusterK: 0.1,
  warmup: 30,
  settleThreshold: 0.01,
  seed: 1,
});

/** Inclusive bounds per field; values outside (or not finite) are rejected, not clamped silently. */
const BOUNDS: Record<keyof PhysicsParams, readonly [number, number]> = {
  springK: [0, 1e6],
  repelK: [0, 1e9],
  damping: [0, 1],
  dt: [1e-6, 1],
  maxVelocity: [0, 1e9],
  maxForce: [0, 1e12],
  restLength: [0, 1e6],
  repulsionCutoff: [1e-3, 1e6],
  repulsionEpsilon: [1e-9, 1e6],
  centerGravityK: [0, 1e3],
  clusterK: [0, 1e3],
  warmup: [0, 1e7],
  settleThreshold: [0, 1e12],
  seed: [0, 0xffffffff],
};

/** The parameters the control panel tunes (Visual > physics); the rest keep their defaults. */
export const TUNABLE_PARAMS = ['springK', 'repelK', 'damping', 'maxVelocity', 'restLength', 'centerGravityK'] as const;
export type TunableParam = (typeof TUNABLE_PARAMS)[number];

/**
 * What a person may set for each tunable parameter: the slider's range and step, and what saved or
 * imported settings may hold (both read this). Each range lies inside BOUNDS. centerGravityK stops at
 * 1: beyond it the pull towards the origin outweighs every spring and the swarm collapses to a point.
 */
export const TUNABLE_RANGES: Readonly<Record<TunableParam, Readonly<{ min: number; max: number; step: number }>>> = Object.freeze({
  springK: { min: 0, max: 100, step: 0.5 },
  repelK: { min: 0, max: 10_000, step: 10 },
  damping: { min: 0, max: 1, step: 0.01 },
  maxVelocity: { min: 1, max: 1000, step: 1 },
  restLength: { min: 1, max: 1000, step: 1 },
  centerGravityK: { min: 0, max: 1, step: 0.001 },
});

/** The defaults of the tunable parameters (the visual settings' physics group starts from these). */
export function tunableDefaults(): Record<TunableParam, number> {
  return Object.fromEntries(TUNABLE_PARAMS.map((k) => [k, DEFAULT_PARAMS[k]])) as Record<TunableParam, number>;
}

/** Merges a partial update over `base`; throws RangeError naming the first invalid field. */
export function resolveParams(update: Partial<PhysicsParams> | undefined, base: Readonly<PhysicsParams> = DEFAULT_PARAMS): PhysicsParams {
  const out: PhysicsParams = { ...base };
  if (update === undefined || update === null) return out;
  if (typeof update !== 'object') throw new RangeError('physics params must be an object');
  for (const key of Object.keys(update) as (keyof PhysicsParams)[]) {
    const bounds = Object.hasOwn(BOUNDS, key) ? BOUNDS[key] : undefined;
    if (bounds === undefined) throw new RangeError(`unknown physics param: ${String(key).slice(0, 64)}`);
    const v = update[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < bounds[0] || v > bounds[1]) {
      throw new RangeError(`physics param ${key} must be a number in [${bounds[0]}, ${bounds[1]}]`);
    }
    out[key] = key === 'warmup' || key === 'seed' ? Math.floor(v) : v;
  }
  return out;
}

/**
 * Named parameter sets for the control panel. `default`: the defaults above (dt 0.05, 30-step warm-up),
 * which settle a 4k-node swarm graph to edge stress 0.042 in 100 steps and stay stable with the force and
 * velocity clamps (hub of degree 100: omega*dt ~ 1.4 < 2). `upstream`: upstream's dt 0.016 and 100-step
 * warm-up (stress 0.081 after 100 steps on the same graph).
 */
export const PHYSICS_PRESETS: Readonly<Record<'default' | 'upstream', Readonly<Partial<PhysicsParams>>>> = Object.freeze({
  default: Object.freeze({}),
  upstream: Object.freeze({ dt: 0.016, warmup: 100 }),
});
