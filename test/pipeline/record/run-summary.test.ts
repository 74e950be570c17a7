import { describe, expect, it } from 'vitest';

import { NOTE_TEXT_MAX, runSummaryOf, summaryNoteText } from '../../../src/pipeline/record/index.js';
import { findingFrom, passwordPolicyRun, passwordPolicySummary } from './summaries.js';

describe('runSummaryOf', () => {
  it('describes the run and its finding as plain JSON', () => {
    const summary = passwordPolicySummary();

    expect(summary).toMatchObject({
      runId: 'run-0001',
      correlationId: 'corr-0001',
      playbookId: 'cis-password-policy',
      playbookTitle: 'CIS 1.9 password policy',
      finding: {
        id: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
        title: '1.9 Ensure IAM password policy requires minimum password length of 14 or greater',
        account: '111122223333',
        region: 'us-east-1',
        resources: [{ type: 'AwsAccount', id: 'AWS::::Account:111122223333' }],
      },
      trigger: 'automatic',
      mode: 'enforce',
      status: 'succeeded',
      workflowStatus: 'RESOLVED',
      summary: 'password policy set to CIS 1.9',
      at: '2026-05-01T10:00:03.000Z',
    });
    expect(summary.steps[2]).toEqual({ index: 0, action: 'iam.set-password-policy', phase: 'verify', status: 'compliant', summary: 'policy reads back as set' });
    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
  });

  it('reports a run still started as in progress', () => {
    const summary = runSummaryOf(passwordPolicyRun({ status: 'started', outcome: undefined as never }), findingFrom('securityhub-imported-cis-password-policy.json'));

    expect(summary).toMatchObject({ status: 'in-progress', summary: 'in-progress' });
    expect(summary).not.toHaveProperty('workflowStatus');
  });
});

describe('summaryNoteText', () => {
  it('gives the outcome, what changed from what, and the verification', () => {
    expect(summaryNoteText(passwordPolicySummary())).toBe('RESOLVED: iam.set-password-policy changed MinimumPasswordLength 8→14, RequireSymbols false→true; verified');
  });

  it('lists the plan in plan mode, saying nothing changed', () => {
    const run = passwordPolicyRun({ mode: 'plan', outcome: { summary: 'planned' } });
    const summary = runSummaryOf(
      { ...run, steps: [run.steps[0] as never, { ...run.steps[0], index: 1, action: 'finding.update', status: 'compliant', changes: [] } as never] },
      findingFrom('securityhub-imported-cis-password-policy.json'),
    );

    expect(summaryNoteText(summary)).toBe('PLAN (nothing changed): would change iam.set-password-policy MinimumPasswordLength 8→14, RequireSymbols false→true; finding.update already compliant');
  });

  it('names the failed step, and the run summary when no step explains the failure', () => {
    const run = passwordPolicyRun();
    const failedStep = passwordPolicySummary({
      status: 'failed',
      outcome: { summary: 'step 0 failed' },
      steps: [{ ...run.steps[1], status: 'failed', summary: 'AccessDenied: iam:UpdateAccountPasswordPolicy', changes: [] } as never],
    });
    const guarded = passwordPolicySummary({ status: 'skipped', outcome: { summary: 'account 111122223333 is excluded' }, steps: [] });

    expect(summaryNoteText(failedStep)).toBe('FAILED: iam.set-password-policy failed: AccessDenied: iam:UpdateAccountPasswordPolicy');
    expect(summaryNoteText(guarded)).toBe('SKIPPED: account 111122223333 is excluded');
  });

  it('puts the failed step first, so a note cut at 512 characters still says what failed (six evidence changes before it)', () => {
    const run = passwordPolicyRun();
    const evidence = Array.from({ length: 6 }, (_, index) => ({
      ...run.steps[1],
      index,
      action: `ec2.capture-metadata-${index}`,
      status: 'changed',
      summary: 'captured',
      changes: [{ field: `evidence.${'x'.repeat(30)}`, from: null, to: { key: 'y'.repeat(60) } }],
    }));
    const failed = { ...run.steps[1], index: 6, action: 'ec2.enable-termination-protection', status: 'failed', summary: 'RequestLimitExceeded', changes: [] };
    const summary = passwordPolicySummary({ status: 'failed', outcome: { summary: 'step 6 failed' }, steps: [...evidence, failed] as never });

    const note = summaryNoteText(summary);
    expect(note.length).toBeLessThanOrEqual(NOTE_TEXT_MAX);
    expect(note).toMatch(/^FAILED: ec2\.enable-termination-protection failed: RequestLimitExceeded; ec2\.capture-metadata-0 changed/);
  });

  it('says which step is still in progress', () => {
    const run = passwordPolicyRun();
    const summary = passwordPolicySummary({
      status: 'in-progress',
      outcome: undefined as never,
      steps: [{ ...run.steps[1], action: 'ssm.run-command', status: 'in-progress', summary: 'command 1a2b is InProgress', changes: [] } as never],
    });

    expect(summaryNoteText(summary)).toBe('IN PROGRESS: ssm.run-command in progress: command 1a2b is InProgress');
  });

  it(`stays within ${NOTE_TEXT_MAX} characters, clipping long values and ending with an ellipsis`, () => {
    const run = passwordPolicyRun();
    const steps = Array.from({ length: 30 }, (_, index) => ({ ...run.steps[1], index, changes: [{ field: 'Policy', from: { Statement: 'x'.repeat(500) }, to: 'y'.repeat(500) }] }));
    const text = summaryNoteText(passwordPolicySummary({ steps: steps as never }));

    expect(text.length).toBe(NOTE_TEXT_MAX);
    expect(text.endsWith('…')).toBe(true);
    expect(text).toContain('Policy {"Statement":"xxxxxxxxxxxxxxxxxxxxxxxxx…→yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…');
  });
});
