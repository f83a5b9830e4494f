// The test kit is for tests and benches only: no product source (relay/, client/, container/, shared/,
// outside their tests and testing/ folders) imports testkit/, so nothing test-only can reach the relay,
// the kit's image or the browser bundle. eslint.config.js says the same per file; this checks the whole
// import graph, dynamic imports and re-exports included.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../relay/control/paths.js';

const ROOT = repoRoot();
const PRODUCT = ['relay', 'client', 'container', 'shared'];
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const TEST_ONLY = /\.(test|spec)\.(ts|tsx)$/;

/** Product source files: under PRODUCT, not a test, not in a testing/ folder. */
function productFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'testing' && e.name !== 'node_modules') productFiles(p, out);
    } else if (SOURCE.test(e.name) && !TEST_ONLY.test(e.name)) out.push(p);
  }
  return out;
}

/** Module specifiers a file names: static imports, re-exports, side-effect imports and import(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** True when `spec`, written in `file`, names something under testkit/. */
function intoTestkit(file: string, spec: string): boolean {
  const testkit = path.join(ROOT, 'testkit');
  if (spec.startsWith('.')) {
    const target = path.resolve(path.dirname(file), spec);
    return target === testkit || target.startsWith(testkit + path.sep);
  }
  return /(^|\/)testkit(\/|$)/.test(spec);
}

describe('test kit boundary', () => {
  it('the scanner sees every import form (so an empty result means something)', () => {
    const file = path.join(ROOT, 'relay/control/example.ts');
    const text = [
      "import { freePort } from '../../testkit/ports.js';",
      "export { pidAlive } from '../../testkit/processes.js';",
      "import '../../testkit/tempDirs.js';",
      "const kit = await import('../../testkit/kitImage.js');",
      "import { repoRoot } from './paths.js';",
    ].join('\n');
    expect(specifiers(text).filter((s) => intoTestkit(file, s))).toHaveLength(4);
  });

  it('no product source in relay/, client/, container/ or shared/ imports testkit/', () => {
    const files = PRODUCT.flatMap((d) => productFiles(path.join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((f) =>
      specifiers(fs.readFileSync(f, 'utf8'))
        .filter((s) => intoTestkit(f, s))
        .map((s) => `${path.relative(ROOT, f)} imports ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
