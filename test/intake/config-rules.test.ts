import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixture } from '../support/fixtures.js';

type ConfigEvent = { detail: Record<string, unknown> & { newEvaluationResult: Record<string, unknown> } };

const read = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('Config Rules Compliance Change', () => {
  it('reads a failed iam-password-policy evaluation on the account', () => {
    const finding = read(fixture('config-compliance-password-policy.json'));

    expect(finding).toEqual(
      expect.objectContaining({
        id: 'arn:aws:config:us-east-1:111122223333:config-rule/config-rule-h3k9tq/AWS::::Account/111122223333',
        source: 'config',
        format: 'config-rule',
        product: { id: 'config', owner: 'aws', name: 'Config', company: 'Amazon' },
        configRule: { name: 'iam-password-policy', arn: 'arn:aws:config:us-east-1:111122223333:config-rule/config-rule-h3k9tq' },
        compliance: { status: 'FAILED', original: 'NON_COMPLIANT' },
        // Config sends no severity: the assumption is stated, not hidden.
        severity: { label: 'MEDIUM', normalized: 40, basis: 'assumed' },
        description: 'MinimumPasswordLength is 8, expected at least 14.',
        workflow: 'NEW',
        recordState: 'ACTIVE',
        account: '111122223333',
        region: 'us-east-1',
        partition: 'aws',
        updatedAt: '2025-03-14T09:10:26.133Z',
        trigger: { kind: 'automatic' },
      }),
    );
    expect(finding.resources).toEqual([
      {
        type: 'AwsAccount',
        nativeType: 'AWS::::Account',
        id: 'AWS::::Account:111122223333',
        account: '111122223333',
        region: 'us-east-1',
        partition: 'aws',
        securityGroupIds: [],
        networkInterfaces: [],
      },
    ]);
  });

  it('reads a restricted-ssh evaluation in the China partition, naming the group as Security Hub does', () => {
    const finding = read(fixture('config-compliance-restricted-ssh.json'));

    expect(finding).toMatchObject({ account: '444455556666', region: 'cn-north-1', partition: 'aws-cn', configRule: { name: 'restricted-ssh' } });
    expect(finding.resources[0]).toMatchObject({
      type: 'AwsEc2SecurityGroup',
      nativeType: 'AWS::EC2::SecurityGroup',
      id: 'arn:aws-cn:ec2:cn-north-1:444455556666:security-group/sg-0e1d2c3b4a5968778',
      securityGroupIds: ['sg-0e1d2c3b4a5968778'],
    });
  });

  it.each([
    ['COMPLIANT', 'PASSED', 'INFORMATIONAL'],
    ['NOT_APPLICABLE', 'NOT_AVAILABLE', 'INFORMATIONAL'],
    ['INSUFFICIENT_DATA', 'NOT_AVAILABLE', 'INFORMATIONAL'],
  ] as const)('maps %s to compliance %s', (complianceType, status, label) => {
    const event = fixture<ConfigEvent>('config-compliance-password-policy.json');
    event.detail.newEvaluationResult.complianceType = complianceType;

    expect(read(event)).toMatchObject({ compliance: { status, original: complianceType }, severity: { label } });
  });

  it('derives the instance id and ARN for an EC2 instance evaluation', () => {
    const event = fixture<ConfigEvent>('config-compliance-password-policy.json');
    Object.assign(event.detail, { resourceType: 'AWS::EC2::Instance', resourceId: 'i-0a1b2c3d4e5f60718', configRuleName: 'ec2-imdsv2-check' });

    expect(read(event).resources[0]).toMatchObject({
      type: 'AwsEc2Instance',
      instanceId: 'i-0a1b2c3d4e5f60718',
      arn: 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718',
    });
  });
});
