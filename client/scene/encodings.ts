/**
 * Visual encodings: how an agent's fields become shape, colour, size, glow and pulse, and how traffic
 * becomes edge width and brightness (upstream-contracts.md section 5 as the starting point). Pure
 * functions of the data, unit-tested. A metric that is null is "unknown": it contributes nothing to
 * size, and glow/colour use the settings' neutral `unknown` colour instead of inventing a value.
 */
import type { Agent, AgentStatus, Edge } from '../../shared/index.js';
import type { VisualSettings, LabelMode } from '../state/settings.js';

export const SHAPES = ['sphere', 'icosahedron', 'tetrahedron', 'octahedron', 'box'] as const;
export type Shape = (typeof SHAPES)[number];

/** idle: calm sphere; doing work: faceted icosahedron; starting: tetrahedron; error: octahedron; leaving/offline: box. */
export function shapeForStatus(status: AgentStatus): Shape {
  switch (status) {
    case 'idle':
      return 'sphere';
    case 'busy':
    case 'active':
      return 'icosahedron';
    case 'initializing':
      return 'tetrahedron';
    case 'error':
      return 'octahedron';
    case 'terminating':
    case 'offline':
      return 'box';
  }
}

export type TypeGroup = 'coordination' | 'development' | 'analysis' | 'quality' | 'operations';

const TYPE_GROUPS: Record<string, TypeGroup> = {
  queen: 'coordination',
  coordinator: 'coordination',
  task_planner: 'coordination',
  coder: 'development',
  architect: 'development',
  tester: 'development',
  implementation_coder: 'development',
  design_architect: 'development',
  researcher: 'analysis',
  analyst: 'analysis',
  requirements_analyst: 'analysis',
  reviewer: 'quality',
  documenter: 'quality',
  quality_reviewer: 'quality',
  steering_documenter: 'quality',
  optimizer: 'operations',
  monitor: 'operations',
  specialist: 'operations',
};

export function typeGroup(type: string): TypeGroup {
  return TYPE_GROUPS[type] ?? 'operations';
}

export function colorForType(type: string, colors: VisualSettings['colors']): string {
  return colors[typeGroup(type)];
}

/** Size bounds (world units are scaled by this times NODE_UNIT). */
export const SIZE_MIN = 0.5;
export const SIZE_MAX = 3;
/** World radius of an agent of size 1. */
export const NODE_UNIT = 2.5;

/**
 * Upstream: 1 + cpu/100*0.8 + workload*0.6 + activity*0.4 + min(tokenRate/50, 0.5), clamped 0.5-3.
 * Unknown terms contribute 0 (an agent with no metrics is drawn at the neutral size 1).
 */
export function agentSize(a: Pick<Agent, 'cpuUsage' | 'workload' | 'activity' | 'tokenRate'>): number {
  const cpu = a.cpuUsage === null ? 0 : (a.cpuUsage / 100) * 0.8;
  const work = a.workload === null ? 0 : a.workload * 0.6;
  const act = a.activity === null ? 0 : a.activity * 0.4;
  const tok = a.tokenRate === null ? 0 : Math.min(a.tokenRate / 50, 0.5);
  const s = 1 + cpu + work + act + tok;
  return Math.min(SIZE_MAX, Math.max(SIZE_MIN, Number.isFinite(s) ? s : 1));
}

/** Health bands (>=95, 80, 65, 50, 25, below) from green to red; null health is the unknown colour. */
export const HEALTH_BANDS: readonly { min: number; color: string; label: string }[] = [
  { min: 95, color: '#35d07f', label: 'excellent' },
  { min: 80, color: '#8fd14f', label: 'good' },
  { min: 65, color: '#e0d04a', label: 'fair' },
  { min: 50, color: '#f0a03c', label: 'degraded' },
  { min: 25, color: '#ee6b3b', label: 'poor' },
  { min: -Infinity, color: '#e8383b', label: 'critical' },
];

export function healthBand(health: number | null): { color: string | null; label: string } {
  if (health === null || !Number.isFinite(health)) return { color: null, label: 'unknown' };
  const band = HEALTH_BANDS.find((b) => health >= b.min)!;
  return { color: band.color, label: band.label };
}

export function healthColor(health: number | null, colors: VisualSettings['colors']): string {
  return healthBand(health).color ?? colors.unknown;
}

/** How far a stale agent's colour goes towards the neutral grey (a fleet target gone or unavailable). */
export const STALE_GREY = 0.8;

/**
 * The colour of an agent whose fleet target is gone or unavailable (docs/fleet.md section 4): its own colour
 * mostly greyed, so the swarm is still told apart by type but reads as not live.
 */
export function staleColor(color: string, colors: VisualSettings['colors']): string {
  const mix = (a: string, b: string, k: number) => Math.round(parseInt(a, 16) * (1 - k) + parseInt(b, 16) * k);
  const c = color.replace('#', ''), g = colors.unknown.replace('#', '');
  const parts = [0, 2, 4].map((o) => mix(c.slice(o, o + 2), g.slice(o, o + 2), STALE_GREY).toString(16).padStart(2, '0'));
  return `#${parts.join('')}`;
}

/** Pulse frequency in Hz from token rate (tokens/min): 0 when unknown or idle, up to 3 Hz. */
export function pulseHz(tokenRate: number | null): number {
  if (tokenRate === null || !(tokenRate > 0)) return 0;
  return Math.min(3, 0.3 + Math.log10(1 + tokenRate) * 0.8);
}

