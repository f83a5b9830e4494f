import { describe, expect, it } from 'vitest';
import { TUNABLE_PARAMS, TUNABLE_RANGES, tunableDefaults } from '../physics/params.js';
import { DEFAULT_SETTINGS, SETTINGS_PRESETS, exportSettings, importSettings, loadSettings, saveSettings, parseSettings, SETTINGS_STORAGE_KEY, VisualSettingsSchema } from './settings.js';

class MemoryStorage {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
}

describe('visual settings', () => {
  it('every preset is valid', () => {
    for (const [name, p] of Object.entries(SETTINGS_PRESETS)) expect(VisualSettingsSchema.safeParse(p).success, name).toBe(true);
  });

  it('export then import round-trips', () => {
    const changed = { ...DEFAULT_SETTINGS, rendering: { ...DEFAULT_SETTINGS.rendering, labelTopN: 3 } };
    const r = importSettings(exportSettings(changed));
    expect(r.errors).toEqual([]);
    expect(r.settings).toEqual(changed);
  });

  it('persists to storage and loads back; corrupt storage falls back to defaults', () => {
    const s = new MemoryStorage();
    const changed = SETTINGS_PRESETS.calm!;
    saveSettings(s, changed);
    expect(loadSettings(s)).toEqual(changed);
    s.setItem(SETTINGS_STORAGE_KEY, '{not json');
    expect(loadSettings(s)).toEqual(DEFAULT_SETTINGS);
    expect(loadSettings(null)).toEqual(DEFAULT_SETTINGS);
  });

  it('a storage that throws (privacy mode) does not break saving', () => {
    expect(() =>
      saveSettings(
        {
          getItem: () => null,
          setItem: () => {
            throw new Error('QuotaExceeded');
          },
        },
        DEFAULT_SETTINGS,
      ),
    ).not.toThrow();
  });

  it('hostile imports: bad groups keep their defaults, good groups are kept, errors are reported', () => {
    const r = importSettings(
      '{"colors":{"background":"javascript:alert(1)"},"physics":{"springK":5,"__proto__":{"polluted":true}},"rendering":{"labelTopN":1e9},"__proto__":{"polluted":true}}',
    );
    expect(r.settings.colors).toEqual(DEFAULT_SETTINGS.colors);
    expect(r.settings.physics.springK).toBe(5);
    expect(r.settings.rendering).toEqual(DEFAULT_SETTINGS.rendering);
    expect(r.errors.length).toBe(2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects non-objects, non-JSON and oversized files', () => {
    expect(importSettings('[]').errors).toEqual(['settings must be a JSON object']);
    expect(importSettings('nope').errors[0]).toMatch(/not JSON/);
    expect(importSettings(' '.repeat(70 * 1024)).errors[0]).toMatch(/64 KiB/);
    expect(parseSettings(null).settings).toBe(DEFAULT_SETTINGS);
  });

  it('the physics group takes its defaults and ranges from client/physics/params.ts', () => {
    expect(DEFAULT_SETTINGS.physics).toEqual(tunableDefaults());
    const physics = VisualSettingsSchema.shape.physics;
    for (const k of TUNABLE_PARAMS) {
      const { min, max } = TUNABLE_RANGES[k];
      const at = (v: number) => physics.safeParse({ ...DEFAULT_SETTINGS.physics, [k]: v }).success;
      expect([at(min), at(max)], `${k} at its range ends`).toEqual([true, true]);
      expect([at(min - 1e-9), at(max * 1.001 + 1e-9)], `${k} just outside its range`).toEqual([false, false]);
    }
  });
});
