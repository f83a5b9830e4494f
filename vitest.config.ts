import { defineConfig } from 'vitest/config';

// Unit tests: *.test.ts. Integration tests (real processes, real TCP): *.integration.test.ts.
// Docker tests (need a running engine and the kit's image): *.docker.test.ts, run by scripts/test.mjs
// as a separate pass after scripts/ensure-system. Browser tests live in e2e/ (Playwright).
export default defineConfig({
  test: {
    include: ['{shared,relay,container,client,scripts,bench,testkit}/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'dist/**', '**/*.docker.test.ts', ...(process.env.HIVESCOPE_DOCKER_TESTS ? [] : [])],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['scripts/vitest-global-setup.ts'],
    setupFiles: ['scripts/vitest-setup.ts'],
  },
});
