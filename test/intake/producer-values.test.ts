import { describe, expect, it } from 'vitest';

import { readEvent, type Finding } from '../../src/intake/index.js';
import { fixtureText } from '../support/fixtures.js';
import { asffFixture, first, guardDutyFixture, ocsfFixture } from './editable-events.js';

const only = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};

describe('OCSF resource types in either spelling', () => {
  it.each([
    ['AwsEc2Instance', 'AwsEc2Instance'],
    ['AWS::EC2::Instance', 'AwsEc2Instance'],
  ])('reads an instance typed %s as %s, with its instance id', (type, expected) => {
    const { event, record } = ocsfFixture('securityhub-v2-ocsf-detection.json');
    first(record.resources, 'resources').type = type;

    const [resource] = only(event).resources;

    expect(resource).toMatchObject({ type: expected, nativeType: type, instanceId: 'i-0a1b2c3d4e5f60718' });
    expect(resource?.disputed).toBeUndefined();
  });

  it.each([
    ['AwsEc2SecurityGroup', 'sg-0f1e2d3c4b5a69788', { securityGroupIds: ['sg-0f1e2d3c4b5a69788'] }],
    ['AwsIamRole', 'arn:aws:iam::111122223333:role/web-prod-instance-role', { iamRole: { name: 'web-prod-instance-role', arn: 'arn:aws:iam::111122223333:role/web-prod-instance-role' } }],
    ['AwsIamAccessKey', 'ASIA4EXAMPLEKEY7XQ2M', { accessKey: { id: 'ASIA4EXAMPLEKEY7XQ2M' } }],
    ['AwsAccount', '111122223333', { id: 'AWS::::Account:111122223333' }],
  ])('reads the ASFF spelling %s, never Other', (type, uid, expected) => {
    const { event, record } = ocsfFixture('securityhub-v2-ocsf-detection.json');
    record.resources = [{ type, uid, region: 'us-east-1', cloud_partition: 'aws' }];

    expect(only(event).resources[0]).toMatchObject({ type, ...expected });
  });
});

describe('placeholders never become identifiers', () => {
  it('reads guardduty-ec2-sample.json’s Generated… and example values as nothing', () => {
    const [instance] = only(fixtureText('guardduty-ec2-sample.json')).resources;

    expect(instance).toMatchObject({ instanceId: 'i-99999999', securityGroupIds: [] });
    expect(instance?.iamRole).toBeUndefined();
    expect(instance?.vpcId).toBeUndefined();
    expect(instance?.subnetId).toBeUndefined();
    expect(instance?.networkInterfaces[0]).toEqual({ id: 'eni-bfcffe88', ipv4Addresses: ['10.0.0.1'], ipv6Addresses: [], publicIp: '198.51.100.0', securityGroupIds: [] });
  });

  it('drops GuardDuty’s "null" profile ARN, group id, subnet and VPC', () => {
    const { event, detail } = guardDutyFixture('guardduty-ec2-backdoor.json');
    const instance = detail.resource.instanceDetails;
    instance.iamInstanceProfile = { arn: 'null', id: 'null' };
    Object.assign(first(instance.networkInterfaces, 'networkInterfaces'), {
      subnetId: 'null',
      vpcId: 'null',
      publicIp: 'null',
      networkInterfaceId: 'null',
      securityGroups: [{ groupId: 'null', groupName: 'null' }],
    });

    const [resource] = only(event).resources;

    expect(resource?.iamRole).toBeUndefined();
    expect(resource?.securityGroupIds).toEqual([]);
    expect(resource?.vpcId).toBeUndefined();
    expect(resource?.networkInterfaces[0]).toEqual({ ipv4Addresses: ['10.20.3.41'], ipv6Addresses: ['2600:1f18:4a3:6902:9c5e:2b41:7d0a:1f3e'], securityGroupIds: [] });
  });

  it('makes no access-key resource of GuardDuty accessKeyDetails that are all "null"', () => {
    const { event, detail } = guardDutyFixture('guardduty-ec2-backdoor.json');
    detail.resource.accessKeyDetails = { accessKeyId: 'null', principalId: 'null', userName: 'null', userType: 'null' };

    expect(only(event).resources.map((resource) => resource.type)).toEqual(['AwsEc2Instance']);
  });

  it('drops "null" and "" from an ASFF instance’s profile ARN, VPC and interface', () => {
    const { event, record } = asffFixture('securityhub-imported-guardduty-ec2.json');
    const [resource] = record.Resources;
    Object.assign(resource?.Details as { AwsEc2Instance: object }, {
      AwsEc2Instance: { IamInstanceProfileArn: 'null', VpcId: '', SubnetId: 'null', NetworkInterfaces: [{ NetworkInterfaceId: 'null' }] },
    });

    const [read] = only(event).resources;

    expect(read?.iamRole).toBeUndefined();
    expect(read?.vpcId).toBeUndefined();
    expect(read?.subnetId).toBeUndefined();
    expect(read?.networkInterfaces[0]?.id).toBeUndefined();
  });

  it('drops an ASFF access key id of "null", keeping the one in the resource Id', () => {
    const { event, record } = asffFixture('securityhub-imported-guardduty-ec2.json');
    record.Resources = [
      { Type: 'AwsIamAccessKey', Id: 'AWS::IAM::AccessKey:ASIA4EXAMPLEKEY7XQ2M', Details: { AwsIamAccessKey: { AccessKeyId: 'null', PrincipalName: 'null', PrincipalType: 'IAMUser' } } },
    ];

    const [resource] = only(event).resources;

    expect(resource?.accessKey).toEqual({ id: 'ASIA4EXAMPLEKEY7XQ2M', userType: 'IAMUser' });
    expect(resource?.disputed).toBeUndefined();
  });

  it('drops OCSF access-key data of "null"', () => {
    const { event, record } = ocsfFixture('securityhub-v2-ocsf-detection.json');
    record.resources = [{ type: 'AWS::IAM::AccessKey', uid: 'ASIA4EXAMPLEKEY7XQ2M', region: 'us-east-1', data: { user_name: 'null', user_type: 'AssumedRole', principal_id: '' } }];

    expect(only(event).resources[0]?.accessKey).toEqual({ id: 'ASIA4EXAMPLEKEY7XQ2M', userType: 'AssumedRole' });
    expect(only(event).resources[0]?.iamRole).toBeUndefined();
  });
});

