#!/usr/bin/env node
// `npm test`: ensure-system, build, typecheck, lint, unit + integration (vitest), Docker integration
// (vitest, real dockerd), then Playwright end-to-end in Debian's Chromium. Prints one summary line
// `N passed, N failed[, N skipped]` covering every suite. Missing prerequisites are skipped with the
// reason and the fix locally, and fail the run when CI=true.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystem, stopDockerd } from './ensure-system.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CI = process.env.CI === 'true';
const results = path.join(root, 'test-results');
fs.mkdirSync(results, { recursive: true });

const args = process.argv.slice(2);
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',') ?? null;
const want = (suite) => only === null || only.includes(suite);

const summary = []; // { suite, passed, failed, skipped, note, seconds }
// Failed tests by name with the first lines of their error, printed again just above the summary:
// CI keeps only the tail of the output, and a count without a name cannot be chased.
const failures = []; // { suite, name, message }
const MAX_FAILURE_LINES = 8;
const firstLines = (text) => String(text ?? '').replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() && !/node_modules|node:internal|new Promise/.test(l)).slice(0, MAX_FAILURE_LINES).join('\n    ');
const totals = { passed: 0, failed: 0, skipped: 0 };

function record(suite, { passed = 0, failed = 0, skipped = 0, note = '', seconds = 0 }) {
  summary.push({ suite, passed, failed, skipped, note, seconds });
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
}

function run(cmd, argv, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(127));
  });
}

const node = process.execPath;
const bin = (p) => path.join(root, 'node_modules', p);

async function step(suite, cmd, argv, env) {
  console.log(`\n=== ${suite}`);
  const t0 = Date.now();
  const code = await run(cmd, argv, env);
  const seconds = (Date.now() - t0) / 1000;
  record(suite, code === 0 ? { passed: 1, seconds } : { failed: 1, note: `exit ${code}`, seconds });
  return code === 0;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

async function vitestSuite(suite, config, extraEnv = {}) {
  console.log(`\n=== ${suite}`);
  const out = path.join(results, `${suite}.json`);
  fs.rmSync(out, { force: true });
  const t0 = Date.now();
  const code = await run(node, [bin('vitest/vitest.mjs'), 'run', '-c', config, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile=${out}`], extraEnv);
  const seconds = (Date.now() - t0) / 1000;
  const r = readJson(out);
  if (!r) {
    record(suite, { failed: 1, note: `vitest exited ${code} without a report`, seconds });
    return;
  }
  for (const file of r.testResults ?? []) {
    const rel = path.relative(root, file.name ?? '');
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') failures.push({ suite, name: `${rel} > ${t.fullName ?? t.title}`, message: firstLines((t.failureMessages ?? []).join('\n')) });
    }
    // A file that failed to load (or an error outside any test) has no failed assertion to name.
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) failures.push({ suite, name: rel, message: firstLines(file.message) });
  }
  const failed = r.numFailedTests + (code !== 0 && r.numFailedTests === 0 ? 1 : 0);
  record(suite, { passed: r.numPassedTests, failed, skipped: r.numPendingTests + r.numTodoTests, note: code !== 0 && r.numFailedTests === 0 ? `vitest exited ${code} (suite error)` : '', seconds });
}

async function playwrightSuite(suite, chromium) {
  console.log(`\n=== ${suite}`);
  const out = path.join(results, 'playwright.json');
  fs.rmSync(out, { force: true });
  const t0 = Date.now();
  const code = await run(node, [bin('@playwright/test/cli.js'), 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_NAME: out, CHROMIUM_PATH: chromium });
  const seconds = (Date.now() - t0) / 1000;
  const r = readJson(out);
  if (!r?.stats) {
    record(suite, { failed: 1, note: `playwright exited ${code} without a report`, seconds });
    return;
  }
  const { expected = 0, unexpected = 0, skipped = 0, flaky = 0 } = r.stats;
  const walk = (s, trail) => {
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'unexpected') continue;
        const last = (t.results ?? []).at(-1);
        failures.push({ suite, name: [...trail, spec.title].join(' > '), message: firstLines(last?.error?.message ?? last?.errors?.[0]?.message) });
      }
    }
    for (const child of s.suites ?? []) walk(child, [...trail, child.title]);
  };
  for (const s of r.suites ?? []) walk(s, [s.title]);
  for (const e of r.errors ?? []) failures.push({ suite, name: 'error outside a test', message: firstLines(e.message) });
  const errors = (r.errors ?? []).length;
  record(suite, { passed: expected + flaky, failed: unexpected + errors + (code !== 0 && unexpected + errors === 0 ? 1 : 0), skipped, note: flaky ? `${flaky} flaky` : '', seconds });
}

function skipSuite(suite, reason, fix) {
  const note = `skipped: ${reason}; fix: ${fix}`;
  console.log(`\n=== ${suite}\n${note}`);
  if (CI) record(suite, { failed: 1, note: `CI=true: ${reason} is required (${fix})` });
  else record(suite, { skipped: 1, note });
}

const sys = await ensureSystem({ install: true, log: (m) => console.log(m) });
let exitCode = 0;
try {
  if (!(await step('build', node, ['scripts/build.mjs', 'node']))) throw new Error('build failed');
  if (want('typecheck')) await step('typecheck', node, [bin('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
  if (want('lint')) await step('lint', node, [bin('eslint/bin/eslint.js'), '--max-warnings', '0', '.']);
  if (want('unit')) await vitestSuite('unit+integration', 'vitest.config.ts');
  if (want('docker')) {
    if (sys.docker && sys.busybox) await vitestSuite('docker', 'vitest.docker.config.ts', { HIVESCOPE_DOCKER: '1' });
    else {
      const m = sys.missing.filter((x) => x.what !== 'chromium');
      skipSuite('docker', m.map((x) => x.what).join(', ') + ' missing', m.map((x) => x.fix).join('; '));
    }
  }
  if (want('e2e')) {
    if (sys.chromium) {
      if (await step('client-build', node, ['scripts/build.mjs', 'client'])) await playwrightSuite('e2e', sys.chromium);
    } else skipSuite('e2e', 'chromium missing', 'sudo apt-get install -y chromium');
  }
} catch (e) {
  console.error(String(e?.message ?? e));
} finally {
  await stopDockerd(sys.startedDockerdPid, (m) => console.log(m));
}

if (failures.length > 0) {
  console.log('\n=== failures');
  for (const f of failures) console.log(`[${f.suite}] ${f.name}\n    ${f.message}`);
}
console.log('\n=== summary');
for (const s of summary) {
  console.log(`${s.suite.padEnd(18)} ${String(s.passed).padStart(5)} passed ${String(s.failed).padStart(4)} failed ${String(s.skipped).padStart(4)} skipped  ${s.seconds.toFixed(1).padStart(6)}s  ${s.note}`);
}
if (totals.failed > 0) exitCode = 1;
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(exitCode);
