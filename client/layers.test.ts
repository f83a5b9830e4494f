/**
 * The client's layers point down, checked on its import graph (read from the source files): the
 * composition root services.ts is imported by main.tsx alone, and the scene never imports the XR layer
 * built on top of it (client/xr may import client/scene; the reverse made a cycle).
 */
/// <reference types="vite/types/import-meta.d.ts" />
import { describe, expect, it } from 'vitest';

/**
 * The source of every .ts/.tsx file under client/, keyed by its path relative to client/. Read through
 * Vite's import.meta.glob (raw text), not node:fs: client/ is browser code and may not use Node.
 */
const SOURCES: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>(['./**/*.{ts,tsx}', '!./**/*.d.ts'], { query: '?raw', import: 'default', eager: true })).map(([k, v]) => [k.replace(/^\.\//, ''), v]),
);

/** Relative specifiers a file imports or re-exports (static, side-effect and dynamic imports; type-only too). */
function importSpecifiers(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) specs.push(m[1]!);
  return specs;
}

/** Resolves `.` and `..` segments; null when the path climbs out of client/. */
function normalize(p: string): string | null {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

/** The client file a relative specifier names (`./x.js` is `x.ts` or `x.tsx`), or null outside client/. */
function resolve(from: string, spec: string, files: ReadonlySet<string>): string | null {
  const joined = normalize(`${from.split('/').slice(0, -1).join('/')}/${spec}`);
  if (joined === null) return null;
  const base = joined.replace(/\.(js|jsx|ts|tsx)$/, '');
  for (const ext of ['.ts', '.tsx']) if (files.has(base + ext)) return base + ext;
  return files.has(joined) ? joined : null;
}

/** Edges `importer -> imported` between client files. */
function importGraph(): [string, string][] {
  const set = new Set(Object.keys(SOURCES));
  const edges: [string, string][] = [];
  for (const [f, source] of Object.entries(SOURCES)) {
    for (const spec of importSpecifiers(source)) {
      const to = resolve(f, spec, set);
      if (to) edges.push([f, to]);
    }
  }
  return edges;
}

describe('client layers', () => {
  const edges = importGraph();

  it('reads a non-trivial graph (the parser finds imports)', () => {
    expect(edges.length).toBeGreaterThan(50);
    expect(edges).toContainEqual(['main.tsx', 'services.ts']);
    expect(importSpecifiers("import type { A } from '../a.js';\nexport { b } from './b.js';\nimport './c.css';\nconst d = await import('./d.js');")).toEqual(['../a.js', './b.js', './c.css', './d.js']);
  });

  it('the composition root services.ts is imported by main.tsx alone', () => {
    expect(edges.filter(([, to]) => to === 'services.ts').map(([from]) => from)).toEqual(['main.tsx']);
  });

  it('client/scene does not import client/xr (xr builds on the scene, not the other way round)', () => {
    expect(edges.filter(([from, to]) => from.startsWith('scene/') && to.startsWith('xr/'))).toEqual([]);
  });
});
