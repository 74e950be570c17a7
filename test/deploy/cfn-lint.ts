import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * cfn-lint (Python) takes ~2 s alone on an idle machine, and many times that
 * on a loaded 2-core one while the emulator-backed tests run beside it.
 */
export const CFN_LINT_TIMEOUT_MS = 120_000;

/** What cfn-lint said of each file, one line per problem: `<rule> <path>: <message>`. */
export type LintReport = ReadonlyMap<string, readonly string[]>;

interface LintMatch {
  readonly Filename: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Path?: ReadonlyArray<string | number> | null };
}

/**
 * Runs cfn-lint once over `files` and returns each file's problems (none: an
 * empty list). Most of a cfn-lint run is loading its resource specifications,
 * so templates are linted in one process: one file or seven cost the same
 * (measured: 4 CPU-s either way). `ignore` names rules left out of one file's
 * problems only, where `--ignore-checks` would drop them for every file.
 */
export function cfnLintFiles(files: readonly string[], options: { readonly signal?: AbortSignal; readonly ignore?: Readonly<Record<string, readonly string[]>> } = {}): Promise<LintReport> {
  return new Promise((resolve, reject) => {
    // stdin closed: cfn-lint reads a template from it when no file reaches it (a misparsed option), and would wait forever.
    const child = execFile(
      'cfn-lint',
      ['--format', 'json', '--', ...files],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, signal: options.signal ?? AbortSignal.timeout(CFN_LINT_TIMEOUT_MS) },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(error.code === 'ENOENT' ? new Error('cfn-lint is not on the PATH: install it with `pip install cfn-lint`', { cause: error }) : error);
          return;
        }
        let matches: LintMatch[];
        try {
          matches = JSON.parse(stdout) as LintMatch[];
        } catch {
          reject(new Error(`cfn-lint exited ${String(error?.code ?? 0)} without a JSON report:\n${stdout}${stderr}`));
          return;
        }
        // cfn-lint's exit status says which levels it found; with nothing found it must be 0 (anything else is cfn-lint failing, not the templates).
        if (matches.length === 0 && error !== null) {
          reject(new Error(`cfn-lint exited ${String(error.code)} and reported nothing:\n${stderr}`));
          return;
        }
        const report = new Map<string, string[]>(files.map((file) => [file, []]));
        for (const match of matches) {
          if (options.ignore?.[match.Filename]?.includes(match.Rule.Id) === true) continue;
          const line = `${match.Rule.Id} ${(match.Location.Path ?? []).join('/')}: ${match.Message}`;
          const problems = report.get(match.Filename);
          // A file cfn-lint could not open is reported with no file name, and then it lints nothing else: the run proves nothing.
          if (problems === undefined) {
            reject(new Error(`cfn-lint could not lint ${files.join(', ')}: ${line}`));
            return;
          }
          problems.push(line);
        }
        resolve(report);
      },
    );
    child.stdin?.end();
  });
}

/** Runs cfn-lint once over `templates` (by file name), written to a temporary directory; each name's problems. */
export async function cfnLintTemplates(templates: Readonly<Record<string, unknown>>, options: { readonly signal?: AbortSignal } = {}): Promise<LintReport> {
  const directory = mkdtempSync(join(tmpdir(), 'riposte-cfn-lint-'));
  const files = Object.entries(templates).map(([name, template]) => {
    const file = join(directory, name);
    writeFileSync(file, JSON.stringify(template, null, 2));
    return [name, file] as const;
  });
  const report = await cfnLintFiles(
    files.map(([, file]) => file),
    options,
  );
  return new Map(files.map(([name, file]) => [name, report.get(file) ?? []]));
}
