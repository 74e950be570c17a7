import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { collectEvidence, collectionScript, missingToolOf, TOOL_MISSING_EXIT } from '../../src/actions/ssm-collect-evidence.js';

/*
 * The collection script, run by bash here as AWS-RunShellScript runs it on the instance (its
 * `commands` joined by lines): the tool checks that stop a memory capture before anything
 * else. Only runs that end at a check are made: nothing reaches AVML or the AWS CLI.
 */

const scratch = mkdtempSync(join(tmpdir(), 'riposte-collect-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (lines: readonly string[]) => spawnSync('bash', ['-c', lines.join('\n')], { encoding: 'utf8', timeout: 60_000 });
const upload = { bucket: 'riposte-evidence-test', memoryImage: 'evidence/x/memory/i-1.lime', region: 'us-east-1' };

describe('ssm.collect-evidence script', () => {
  it('stops with exit 69 and names AVML and its path when AVML is absent, before running anything else', () => {
    const path = join(scratch, 'absent', 'avml');
    const wanted = collectEvidence.params.parse({ memoryCapture: { path }, commands: ['echo should-not-run'] });

    const result = run(collectionScript(wanted, upload));

    expect(result.status).toBe(TOOL_MISSING_EXIT);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`riposte-collect: tool missing: avml ${path}\n`);
    expect(missingToolOf(result.stderr)).toEqual({ tool: 'avml', path });
  });

  it('names the AWS CLI when AVML is there and the CLI is not', () => {
    const avml = join(scratch, 'avml');
    writeFileSync(avml, '#!/bin/sh\nexit 0\n');
    chmodSync(avml, 0o755);
    const cli = join(scratch, 'absent', 'aws');
    const wanted = collectEvidence.params.parse({ memoryCapture: { path: avml, awsCliPath: cli } });

    const result = run(collectionScript(wanted, upload));

    expect(result.status).toBe(TOOL_MISSING_EXIT);
    expect(missingToolOf(result.stderr)).toEqual({ tool: 'aws-cli', path: cli });
  });

  it('runs each command under a header when no memory capture is asked for, and a failing one does not stop the next', () => {
    const wanted = collectEvidence.params.parse({ commands: ['echo one', 'false', "echo 'two'"] });

    const result = run(collectionScript(wanted, upload));

    expect(result.stdout).toBe("### echo one\none\n### false\n### echo 'two'\ntwo\n");
    expect(result.status).toBe(0);
  });
});
