/**
 * Which target a spawn without `target` goes to (issue 14, docs/fleet.md): the healthy target with the
 * fewest running sessions. Healthy means its control plane is `healthy` and its telemetry `connected`
 * (a target that cannot show what it runs is not offered new work). Ties go to configured targets before
 * discovered ones, then to the earlier in HIVE_TARGETS, then by name, so the choice is reproducible. Pure:
 * the fleet passes what its planes already hold; nothing here waits on an engine.
 */
import type { McpState, PlaneHealth } from '../../shared/model/health.js';

export interface PickCandidate {
  name: string;
  /** Where the target came from: configured ones are preferred on a tie. */
  source: 'config' | 'label';
  /** Position in HIVE_TARGETS (discovered targets: their arrival order after those). */
  order: number;
  control: PlaneHealth;
  telemetry: McpState;
  /** Sessions spawning, active or paused on it, from its session cache. */
  runningSessions: number;
}

export type PickResult = { ok: true; name: string; reason: string } | { ok: false; reason: string };

export function pickTarget(candidates: readonly PickCandidate[]): PickResult {
  if (candidates.length === 0) return { ok: false, reason: 'no targets are configured' };
  const healthy = candidates.filter((c) => c.control === 'healthy' && c.telemetry === 'connected');
  if (healthy.length === 0) {
    const shown = candidates.slice(0, 20).map((c) => `${c.name}: control ${c.control}, telemetry ${c.telemetry}`);
    return { ok: false, reason: `no healthy target (${shown.join('; ')}${candidates.length > 20 ? `; and ${candidates.length - 20} more` : ''})` };
  }
  const best = [...healthy].sort(
    (a, b) =>
      a.runningSessions - b.runningSessions ||
      (a.source === b.source ? 0 : a.source === 'config' ? -1 : 1) ||
      a.order - b.order ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )[0]!;
  const n = best.runningSessions;
  return { ok: true, name: best.name, reason: `fewest running sessions (${n}) among ${healthy.length} healthy target${healthy.length === 1 ? '' : 's'}` };
}
