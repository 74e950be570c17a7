import { beforeEach } from 'vitest';

import { configureFastCheck, replayNote, startTest } from './fast-check.js';

/*
 * Runs before every test file of every project (vitest.config.ts,
 * setupFiles): one seed and one run scale for all the file's properties,
 * read from FC_SEED and FC_RUNS_SCALE (see ./fast-check.ts).
 */
configureFastCheck();

beforeEach(({ onTestFailed }) => {
  startTest();
  onTestFailed(({ task }) => {
    const note = replayNote();
    if (note === undefined) return;
    // Appended to the failure itself, so the report shows it where the failure is.
    for (const error of task.result?.errors ?? []) error.message = `${error.message}\n\n${note}`;
  });
});
