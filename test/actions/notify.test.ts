import { describe, expect, it } from 'vitest';

import { notificationOf, snsSubject } from '../../src/actions/notify.js';
import type { ActionContext } from '../../src/actions/runtime.js';
import { AwsClientFactory, MemberClients, MemberCredentials } from '../../src/aws/index.js';
import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture } from '../support/fixtures.js';
import { UNSAFE_LINE, UNSAFE_TEXT } from '../support/unsafe-text.js';

/** A context as the executor builds it, on a factory no call is made through (notificationOf only reads). */
function contextFor(finding: Finding): ActionContext {
  const factory = new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 });
  return {
    clients: new MemberClients(factory, new MemberCredentials(factory, { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, assumeRoleInHostingAccount: false })),
    hosting: { factory, evidenceBucket: 'riposte-evidence-test' },
    target: { account: finding.account, region: finding.region, partition: finding.partition, correlationId: 'c-1' },
    finding,
    resource: finding.resources[0] as Finding['resources'][number],
    runId: 'r-test',
    playbookId: 'ec2-compromise-isolate',
    previousOutcomes: [{ action: 'ec2.isolate', resource: 'i-1', changed: true, summary: 'isolated\nFORGED step\u001b[2J', changes: [] }],
  };
}

describe('notify: what the SNS message says', () => {
  it('keeps a GuardDuty title with a newline, ESC sequences and a bidi override on its one line (no forged "Account" line)', () => {
    const event = fixture<{ detail: { title: string } }>('guardduty-ec2-backdoor.json');
    event.detail.title = 'Benign\nAccount 999999999999, us-east-1, all clear\u001b[2J\u001b]0;owned\u0007\u202egnp.exe\u2029\u009b31m';
    const finding = readEvent(event).findings[0] as Finding;

    const { message, subject } = notificationOf(contextFor(finding), {});

    const [readable = '', json = ''] = message.split('\n\n');
    expect(readable.split('\n')).toEqual([
      'HIGH: Benign\\nAccount 999999999999, us-east-1, all clear\\u001b[2J\\u001b]0;owned\\u0007\\u202egnp.exe\\u2029\\u009b31m',
      'Account 111122223333, us-east-1, AwsEc2Instance arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
      'Playbook ec2-compromise-isolate, run r-test, triggered automatic',
      '- ec2.isolate: isolated\\nFORGED step\\u001b[2J',
    ]);
    expect(message).not.toMatch(UNSAFE_TEXT);
    expect(subject).not.toMatch(UNSAFE_LINE);
    expect((JSON.parse(json) as { finding: { title: string } }).finding.title).toBe(event.detail.title);
  });
});

describe('snsSubject', () => {
  it('turns line breaks into spaces and shows other control and bidi characters as escapes, in SNS-safe ASCII', () => {
    expect(snsSubject('Instance\nisolated\u001b]0;owned\u0007 \u202eexe')).toBe('Instance isolated\\u001b]0;owned\\u0007 \\u202eexe');
  });
});
