import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** One benchmark figure, compared with a baseline measured in the same run. */
export interface BenchmarkResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly ratio: number;
}

export interface Benchmark {
  readonly name: string;
  /** What the baseline is, for the printed table. */
  readonly baseline: string;
  run(): Promise<BenchmarkResult[]> | BenchmarkResult[];
}

/**
 * Operations per second of `operation`, over at least `minMs` after a warm-up
 * (so the JIT has settled), as the median of five rounds (so one GC pause or
 * a noisy neighbour does not decide the figure).
 */
export function operationsPerSecond(operation: () => unknown, minMs = 300): number {
  const round = (): number => {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < minMs) {
      for (let i = 0; i < 64; i += 1) operation();
      count += 64;
      elapsed = performance.now() - start;
    }
    return (count * 1000) / elapsed;
  };
  round();
  const rounds = Array.from({ length: 5 }, round).sort((a, b) => a - b);
  return rounds[2] as number;
}

/** A figure and its baseline, rounded to `decimals` (whole numbers unless a figure is small, such as candidates per finding). */
export function result(name: string, value: number, unit: string, baseline: number, decimals = 0): BenchmarkResult {
  const round = (figure: number): number => Number(figure.toFixed(decimals));
  return { name, value: round(value), unit, baseline: round(baseline), ratio: Number((value / baseline).toFixed(3)) };
}

/**
 * The asynchronous counterpart of `operationsPerSecond`: operations per
 * second of `operation`, awaited one at a time (never two in flight), over
 * at least `minMs` per round after a warm-up round, as the median of
 * `rounds` rounds. `operation` gets a running count, to cycle through inputs.
 */
export async function asyncOperationsPerSecond(operation: (iteration: number) => Promise<unknown>, minMs = 300, rounds = 5): Promise<number> {
  let iteration = 0;
  const round = async (): Promise<number> => {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < minMs) {
      await operation(iteration);
      iteration += 1;
      count += 1;
      elapsed = performance.now() - start;
    }
    return (count * 1000) / elapsed;
  };
  await round();
  const results: number[] = [];
  for (let i = 0; i < rounds; i += 1) results.push(await round());
  results.sort((a, b) => a - b);
  return results[Math.floor(rounds / 2)] as number;
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Milliseconds from spawning `node` with `args` to its exit, median of `runs`; a run that fails fails the benchmark. */
export function processMilliseconds(args: readonly string[], env: NodeJS.ProcessEnv, runs: number, cwd?: string): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    // Standard output is not kept: a replay's JSON passes spawnSync's buffer, and the figure is the command's, not a pipe's.
    const child = spawnSync(process.execPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], ...(cwd === undefined ? {} : { cwd }) });
    times.push(performance.now() - started);
    if (child.status !== 0) throw new Error(`node ${args.join(' ')} exited ${child.status}: ${child.stderr.slice(0, 2000)}`);
  }
  return median(times);
}
