import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { fixtureText } from '../support/fixtures.js';
import { riposte } from './run-cli.js';

const events = join('test', 'fixtures', 'events');

describe('riposte intake', () => {
  it('prints each finding of an event as a responder reads it', async () => {
    const result = await riposte(['intake', join(events, 'guardduty-ec2-backdoor.json')]);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('HIGH (80) Command and Control server domain name queried by EC2 instance i-0a1b2c3d4e5f60718.');
    expect(result.stdout).toContain('  from       GuardDuty via guardduty (guardduty), trigger automatic');
    expect(result.stdout).toContain('  where      account 111122223333, us-east-1 (aws)');
    expect(result.stdout).toMatch(/^ {2}resource {3}AwsEc2Instance \S+ \(i-0a1b2c3d4e5f60718/m);
  });

  it('with --json, prints the normalized findings and the rejections', async () => {
    const result = await riposte(['intake', '--json', join(events, 'securityhub-imported-open-ssh.json')]);

    expect(result.status).toBe(0);
    const printed = JSON.parse(result.stdout) as { findings: Array<{ source: string; account: string }>; rejected: unknown[] };
    expect(printed.findings).toHaveLength(1);
    expect(printed.findings[0]).toMatchObject({ source: 'securityhub', account: '111122223333' });
    expect(printed.rejected).toEqual([]);
  });

  it('reads standard input for "-"', async () => {
    const result = await riposte(['intake', '--json', '-'], fixtureText('guardduty-ec2-backdoor.json'));

    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { findings: Array<{ source: string }> }).findings.map((finding) => finding.source)).toEqual(['guardduty']);
  });

  it('with --api, reads an on-demand request body as the named requester', async () => {
    const result = await riposte(['intake', '--api', '--requester', 'arn:aws:iam::999988887777:user/alice', '--json', join(events, 'api-request.json')]);

    expect(result.status).toBe(0);
    const [finding] = (JSON.parse(result.stdout) as { findings: Array<{ trigger: Record<string, unknown>; resources: Array<{ instanceId?: string }> }> }).findings;
    expect(finding?.resources[0]?.instanceId).toBe('i-0a1b2c3d4e5f60718');
    expect(JSON.stringify(finding?.trigger)).toContain('arn:aws:iam::999988887777:user/alice');
  });

  it('exits 1 and says REJECTED when a finding of the batch cannot be read, printing the others', async () => {
    const result = await riposte(['intake', join(events, 'securityhub-imported-batch-two.json')]);

    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^REJECTED .*detail\.findings\[1\]\.AwsAccountId/m);
    expect(result.stdout).toContain('  id         arn:aws:inspector2:us-east-1:111122223333:finding/d256890c46554f6b1773e511f52e9851');
  });

  it('exits 2 with the intake error when the input is not an event Riposte reads', async () => {
    const result = await riposte(['intake', '-'], '{not json');

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^MalformedEventError: .*is not valid JSON/);
  });

  it('exits 1 with the reason when the file cannot be read', async () => {
    const result = await riposte(['intake', join(events, 'no-such-event.json')]);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('ENOENT');
  });
});
