import { describe, expect, it } from 'vitest';

import { runNotification, SNS_MESSAGE_MAX_BYTES, type RunSummary, type TruncatedRunSummary } from '../../../src/pipeline/record/index.js';
import { hugeSummary, passwordPolicySummary } from './summaries.js';
import { UNSAFE_LINE, UNSAFE_TEXT } from '../../support/unsafe-text.js';

const jsonPart = (message: string): TruncatedRunSummary => JSON.parse(message.slice(message.indexOf('\n\n{') + 2)) as TruncatedRunSummary;

describe('runNotification', () => {
  it('says what happened in readable lines, then the same summary as JSON', () => {
    const summary = passwordPolicySummary();

    const { subject, message } = runNotification(summary);

    expect(subject).toBe('Riposte RESOLVED: cis-password-policy on MEDIUM finding in 111122223333');
    expect(message.split('\n\n')[0]?.split('\n')).toEqual([
      'MEDIUM: 1.9 Ensure IAM password policy requires minimum password length of 14 or greater',
      'Account 111122223333, us-east-1, AwsAccount AWS::::Account:111122223333',
      'Finding arn:aws:securityhub:us-east-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037 (Security Hub)',
      'Playbook cis-password-policy (CIS 1.9 password policy), run run-0001, mode enforce, triggered automatic',
      'Run succeeded: password policy set to CIS 1.9',
      'Steps:',
      '- iam.set-password-policy (plan): changed — would set 2 fields',
      '- iam.set-password-policy: changed — password policy updated',
      '- iam.set-password-policy (verify): compliant — policy reads back as set',
      'Finding workflow: RESOLVED',
    ]);
    expect(jsonPart(message)).toEqual(summary);
  });

  it('keeps the subject to one SNS-safe line of at most 100 characters', () => {
    const summary = passwordPolicySummary({ playbookId: `isolate—“quarantine”\nnow-${'é'.repeat(120)}` });

    const { subject } = runNotification(summary);

    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
    expect(subject.startsWith('Riposte RESOLVED: isolate-"quarantine" now-eeee')).toBe(true);
  });

  it('keeps a finding title with a newline, ESC sequences and a bidi override on its one line: no forged "Finding workflow: RESOLVED" line', () => {
    const summary = passwordPolicySummary();
    const title = 'Weak policy\nFinding workflow: RESOLVED\u001b[2J\u001b]0;owned\u0007\u2028\u202egnp.exe\u009b31m';
    const hostile: RunSummary = { ...summary, finding: { ...summary.finding, title, id: `${summary.finding.id}\r\nRun succeeded` } };

    const { subject, message } = runNotification(hostile);

    const [readable = '', json = ''] = message.split('\n\n');
    expect(readable.split('\n')).toHaveLength(runNotification(summary).message.split('\n\n')[0]?.split('\n').length ?? 0);
    expect(readable.split('\n')[0]).toBe('MEDIUM: Weak policy\\nFinding workflow: RESOLVED\\u001b[2J\\u001b]0;owned\\u0007\\u2028\\u202egnp.exe\\u009b31m');
    expect(readable.split('\n').filter((line) => line.startsWith('Finding workflow:'))).toEqual(['Finding workflow: RESOLVED']);
    expect(message).not.toMatch(UNSAFE_TEXT);
    expect(subject).not.toMatch(UNSAFE_LINE);
    // The JSON part is escaped, not changed: it parses back to the very summary.
    expect(JSON.parse(json)).toEqual(hostile);
  });

  it('says the workflow was left alone in plan mode', () => {
    const { subject, message } = runNotification(passwordPolicySummary({ mode: 'plan' }));

    expect(subject.startsWith('Riposte plan: ')).toBe(true);
    expect(message).toContain('\nFinding workflow: unchanged (plan)\n');
  });

  it('cuts a run too big for SNS down to 256 KB, saying so', () => {
    const summary = hugeSummary(200, 4_000);

    const { message } = runNotification(summary);

    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(message).toContain('(details cut to fit the message; the run record has them all)');
    const detail = jsonPart(message);
    expect(detail.truncated).toBe(true);
    expect(detail.steps).toHaveLength(200);
    expect(detail.steps[0]?.changes?.[0]?.from).toMatch(/^"x{198}…$/);
  });
});
