import { defineConfig } from 'vitest/config';

// One suite for the whole workspace. Integration test files each get their own
// database and stream namespace (see @fundtrace/testkit), so files run in parallel.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Notes what every file creates on the shared servers and reports (and removes) what outlived
    // its file at the end of the run (decision 0117).
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    maxWorkers: Number(process.env.FUNDTRACE_TEST_WORKERS ?? 2),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
