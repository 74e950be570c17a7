import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { Command, CommanderError } from 'commander';
import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';

import { canonicalJson } from '../../src/cli/golden.js';
import type { CommandIo } from '../../src/cli/io.js';
import { registerTestCommand } from '../../src/cli/test-command.js';
import { unifiedDiff } from '../../src/cli/text-diff.js';
import type { CliResult } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'riposte-test-command-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * `riposte test …args` in this process: a program set up as src/cli/program.ts
 * sets it up (commander throws instead of exiting; help exits 0, a usage
 * error 2), with only the test command registered.
 */
async function riposteTest(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CommandIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, stdin: Readable.from(['']), exitCode: 0 };
  const program = new Command()
    .name('riposte')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (stdout += text), writeErr: (text) => (stderr += text) });
  registerTestCommand(program, io);
  try {
    await program.parseAsync(['test', ...args], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { status: error.exitCode === 0 ? 0 : 2, stdout, stderr };
    throw error;
  }
  return { status: io.exitCode, stdout, stderr };
}

let copies = 0;
/** A copy of the shipped library and its tests, to edit. */
function libraryCopy(): string {
  copies += 1;
  const library = join(scratch, `library-${copies}`);
  cpSync('playbooks', library, { recursive: true });
  return library;
}

const SHIPPED_PLAYBOOKS = readdirSync('playbooks')
  .filter((name) => name.endsWith('.yml'))
  .map((name) => name.slice(0, -'.yml'.length));

interface GoldenFile {
  settings: { automatic: string; excludedAccounts: string[] };
  findings: Array<{ id: string; playbooks: Array<{ playbook: string; decision: string; reason: string; steps: Array<{ action: string; params: Record<string, unknown> }> }> }>;
}

const readGolden = (file: string): GoldenFile => JSON.parse(readFileSync(file, 'utf8')) as GoldenFile;

