import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { processMilliseconds, result, type Benchmark, type BenchmarkResult } from './harness.js';
import { replayCorpus } from './replay-corpus.js';

/*
 * The installed CLI's start, as a user meets it: `node bin/riposte.js …` in a
 * fresh process (the compiled CLI in dist/cli, rebuilt first so the figures
 * are of these sources), median of several runs, against bare `node -e 0`.
 * - `cli-startup-help`: `riposte --help` (target ≤ 300 ms, issue 13);
 * - `cli-startup-validate`: `riposte validate playbooks`, the default
 *   library compiled (target ≤ 600 ms);
 * - `cli-replay-10000-findings`: `riposte plan --json` over 10,000 bare
 *   findings and events in 50 accounts (NDJSON, bench/replay-corpus.ts), the
 *   shadow replay of issue 13 ("well under a minute").
 */

const root = join(import.meta.dirname, '..');
const RUNS = 7;

export const cliBenchmark: Benchmark = {
  name: 'cli',
  baseline: 'bare node -e 0',
  run(): BenchmarkResult[] {
    const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-cli.mjs')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`scripts/build-cli.mjs failed: ${built.stderr}`);
    const environment = { ...process.env, NO_COLOR: '1' };
    const bareNode = processMilliseconds(['-e', '0'], environment, RUNS);
    const riposte = (args: readonly string[]): number => processMilliseconds([join(root, 'bin', 'riposte.js'), ...args], environment, RUNS, root);
    const figures = [result('cli-startup-help', riposte(['--help']), 'ms', bareNode), result('cli-startup-validate', riposte(['validate', 'playbooks']), 'ms', bareNode)];
    const directory = mkdtempSync(join(tmpdir(), 'riposte-bench-replay-'));
    try {
      const corpus = join(directory, 'findings.ndjson');
      writeFileSync(corpus, replayCorpus(10_000, 50));
      const replay = processMilliseconds([join(root, 'bin', 'riposte.js'), 'plan', '--json', '--event', corpus], environment, 3, root);
      figures.push(result('cli-replay-10000-findings', replay, 'ms', bareNode));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    return figures;
  },
};