/** Pulse amplitude as a fraction of size. */
export const PULSE_AMPLITUDE = 0.12;

/**
 * "Running" is not "doing work": an agent is working when it is busy, reports an active task, or shows
 * measurable activity now. Token rate is a trailing average, so it alone does not count; unknown metrics
 * never count as work.
 */
export function isWorking(a: Pick<Agent, 'status' | 'tasksActive' | 'activity'>): boolean {
  if (a.status === 'busy') return true;
  if (a.status === 'idle' || a.status === 'offline' || a.status === 'terminating') return a.tasksActive !== null && a.tasksActive > 0;
  if (a.tasksActive !== null && a.tasksActive > 0) return true;
  return a.activity !== null && a.activity >= 0.1;
}

/** Busyness score for picking the top-N labelled agents; unknown metrics count 0. */
export function busyness(a: Pick<Agent, 'activity' | 'tokenRate' | 'cpuUsage' | 'workload' | 'status'>): number {
  return (
    (a.activity ?? 0) * 2 +
    (a.workload ?? 0) +
    (a.cpuUsage ?? 0) / 100 +
    Math.min((a.tokenRate ?? 0) / 100, 2) +
    (a.status === 'busy' || a.status === 'active' ? 0.5 : 0)
  );
}

/** Ids of the `n` busiest agents, most busy first (ties by id for stable labels). */
export function topBusiest(agents: Iterable<Agent>, n: number): string[] {
  if (n <= 0) return [];
  const scored: { id: string; s: number }[] = [];
  for (const a of agents) {
    const s = busyness(a);
    if (s > 0) scored.push({ id: a.id, s });
  }
  scored.sort((x, y) => y.s - x.s || (x.id < y.id ? -1 : 1));
  return scored.slice(0, n).map((x) => x.id);
}

/** An edge is active when a message crossed it within `windowSeconds` (upstream: 5 s). */
export function edgeIsActive(e: Pick<Edge, 'lastMessageTime'>, now: number, windowSeconds: number): boolean {
  return e.lastMessageTime !== null && now - e.lastMessageTime <= windowSeconds * 1000 && now - e.lastMessageTime >= -60_000;
}

/** Edge radius in world units: thin for structure, wider with traffic (log of message count and bytes). */
export function edgeRadius(e: Pick<Edge, 'messageCount' | 'dataVolume' | 'kind'>): number {
  const base = e.kind === 'hierarchy' ? 0.35 : 0.2;
  const traffic = Math.log10(1 + e.messageCount) * 0.25 + Math.log10(1 + e.dataVolume / 1024) * 0.15;
  return Math.min(2, base + traffic);
}

/** Spring weight the physics uses for an edge (hierarchy binds tighter; traffic pulls talkers together). */
export function edgeWeight(e: Pick<Edge, 'kind' | 'messageCount'>): number {
  if (e.kind === 'hierarchy') return 0.8;
  if (e.kind === 'topology') return 0.2;
  return Math.min(1, 0.3 + Math.log10(1 + e.messageCount) * 0.2);
}

/** Particles travelling along an active edge: more with more traffic, at most 3. */
export function particleCount(e: Pick<Edge, 'messageCount'>): number {
  return e.messageCount >= 100 ? 3 : e.messageCount >= 10 ? 2 : 1;
}

/** Formats a metric for people; null is "unknown", never 0. */
export function formatMetric(value: number | null, unit: '%' | '/min' | '' | 'ratio' = ''): string {
  if (value === null || !Number.isFinite(value)) return 'unknown';
  if (unit === 'ratio') return `${Math.round(value * 100)}%`;
  const v = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
  return unit === '%' ? `${v}%` : unit === '/min' ? `${v}/min` : String(v);
}

/** Hex colour to linear-ish RGB floats 0..1 (sRGB values; three converts with ColorManagement). */
export function hexToRgb(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return [0.5, 0.5, 0.5];
  const n = parseInt(m[1]!, 16);
  return [((n >> 16) & 255) / 255, ((n >> 8) & 255) / 255, (n & 255) / 255];
}

/** Per-agent traffic for the network label mode. */
export interface AgentTraffic {
  messages: number;
  bytes: number;
  links: number;
}

export function labelText(a: Agent, mode: LabelMode = 'overview', traffic?: AgentTraffic): string {
  const work = isWorking(a) ? 'working' : a.status;
  switch (mode) {
    case 'performance':
      return `${a.name}\ncpu ${formatMetric(a.cpuUsage, '%')} · ${formatMetric(a.tokenRate, '/min')} tokens · health ${formatMetric(a.health)}`;
    case 'tasks': {
      const task = a.currentTask ? (a.currentTask.length > 48 ? `${a.currentTask.slice(0, 45)}...` : a.currentTask) : a.sources.currentTask ? 'no task' : 'task unknown';
      return `${a.name}\n${task} · done ${formatMetric(a.tasksCompleted)}`;
    }
    case 'network':
      return `${a.name}\n${traffic ? `${traffic.links} links · ${traffic.messages} msgs · ${Math.round(traffic.bytes / 1024)} KiB` : 'no traffic seen'}`;
    case 'resources':
      return `${a.name}\nmem ${formatMetric(a.memoryUsage, '%')} · tokens ${formatMetric(a.tokens)}`;
    default:
      return `${a.name}\n${a.type} · ${work} · cpu ${formatMetric(a.cpuUsage, '%')}`;
  }
}