describe('riposte test: the shipped library (what npm test runs)', () => {
  it('playbooks/: every case matches its golden file, offline; exit 0, one ok line per case', async () => {
    const result = await riposteTest(['playbooks']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    const cases = result.stdout.split('\n').filter((line) => /^(ok|FAIL|ERROR)\b/.test(line));
    expect(cases.length).toBeGreaterThanOrEqual(SHIPPED_PLAYBOOKS.length * 2);
    expect(cases.every((line) => line.startsWith('ok '))).toBe(true);
    expect(result.stdout).toMatch(/^\d+ cases: \d+ ok, 0 failed, 0 bad input$/m);
    expect(result.stdout).not.toContain('no test case');
  });

  it('each of the 4 default playbooks has a case where it acts and one where it must not (skipped, plan only, or not matched)', () => {
    expect(SHIPPED_PLAYBOOKS).toHaveLength(4);
    for (const playbook of SHIPPED_PLAYBOOKS) {
      const directory = join('playbooks', 'tests', playbook);
      const goldens = readdirSync(directory)
        .filter((name) => name.endsWith('.golden.json'))
        .map((name) => readGolden(join(directory, name)));
      const decisions = goldens.map((golden) => golden.findings.flatMap((finding) => finding.playbooks.filter((planned) => planned.playbook === playbook).map((planned) => planned.decision)));
      expect(
        decisions.some((list) => list.includes('act')),
        playbook,
      ).toBe(true);
      expect(
        decisions.some((list) => !list.includes('act')),
        playbook,
      ).toBe(true);
    }
  });

  it('--json: one result per case with its status, and the summary', async () => {
    const result = await riposteTest(['playbooks', '--json']);
    const document = JSON.parse(result.stdout) as { results: Array<{ name: string; status: string }>; untested: string[]; summary: { cases: number; ok: number } };

    expect(result.status).toBe(0);
    expect(document.results.map((item) => item.status)).toEqual(document.results.map(() => 'ok'));
    expect(document.results.map((item) => item.name)).toContain('ec2-compromise-isolate/guardduty-sample');
    expect(document.summary.ok).toBe(document.summary.cases);
    expect(document.untested).toEqual([]);
  });

  it('--help names the layout: <dir>/tests/<playbook-id>/<case>.event.json and .golden.json', async () => {
    const result = await riposteTest(['--help']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('<dir>/tests/<playbook-id>/<case>.event.json');
    expect(result.stdout).toContain('<dir>/tests/<playbook-id>/<case>.golden.json');
  });
});

describe('riposte test: a golden file the library does not produce', () => {
  it('decision edited by hand from act to skip (revoke-unrestricted-admin-ingress/securityhub-ec2-13-open-ssh): exit 1, a diff naming "decision"', async () => {
    const library = libraryCopy();
    const file = join(library, 'tests', 'revoke-unrestricted-admin-ingress', 'securityhub-ec2-13-open-ssh.golden.json');
    const golden = readGolden(file);
    const planned = golden.findings[0]?.playbooks[0];
    expect(planned?.decision).toBe('act');
    (planned as { decision: string }).decision = 'skip';
    writeFileSync(file, JSON.stringify(golden, null, 2));

    const result = await riposteTest([library]);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL    revoke-unrestricted-admin-ingress/securityhub-ec2-13-open-ssh');
    expect(result.stdout).toContain('    --- revoke-unrestricted-admin-ingress/securityhub-ec2-13-open-ssh.golden.json (expected)');
    expect(result.stdout).toMatch(/^ {4}- +"decision": "skip",$/m);
    expect(result.stdout).toMatch(/^ {4}\+ +"decision": "act",$/m);
    // The other cases still pass: only the edited one fails.
    expect(result.stdout.match(/^FAIL/gm)).toHaveLength(1);
    expect(result.stdout).toMatch(/cases: \d+ ok, 1 failed, 0 bad input/);
  });

  it('a step parameter edited by hand (ports [22, 3389] -> [22]) fails with a diff of that parameter', async () => {
    const library = libraryCopy();
    const file = join(library, 'tests', 'revoke-unrestricted-admin-ingress', 'config-restricted-ssh-china.golden.json');
    const golden = readGolden(file);
    const step = golden.findings[0]?.playbooks[0]?.steps[0];
    expect(step?.params.ports).toEqual([22, 3389]);
    (step as { params: Record<string, unknown> }).params.ports = [22];
    writeFileSync(file, JSON.stringify(golden, null, 2));

    const result = await riposteTest([library]);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL    revoke-unrestricted-admin-ingress/config-restricted-ssh-china');
    expect(result.stdout).toMatch(/^ {4}- +"ports": \[22\]$/m);
    expect(result.stdout).toMatch(/^ {4}\+ +"ports": \[22, 3389\]$/m);
  });

  it('the golden file holds the AWS calls with their parameters: the CIS case reads the policy once for the plan and the run, sets the CIS values, reads it back, and resolves the finding', () => {
    const golden = JSON.parse(readFileSync(join('playbooks', 'tests', 'cis-password-policy', 'securityhub-cis-1.9-failed.golden.json'), 'utf8')) as {
      aws: { calls: Array<{ call: string; account: string; params: Record<string, unknown> }>; runs: Array<{ status: string; workflow: string }> };
    };

    expect(golden.aws.calls.map((call) => `${call.account} ${call.call}`)).toEqual([
      'riposte sts:AssumeRole',
      '111122223333 iam:GetAccountPasswordPolicy',
      '111122223333 iam:UpdateAccountPasswordPolicy',
      '111122223333 iam:GetAccountPasswordPolicy',
      'riposte securityhub:BatchUpdateFindings',
    ]);
    expect(golden.aws.calls[0]?.params).toMatchObject({ RoleArn: 'arn:aws:iam::111122223333:role/RiposteMemberRole', ExternalId: 'riposte-replay' });
    expect(golden.aws.calls[2]?.params).toMatchObject({ MinimumPasswordLength: 14, PasswordReusePrevention: 24, MaxPasswordAge: 90, RequireSymbols: true });
    expect(golden.aws.runs).toEqual([expect.objectContaining({ status: 'succeeded', workflow: 'RESOLVED' })]);
  });

  it('a call parameter edited by hand (the revoked range 0.0.0.0/0 -> 10.0.0.0/8): FAIL with a diff of that parameter', async () => {
    const library = libraryCopy();
    const file = join(library, 'tests', 'revoke-unrestricted-admin-ingress', 'securityhub-ec2-13-open-ssh.golden.json');
    const text = readFileSync(file, 'utf8');
    const golden = JSON.parse(text) as { aws: { calls: Array<{ call: string; params: { IpPermissions?: Array<{ IpRanges?: Array<{ CidrIp: string }> }> } }> } };
    const revoke = golden.aws.calls.find((call) => call.call === 'ec2:RevokeSecurityGroupIngress');
    expect(revoke?.params.IpPermissions?.[0]?.IpRanges?.map((range) => range.CidrIp)).toEqual(['0.0.0.0/0']);
    (revoke?.params.IpPermissions?.[0]?.IpRanges?.[0] as { CidrIp: string }).CidrIp = '10.0.0.0/8';
    writeFileSync(file, JSON.stringify(golden, null, 2));

    const result = await riposteTest([library]);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL    revoke-unrestricted-admin-ingress/securityhub-ec2-13-open-ssh');
    expect(result.stdout).toMatch(/^ {4}- +"CidrIp": "10\.0\.0\.0\/8",?$/m);
    expect(result.stdout).toMatch(/^ {4}\+ +"CidrIp": "0\.0\.0\.0\/0",?$/m);
  });

  it('a case whose AWS world lacks an answer the run needs: ERROR naming the call and its parameters, and no golden file is written under --update', async () => {
    const library = libraryCopy();
    const world = join(library, 'tests', 'revoke-unrestricted-admin-ingress', 'securityhub-ec2-13-open-ssh.aws.json');
    const parsed = JSON.parse(readFileSync(world, 'utf8')) as { answers: Array<{ call: string }> };
    // The group as it is, and nothing after: the revoke the run then makes has no answer.
    expect(parsed.answers.map((answer) => answer.call)).toEqual(['ec2:DescribeSecurityGroups', 'ec2:RevokeSecurityGroupIngress', 'ec2:DescribeSecurityGroups']);
    writeFileSync(world, JSON.stringify({ answers: parsed.answers.slice(0, 1) }));
    const golden = join(library, 'tests', 'revoke-unrestricted-admin-ingress', 'securityhub-ec2-13-open-ssh.golden.json');
    const before = readFileSync(golden, 'utf8');

    const result = await riposteTest([library, '--update']);

    expect(result.status).toBe(2);
    expect(result.stdout).toContain('ERROR   revoke-unrestricted-admin-ingress/securityhub-ec2-13-open-ssh');
    expect(result.stdout).toContain('no answer for ec2:RevokeSecurityGroupIngress (account 111122223333) with {"GroupId":"sg-0f1e2d3c4b5a69788"');
    expect(readFileSync(golden, 'utf8')).toBe(before);
  });

  it('an AWS world that is not one (an answer with both output and error) and one without its event: ERROR lines', async () => {
    const library = libraryCopy();
    const directory = join(library, 'tests', 'revoke-unrestricted-admin-ingress');
    writeFileSync(join(directory, 'securityhub-ec2-13-open-ssh.aws.json'), JSON.stringify({ answers: [{ call: 'ec2:DescribeSecurityGroups', output: {}, error: { name: 'X' } }] }));
    writeFileSync(join(directory, 'orphan.aws.json'), JSON.stringify({ answers: [] }));

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/ERROR {3}revoke-unrestricted-admin-ingress\/securityhub-ec2-13-open-ssh\n {4}.*is not an AWS world: answers\.0: an answer has an output or an error, not both/);
    expect(result.stdout).toMatch(/ERROR {3}revoke-unrestricted-admin-ingress\/orphan\n {4}.*orphan\.aws\.json: an AWS world without its event \(orphan\.event\.json\)/);
  });

  it('another playbook added to the library that starts matching a GuardDuty finding makes the ec2-compromise-isolate cases fail, naming it', async () => {
    const library = libraryCopy();
    writeFileSync(
      join(library, 'guardduty-protect.yml'),
      [
        'id: guardduty-protect',
        'title: Protect any instance GuardDuty names',
        'triggers: { automatic: true }',
        'match:',
        '  product.id: guardduty',
        '  resource.type: AwsEc2Instance',
        'steps:',
        '  - ec2.enable-termination-protection: {}',
        '',
      ].join('\n'),
    );

    const result = await riposteTest([library]);

    expect(result.status).toBe(1);
    expect(result.stdout).toContain('FAIL    ec2-compromise-isolate/guardduty-backdoor');
    expect(result.stdout).toMatch(/^ {4}\+ +"playbook": "guardduty-protect",$/m);
    expect(result.stdout).toContain('note    guardduty-protect: no test case');
  });

  it('--update rewrites the edited golden file to what the library does (laid out as Prettier would), says "updated", leaves the others as they were; the next run passes', async () => {
    const library = libraryCopy();
    const file = join(library, 'tests', 'cis-password-policy', 'securityhub-cis-1.9-failed.golden.json');
    const original = readGolden(file);
    const edited = readGolden(file);
    (edited.findings[0]?.playbooks[0] as { reason: string }).reason = 'edited by hand';
    writeFileSync(file, JSON.stringify(edited, null, 2));
    const untouched = join(library, 'tests', 'ec2-compromise-isolate', 'guardduty-sample.golden.json');
    const untouchedText = readFileSync(untouched, 'utf8');

    const updated = await riposteTest([library, '--update']);
    const after = await riposteTest([library]);

    expect(updated.status, updated.stdout).toBe(0);
    expect(updated.stdout).toContain('updated cis-password-policy/securityhub-cis-1.9-failed');
    expect(updated.stdout).toMatch(/^ {4}- +"reason": "edited by hand",$/m);
    expect(updated.stdout).toMatch(/1 updated$/m);
    expect(readGolden(file)).toEqual(original);
    expect(readFileSync(file, 'utf8')).toBe(canonicalJson(original));
    expect(readFileSync(untouched, 'utf8')).toBe(untouchedText);
    expect(after.status, after.stdout).toBe(0);
  });

  it('--update keeps the settings a golden file states (automatic: plan), and a new case gets its golden file (created)', async () => {
    const library = libraryCopy();
    const directory = join(library, 'tests', 'ec2-compromise-isolate');
    writeFileSync(join(directory, 'planned.event.json'), readFileSync(join(directory, 'guardduty-backdoor.event.json')));
    writeFileSync(join(directory, 'planned.golden.json'), JSON.stringify({ settings: { automatic: 'plan' } }));
    writeFileSync(join(directory, 'fresh.event.json'), readFileSync(join(directory, 'guardduty-backdoor.event.json')));

    const result = await riposteTest([library, '--update']);

    expect(result.status, result.stdout).toBe(0);
    expect(result.stdout).toContain('updated ec2-compromise-isolate/planned');
    expect(result.stdout).toContain('created ec2-compromise-isolate/fresh');
    expect(readGolden(join(directory, 'planned.golden.json'))).toMatchObject({ settings: { automatic: 'plan' }, findings: [{ playbooks: [{ decision: 'plan' }] }] });
    expect(readGolden(join(directory, 'fresh.golden.json'))).toMatchObject({ settings: { automatic: 'enforce', excludedAccounts: [] }, findings: [{ playbooks: [{ decision: 'act' }] }] });
  });
});

describe('riposte test: bad input exits 2', () => {
  it('an event fixture intake cannot read (source aws.nothing) and one that is not JSON: ERROR lines naming why', async () => {
    const library = libraryCopy();
    const directory = join(library, 'tests', 'cis-password-policy');
    const event = JSON.parse(readFileSync(join(directory, 'config-iam-password-policy.event.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(directory, 'unsupported.event.json'), JSON.stringify({ ...event, source: 'aws.nothing' }));
    writeFileSync(join(directory, 'unsupported.golden.json'), '{}');
    writeFileSync(join(directory, 'broken.event.json'), '{ not json');
    writeFileSync(join(directory, 'broken.golden.json'), '{}');

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toContain('ERROR   cis-password-policy/unsupported');
    expect(result.stdout).toContain('UnsupportedEventError');
    expect(result.stdout).toContain('ERROR   cis-password-policy/broken');
    expect(result.stdout).toMatch(/broken\.event\.json: is not JSON/);
    expect(result.stdout).toMatch(/cases: \d+ ok, 0 failed, 2 bad input/);
  });

  it('a case without its golden file (no --update): ERROR saying --update writes it', async () => {
    const library = libraryCopy();
    unlinkSync(join(library, 'tests', 'ec2-compromise-isolate', 'guardduty-sample.golden.json'));

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toContain('ERROR   ec2-compromise-isolate/guardduty-sample');
    expect(result.stdout).toContain('no golden file (riposte test --update writes it');
  });

  it('a golden file with settings.automatic "always", one that is not JSON, and a golden file without its event', async () => {
    const library = libraryCopy();
    const directory = join(library, 'tests', 'empty-default-security-group');
    const file = join(directory, 'securityhub-ec2-2-default-sg-open.golden.json');
    writeFileSync(file, JSON.stringify({ ...readGolden(file), settings: { automatic: 'always' } }));
    writeFileSync(join(directory, 'securityhub-ec2-2-passed.golden.json'), '{ "settings": ');
    writeFileSync(join(directory, 'orphan.golden.json'), '{}');

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toContain('settings.automatic must be off, plan or enforce (got "always")');
    expect(result.stdout).toMatch(/securityhub-ec2-2-passed\.golden\.json: is not JSON/);
    expect(result.stdout).toContain('orphan.golden.json: a golden file without its event (orphan.event.json)');
  });

  it('tests for a playbook the library does not have (tests/no-such-playbook/)', async () => {
    const library = libraryCopy();
    mkdirSync(join(library, 'tests', 'no-such-playbook'));

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stdout).toContain('ERROR   no-such-playbook');
    expect(result.stdout).toContain('no playbook of the library has the id "no-such-playbook"');
  });

  it('a broken library (a playbook with an unknown action): the problem is printed and no case is run', async () => {
    const library = libraryCopy();
    writeFileSync(
      join(library, 'broken.yml'),
      ['id: broken', 'title: Broken', 'triggers: { automatic: true }', 'match:', '  product.id: guardduty', 'steps:', '  - ec2.no-such-action: {}', ''].join('\n'),
    );

    const result = await riposteTest([library]);

    expect(result.status).toBe(2);
    expect(result.stderr).toContain('broken.yml');
    expect(result.stderr).toContain('no case was run');
    expect(result.stdout).toBe('');
  });

  it('a library with no tests directory, and a library that does not exist', async () => {
    const library = join(scratch, 'untested');
    mkdirSync(library);
    cpSync(join('playbooks', 'cis-password-policy.yml'), join(library, 'cis-password-policy.yml'));

    const untested = await riposteTest([library]);
    const missing = await riposteTest([join(scratch, 'no-such-library')]);

    expect(untested.status).toBe(2);
    expect(untested.stderr).toContain('no test case');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });
});

describe('canonicalJson (how --update writes a golden file)', () => {
  it("lays JSON out as the repository's Prettier does: every shipped golden and event file, and every event fixture, re-written by it, is Prettier's text", async () => {
    const files = [
      ...SHIPPED_PLAYBOOKS.flatMap((playbook) => readdirSync(join('playbooks', 'tests', playbook)).map((name) => join('playbooks', 'tests', playbook, name))),
      ...readdirSync(join('test', 'fixtures', 'events'))
        .filter((name) => name.endsWith('.json'))
        .map((name) => join('test', 'fixtures', 'events', name)),
    ];
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      const text = canonicalJson(JSON.parse(readFileSync(file, 'utf8')));
      const options = (await prettier.resolveConfig(file)) ?? {};
      expect(await prettier.format(text, { ...options, filepath: file }), file).toBe(text);
    }
  });
});

describe('unifiedDiff (what a failing case shows)', () => {
  it('one changed line among others: a hunk with 3 lines of context, removal before addition', () => {
    const before = ['{', '  "a": 1,', '  "b": 2,', '  "c": 3,', '  "d": 4,', '  "e": 5,', '  "f": 6,', '  "g": 7', '}', ''].join('\n');
    const after = before.replace('"d": 4', '"d": 40');

    expect(unifiedDiff(before, after, { from: 'golden', to: 'actual' })).toEqual([
      '--- golden',
      '+++ actual',
      '@@ -2,7 +2,7 @@',
      '   "a": 1,',
      '   "b": 2,',
      '   "c": 3,',
      '-  "d": 4,',
      '+  "d": 40,',
      '   "e": 5,',
      '   "f": 6,',
      '   "g": 7',
    ]);
  });

  it('the same texts: no diff; an empty side: one hunk from line 0', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', { from: 'x', to: 'y' })).toEqual([]);
    expect(unifiedDiff('', 'a\nb\n', { from: 'x', to: 'y' })).toEqual(['--- x', '+++ y', '@@ -0,0 +1,2 @@', '+a', '+b']);
  });

  it('changes far apart: two hunks', () => {
    const lines = Array.from({ length: 20 }, (_, index) => `line ${index + 1}`);
    const changed = lines.map((line, index) => (index === 1 || index === 17 ? `${line}!` : line));

    const diff = unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`, { from: 'x', to: 'y' });

    expect(diff.filter((line) => line.startsWith('@@'))).toEqual(['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@']);
  });
});
