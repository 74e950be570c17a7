import { randomInt } from 'node:crypto';
import { relative } from 'node:path';

import fc from 'fast-check';
import { expect } from 'vitest';

/*
 * How property tests explore, decided in one place for every test file
 * (test/support/fast-check-setup.ts applies it before each file):
 *
 * - FC_SEED pins the seed of every property in the run, so a red run
 *   reproduces exactly; .ci/run pins one. Unset, each test file draws a
 *   fresh seed, so local runs keep exploring new inputs.
 * - FC_RUNS_SCALE multiplies each property's run count (and its timeout):
 *   the counts written in the tests fit the suite's time budget, and
 *   `npm run test:deep` explores ten times further.
 *
 * A failing property prints its seed and the command that replays it.
 */

const SEED_VARIABLE = 'FC_SEED';
const SCALE_VARIABLE = 'FC_RUNS_SCALE';
/** fast-check's own default run count, for properties that give none. */
const DEFAULT_RUNS = 100;

function seedFrom(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return randomInt(0, 2 ** 31);
  const seed = Number(text);
  // fast-check keeps 32 bits of the seed: anything wider would replay as another seed.
  if (!/^-?\d+$/.test(text.trim()) || (seed | 0) !== seed) {
    throw new Error(`${SEED_VARIABLE}=${text} is not a 32-bit integer (a seed as fast-check prints it, e.g. ${SEED_VARIABLE}=413438955)`);
  }
  return seed;
}

function scaleFrom(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 1;
  const scale = Number(text);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`${SCALE_VARIABLE}=${text} is not a positive number (e.g. ${SCALE_VARIABLE}=10)`);
  return scale;
}

/** The seed of every property in this test file. */
export const FAST_CHECK_SEED = seedFrom(process.env[SEED_VARIABLE]);
/** The factor applied to every property's run count. */
export const RUNS_SCALE = scaleFrom(process.env[SCALE_VARIABLE]);

/** A property's run count: `base` as written in the test, times FC_RUNS_SCALE (at least one run). */
export function runs(base: number): number {
  return Math.max(1, Math.round(base * RUNS_SCALE));
}

/** A property test's timeout, grown with FC_RUNS_SCALE (never shrunk below `baseMs`). */
export function propertyTimeout(baseMs: number): number {
  return Math.round(baseMs * Math.max(1, RUNS_SCALE));
}

/** The shell command that runs the current test file again with `seed`. */
export function replayCommand(seed: number): string {
  const { testPath } = expect.getState();
  const file = testPath === undefined ? '<test file>' : relative(process.cwd(), testPath);
  return `${SEED_VARIABLE}=${seed}${RUNS_SCALE === 1 ? '' : ` ${SCALE_VARIABLE}=${RUNS_SCALE}`} npx vitest run ${file}`;
}

/** How to replay a property: FC_SEED when it ran with the file's seed, else the parameters to pin in the test. */
function replayHint(details: fc.RunDetails<unknown>): string {
  if (details.seed === FAST_CHECK_SEED) return `Replay: ${replayCommand(details.seed)}`;
  return `Replay: this property pins its own seed; run it with { seed: ${details.seed}, path: "${details.counterexamplePath ?? ''}" }`;
}

/**
 * Whether the running test has run an `fc.assert`: a later failure in it may
 * depend on the generated values. Tests of a file run one at a time (none is
 * `concurrent`), so one flag, reset before each test, suffices.
 */
let testRanProperty = false;

/**
 * fast-check's own report (seed, path, counterexample, shrinks) followed by
 * the replay command. It throws as fast-check's default reporter does, with
 * the property's error as the cause.
 */
function reportRun(details: fc.RunDetails<unknown>): void {
  testRanProperty = true;
  if (!details.failed) return;
  const message = `${fc.defaultReportMessage(details)}\n\n${replayHint(details)}`;
  if (details.runConfiguration.includeErrorInReport) throw new Error(message);
  throw new Error(message, { cause: details.errorInstance });
}

/** Applies the seed, the default run count and the reporter to every fast-check run in this file. */
export function configureFastCheck(): void {
  fc.configureGlobal({ seed: FAST_CHECK_SEED, numRuns: runs(DEFAULT_RUNS), reporter: reportRun });
}

/** Called before each test. */
export function startTest(): void {
  testRanProperty = false;
}

/**
 * For a failed test that ran a property but failed elsewhere (a coverage
 * check after `fc.assert`, say), the line that replays it; undefined when
 * the test ran no property or fast-check already reported the failure.
 */
export function replayNoteFor(errors: readonly { message?: string }[]): string | undefined {
  if (!testRanProperty) return undefined;
  if (errors.some((error) => error.message?.includes('Replay: ') === true)) return undefined;
  return `This test ran fast-check properties with seed ${FAST_CHECK_SEED}. Replay: ${replayCommand(FAST_CHECK_SEED)}`;
}