describe('timestamps that do not parse', () => {
  it.each([
    ['UpdatedAt "yesterday"', 'UpdatedAt', 'yesterday'],
    ['UpdatedAt "2025-03-14" (no time)', 'UpdatedAt', '2025-03-14'],
    ['UpdatedAt "1" (Date.parse reads it as a year)', 'UpdatedAt', '1'],
    ['UpdatedAt "2025-13-30T00:00:00Z" (month 13)', 'UpdatedAt', '2025-13-30T00:00:00Z'],
    ['UpdatedAt "2025-02-30T00:00:00Z" (no such day)', 'UpdatedAt', '2025-02-30T00:00:00Z'],
  ])('leave an ASFF finding’s updatedAt out and say why (%s)', (_label, field, value) => {
    const { event, record } = asffFixture('securityhub-imported-open-ssh.json');
    record[field] = value;

    const finding = only(event);

    expect(finding.updatedAt).toBeUndefined();
    expect(finding.refused).toEqual([`detail.findings[0].UpdatedAt ${JSON.stringify(value)} is not an ISO 8601 time: left out`]);
  });

  it('leave a Riposte note’s time out, keeping the note', () => {
    const { event, record } = asffFixture('securityhub-imported-riposte-own-note.json');
    const note = { Text: record.Note?.Text ?? '', UpdatedBy: 'riposte', UpdatedAt: 'not a time' };
    record.Note = note;

    const finding = only(event);

    expect(finding.note).toEqual({ text: note.Text, updatedBy: 'riposte' });
    expect(finding.refused).toEqual(['detail.findings[0].Note.UpdatedAt "not a time" is not an ISO 8601 time: left out']);
  });

  it('leave an OCSF finding’s updatedAt out when modified_time_dt does not parse, rather than fall back to time_dt', () => {
    const { event, record } = ocsfFixture('securityhub-v2-ocsf-compliance.json');
    record.finding_info.modified_time_dt = 'Friday';

    const finding = only(event);

    expect(finding.updatedAt).toBeUndefined();
    expect(finding.refused).toEqual(['detail.findings[0].finding_info.modified_time_dt "Friday" is not an ISO 8601 time: left out']);
  });

  it('leave a native GuardDuty finding’s times out', () => {
    const { event, detail } = guardDutyFixture('guardduty-ec2-backdoor.json');
    detail.updatedAt = 'null';

    const finding = only(event);

    expect(finding.updatedAt).toBeUndefined();
    expect(finding.createdAt).toBe('2025-03-14T08:03:51.664Z');
    expect(finding.refused).toEqual(['detail.updatedAt "null" is not an ISO 8601 time: left out']);
  });

  it('keep times AWS writes, with or without fractions or an offset', () => {
    for (const value of ['2025-03-14T10:02:33Z', '2025-03-14T10:02:33.118Z', '2025-03-14T10:02:33.118+00:00', '2025-03-14T10:02:33.118123456Z']) {
      const { event, record } = asffFixture('securityhub-imported-open-ssh.json');
      record.UpdatedAt = value;

      const finding = only(event);

      expect(finding.updatedAt).toBe(value);
      expect(finding.refused).toBeUndefined();
    }
  });
});
