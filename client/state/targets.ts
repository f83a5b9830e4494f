/**
 * Fleet targets as the page sees them (issue 14, docs/fleet.md section 4): the chips the status bar draws
 * from `health.targets`, their summary past CHIP_LIMIT, which targets are stale (gone or unavailable: their
 * swarms are greyed, never deleted), the order targets are clustered in, and the target filter. Pure.
 * A relay older than issue 14 sends no targets and no `target` fields: the page then behaves as one
 * target and says nothing about targets (never a made-up name).
 */
import type { Health, TargetHealth } from '../../shared/index.js';

/** Past this many targets the status bar shows one summary chip instead of one chip each. */
export const CHIP_LIMIT = 5;

/** How a chip reads: ok (healthy), warn (degraded or starting), down (unavailable), gone (removed). */
export type ChipTone = 'ok' | 'warn' | 'down' | 'gone';

export interface TargetChip {
  name: string;
  tone: ChipTone;
  /** The one word on the chip: healthy, degraded, starting, unavailable, gone. */
  state: string;
  /** The chip's title: engine, container, both planes, sessions and each degraded mode. */
  detail: string;
}

/** The targets of a health message in the relay's order (configured, then discovered); [] from an old relay. */
export function healthTargets(health: Health | null): readonly TargetHealth[] {
  return health?.targets ?? [];
}

export function chipTone(t: Pick<TargetHealth, 'lifecycle' | 'status'>): ChipTone {
  if (t.lifecycle === 'gone') return 'gone';
  if (t.status === 'unavailable') return 'down';
  if (t.lifecycle === 'starting' || t.status === 'degraded') return 'warn';
  return 'ok';
}

export function targetChip(t: TargetHealth): TargetChip {
  const tone = chipTone(t);
  const state = t.lifecycle === 'gone' ? 'gone' : t.lifecycle === 'starting' ? 'starting' : t.status;
  const ms = (v: number | null) => (v === null ? 'unknown' : `${Math.round(v)} ms`);
  const detail = [
    `${t.name}: ${t.container} on ${t.docker}${t.source === 'label' ? ' (discovered by label)' : ''}`,
    `Docker ${t.control.state}, exec ${ms(t.control.execLatencyMs)}${t.control.breaker !== 'closed' ? `, breaker ${t.control.breaker}` : ''}`,
    `MCP ${t.telemetry.state} at ${t.telemetry.host}:${t.telemetry.port}, ${ms(t.telemetry.latencyMs)}`,
    `${t.activeSessions} running session${t.activeSessions === 1 ? '' : 's'}`,
    ...t.degraded.map((d) => d.message),
    ...(t.control.lastError ? [`last error: ${t.control.lastError}`] : []),
  ].join('\n');
  return { name: t.name, tone, state, detail };
}

const TONE_WORDS: readonly [ChipTone, string][] = [
  ['ok', 'healthy'],
  ['warn', 'degraded'],
  ['down', 'down'],
  ['gone', 'gone'],
];

