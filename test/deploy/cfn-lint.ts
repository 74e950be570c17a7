import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * cfn-lint (Python) takes ~2 s alone on an idle machine, and many times that
 * on a loaded 2-core one while the emulator-backed tests run beside it.
 */
export const CFN_LINT_TIMEOUT_MS = 120_000;

export interface Lint {
  readonly status: number;
  readonly output: string;
}

/** Runs cfn-lint on a template file; the signal ends it when the test times out. */
export function cfnLintFile(file: string, signal: AbortSignal, args: readonly string[] = []): Promise<Lint> {
  return new Promise((resolve, reject) => {
    // stdin closed: cfn-lint reads a template from it when no file reaches it (a misparsed option), and would wait forever.
    const child = execFile('cfn-lint', [...args, file], { encoding: 'utf8', signal }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error.code === 'ENOENT' ? new Error('cfn-lint is not on the PATH: install it with `pip install cfn-lint`', { cause: error }) : error);
        return;
      }
      resolve({ status: error === null ? 0 : (error.code as number), output: `${stdout}${stderr}` });
    });
    child.stdin?.end();
  });
}

/** Runs cfn-lint on `template` written to a temporary file. */
export function cfnLint(name: string, template: unknown, signal: AbortSignal, args: readonly string[] = []): Promise<Lint> {
  const file = join(mkdtempSync(join(tmpdir(), 'riposte-cfn-lint-')), name);
  writeFileSync(file, JSON.stringify(template, null, 2));
  return cfnLintFile(file, signal, args);
}
