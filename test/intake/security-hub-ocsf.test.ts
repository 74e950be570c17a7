import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture } from '../support/fixtures.js';

type OcsfEvent = { detail: { findings: Array<Record<string, unknown>> } };

const read = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('Findings Imported V2 (OCSF)', () => {
  it('maps a compliance finding (class 2003) to the same model as ASFF', () => {
    const finding = read(fixture('securityhub-v2-ocsf-compliance.json'));

    expect(finding).toMatchObject({
      id: 'arn:aws:securityhub:us-east-1:111122223333:security-control/IAM.15/finding/4b8ce8c0-1326-4af6-a1db-5a51c0692e72',
      source: 'securityhub',
      format: 'ocsf',
      product: { id: 'securityhub', name: 'Security Hub', company: 'AWS' },
      title: 'Ensure IAM password policy requires minimum password length of 14 or greater',
      severity: { label: 'MEDIUM', normalized: 40, original: 'Medium', basis: 'derived' },
      compliance: { status: 'FAILED', original: 'Fail' },
      configRule: { name: 'securityhub-iam-password-policy-1f9b2c7d' },
      workflow: 'NEW',
      recordState: 'ACTIVE',
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      updatedAt: '2025-03-14T09:15:02.336Z',
    });
    expect(finding.control).toEqual({
      id: 'IAM.15',
      securityControlId: 'IAM.15',
      standards: ['cis-aws-foundations-benchmark/v/1.2.0', 'cis-aws-foundations-benchmark/v/1.4.0', 'cis-aws-foundations-benchmark/v/3.0.0'],
      cisRules: ['1.2.0/1.9', '1.4.0/1.8', '3.0.0/1.8'],
      relatedRequirements: ['CIS AWS Foundations Benchmark v1.2.0/1.9', 'CIS AWS Foundations Benchmark v1.4.0/1.8', 'CIS AWS Foundations Benchmark v3.0.0/1.8'],
    });
    expect(finding.resources).toEqual([
      {
        type: 'AwsAccount',
        nativeType: 'AWS::::Account',
        id: 'AWS::::Account:111122223333',
        account: '111122223333',
        region: 'us-east-1',
        partition: 'aws',
        tags: { CostCenter: 'security-ops', 'riposte:managed': 'true' },
        securityGroupIds: [],
        networkInterfaces: [],
      },
    ]);
  });

  it('maps a GuardDuty detection finding (class 2004) with its instance', () => {
    const finding = read(fixture('securityhub-v2-ocsf-detection.json'));

    expect(finding).toMatchObject({
      product: { id: 'guardduty', name: 'GuardDuty' },
      types: ['Backdoor:EC2/C&CActivity.B!DNS'],
      severity: { label: 'HIGH', normalized: 70 },
      account: '111122223333',
    });
    expect(finding.compliance).toBeUndefined();
    expect(finding.control).toBeUndefined();
    expect(finding.resources[0]).toMatchObject({
      type: 'AwsEc2Instance',
      nativeType: 'AWS::EC2::Instance',
      instanceId: 'i-0a1b2c3d4e5f60718',
      arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
      id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
      tags: { Name: 'web-prod-03', Environment: 'production', 'aws:autoscaling:groupName': 'web-prod-asg' },
    });
  });

  it.each([
    [1, 'NEW', 'ACTIVE'],
    [2, 'NOTIFIED', 'ACTIVE'],
    [3, 'SUPPRESSED', 'ACTIVE'],
    [4, 'RESOLVED', 'ACTIVE'],
    [5, 'NEW', 'ARCHIVED'],
  ] as const)('maps status_id %i to workflow %s, record %s', (statusId, workflow, recordState) => {
    const event = fixture<OcsfEvent>('securityhub-v2-ocsf-compliance.json');
    Object.assign(event.detail.findings[0] as object, { status_id: statusId });

    expect(read(event)).toMatchObject({ workflow, recordState });
  });

  it('treats a Close activity as archived, and keeps the comment as the note (OCSF records no author)', () => {
    const event = fixture<OcsfEvent>('securityhub-v2-ocsf-detection.json');
    Object.assign(event.detail.findings[0] as object, { activity_id: 3, comment: 'Isolated by Riposte run r-1' });

    const finding = read(event);

    expect(finding.recordState).toBe('ARCHIVED');
    expect(finding.note).toEqual({ text: 'Isolated by Riposte run r-1' });
  });

  it.each([
    [1, 'INFORMATIONAL', 0],
    [2, 'LOW', 1],
    [3, 'MEDIUM', 40],
    [4, 'HIGH', 70],
    [5, 'CRITICAL', 90],
    [6, 'CRITICAL', 100],
    [0, 'INFORMATIONAL', 0],
    [99, 'INFORMATIONAL', 0],
  ] as const)('maps severity_id %i to %s (%i)', (severityId, label, normalized) => {
    const event = fixture<OcsfEvent>('securityhub-v2-ocsf-detection.json');
    Object.assign(event.detail.findings[0] as object, { severity_id: severityId });

    expect(read(event).severity).toMatchObject({ label, normalized, basis: 'derived' });
  });

  it('takes the partition from the resources when the cloud block has none', () => {
    const event = fixture<OcsfEvent & { region: string }>('securityhub-v2-ocsf-compliance.json');
    const [record] = event.detail.findings as [Record<string, unknown>];
    record.cloud = { account: { uid: '444455556666' }, region: 'cn-north-1' };
    record.resources = [{ type: 'AWS::::Account', uid: '444455556666', cloud_partition: 'aws-cn', region: 'cn-north-1' }];

    const finding = read(event);

    expect(finding).toMatchObject({ account: '444455556666', region: 'cn-north-1', partition: 'aws-cn' });
    expect(finding.resources[0]).toMatchObject({ id: 'AWS::::Account:444455556666', partition: 'aws-cn' });
  });
});
