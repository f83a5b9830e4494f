import { defineConfig } from 'vitest/config';

// The Docker pass: real dockerd, the kit's image. One file at a time (they share one daemon and one container name).
export default defineConfig({
  test: {
    include: ['{relay,container,scripts,testkit}/**/*.docker.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    globalSetup: ['scripts/vitest-global-setup.ts'],
    setupFiles: ['scripts/vitest-setup.ts'],
  },
});
