import type { Command } from 'commander';

import { builtInActions } from '../actions/index.js';
import { IndexedMatcher } from '../engine/index.js';
import { LocalFileError } from '../files.js';
import { neutralise } from '../neutralise.js';
import { formatProblem, loadPlaybooks } from '../playbooks/index.js';
import { EVENT_SUFFIX, findTestCases, GOLDEN_SUFFIX, runCase, TESTS_DIRECTORY, WORLD_SUFFIX, type CaseResult } from './golden.js';
import { ExitCode, type CommandIo } from './io.js';

interface TestOptions {
  readonly update?: boolean;
  readonly json?: boolean;
}

const LAYOUT = `Cases live beside the library, one directory per playbook id (the files are JSON, so the playbook loader,
which reads .yml/.yaml, never takes them for playbooks):
  <dir>/${TESTS_DIRECTORY}/<playbook-id>/<case>${EVENT_SUFFIX}
      an event intake reads, or a bare ASFF/OCSF finding
  <dir>/${TESTS_DIRECTORY}/<playbook-id>/<case>${GOLDEN_SUFFIX}
      the settings the case runs under ("automatic": off, plan or enforce, the default; "excludedAccounts"; "now"),
      and the outcome expected: which playbooks of the whole library match and why, each one's decision (act, plan or
      skip, with the reason), and its steps with their parameters, the target the finding names and the IAM actions
      the step's action may call.
  <dir>/${TESTS_DIRECTORY}/<playbook-id>/<case>${WORLD_SUFFIX}   (optional)
      the answers the case's accounts give, in order: the state before, each change, the state after
      ({"answers": [{"call": "iam:GetAccountPasswordPolicy", "output": {…}}, {"call": "iam:Update…", "output": {}}, …]},
      an answer may name its "account", the "input" it answers, or an "error": {"name", "message"}; {"$time": "…"} is a
      timestamp). The case then also runs the whole pipeline against them, offline, and the golden file holds every AWS
      call made, with its parameters, and how each run ended. A call with no answer is an error naming it.

Exit codes: 0 every case passes (with --update: every golden file is written); 1 a case's outcome differs from its
golden file; 2 bad input: an event intake cannot read, a missing or malformed golden file, an invalid library.`;

/** Colour for a terminal that wants it: never in a pipe or a file, never under NO_COLOR (https://no-color.org). */
function painter(stream: unknown): (code: string, text: string) => string {
  const colour = (stream as { isTTY?: boolean }).isTTY === true && (process.env.NO_COLOR ?? '') === '';
  return (code, text) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
}

/** The line each case prints, and what follows it (a diff, an error). */
function describeResult(result: CaseResult, paint: (code: string, text: string) => string): string[] {
  const name = neutralise(result.name);
  switch (result.status) {
    case 'ok':
      return [`${paint('32', 'ok     ')} ${name}`];
    case 'created':
      return [`${paint('33', 'created')} ${name}`];
    case 'updated':
      return [`${paint('33', 'updated')} ${name}`, ...(result.diff ?? []).map((line) => `    ${colourDiffLine(neutralise(line), paint)}`)];
    case 'fail':
      return [`${paint('31', 'FAIL   ')} ${name}`, ...(result.diff ?? []).map((line) => `    ${colourDiffLine(neutralise(line), paint)}`)];
    case 'error':
      return [`${paint('31', 'ERROR  ')} ${name}`, `    ${neutralise(result.error ?? '')}`];
  }
}

function colourDiffLine(line: string, paint: (code: string, text: string) => string): string {
  if (line.startsWith('---') || line.startsWith('+++')) return paint('1', line);
  if (line.startsWith('@@')) return paint('36', line);
  if (line.startsWith('-')) return paint('31', line);
  if (line.startsWith('+')) return paint('32', line);
  return line;
}

const count = (results: readonly CaseResult[], status: CaseResult['status']): number => results.filter((result) => result.status === status).length;

/**
 * `riposte test [dir] [--update] [--json]`: the playbook test harness. Each
 * case's event goes through intake, the library's matcher and the guards
 * that depend on the finding alone (the offline plan of `riposte plan`),
 * and the outcome is compared with the case's golden file (src/cli/golden.ts).
 * A difference is printed as a unified diff of the two JSON texts and fails
 * the run (exit 1); `--update` writes the outcome instead. Nothing is read
 * from or written to AWS.
 */
export function registerTestCommand(program: Command, io: CommandIo): void {
  program
    .command('test')
    .description('run the playbook tests: each event fixture against its golden file (offline); --update rewrites the golden files')
    .argument('[dir]', 'the playbook library; its tests are under <dir>/tests/', 'playbooks')
    .option('--update', 'write each case’s outcome to its golden file (keeping the settings it states), and say which changed')
    .option('--json', 'print the results as one JSON document')
    .addHelpText('after', `\n${LAYOUT}`)
    .action(async (dir: string, options: TestOptions) => {
      const { playbooks, problems } = await loadPlaybooks(dir).catch((error: unknown) => {
        if (error instanceof LocalFileError) return { playbooks: [], problems: [{ file: error.file, line: 1, column: 1, path: '', message: error.reason }] };
        throw error;
      });
      if (problems.length > 0) {
        // Without a library that compiles there is no outcome to compare: the library is bad input.
        for (const problem of problems) io.stderr.write(`${neutralise(formatProblem(problem))}\n`);
        io.stderr.write(`${neutralise(dir)}: the library has ${problems.length} problem${problems.length === 1 ? '' : 's'}; no case was run\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      const suite = await findTestCases(
        dir,
        playbooks.map((compiled) => compiled.playbook.id),
      );
      if (suite.cases.length === 0 && suite.problems.length === 0) {
        io.stderr.write(`${neutralise(dir)}: no test case (riposte test --help describes the layout: <dir>/${TESTS_DIRECTORY}/<playbook-id>/<case>${EVENT_SUFFIX})\n`);
        io.exitCode = ExitCode.BadInput;
        return;
      }
      const matcher = new IndexedMatcher(playbooks);
      const registry = builtInActions();
      const update = options.update === true;
      const results: CaseResult[] = suite.problems.map((problem) => ({ name: problem.name, status: 'error', error: problem.error }));
      // One at a time, in name order: output in a stable order, and a library's cases are few and fast.
      for (const testCase of suite.cases) results.push(await runCase(testCase, { matcher, playbooks, registry, update, clock: () => new Date() }));
      results.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

      const summary = {
        cases: results.length,
        ok: count(results, 'ok'),
        failed: count(results, 'fail'),
        errors: count(results, 'error'),
        created: count(results, 'created'),
        updated: count(results, 'updated'),
      };
      if (options.json === true) {
        io.stdout.write(`${JSON.stringify({ library: dir, update, results, untested: suite.untested, summary }, null, 2)}\n`);
      } else {
        const paint = painter(io.stdout);
        const lines = results.flatMap((result) => describeResult(result, paint));
        for (const id of suite.untested) lines.push(`${paint('33', 'note   ')} ${neutralise(id)}: no test case`);
        const parts = [`${summary.ok} ok`, `${summary.failed} failed`, `${summary.errors} bad input`];
        if (update) parts.push(`${summary.created} created`, `${summary.updated} updated`);
        lines.push(`${summary.cases} case${summary.cases === 1 ? '' : 's'}: ${parts.join(', ')}`);
        io.stdout.write(`${lines.join('\n')}\n`);
      }
      io.exitCode = summary.errors > 0 ? ExitCode.BadInput : summary.failed > 0 ? ExitCode.Failed : ExitCode.Ok;
    });
}
