import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';

type GuardDutyEvent = { detail: Record<string, unknown> & { resource: Record<string, unknown>; service: Record<string, unknown> } };

const read = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('GuardDuty Finding (native)', () => {
  it('reads an EC2 backdoor finding with its network interfaces, groups, IPv6 and profile', () => {
    const finding = read(fixtureText('guardduty-ec2-backdoor.json'));

    expect(finding).toMatchObject({
      id: '5a82ee9adccd84d14d108fae10cd4bb8',
      source: 'guardduty',
      format: 'guardduty',
      product: { id: 'guardduty', name: 'GuardDuty', company: 'Amazon' },
      types: ['Backdoor:EC2/C&CActivity.B!DNS'],
      severity: { label: 'HIGH', normalized: 80, original: '8', basis: 'derived' },
      workflow: 'NEW',
      recordState: 'ACTIVE',
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      trigger: { kind: 'automatic' },
    });
    expect(finding.resources).toEqual([
      {
        type: 'AwsEc2Instance',
        nativeType: 'Instance',
        id: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
        arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
        account: '111122223333',
        region: 'us-east-1',
        partition: 'aws',
        tags: { Name: 'web-prod-03', Environment: 'production', 'aws:autoscaling:groupName': 'web-prod-asg' },
        instanceId: 'i-0a1b2c3d4e5f60718',
        securityGroupIds: ['sg-0a1b2c3d4e5f67890', 'sg-0123abcd4567ef890'],
        vpcId: 'vpc-0c1d2e3f4a5b6c7d8',
        subnetId: 'subnet-0a9b8c7d6e5f40312',
        networkInterfaces: [
          {
            id: 'eni-0f1a2b3c4d5e6f708',
            ipv4Addresses: ['10.20.3.41'],
            ipv6Addresses: ['2600:1f18:4a3:6902:9c5e:2b41:7d0a:1f3e'],
            publicIp: '203.0.113.77',
            securityGroupIds: ['sg-0a1b2c3d4e5f67890', 'sg-0123abcd4567ef890'],
            subnetId: 'subnet-0a9b8c7d6e5f40312',
            vpcId: 'vpc-0c1d2e3f4a5b6c7d8',
          },
        ],
        iamRole: { instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/web-prod-instance-profile' },
      },
    ]);
  });

  it('reads an access-key finding whose user is an assumed role', () => {
    const finding = read(fixture('guardduty-iam-accesskey.json'));

    expect(finding).toMatchObject({
      types: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'],
      severity: { label: 'CRITICAL', normalized: 95, original: '9.5' },
    });
    expect(finding.resources).toEqual([
      expect.objectContaining({
        type: 'AwsIamAccessKey',
        nativeType: 'AccessKey',
        id: 'AWS::IAM::AccessKey:ASIA4EXAMPLEKEY7XQ2M',
        accessKey: {
          id: 'ASIA4EXAMPLEKEY7XQ2M',
          principalId: 'AROA4EXAMPLEROLE3KZ7P:i-0a1b2c3d4e5f60718',
          userName: 'web-prod-instance-role',
          userType: 'AssumedRole',
        },
        iamRole: { name: 'web-prod-instance-role' },
      }),
    ]);
    expect(finding.resources[0]?.instanceId).toBeUndefined();
  });

  it('reads a GovCloud finding with minimal optional fields', () => {
    const finding = read(fixture('guardduty-govcloud-low.json'));

    expect(finding).toMatchObject({
      account: '444455556666',
      region: 'us-gov-west-1',
      partition: 'aws-us-gov',
      severity: { label: 'LOW', normalized: 25, original: '2.5' },
    });
    expect(finding.resources[0]).toMatchObject({
      arn: 'arn:aws-us-gov:ec2:us-gov-west-1:444455556666:instance/i-0c3d4e5f6a7b81920',
      partition: 'aws-us-gov',
    });
    // GuardDuty sent no tags: unknown, not "no tags".
    expect(finding.resources[0]?.tags).toBeUndefined();
    expect(finding.resources[0]?.networkInterfaces[0]?.ipv6Addresses).toEqual([]);
  });

  it.each([
    [1.0, 'LOW', 10],
    [3.9, 'LOW', 39],
    [4.0, 'MEDIUM', 40],
    [6.9, 'MEDIUM', 69],
    [7.0, 'HIGH', 70],
    [8.9, 'HIGH', 89],
    [9.0, 'CRITICAL', 90],
    [10.0, 'CRITICAL', 100],
  ] as const)('labels severity %f as %s (normalized %f), by GuardDuty’s bands', (score, label, normalized) => {
    const event = fixture<GuardDutyEvent>('guardduty-ec2-backdoor.json');
    event.detail.severity = score;

    expect(read(event).severity).toEqual({ label, normalized, original: String(score), basis: 'derived' });
  });

  it('marks an archived finding ARCHIVED', () => {
    const event = fixture<GuardDutyEvent>('guardduty-ec2-backdoor.json');
    event.detail.service.archived = true;

    expect(read(event).recordState).toBe('ARCHIVED');
  });

  it('derives the partition from the region when the finding omits it', () => {
    const event = fixture<GuardDutyEvent>('guardduty-govcloud-low.json');
    delete event.detail.partition;

    expect(read(event).partition).toBe('aws-us-gov');
  });

  it('keeps a resource type it has no reader for, identified by the finding', () => {
    const event = fixture<GuardDutyEvent>('guardduty-ec2-backdoor.json');
    event.detail.resource = { resourceType: 'EKSCluster', eksClusterDetails: { name: 'prod' } };

    expect(read(event).resources).toEqual([expect.objectContaining({ type: 'AwsEksCluster', nativeType: 'EKSCluster', id: event.detail.arn })]);
  });
});
