import { defineConfig } from 'vitest/config';

/**
 * Three kinds of test, by file name (README, Development):
 * - `*.unit.test.ts`: in-process, no socket, no child process (test/setup/unitIsolation.ts refuses them);
 * - `*.e2e.test.ts`: a real Chromium against a real gate;
 * - every other `*.test.ts`: integration, on real sockets and real gate or CLI processes.
 */
const UNIT = 'test/**/*.unit.test.ts';
const E2E = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    restoreMocks: true,
    unstubEnvs: true,
    unstubGlobals: true,
    // Socket-heavy suites share two cores; parallel files would only measure contention.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: [UNIT], setupFiles: ['test/setup/unitIsolation.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [UNIT, E2E] } },
      { extends: true, test: { name: 'e2e', include: [E2E] } },
    ],
  },
});
