import { intakeBenchmark } from './intake.bench.js';
import type { Benchmark, BenchmarkResult } from './harness.js';

/**
 * `npm run bench` prints a table; `npm run bench -- --json` prints
 * `{"benchmarks":[{"name","value","unit","baseline","ratio"}]}`.
 * Each figure is compared with a baseline measured in the same run.
 */
const BENCHMARKS: readonly Benchmark[] = [intakeBenchmark];

const json = process.argv.includes('--json');
const results: BenchmarkResult[] = [];
for (const benchmark of BENCHMARKS) {
  if (!json) process.stderr.write(`running ${benchmark.name}…\n`);
  results.push(...(await benchmark.run()));
}

if (json) {
  process.stdout.write(`${JSON.stringify({ benchmarks: results })}\n`);
} else {
  const width = Math.max(...results.map((r) => r.name.length));
  process.stdout.write(`${'name'.padEnd(width)}  ${'value'.padStart(12)}  ${'baseline'.padStart(12)}  ratio  unit\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(width)}  ${r.value.toLocaleString('en-US').padStart(12)}  ${r.baseline.toLocaleString('en-US').padStart(12)}  ${r.ratio.toFixed(3).padStart(5)}  ${r.unit} (baseline: JSON.parse of the same event)\n`,
    );
  }
}
