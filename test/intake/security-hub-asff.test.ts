import { describe, expect, it } from 'vitest';

import { InvalidFindingError, MalformedEventError, readEvent, type Finding } from '../../src/intake/index.js';
import { fixture, fixtureText } from '../support/fixtures.js';

const only = (name: string): Finding => {
  const result = readEvent(fixtureText(name), { origin: name });
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('Security Hub Findings - Imported (ASFF)', () => {
  it('reads a failed CIS password-policy control in a member account', () => {
    const finding = only('securityhub-imported-cis-password-policy.json');

    expect(finding).toMatchObject({
      id: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
      source: 'securityhub',
      format: 'asff',
      product: { id: 'securityhub', name: 'Security Hub', arn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' },
      title: '1.9 Ensure IAM password policy requires minimum password length of 14 or greater',
      severity: { label: 'MEDIUM', normalized: 40, basis: 'reported' },
      compliance: { status: 'FAILED' },
      workflow: 'NEW',
      recordState: 'ACTIVE',
      // The finding is about the member account, though the administrator account delivered it.
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      trigger: { kind: 'automatic' },
    });
    expect(finding.raw.envelope.account).toBe('999988887777');
    expect(finding.control).toEqual({
      id: 'IAM.15',
      securityControlId: 'IAM.15',
      standardControlId: '1.9',
      standardsControlArn: 'arn:aws:securityhub:us-east-1:111122223333:control/cis-aws-foundations-benchmark/v/1.2.0/1.9',
      standards: ['cis-aws-foundations-benchmark/v/1.2.0'],
      cisRules: ['1.2.0/1.9'],
      relatedRequirements: ['CIS AWS Foundations Benchmark v1.2.0/1.9'],
    });
    expect(finding.resources).toEqual([
      {
        type: 'AwsAccount',
        id: 'AWS::::Account:111122223333',
        account: '111122223333',
        region: 'us-east-1',
        partition: 'aws',
        securityGroupIds: [],
        networkInterfaces: [],
      },
    ]);
    expect(finding.note).toBeUndefined();
  });

  it('reads a consolidated open-SSH control (EC2.13) with its security group and tags', () => {
    const finding = only('securityhub-imported-open-ssh.json');

    expect(finding.control).toMatchObject({ id: 'EC2.13', securityControlId: 'EC2.13', cisRules: ['1.2.0/4.1'] });
    expect(finding.control?.standards).toContain('cis-aws-foundations-benchmark/v/1.2.0');
    expect(finding.severity).toEqual({ label: 'HIGH', normalized: 70, original: 'HIGH', basis: 'reported' });
    const [group] = finding.resources;
    expect(group).toMatchObject({
      type: 'AwsEc2SecurityGroup',
      id: 'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0f1e2d3c4b5a69788',
      arn: 'arn:aws:ec2:us-east-1:111122223333:security-group/sg-0f1e2d3c4b5a69788',
      securityGroupIds: ['sg-0f1e2d3c4b5a69788'],
    });
    expect(group?.vpcId).toMatch(/^vpc-/);
    expect(group?.tags).toBeDefined();
    expect(group?.instanceId).toBeUndefined();
  });

  it('reads a GuardDuty finding sent through Security Hub, with IPv6 and the instance profile', () => {
    const finding = only('securityhub-imported-guardduty-ec2.json');

    expect(finding.product).toEqual({
      id: 'guardduty',
      owner: 'aws',
      name: 'GuardDuty',
      company: 'Amazon',
      arn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
    });
    // GuardDuty's own type is recovered, so one playbook matches both channels.
    expect(finding.types).toEqual(['TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS', 'Backdoor:EC2/C&CActivity.B!DNS']);
    expect(finding.severity).toEqual({ label: 'HIGH', normalized: 80, original: '8', basis: 'reported' });
    const [instance] = finding.resources;
    expect(instance).toMatchObject({
      type: 'AwsEc2Instance',
      instanceId: 'i-0a1b2c3d4e5f60718',
      arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
      vpcId: 'vpc-0c1d2e3f4a5b6c7d8',
      subnetId: 'subnet-0a9b8c7d6e5f40312',
      tags: { Name: 'web-prod-03', Environment: 'production', 'aws:autoscaling:groupName': 'web-prod-asg' },
    });
    expect(instance?.iamRole?.instanceProfileArn).toMatch(/^arn:aws:iam::111122223333:instance-profile\//);
    expect(instance?.networkInterfaces).toEqual([
      {
        id: 'eni-0f1a2b3c4d5e6f708',
        ipv4Addresses: ['10.20.3.41', '203.0.113.77'],
        ipv6Addresses: ['2600:1f18:4a3:6902:9c5e:2b41:7d0a:1f3e'],
        securityGroupIds: [],
        subnetId: 'subnet-0a9b8c7d6e5f40312',
        vpcId: 'vpc-0c1d2e3f4a5b6c7d8',
      },
    ]);
  });

  it('reads a third-party product with only the required fields', () => {
    const finding = only('securityhub-imported-unknown-product.json');

    expect(finding).toMatchObject({
      id: 'acme-scan/2025-03-14/asset-7731/weak-tls-cipher',
      product: { id: '123456789012/default', name: 'Acme Scanner', company: 'Acme' },
      // Only a label was sent: Security Hub's own normalized value for it.
      severity: { label: 'MEDIUM', normalized: 40, basis: 'reported' },
      workflow: 'NEW',
      recordState: 'ACTIVE',
      account: '123456789012',
    });
    expect(finding.control).toBeUndefined();
    expect(finding.compliance).toBeUndefined();
    expect(finding.note).toBeUndefined();
    expect(finding.resources[0]).toMatchObject({ type: 'Other', id: 'acme-asset-7731' });
    expect(finding.resources[0]?.tags).toBeUndefined();
  });

  it("exposes a note Riposte wrote, and who wrote it, so later stages can recognise Riposte's own updates", () => {
    const finding = only('securityhub-imported-riposte-note.json');

    expect(finding.note).toEqual({
      text: 'Riposte run r-7f3c9a2e1b playbook cis-password-policy: set password policy',
      updatedBy: 'riposte',
      updatedAt: '2025-03-14T09:31:10.902Z',
    });
    expect(finding.workflow).toBe('NOTIFIED');
  });

  it('keeps the good findings of a batch and rejects the bad one by index and field', () => {
    const result = readEvent(fixture('securityhub-imported-batch-two.json'));

    expect(result.findings.map((finding) => finding.id)).toEqual(['arn:aws:inspector2:us-east-1:111122223333:finding/d256890c46554f6b1773e511f52e9851']);
    expect(result.findings[0]).toMatchObject({
      product: { id: 'inspector', name: 'Inspector' },
      types: ['Software and Configuration Checks/Vulnerabilities/CVE'],
      resources: [{ type: 'AwsEc2Instance', instanceId: 'i-0b2c3d4e5f6a70819' }],
      raw: { index: 0 },
    });
    expect(result.rejected).toHaveLength(1);
    const [rejected] = result.rejected;
    expect(rejected).toBeInstanceOf(InvalidFindingError);
    expect(rejected).toMatchObject({
      source: 'aws.securityhub',
      field: 'detail.findings[1].AwsAccountId',
      index: 1,
      findingId: 'arn:aws:inspector2:us-east-1:111122223333:finding/a788bd4fe448f460ac41ed1b4e3e3531',
      retryable: false,
    });
  });

  it('keeps the raw record and envelope of each finding for audit', () => {
    const event = fixture<{ id: string; detail: { findings: unknown[] } }>('securityhub-imported-open-ssh.json');

    const [finding] = readEvent(event).findings;

    expect(finding?.raw.record).toEqual(event.detail.findings[0]);
    expect(finding?.raw.envelope).toMatchObject({ id: event.id, source: 'aws.securityhub', detailType: 'Security Hub Findings - Imported' });
  });

  it('derives severity from Normalized when no label is sent, and the old WorkflowState when Workflow is absent', () => {
    const event = fixture<{ detail: { findings: Array<Record<string, unknown>> } }>('securityhub-imported-unknown-product.json');
    const [record] = event.detail.findings;
    Object.assign(record as object, { Severity: { Normalized: 93 }, WorkflowState: 'DEFERRED', RecordState: 'ARCHIVED' });

    const [finding] = readEvent(event).findings;

    expect(finding?.severity).toEqual({ label: 'CRITICAL', normalized: 93, basis: 'reported' });
    expect(finding?.workflow).toBe('SUPPRESSED');
    expect(finding?.recordState).toBe('ARCHIVED');
  });

  it('takes the partition from the product ARN (GovCloud)', () => {
    const event = fixture<{ region: string; detail: { findings: Array<Record<string, unknown>> } }>('securityhub-imported-unknown-product.json');
    const [record] = event.detail.findings as [Record<string, unknown>];
    event.region = 'us-gov-west-1';
    record.ProductArn = 'arn:aws-us-gov:securityhub:us-gov-west-1:123456789012:product/123456789012/default';
    delete record.Region;

    const [finding] = readEvent(event).findings;

    expect(finding).toMatchObject({ partition: 'aws-us-gov', region: 'us-gov-west-1' });
    expect(finding?.resources[0]).toMatchObject({ partition: 'aws-us-gov', region: 'us-gov-west-1' });
  });
});

describe('Security Hub Findings - Custom Action', () => {
  it('names the action that was chosen and carries its findings', () => {
    const result = readEvent(fixtureText('securityhub-custom-action.json'));

    expect(result.findings).toHaveLength(1);
    const [finding] = result.findings;
    expect(finding?.trigger).toEqual({
      kind: 'custom-action',
      actionId: 'IsolateEc2',
      actionName: 'Isolate instance',
      actionDescription: expect.any(String),
      actionArn: 'arn:aws:securityhub:us-east-1:999988887777:action/custom/IsolateEc2',
    });
    expect(finding).toMatchObject({
      product: { id: 'guardduty' },
      account: '111122223333',
      resources: [{ type: 'AwsEc2Instance', instanceId: 'i-0a1b2c3d4e5f60718' }],
    });
    expect(finding?.raw.envelope.detailType).toBe('Security Hub Findings - Custom Action');
  });

  it('rejects an action id longer than Security Hub allows', () => {
    const event = fixture<{ resources: string[] }>('securityhub-custom-action.json');
    event.resources = ['arn:aws:securityhub:us-east-1:999988887777:action/custom/IsolateEc2InstanceNowPlease'];

    expect(() => readEvent(event)).toThrow(MalformedEventError);
    expect(() => readEvent(event)).toThrow(/resources names an invalid custom action id/);
  });
});
