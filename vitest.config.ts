import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    restoreMocks: true,
    unstubEnvs: true,
    unstubGlobals: true,
    // Socket-heavy suites share two cores; parallel files would only measure contention.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
