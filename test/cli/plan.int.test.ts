import { beforeEach, describe, expect, it } from 'vitest';

import type { ReplaySummary, ShadowFinding } from '../../src/pipeline/index.js';
import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';

import { MemberClients, MemberCredentials } from '../../src/aws/index.js';
import { emulatorClientFactory, emulatorEndpoint, resetEmulator } from '../support/emulator.js';
import { asffFindingOf, importFindings, readFinding } from '../support/emulator-securityhub.js';
import { riposte } from './run-cli.js';

/*
 * `riposte plan --from-security-hub`: the shadow replay reads the findings
 * Security Hub holds (GetFindings, paginated, filtered) from the emulator.
 */

const FIXTURES = ['securityhub-imported-open-ssh.json', 'securityhub-imported-cis-password-policy.json', 'securityhub-imported-guardduty-ec2.json'] as const;

beforeEach(async () => {
  await resetEmulator();
  await importFindings(FIXTURES.map((name) => asffFindingOf(name)));
});

const replay = async (args: readonly string[]): Promise<{ status: number | null; stderr: string; findings: ShadowFinding[]; summary: ReplaySummary }> => {
  const result = await riposte(['plan', '--json', '--from-security-hub', '--endpoint', emulatorEndpoint(), '--region', 'us-east-1', ...args]);
  const document = result.stdout === '' ? { findings: [], summary: undefined } : (JSON.parse(result.stdout) as { findings: ShadowFinding[]; summary: ReplaySummary });
  return { status: result.status, stderr: result.stderr, findings: document.findings, summary: document.summary as ReplaySummary };
};

describe('riposte plan --live (against the emulator)', () => {
  it('reads the member account and shows what each step would change, writing nothing: the policy and the finding stay as they were', async () => {
    const factory = emulatorClientFactory();
    const iam = new MemberClients(factory, new MemberCredentials(factory, { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false })).create(IAMClient, {
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      correlationId: 'test',
    });
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8, RequireNumbers: true }));
    const finding = asffFindingOf('securityhub-imported-cis-password-policy.json');
    const before = await readFinding(finding.Id as string, finding.ProductArn as string);

    const result = await riposte(['plan', '--live', '--event', 'test/fixtures/events/securityhub-imported-cis-password-policy.json', '--endpoint', emulatorEndpoint(), '--region', 'us-east-1']);

    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('cis-password-policy: succeeded (plan: a dry run was asked for)');
    expect(result.stdout).toContain('would change MinimumPasswordLength: 8 -> 14');
    expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength).toBe(8);
    const after = await readFinding(finding.Id as string, finding.ProductArn as string);
    expect(after?.Note).toEqual(before?.Note);
    expect(after?.Workflow).toEqual(before?.Workflow);
  });
});

describe('riposte plan --from-security-hub (against the emulator)', () => {
  it('replays every finding Security Hub holds, as if each had been delivered', async () => {
    const { status, stderr, findings, summary } = await replay([]);

    expect(status, stderr).toBe(0);
    expect(findings.map((finding) => finding.id).sort()).toEqual(FIXTURES.map((name) => asffFindingOf(name).Id).sort());
    expect(Object.fromEntries(summary.playbooks.map((playbook) => [playbook.playbook, playbook.act]))).toEqual({
      'cis-password-policy': 1,
      'ec2-compromise-isolate': 1,
      'revoke-unrestricted-admin-ingress': 1,
    });
  });

  it('passes --filter to GetFindings (ComplianceStatus=FAILED leaves out the GuardDuty finding), and --limit stops early', async () => {
    const filtered = await replay(['--filter', 'ComplianceStatus=FAILED']);
    const limited = await replay(['--limit', '1']);

    expect(filtered.status, filtered.stderr).toBe(0);
    expect(filtered.findings.map((finding) => finding.source).sort()).toEqual(['securityhub', 'securityhub']);
    expect(filtered.summary.playbooks.map((playbook) => playbook.playbook)).toEqual(['cis-password-policy', 'revoke-unrestricted-admin-ingress']);
    expect(limited.findings).toHaveLength(1);
  });

  it('exits 2 for a malformed filter, and for both or neither of --event and --from-security-hub', async () => {
    const malformed = await riposte(['plan', '--from-security-hub', '--filter', 'ComplianceStatus']);
    const both = await riposte(['plan', '--from-security-hub', '--event', 'x.json']);
    const neither = await riposte(['plan']);

    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toContain('a GetFindings string filter Field=Value is expected');
    expect(both.status).toBe(2);
    expect(neither.status).toBe(2);
    expect(neither.stderr).toContain('give --event <source> or --from-security-hub');
  });
});
