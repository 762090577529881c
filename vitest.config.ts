import { defineConfig } from 'vitest/config';

// Three projects: unit tests beside the code (Node), edge tests in workerd, and the
// end-to-end suite that starts the real local stack (test/).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/src/**/*.test.ts', 'homenode/src/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      './edge/vitest.config.ts',
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          // Each file starts its own edge and node on its own ports; two cores run them one by one.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
