import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

const maxWorkers = Math.max(2, Math.min(4, availableParallelism()));

/** Every file, in every project: FC_SEED and FC_RUNS_SCALE for fast-check (test/support/fast-check.ts). */
const setupFiles = ['test/support/fast-check-setup.ts'];

export default defineConfig({
  test: {
    maxWorkers,
    projects: [
      {
        test: {
          // In-process code only: no emulator, no child process, no long search.
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.subprocess.test.ts', 'test/**/*.property.test.ts'],
          setupFiles,
          // The files of a worker share one module graph: the SDK clients and
          // the compiled sources are loaded once per worker, not once per file
          // (most of the project's time went to imports). No unit test
          // changes module state it does not restore.
          isolate: false,
        },
      },
      {
        test: {
          // In-process searches (fast-check) that need thousands of runs to
          // mean something: their "not vacuous" checks (every operator
          // matched, every playbook reached) hold only over many runs. Their
          // counts and seed come from FC_RUNS_SCALE and FC_SEED.
          name: 'property',
          include: ['test/**/*.property.test.ts'],
          setupFiles,
          isolate: false,
        },
      },
      {
        test: {
          // Tests that start a process: the CLI's smoke tests, cfn-lint.
          // Their time is the process's, so their timeouts are sized for a
          // loaded 2-core machine, in each file.
          name: 'subprocess',
          include: ['test/**/*.subprocess.test.ts'],
          setupFiles,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/emulator-global-setup.ts'],
          setupFiles: [...setupFiles, 'test/support/emulator-lease.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