/** "7 targets: 6 healthy, 1 down" (only the tones present, in that order). */
export function chipSummary(chips: readonly Pick<TargetChip, 'tone'>[]): string {
  const counts = new Map<ChipTone, number>();
  for (const c of chips) counts.set(c.tone, (counts.get(c.tone) ?? 0) + 1);
  const parts = TONE_WORDS.filter(([t]) => counts.has(t)).map(([t, w]) => `${counts.get(t)} ${w}`);
  return `${chips.length} target${chips.length === 1 ? '' : 's'}${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** The worst tone among the chips (the summary chip's colour). */
export function worstTone(chips: readonly Pick<TargetChip, 'tone'>[]): ChipTone {
  const rank: Record<ChipTone, number> = { ok: 0, warn: 1, gone: 2, down: 3 };
  let worst: ChipTone = 'ok';
  for (const c of chips) if (rank[c.tone] > rank[worst]) worst = c.tone;
  return worst;
}

/**
 * Targets whose swarms are drawn stale: gone, or unavailable, or named by the graph but missing from the
 * relay's list (removed while this page looked away). Nothing is stale while the relay sends no list.
 */
export function staleTargets(targets: readonly TargetHealth[], graphTargets: Iterable<string>): ReadonlySet<string> {
  const out = new Set<string>();
  if (targets.length === 0) return out;
  const known = new Set<string>();
  for (const t of targets) {
    known.add(t.name);
    if (t.lifecycle === 'gone' || t.status === 'unavailable') out.add(t.name);
  }
  for (const name of graphTargets) if (!known.has(name)) out.add(name);
  return out;
}

/**
 * Every target the page knows, in cluster order: the relay's order first, then targets only the graph
 * still names (gone ones whose swarms are kept), by name. The cluster index is the position here.
 */
export function orderedTargets(targets: readonly Pick<TargetHealth, 'name'>[], graphTargets: Iterable<string>): string[] {
  const out = targets.map((t) => t.name);
  const seen = new Set(out);
  const extra: string[] = [];
  for (const name of graphTargets) {
    if (!seen.has(name)) {
      seen.add(name);
      extra.push(name);
    }
  }
  return out.concat(extra.sort());
}

/** The target an agent, swarm or session belongs to; null from a relay that does not say. */
export function targetOf(x: { target?: string | undefined }): string | null {
  return typeof x.target === 'string' ? x.target : null;
}

/** The distinct targets the graph's agents name. */
export function graphTargets(agents: Iterable<{ target?: string | undefined }>): Set<string> {
  const out = new Set<string>();
  for (const a of agents) {
    const t = targetOf(a);
    if (t !== null) out.add(t);
  }
  return out;
}

/** True when the page shows targets at all: more than one is known (one target looks exactly as before). */
export function isFleet(targetNames: readonly string[]): boolean {
  return targetNames.length > 1;
}

/** The target filter: null shows every target; an entry without a target passes only with no filter. */
export function matchesTarget(filter: string | null, x: { target?: string | undefined }): boolean {
  return filter === null || targetOf(x) === filter;
}

/**
 * The relay's pick policy, as the spawn prompt's "automatic" option explains it (relay/fleet/pick.ts is
 * the policy itself; this is its sentence).
 */
export const PICK_POLICY =
  'Automatic: the relay picks the healthy target (Docker healthy, MCP connected) with the fewest running sessions; ties go to the earlier target in HIVE_TARGETS, discovered targets after configured ones.';

/** What the spawn prompt's MCP indicator says: the telemetry of the target the spawn will go to. */
export interface McpIndicator {
  /** ok: connected; warn: anything else, or unknown until the relay picks. */
  tone: 'ok' | 'warn';
  /** data-state: the telemetry state, 'automatic' while the relay is to pick, 'unknown' when nothing says. */
  state: string;
  /** The target it describes; null with one target or for automatic. */
  target: string | null;
  text: string;
}

/**
 * The spawn prompt's MCP line. One target: the relay's own telemetry, as before. A fleet: the picked
 * target's telemetry (a picked name the relay no longer lists is unknown, never guessed); automatic: it
 * depends on the pick, and the relay only picks a target whose MCP is connected (pick.ts), so say so.
 */
export function mcpIndicator(topLevel: string | null, targets: readonly TargetHealth[], picked: string): McpIndicator {
  const live = (state: string | null, where: string): McpIndicator => ({
    tone: state === 'connected' ? 'ok' : 'warn',
    state: state ?? 'unknown',
    target: null,
    text:
      state === 'connected'
        ? `MCP telemetry${where} connected: agents will appear as they spawn.`
        : `MCP telemetry${where} ${state ?? 'unknown'}: the swarm can start, but live agents may not show until it reconnects.`,
  });
  if (targets.length <= 1) return live(topLevel, '');
  if (picked === '') {
    const connected = targets.filter((t) => t.lifecycle === 'running' && t.telemetry.state === 'connected').length;
    return {
      tone: connected > 0 ? 'ok' : 'warn',
      state: 'automatic',
      target: null,
      text: `MCP telemetry depends on the target the relay picks: it picks one whose MCP is connected (${connected} of ${targets.length} now)${connected === 0 ? ', so with none the spawn is refused' : ''}.`,
    };
  }
  const t = targets.find((x) => x.name === picked);
  return { ...live(t ? t.telemetry.state : null, ` on ${picked}`), target: picked };
}

/** Why a session's target makes it stale, or null when it is not (or with one target). */
export function sessionStaleReason(targets: readonly TargetHealth[], fleet: boolean, session: { target?: string | undefined }): string | null {
  const name = targetOf(session);
  if (!fleet || name === null || targets.length === 0) return null;
  const t = targets.find((x) => x.name === name);
  if (!t) return `stale: target ${name} is no longer listed`;
  if (t.lifecycle === 'gone') return `stale: target ${name} is gone`;
  if (t.status === 'unavailable') return `stale: target ${name} is unavailable`;
  return null;
}
