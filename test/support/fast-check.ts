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
 *   `npm run test:deep` explores ten times further. Below 1 it shortens the
 *   searches, and their "not vacuous" checks (every operator matched, every
 *   playbook reached) may then fail: they are sized for the written counts.
 *
 * A failing test that ran a property prints the command that replays it,
 * after fast-check's own report (seed, path, shrunk counterexample).
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

/** What the fast-check plugin saw during the running test. */
interface PropertyTracking {
  /** Whether the running test has run a property (`fc.assert` or `fc.check`). */
  ranProperty: boolean;
  /** The seeds its properties ran with: the file's, unless a property pins its own. */
  readonly seeds: Set<number>;
}

/*
 * fast-check keeps its global plugins for the life of the module, which the
 * test files of a worker share (the unit project does not isolate them):
 * the plugin is installed once per worker, and its state lives beside it.
 */
const TRACKING = Symbol.for('riposte.test.fastCheckTracking');
const globals = globalThis as typeof globalThis & { [TRACKING]?: PropertyTracking };

function tracking(): PropertyTracking {
  let state = globals[TRACKING];
  if (state === undefined) {
    const created: PropertyTracking = { ranProperty: false, seeds: new Set() };
    state = created;
    globals[TRACKING] = created;
    fc.installGlobalPlugin(() => ({
      onAllRunsComplete: (details) => {
        created.ranProperty = true;
        created.seeds.add(details.seed);
      },
    }));
  }
  return state;
}

/** Applies the seed and the default run count to every fast-check run in this file. */
export function configureFastCheck(): void {
  tracking();
  fc.configureGlobal({ seed: FAST_CHECK_SEED, numRuns: runs(DEFAULT_RUNS) });
}

/** Called before each test. */
export function startTest(): void {
  const state = tracking();
  state.ranProperty = false;
  state.seeds.clear();
}

/**
 * For a failed test that ran a property, the line that replays it (fast-check's
 * own report gives the seed and the counterexample, not the command); undefined
 * when the test ran no property.
 */
export function replayNote(): string | undefined {
  const { ranProperty, seeds } = tracking();
  if (!ranProperty) return undefined;
  const pinned = [...seeds].filter((seed) => seed !== FAST_CHECK_SEED);
  const own = pinned.length === 0 ? '' : ` (a property here pins its own seed: ${pinned.join(', ')})`;
  return `This test ran fast-check properties with seed ${FAST_CHECK_SEED}${own}. Replay: ${replayCommand(FAST_CHECK_SEED)}`;
}
