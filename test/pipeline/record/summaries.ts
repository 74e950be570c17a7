import { readApiRequest, readEvent, type Finding } from '../../../src/intake/index.js';
import type { RunRecord } from '../../../src/ledger/index.js';
import { runSummaryOf, type RunSummary } from '../../../src/pipeline/record/index.js';
import { fixture } from '../../support/fixtures.js';

/** The first finding of an event fixture, read by intake as production reads it. */
export function findingFrom(fixtureName: string): Finding {
  return readEvent(fixture(fixtureName)).findings[0] as Finding;
}

/** The on-demand request fixture as a finding (it is a request body, not an EventBridge event). */
export function apiFinding(): Finding {
  return readApiRequest(fixture('api-request.json'), { principal: 'arn:aws:sts::999988887777:assumed-role/SecOpsResponder/alice@example.com' }, { requestId: 'req-1' }).findings[0] as Finding;
}

/** A finished password-policy run on the CIS 1.9 finding, as the ledger holds it: planned, changed, verified. */
export function passwordPolicyRun(overrides: Partial<RunRecord> = {}): RunRecord {
  const finding = findingFrom('securityhub-imported-cis-password-policy.json');
  const changes = [
    { field: 'MinimumPasswordLength', from: 8, to: 14 },
    { field: 'RequireSymbols', from: false, to: true },
  ];
  return {
    runId: 'run-0001',
    correlationId: 'corr-0001',
    findingId: finding.id,
    playbookId: 'cis-password-policy',
    account: finding.account,
    region: finding.region,
    trigger: 'automatic',
    mode: 'enforce',
    status: 'succeeded',
    state: { stage: 'succeeded' },
    history: [
      { state: { stage: 'claimed' }, at: '2026-05-01T10:00:00.000Z' },
      { state: { stage: 'guarded' }, at: '2026-05-01T10:00:00.000Z' },
      { state: { stage: 'planned' }, at: '2026-05-01T10:00:00.000Z' },
      { state: { stage: 'executing', step: 0 }, at: '2026-05-01T10:00:00.000Z' },
      { state: { stage: 'verifying' }, at: '2026-05-01T10:00:01.000Z' },
      { state: { stage: 'succeeded' }, at: '2026-05-01T10:00:03.000Z' },
    ],
    receivedEvent: {},
    steps: [
      { index: 0, action: 'iam.set-password-policy', phase: 'plan', status: 'changed', summary: 'would set 2 fields', changes, at: '2026-05-01T10:00:00.000Z' },
      { index: 0, action: 'iam.set-password-policy', phase: 'run', status: 'changed', summary: 'password policy updated', changes, at: '2026-05-01T10:00:01.000Z' },
      { index: 0, action: 'iam.set-password-policy', phase: 'verify', status: 'compliant', summary: 'policy reads back as set', changes: [], at: '2026-05-01T10:00:02.000Z' },
    ],
    outcome: { summary: 'password policy set to CIS 1.9', workflowStatus: 'RESOLVED' },
    createdAt: '2026-05-01T10:00:00.000Z',
    updatedAt: '2026-05-01T10:00:03.000Z',
    version: 5,
    ...overrides,
  };
}

/** {@link passwordPolicyRun} as a {@link RunSummary}. */
export function passwordPolicySummary(overrides: Partial<RunRecord> = {}): RunSummary {
  return runSummaryOf(passwordPolicyRun(overrides), findingFrom('securityhub-imported-cis-password-policy.json'), 'CIS 1.9 password policy');
}

/** An isolation run on the GuardDuty EC2 finding with `count` steps, each with a big before/after: to test size limits. */
export function hugeSummary(count: number, valueBytes: number): RunSummary {
  const finding = findingFrom('guardduty-ec2-backdoor.json');
  const summary = runSummaryOf(
    {
      ...passwordPolicyRun(),
      playbookId: 'ec2-compromise-isolate',
      findingId: finding.id,
      outcome: { summary: 'instance isolated' },
      steps: Array.from({ length: count }, (_, index) => ({
        index,
        action: 'ec2.isolate',
        phase: 'run' as const,
        status: 'changed' as const,
        summary: `step ${index}: ${'s'.repeat(300)}`,
        changes: [{ field: 'SecurityGroups', from: 'x'.repeat(valueBytes), to: ['sg-0123456789abcdef0'] }],
        at: '2026-05-01T10:00:01.000Z',
      })),
    },
    finding,
  );
  return summary;
}
