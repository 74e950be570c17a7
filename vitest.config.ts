import { availableParallelism } from 'node:os';

import { defineConfig } from 'vitest/config';

const maxWorkers = Math.max(2, Math.min(4, availableParallelism()));

/** Every file, in every project: FC_SEED and FC_RUNS_SCALE for fast-check (test/support/fast-check.ts). */
const setupFiles = ['test/support/fast-check-setup.ts'];

/**
 * Limits catch a hang, never a slow machine: sized for a 2-core machine with
 * both cores busy elsewhere (several times the idle time of the slowest
 * test). Speed is measured in `npm run bench`, not here. (Projects do not
 * inherit the root's options, so each takes these.)
 */
const limits = { testTimeout: 120_000, hookTimeout: 120_000 };

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
          ...limits,
          // The files of a worker share one module graph: the SDK clients and
          // the compiled sources are loaded once per worker, not once per file
          // (most of the project's time went to imports). Sound because a
          // unit test restores what it changes (environment, spies), and the
          // SDK client classes some files mock (aws-sdk-client-mock) serve
          // no other unit test: none sends a request.
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
          ...limits,
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
          ...limits,
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/emulator-global-setup.ts'],
          setupFiles: [...setupFiles, 'test/support/emulator-lease.ts'],
          ...limits,
          // As in the unit project: the SDK and the sources load once per
          // worker. Each file still holds its own emulator, leased and reset
          // around it, and restores the SDK clients it mocks.
          isolate: false,
        },
      },
    ],
  },
});
