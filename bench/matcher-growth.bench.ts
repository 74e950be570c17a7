import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { IndexedMatcher, NaiveMatcher, PlaybookIndex, type Matcher, type PlaybookMatch } from '../src/engine/index.js';
import type { Finding } from '../src/intake/index.js';
import { compilePlaybooks, type CompiledPlaybook } from '../src/playbooks/index.js';
import { asyncOperationsPerSecond, result, type Benchmark, type BenchmarkResult } from './harness.js';
import { FINDING_ACCOUNTS, FINDING_REGIONS, findingStream, grownLibraryFiles, phantomAccounts, type LibraryGrowth } from './workload.js';

/** Distinct findings, cycled through (as the matcher benchmark). */
const STREAM_LENGTH = 2_000;
/** Findings checked against the naive matcher before a grown library is timed (it checks every rule: ~25 µs each). */
const NAIVE_SAMPLE = 40;
/** Findings checked against a scan of every playbook's compiled check where the naive matcher is too slow (50,000 rules). */
const SCAN_SAMPLE = 200;

/** Regions a team copies its library to: the five the findings come from, and five they do not. */
const COPY_REGIONS = [...FINDING_REGIONS, 'us-east-2', 'us-west-1', 'eu-west-2', 'ap-northeast-1', 'sa-east-1'];
const PHANTOM = phantomAccounts(400);
/** 200 teams' accounts, two each: the findings' eight accounts among them (four teams see findings), the rest none. */
const TEAM_ACCOUNTS = [...FINDING_ACCOUNTS, ...PHANTOM];

interface GrowthCase {
  readonly name: string;
  readonly growth: LibraryGrowth;
  /** How its outputs are checked before timing. */
  readonly check: 'same-as-500' | 'naive' | 'scan';
}

/**
 * The growth libraries (bench/workload.ts `grownLibraryFiles`): the 500
 * library's generated playbooks copied per team or per region, each copy
 * restricted by `account` or `region`.
 */
const CASES: readonly GrowthCase[] = [
  // Accounts no finding carries: the output stays the 500 library's.
  { name: 'teams10-phantom', growth: { copies: 10, restriction: (copy) => ({ account: PHANTOM.slice(2 * copy, 2 * copy + 2) }) }, check: 'same-as-500' },
  // Accounts the findings carry: each finding meets the copies of two teams.
  {
    name: 'teams10-real',
    growth: { copies: 10, restriction: (copy) => ({ account: [FINDING_ACCOUNTS[copy % 8] as string, FINDING_ACCOUNTS[(copy + 1) % 8] as string] }) },
    check: 'naive',
  },
  { name: 'regions', growth: { copies: COPY_REGIONS.length, restriction: (copy) => ({ region: COPY_REGIONS[copy] as string }) }, check: 'naive' },
  // A stress library: a copy per team of an organisation with 200 teams, cut at 50,000 playbooks.
  { name: '50000', growth: { copies: 200, total: 50_000, restriction: (copy) => ({ account: TEAM_ACCOUNTS.slice(2 * copy, 2 * copy + 2) }) }, check: 'scan' },
];

/** A full garbage collection, for heap figures that hold what is live only. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const ids = (matches: readonly PlaybookMatch[]): string => JSON.stringify(matches.map((match) => [match.playbook.playbook.id, match.conditions]));

/** Throws unless `matcher` answers `expected` (ids, order and explanations) for each finding. */
async function assertSameAnswers(name: string, matcher: Matcher, expected: Matcher, findings: readonly Finding[]): Promise<void> {
  for (const finding of findings) {
    const [got, want] = [ids(await matcher.match(finding)), ids(await expected.match(finding))];
    if (got !== want) throw new Error(`${name}: the indexed matcher answers ${got.slice(0, 300)} for finding ${finding.id}, the reference ${want.slice(0, 300)}`);
  }
}

interface Measured {
  readonly playbooks: number;
  readonly compileMs: number;
  readonly indexMs: number;
  readonly heapMb: number;
  readonly findingsPerSecond: number;
  readonly candidates: number;
  readonly matches: number;
}

