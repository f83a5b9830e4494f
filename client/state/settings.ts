/**
 * Visual settings (control panel tabs: colours, animation, physics, rendering), their presets, and their
 * persistence: localStorage and JSON export/import. Imported JSON is untrusted: it is validated with zod
 * field by field and anything invalid falls back to the default, so a bad file can never break the scene.
 */
import { z } from 'zod';
import { TUNABLE_RANGES, tunableDefaults, type TunableParam } from '../physics/params.js';

const hex = z.string().regex(/^#[0-9a-fA-F]{6}$/);
/** A physics parameter as the control panel may set it (range from client/physics/params.ts). */
const tunable = (k: TunableParam) => z.number().min(TUNABLE_RANGES[k].min).max(TUNABLE_RANGES[k].max);

export const VisualSettingsSchema = z.object({
  version: z.literal(1),
  colors: z.object({
    background: hex,
    /** Coordination types (queen, coordinator, task_planner): gold upstream. */
    coordination: hex,
    /** Development types (coder, architect, tester, ...): green upstream. */
    development: hex,
    /** Analysis types (researcher, analyst, requirements_analyst). */
    analysis: hex,
    /** Quality and docs types (reviewer, documenter, ...). */
    quality: hex,
    /** Operations (monitor, optimizer) and anything unrecognised. */
    operations: hex,
    edgeIdle: hex,
    edgeActive: hex,
    /** Drawn for metrics nobody reported. */
    unknown: hex,
  }),
  animation: z.object({
    /** Token-rate pulse on agents. */
    pulse: z.boolean(),
    /** Travelling particles on active edges. */
    particles: z.boolean(),
    /** Global animation speed multiplier. */
    speed: z.number().min(0).max(4),
    /** Seconds after its last message an edge counts as active (upstream: 5). */
    activeEdgeSeconds: z.number().min(1).max(60),
  }),
  physics: z.object({
    springK: tunable('springK'),
    repelK: tunable('repelK'),
    damping: tunable('damping'),
    maxVelocity: tunable('maxVelocity'),
    restLength: tunable('restLength'),
    centerGravityK: tunable('centerGravityK'),
  }),
  rendering: z.object({
    /** What labels say (upstream's label modes; `L` cycles them). */
    labelMode: z.enum(['overview', 'performance', 'tasks', 'network', 'resources']),
    /** Labels drawn for the N busiest agents (plus hovered and selected). */
    labelTopN: z.number().int().min(0).max(50),
    edgeOpacity: z.number().min(0).max(1),
    /** Scale applied to every agent's size. */
    nodeScale: z.number().min(0.1).max(5),
    showMock: z.boolean(),
    showOverlay: z.boolean(),
  }),
});
export type VisualSettings = z.infer<typeof VisualSettingsSchema>;
export const LABEL_MODES = ['overview', 'performance', 'tasks', 'network', 'resources'] as const;
export type LabelMode = (typeof LABEL_MODES)[number];

export function nextLabelMode(m: LabelMode): LabelMode {
  return LABEL_MODES[(LABEL_MODES.indexOf(m) + 1) % LABEL_MODES.length]!;
}

export const DEFAULT_SETTINGS: VisualSettings = {
  version: 1,
  colors: {
    background: '#0b0e14',
    coordination: '#f5b942',
    development: '#4cc36b',
    analysis: '#a071e8',
    quality: '#e8607a',
    operations: '#4aa3f0',
    edgeIdle: '#3a4050',
    edgeActive: '#7fe3ff',
    unknown: '#8a8f98',
  },
  animation: { pulse: true, particles: true, speed: 1, activeEdgeSeconds: 5 },
  // The physics' own defaults (client/physics/params.ts), so the page lays out what the physics was
  // tuned and benchmarked with.
  physics: tunableDefaults(),
  rendering: { labelMode: 'overview', labelTopN: 8, edgeOpacity: 0.6, nodeScale: 1, showMock: false, showOverlay: true },
};

export const SETTINGS_PRESETS: Record<string, VisualSettings> = {
  default: DEFAULT_SETTINGS,
  calm: {
    ...DEFAULT_SETTINGS,
    animation: { ...DEFAULT_SETTINGS.animation, pulse: false, particles: false, speed: 0.5 },
    rendering: { ...DEFAULT_SETTINGS.rendering, labelTopN: 4, edgeOpacity: 0.35 },
  },
  presentation: {
    ...DEFAULT_SETTINGS,
    colors: { ...DEFAULT_SETTINGS.colors, background: '#000000', edgeActive: '#ffe27a' },
    animation: { ...DEFAULT_SETTINGS.animation, speed: 1.5 },
    rendering: { ...DEFAULT_SETTINGS.rendering, labelTopN: 16, nodeScale: 1.4, edgeOpacity: 0.8 },
  },
  dense: {
    ...DEFAULT_SETTINGS,
    physics: { ...DEFAULT_SETTINGS.physics, repelK: 40, restLength: 25, centerGravityK: 0.05 },
    rendering: { ...DEFAULT_SETTINGS.rendering, labelTopN: 0, nodeScale: 0.7 },
  },
};

export const SETTINGS_STORAGE_KEY = 'hivescope.visual-settings.v1';

/**
 * Merges untrusted input over the defaults one group at a time: a group that fails validation keeps its
 * defaults, so one bad value does not discard the rest of a hand-edited file.
 */
export function parseSettings(input: unknown): { settings: VisualSettings; errors: string[] } {
  const errors: string[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { settings: DEFAULT_SETTINGS, errors: ['settings must be a JSON object'] };
  }
  const raw = input as Record<string, unknown>;
  const out: VisualSettings = { ...DEFAULT_SETTINGS };
  for (const group of ['colors', 'animation', 'physics', 'rendering'] as const) {
    if (raw[group] === undefined) continue;
    const schema = VisualSettingsSchema.shape[group];
    const merged = typeof raw[group] === 'object' && raw[group] !== null ? { ...DEFAULT_SETTINGS[group], ...(raw[group] as object) } : raw[group];
    const r = schema.safeParse(merged);
    if (r.success) (out as Record<string, unknown>)[group] = r.data;
    else errors.push(`${group}: ${r.error.issues.map((i) => `${i.path.join('.') || '(group)'} ${i.message}`).join('; ')}`);
  }
  return { settings: out, errors };
}

/** The subset of Storage we use; lets unit tests pass a Map-backed fake. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export function loadSettings(storage: KeyValueStorage | null): VisualSettings {
  if (!storage) return DEFAULT_SETTINGS;
  try {
    const text = storage.getItem(SETTINGS_STORAGE_KEY);
    if (!text || text.length > 64 * 1024) return DEFAULT_SETTINGS;
    return parseSettings(JSON.parse(text)).settings;
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export function saveSettings(storage: KeyValueStorage | null, settings: VisualSettings): void {
  try {
    storage?.setItem(SETTINGS_STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Quota or privacy mode: settings then last for the page's lifetime only.
  }
}

export function exportSettings(settings: VisualSettings): string {
  return JSON.stringify(settings, null, 2);
}

/** Max size of an imported settings file. */
export const MAX_SETTINGS_IMPORT_BYTES = 64 * 1024;

export function importSettings(text: string): { settings: VisualSettings; errors: string[] } {
  if (text.length > MAX_SETTINGS_IMPORT_BYTES) return { settings: DEFAULT_SETTINGS, errors: ['file is larger than 64 KiB'] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { settings: DEFAULT_SETTINGS, errors: [`not JSON: ${(e as Error).message}`] };
  }
  return parseSettings(parsed);
}
