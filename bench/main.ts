import { awsCallsBenchmark } from './aws-calls.bench.js';
import { burstBenchmark } from './burst.bench.js';
import { cliBenchmark } from './cli.bench.js';
import { handlersBenchmark } from './handlers.bench.js';
import { intakeBenchmark } from './intake.bench.js';
import { matcherBenchmark } from './matcher.bench.js';
import { matcherGrowthBenchmark } from './matcher-growth.bench.js';
import type { Benchmark, BenchmarkResult } from './harness.js';

/**
 * `npm run bench` prints a table; `npm run bench -- --json` prints
 * `{"benchmarks":[{"name","value","unit","baseline","ratio"}]}`.
 * (`--only <name>` runs one benchmark: intake, matcher, matcher-growth, handlers, cli, aws-calls, burst).
 * Each figure is compared with a baseline measured in the same run.
 */
const BENCHMARKS: readonly Benchmark[] = [intakeBenchmark, matcherBenchmark, matcherGrowthBenchmark, handlersBenchmark, cliBenchmark, awsCallsBenchmark, burstBenchmark];

const json = process.argv.includes('--json');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const chosen = BENCHMARKS.filter((benchmark) => only === undefined || benchmark.name === only);
if (chosen.length === 0) {
  process.stderr.write(`no benchmark is named ${only}: choose one of ${BENCHMARKS.map((benchmark) => benchmark.name).join(', ')}\n`);
  process.exit(2);
}
const results: Array<BenchmarkResult & { readonly baselineName: string }> = [];
for (const benchmark of chosen) {
  if (!json) process.stderr.write(`running ${benchmark.name}…\n`);
  for (const figure of await benchmark.run()) results.push({ ...figure, baselineName: benchmark.baseline });
}

if (json) {
  process.stdout.write(`${JSON.stringify({ benchmarks: results.map(({ baselineName: _, ...figure }) => figure) })}\n`);
} else {
  const width = Math.max(...results.map((r) => r.name.length));
  process.stdout.write(`${'name'.padEnd(width)}  ${'value'.padStart(10)}  ${'baseline'.padStart(10)}  ${'ratio'.padStart(8)}  unit (baseline)\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(width)}  ${r.value.toLocaleString('en-US').padStart(10)}  ${r.baseline.toLocaleString('en-US').padStart(10)}  ${r.ratio.toFixed(3).padStart(8)}  ${r.unit} (${r.baselineName})\n`,
    );
  }
}
