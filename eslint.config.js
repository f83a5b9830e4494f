// Lint: typescript-eslint's recommended rules, plus the boundary rules that keep Node-only code out of
// the browser bundle (client/ and shared/ may not import node: modules or relay/container code) and the
// test kit out of product source (testkit/boundary.test.ts checks the same on the import graph).
import tseslint from 'typescript-eslint';

const TESTKIT = { group: ['**/testkit/**'], message: 'product source may not import the test kit (testkit/ is for tests and benches).' };
const FLEET_ABOVE = { group: ['**/fleet/**'], message: 'relay/fleet composes the planes per target; a plane never imports it (docs/fleet.md).' };
const RELAY_EDGE = { group: ['**/http/**', '**/app.js', '**/main.js'], message: 'the planes are below the HTTP edge: relay/http and app.ts import them, never the other way round.' };

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'build/', 'test-results/', 'playwright-report/', 'bench/results/', '.hivescope/', 'public/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['client/**/*.{ts,tsx}', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'client/ and shared/ run in the browser: no Node built-ins.' },
            { group: ['**/relay/**', '**/container/**'], message: 'the browser bundle may not import relay or container code.' },
            { group: ['**/testkit/**'], message: 'product source may not import the test kit (testkit/ is for tests and benches).' },
          ],
          paths: ['fs', 'path', 'net', 'child_process', 'os', 'dockerode', 'ws', 'express', 'pino'],
        },
      ],
    },
  },
  {
    // Product source never depends on the test kit; tests, testing/ folders, benches, e2e and scripts may.
    files: ['relay/**/*.{ts,mjs}', 'container/**/*.{ts,mjs}'],
    ignores: ['**/*.test.ts', '**/testing/**', 'relay/{control,telemetry,graph,stream,fleet}/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [TESTKIT] }],
    },
  },
  {
    // The relay's layers point down (docs/architecture.md): the planes never import the HTTP edge or the
    // composition root, and the graph imports no plane at all.
    files: ['relay/stream/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [TESTKIT, RELAY_EDGE] }],
    },
  },
  {
    // The planes are per target and know nothing of fleets: relay/fleet composes them, never the reverse.
    files: ['relay/{control,telemetry}/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [TESTKIT, RELAY_EDGE, FLEET_ABOVE] }],
    },
  },
  {
    // relay/fleet sits between app.ts and the planes (docs/fleet.md): it imports control/, telemetry/,
    // graph/ and the config, never the HTTP edge, the composition root or the stream.
    files: ['relay/fleet/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [TESTKIT, RELAY_EDGE, { group: ['**/stream/**'], message: 'relay/fleet is below the stream: the stream takes its FleetTelemetry from app.ts.' }] }],
    },
  },
  {
    files: ['relay/graph/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [TESTKIT, RELAY_EDGE, { group: ['**/control/**', '**/telemetry/**', '**/stream/**', '**/fleet/**'], message: 'relay/graph is below every plane: it imports only shared/.' }] },
      ],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
);
