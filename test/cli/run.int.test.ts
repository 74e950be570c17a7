import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import { MemberClients, MemberCredentials } from '../../src/aws/index.js';
import { emulatorClientFactory, emulatorEndpoint, resetEmulator } from '../support/emulator.js';
import { importFindings, asffFindingOf, readFinding } from '../support/emulator-securityhub.js';
import { riposte } from './run-cli.js';

/*
 * `riposte run`, `respond` and `rollback` drive the pipeline the Lambda
 * functions run, here against the emulator (`--endpoint`), with runs in a
 * file ledger: the change is read back from the member account.
 */

const MEMBER = '111122223333';
const directory = mkdtempSync(join(tmpdir(), 'riposte-cli-run-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The member account's IAM, reached as Riposte reaches it (AssumeRole). */
function memberIam(): IAMClient {
  const factory = emulatorClientFactory();
  const clients = new MemberClients(factory, new MemberCredentials(factory, { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false }));
  return clients.create(IAMClient, { account: MEMBER, region: 'us-east-1', partition: 'aws', correlationId: 'test' });
}

const common = (ledger: string): string[] => ['--endpoint', emulatorEndpoint(), '--region', 'us-east-1', '--ledger', ledger];

beforeEach(async () => {
  await resetEmulator();
  await memberIam().send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
  await importFindings([asffFindingOf('securityhub-imported-cis-password-policy.json')]);
});

describe('riposte run, then rollback (against the emulator)', () => {
  it('--dry-run plans the CIS fix and changes nothing; enforced, it fixes the password policy and resolves the finding; rollback restores the policy and reopens the finding', async () => {
    const ledger = join(directory, 'runs-1');
    const event = 'test/fixtures/events/securityhub-imported-cis-password-policy.json';

    const planned = await riposte(['run', '--event', event, '--dry-run', '--json', ...common(ledger)]);
    expect(planned.status, planned.stderr).toBe(0);
    expect((await memberIam().send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(8);

    const enforced = await riposte(['run', '--event', event, '--automatic', 'enforce', '--json', ...common(ledger)]);
    expect(enforced.status, enforced.stderr).toBe(0);
    const result = JSON.parse(enforced.stdout) as { findings: Array<{ runs: Array<{ runId: string; status: string; mode: string }> }> };
    const run = result.findings[0]?.runs[0];
    expect(run).toMatchObject({ status: 'succeeded', mode: 'enforce' });
    const fixed = (await memberIam().send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy;
    expect(fixed?.MinimumPasswordLength).toBeGreaterThanOrEqual(14);
    const finding = asffFindingOf('securityhub-imported-cis-password-policy.json');
    expect((await readFinding(finding.Id as string, finding.ProductArn as string))?.Workflow?.Status).toBe('RESOLVED');

    // The run's timeline says why the playbook matched, as the pipeline recorded it.
    const timeline = await riposte(['runs', '--ledger', ledger, '--id', run?.runId as string]);
    expect(timeline.status, timeline.stderr).toBe(0);
    expect(timeline.stdout).toMatch(/^matched {4}\S+ \S+ .+ \(was .+\)$/m);

    // --dry-run lists what would be undone, and changes nothing.
    const wouldUndo = await riposte(['rollback', '--run', run?.runId as string, '--dry-run', ...common(ledger)]);
    expect(wouldUndo.status, wouldUndo.stderr).toBe(0);
    expect(wouldUndo.stdout).toContain('1 change would be undone');
    expect(wouldUndo.stdout).toContain('would restore MinimumPasswordLength: 14 -> 8');
    expect((await memberIam().send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBeGreaterThanOrEqual(14);

    const rolledBack = await riposte(['rollback', '--run', run?.runId as string, '--reason', 'test', ...common(ledger)]);
    expect(rolledBack.status, rolledBack.stderr).toBe(0);
    expect(rolledBack.stdout).toContain('succeeded');
    expect((await memberIam().send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy).toMatchObject({ MinimumPasswordLength: 8, RequireNumbers: true });
    // The fix is undone, so the finding is open again, with the rollback's note.
    const reopened = await readFinding(finding.Id as string, finding.ProductArn as string);
    expect(reopened?.Workflow?.Status).toBe('NOTIFIED');
    expect(reopened?.Note?.Text).toMatch(/\] NOTIFIED: iam.set-password-policy rolled back/);
  });

  it('exits 2 for an unknown run id, an event intake cannot read, and a missing event file', async () => {
    const ledger = join(directory, 'runs-2');

    const unknown = await riposte(['rollback', '--run', 'r-20261204T000000Z-000000000000', ...common(ledger)]);
    const unreadable = await riposte(['run', '--event', '-', ...common(ledger)], '{"source":"aws.nothing"}');
    const missing = await riposte(['run', '--event', 'no/such.json', ...common(ledger)]);

    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^RunUnknownError: /);
    expect(unreadable.status).toBe(2);
    expect(missing).toMatchObject({ status: 2, stderr: 'FileNotFoundError: no/such.json: no such file (ENOENT)\n' });
  });
});

describe('riposte respond (against the emulator)', () => {
  it('answers an instance the member account does not have (i-0123456789abcdef0) with the run that says so, and exit 2', async () => {
    const result = await riposte([
      'respond',
      '--instance',
      'i-0123456789abcdef0',
      '--account',
      MEMBER,
      '--region',
      'us-east-1',
      '--dry-run',
      '--endpoint',
      emulatorEndpoint(),
      '--ledger',
      join(directory, 'runs-3'),
    ]);

    expect(result.stdout).toContain('instance i-0123456789abcdef0, named by the finding, does not exist in account 111122223333, region us-east-1');
    expect(result.stdout).toContain('guard    target-stale');
    expect(result.status).toBe(2);
  });
});
