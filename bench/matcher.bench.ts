import { IndexedMatcher, NaiveMatcher, type Matcher } from '../src/engine/index.js';
import type { Finding } from '../src/intake/index.js';
import { asyncOperationsPerSecond, result, type Benchmark } from './harness.js';
import { findingStream, playbookLibrary } from './workload.js';

/** Library sizes: a first deployment, a grown one, a large organisation's. */
export const MATCHER_LIBRARY_SIZES = [10, 100, 500] as const;
/** Distinct findings, cycled through: enough that caches see a realistic mix, not one finding. */
const STREAM_LENGTH = 2_000;

/** Findings per second of `matcher`, one finding at a time, after one warm-up pass over the stream. */
async function findingsPerSecond(matcher: Matcher, findings: readonly Finding[], warmUp: number): Promise<number> {
  for (let i = 0; i < warmUp; i += 1) await matcher.match(findings[i % findings.length] as Finding);
  return asyncOperationsPerSecond((iteration) => matcher.match(findings[iteration % findings.length] as Finding));
}

/**
 * Matching throughput of the IndexedMatcher on a library of N playbooks
 * (bench/workload.ts: mostly Security Hub control playbooks, GuardDuty
 * type-prefix, custom-action and API ones), against the NaiveMatcher —
 * every rule on every finding — on the same library and the same findings,
 * in the same run. Sequential awaits on one core; median of five rounds.
 */
export const matcherBenchmark: Benchmark = {
  name: 'matcher',
  baseline: 'one json-rules-engine engine holding every rule (NaiveMatcher)',
  async run() {
    const findings = findingStream(STREAM_LENGTH);
    const results = [];
    for (const size of MATCHER_LIBRARY_SIZES) {
      const playbooks = playbookLibrary(size);
      // The indexed matcher warms up on the whole stream (its engine cache is
      // then as a long-lived process has it); the naive one has no cache.
      const value = await findingsPerSecond(new IndexedMatcher(playbooks), findings, findings.length);
      const baseline = await findingsPerSecond(new NaiveMatcher(playbooks), findings, 50);
      results.push(result(`matcher-indexed-${size}`, value, 'findings/s', baseline));
    }
    return results;
  },
};
