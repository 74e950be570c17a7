import { beforeEach, describe, expect, it } from 'vitest';

import type { ReplaySummary, ShadowFinding } from '../../src/pipeline/index.js';
import { emulatorEndpoint, resetEmulator } from '../support/emulator.js';
import { asffFindingOf, importFindings } from '../support/emulator-securityhub.js';
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
