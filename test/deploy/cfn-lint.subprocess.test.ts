import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { builtInActions, memberRoleTemplate } from '../../src/actions/index.js';
import { serverlessConfig } from './serverless-config.js';

/**
 * cfn-lint (Python) takes ~2 s alone on an idle machine, and many times that
 * on a loaded 2-core one while the emulator-backed tests run beside it.
 */
const CFN_LINT_TIMEOUT_MS = 120_000;

interface Lint {
  readonly status: number;
  readonly output: string;
}

/** Runs cfn-lint on `template` written to a temporary file; the signal ends it when the test times out. */
function cfnLint(name: string, template: unknown, signal: AbortSignal): Promise<Lint> {
  const file = join(mkdtempSync(join(tmpdir(), 'riposte-cfn-lint-')), name);
  writeFileSync(file, JSON.stringify(template, null, 2));
  return new Promise((resolve, reject) => {
    execFile('cfn-lint', [file], { encoding: 'utf8', signal }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(error.code === 'ENOENT' ? new Error('cfn-lint is not on the PATH: install it with `pip install cfn-lint`', { cause: error }) : error);
        return;
      }
      resolve({ status: error === null ? 0 : (error.code as number), output: `${stdout}${stderr}` });
    });
  });
}

describe('cfn-lint', () => {
  it(
    'passes the resources of serverless.yml',
    async ({ signal }) => {
      const template = { AWSTemplateFormatVersion: '2010-09-09', Resources: serverlessConfig().resources.Resources };

      const lint = await cfnLint('resources.json', template, signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );

  it(
    'passes the member-account role template',
    async ({ signal }) => {
      const lint = await cfnLint('member-role.json', memberRoleTemplate(builtInActions()), signal);

      expect(lint.output).toBe('');
      expect(lint.status).toBe(0);
    },
    CFN_LINT_TIMEOUT_MS,
  );
});
