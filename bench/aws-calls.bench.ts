import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { caseSettings, findTestCases, readWorld } from '../src/cli/golden.js';
import { replayCase, type ReplayOutcome } from '../src/cli/golden-replay.js';
import { isReadOperation } from '../src/aws/index.js';
import { eventOfRawFinding } from '../src/intake/index.js';
import { loadPlaybooks, PlaybookCompileError } from '../src/playbooks/index.js';

import { result, type Benchmark, type BenchmarkResult } from './harness.js';

/*
 * The AWS calls each default playbook makes to remediate, counted by the
 * SDK middleware of `riposte test`'s replay (src/cli/aws-replay.ts): the
 * whole pipeline runs against the accounts of the playbook's first case that
 * has an AWS world (playbooks/tests/<playbook>/<case>.aws.json), every call
 * answered from it, so the figures are Riposte's own and the same every run.
 *
 * - `aws-calls-<playbook>`: calls in the run, against the distinct calls
 *   among them (a read sent again after a change reads what the change left,
 *   as verification must);
 * - `aws-repeated-reads-<playbook>`: reads sent again with no change sent
 *   since the first (issue 14's target: none), against the run's reads;
 * - `aws-round-trips-<playbook>`: sequential round trips on the run's
 *   critical path (calls sent together count once; answers take 5 ms so
 *   that calls sent at once are all sent before any is answered), against
 *   its calls;
 * - `time-to-contain-round-trips`: round trips until the instance's last
 *   interface is moved into the quarantine group (ec2-compromise-isolate),
 *   against the run's (target ≤ 6);
 * - `time-to-contain`: Riposte's own time from the event to that call, with
 *   answers taking no time, median of 5 runs, against the whole run's
 *   (target ≤ 200 ms).
 */

const root = join(import.meta.dirname, '..');
const library = join(root, 'playbooks');
const LATENCY_MS = 5;
const RUNS = 5;
const CONTAINING_CALL = 'ec2:ModifyNetworkInterfaceAttribute';

/** Reads sent again with no change sent since the same read was first sent: a question asked twice of one state. */
function repeatedReads(rounds: ReplayOutcome['rounds']): number {
  const isRead = (call: string): boolean => isReadOperation(call.split(':')[1] ?? '');
  const changeRounds = rounds.filter((sent) => !isRead(sent.call)).map((sent) => sent.round);
  const firstSent = new Map<string, number>();
  let repeated = 0;
  for (const sent of rounds) {
    if (!isRead(sent.call)) continue;
    const key = JSON.stringify([sent.call, sent.account, sent.params]);
    const first = firstSent.get(key);
    if (first === undefined || changeRounds.some((round) => round >= first && round < sent.round)) firstSent.set(key, sent.round);
    else repeated += 1;
  }
  return repeated;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export const awsCallsBenchmark: Benchmark = {
  name: 'aws-calls',
  baseline: 'same run: distinct calls · calls · the whole run',
  async run(): Promise<BenchmarkResult[]> {
    const { playbooks, problems } = await loadPlaybooks(library);
    if (problems.length > 0) throw new PlaybookCompileError(problems);
    const suite = await findTestCases(
      library,
      playbooks.map((compiled) => compiled.playbook.id),
    );
    const figures: BenchmarkResult[] = [];
    const measured = new Set<string>();
    for (const testCase of suite.cases) {
      if (testCase.worldFile === undefined || measured.has(testCase.playbook)) continue;
      measured.add(testCase.playbook);
      const event = eventOfRawFinding(JSON.parse(await readFile(testCase.eventFile, 'utf8')) as unknown, testCase.name);
      const world = await readWorld(testCase.worldFile);
      const settings = caseSettings(JSON.parse(await readFile(testCase.goldenFile, 'utf8')) as unknown, testCase.goldenFile);
      const timed = await replayCase(event, world, settings, playbooks, { latencyMs: LATENCY_MS });
      if (timed.missing.length > 0) throw new Error(`${testCase.worldFile}: ${timed.missing.join('; ')}`);

      const distinct = new Set(timed.calls.map((call) => JSON.stringify(call))).size;
      const roundTrips = Math.max(...timed.rounds.map((sent) => sent.round));
      figures.push(result(`aws-calls-${testCase.playbook}`, timed.calls.length, 'calls', distinct));
      figures.push(result(`aws-round-trips-${testCase.playbook}`, roundTrips, 'round trips', timed.calls.length));
      const reads = timed.rounds.filter((sent) => isReadOperation(sent.call.split(':')[1] ?? ''));
      figures.push(result(`aws-repeated-reads-${testCase.playbook}`, repeatedReads(timed.rounds), 'reads', reads.length));

      const containing = timed.rounds.filter((sent) => sent.call === CONTAINING_CALL).at(-1);
      if (containing === undefined) continue;
      figures.push(result('time-to-contain-round-trips', containing.round, 'round trips', roundTrips));
      const own: Array<{ contained: number; whole: number }> = [];
      for (let run = 0; run < RUNS; run += 1) {
        const instant = await replayCase(event, world, settings, playbooks);
        const contained = instant.rounds.filter((sent) => sent.call === CONTAINING_CALL).at(-1)?.sentAtMs ?? Number.NaN;
        own.push({ contained, whole: instant.elapsedMs });
      }
      figures.push(result('time-to-contain', median(own.map((sample) => sample.contained)), 'ms', median(own.map((sample) => sample.whole))));
    }
    return figures;
  },
};