/** Compiles and indexes a library, checks its answers, then times it. */
async function measure(
  files: ReturnType<typeof grownLibraryFiles>,
  findings: readonly Finding[],
  gc: () => void,
  check: (matcher: IndexedMatcher, playbooks: readonly CompiledPlaybook[]) => Promise<void>,
): Promise<Measured> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let started = performance.now();
  const playbooks = compilePlaybooks(files);
  const compileMs = performance.now() - started;
  started = performance.now();
  const index = new PlaybookIndex(playbooks);
  const indexMs = performance.now() - started;
  const matcher = new IndexedMatcher(playbooks, { index });
  let candidates = 0;
  let matches = 0;
  // One pass over the stream: it counts, and warms the matcher up as a long-lived process has it.
  for (const finding of findings) {
    candidates += index.candidates(finding).length;
    matches += (await matcher.match(finding)).length;
  }
  gc();
  // The library, its index and the matcher's warm state, as a process serving them holds them.
  const heapMb = (process.memoryUsage().heapUsed - before) / 1_048_576;
  await check(matcher, playbooks);
  const findingsPerSecond = await asyncOperationsPerSecond((iteration) => matcher.match(findings[iteration % findings.length] as Finding));
  return { playbooks: playbooks.length, compileMs, indexMs, heapMb, findingsPerSecond, candidates: candidates / findings.length, matches: matches / findings.length };
}

/**
 * How matching scales with the library: findings per second, candidates
 * and matches per finding, compile and index build times and heap, for each
 * growth library against the same figure for the 500-playbook library, in
 * the same run. Each library's answers are checked before it is timed:
 * against the 500 library's where they must be the same, against the naive
 * matcher (every rule through json-rules-engine) on a sample, or, at 50,000
 * playbooks, against a scan of every playbook's compiled check (the index
 * left out) on a sample.
 */
export const matcherGrowthBenchmark: Benchmark = {
  name: 'matcher-growth',
  baseline: 'the same figure for the 500-playbook library, IndexedMatcher',
  async run() {
    const gc = collector();
    const findings = findingStream(STREAM_LENGTH);
    let base: IndexedMatcher | undefined;
    const baseline = await measure(grownLibraryFiles({ copies: 0, restriction: () => ({}) }), findings, gc, async (matcher, playbooks) => {
      base = matcher;
      await assertSameAnswers('500', matcher, new NaiveMatcher(playbooks), findings.slice(0, NAIVE_SAMPLE * 5));
    });
    const figures: BenchmarkResult[] = [];
    for (const { name, growth, check } of CASES) {
      const grown = await measure(grownLibraryFiles(growth), findings, gc, async (matcher, playbooks) => {
        if (check === 'same-as-500') await assertSameAnswers(name, matcher, base as IndexedMatcher, findings);
        else if (check === 'naive') await assertSameAnswers(name, matcher, new NaiveMatcher(playbooks), findings.slice(0, NAIVE_SAMPLE));
        else await assertSameAnswers(name, matcher, new IndexedMatcher(playbooks, { index: new PlaybookIndex(playbooks, { levels: [] }) }), findings.slice(0, SCAN_SAMPLE));
      });
      const prefix = `matcher-growth-${name}`;
      figures.push(
        result(prefix, grown.findingsPerSecond, 'findings/s', baseline.findingsPerSecond),
        result(`${prefix}-playbooks`, grown.playbooks, 'playbooks', baseline.playbooks),
        result(`${prefix}-candidates`, grown.candidates, 'candidates/finding', baseline.candidates, 2),
        result(`${prefix}-matches`, grown.matches, 'matches/finding', baseline.matches, 2),
        result(`${prefix}-compile`, grown.compileMs, 'ms', baseline.compileMs),
        result(`${prefix}-index-build`, grown.indexMs, 'ms', baseline.indexMs, 1),
        result(`${prefix}-heap`, grown.heapMb, 'MB', baseline.heapMb, 1),
      );
    }
    return figures;
  },
};
