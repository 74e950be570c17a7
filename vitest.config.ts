import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

const maxWorkers = Math.max(2, Math.min(4, availableParallelism()));

export default defineConfig({
  test: {
    maxWorkers,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/emulator-global-setup.ts'],
          setupFiles: ['test/support/emulator-lease.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
