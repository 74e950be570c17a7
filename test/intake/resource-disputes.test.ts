import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { readEvent, type Finding, type Resource } from '../../src/intake/index.js';
import { fixtureText } from '../support/fixtures.js';
import { asffFixture, guardDutyFixture, ocsfFixture } from './editable-events.js';

type Fields = Record<string, unknown>;

const GROUP_A = 'sg-0f1e2d3c4b5a69788';
const GROUP_B = 'sg-0b0b0b0b0b0b0b0b0';
const GROUP_A_ARN = `arn:aws:ec2:us-east-1:111122223333:security-group/${GROUP_A}`;
const INSTANCE_A = 'i-0a1b2c3d4e5f60718';
const INSTANCE_B = 'i-0b0b0b0b0b0b0b0b0';
const INSTANCE_A_ARN = `arn:aws:ec2:us-east-1:111122223333:instance/${INSTANCE_A}`;
const INSTANCE_B_ARN = `arn:aws:ec2:us-east-1:111122223333:instance/${INSTANCE_B}`;

const only = (event: unknown): Finding => {
  const result = readEvent(event);
  expect(result.rejected).toEqual([]);
  expect(result.findings).toHaveLength(1);
  return result.findings[0] as Finding;
};
const firstResource = (event: unknown): Resource => only(event).resources[0] as Resource;

/** An ASFF event (the open-SSH control finding) whose only resource is `resource`. */
function asffWith(resource: Fields): unknown {
  const { event, record } = asffFixture('securityhub-imported-open-ssh.json');
  record.Resources = [{ Partition: 'aws', Region: 'us-east-1', ...resource }];
  return event;
}

/** An OCSF event (the GuardDuty detection) whose only resource is `resource`. */
function ocsfWith(resource: Fields): unknown {
  const { event, record } = ocsfFixture('securityhub-v2-ocsf-detection.json');
  record.resources = [{ region: 'us-east-1', cloud_partition: 'aws', owner: { account: { uid: '111122223333' } }, ...resource }];
  return event;
}

describe('disagreeing resource fields, ASFF (issue 11, cases 1–3)', () => {
  it('disputes a security group whose Id names one group and Details.AwsEc2SecurityGroup.GroupId another (case 1)', () => {
    const resource = firstResource(asffWith({ Type: 'AwsEc2SecurityGroup', Id: GROUP_A_ARN, Details: { AwsEc2SecurityGroup: { GroupId: GROUP_B, VpcId: 'vpc-0c1d2e3f4a5b6c7d8' } } }));

    expect(resource.disputed).toEqual([`detail.findings[0].Resources[0].Id names "${GROUP_A}" but detail.findings[0].Resources[0].Details.AwsEc2SecurityGroup.GroupId names "${GROUP_B}"`]);
    // What identifiers remain follow the Id, which keys every later stage.
    expect(resource).toMatchObject({ id: GROUP_A_ARN, arn: GROUP_A_ARN, securityGroupIds: [GROUP_A] });
  });

  it('gives no instance id to Type: AwsIamRole whose Id is a bare i-… (case 2), and disputes it', () => {
    const resource = firstResource(asffWith({ Type: 'AwsIamRole', Id: INSTANCE_A, Details: { AwsIamRole: { RoleName: 'forensics-exempt-role' } } }));

    expect(resource.instanceId).toBeUndefined();
    expect(resource.iamRole).toBeUndefined();
    expect(resource.disputed).toEqual([`detail.findings[0].Resources[0].Type is AwsIamRole but detail.findings[0].Resources[0].Id "${INSTANCE_A}" names an EC2 instance`]);
  });

  it('disputes an instance whose Id ARN names one instance and Details.AwsEc2Instance.InstanceId another (case 3)', () => {
    const resource = firstResource(asffWith({ Type: 'AwsEc2Instance', Id: INSTANCE_A_ARN, Details: { AwsEc2Instance: { InstanceId: INSTANCE_B } } }));

    expect(resource.disputed).toEqual([`detail.findings[0].Resources[0].Id names "${INSTANCE_A}" but detail.findings[0].Resources[0].Details.AwsEc2Instance.InstanceId names "${INSTANCE_B}"`]);
    expect(resource).toMatchObject({ instanceId: INSTANCE_A, arn: INSTANCE_A_ARN });
  });

  it('disputes Type: AwsEc2Instance whose Id is the ARN of no instance while Details names one (case 3: one ARN, many instances)', () => {
    const volume = 'arn:aws:ec2:us-east-1:111122223333:volume/vol-0a1b2c3d4e5f60718';
    const resource = firstResource(asffWith({ Type: 'AwsEc2Instance', Id: volume, Details: { AwsEc2Instance: { InstanceId: INSTANCE_B } } }));

    expect(resource.instanceId).toBeUndefined();
    expect(resource.disputed).toEqual([`detail.findings[0].Resources[0].Type is AwsEc2Instance but detail.findings[0].Resources[0].Id "${volume}" names no EC2 instance`]);
  });

  it('disputes a resource whose Details describe another type than its Type', () => {
    const resource = firstResource(asffWith({ Type: 'AwsEc2SecurityGroup', Id: GROUP_A_ARN, Details: { AwsEc2Instance: { InstanceId: INSTANCE_B } } }));

    expect(resource.disputed).toEqual(['detail.findings[0].Resources[0].Type is AwsEc2SecurityGroup but detail.findings[0].Resources[0].Details holds AwsEc2Instance']);
    expect(resource.instanceId).toBeUndefined();
  });

  it.each([
    [
      'a network interface (Id eni vs Details.NetworkInterfaceId)',
      {
        Type: 'AwsEc2NetworkInterface',
        Id: 'arn:aws:ec2:us-east-1:111122223333:network-interface/eni-0f1a2b3c4d5e6f708',
        Details: { AwsEc2NetworkInterface: { NetworkInterfaceId: 'eni-0b0b0b0b0b0b0b0b0' } },
      },
      'NetworkInterfaceId',
    ],
    ['a role (Id ARN vs Details.RoleName)', { Type: 'AwsIamRole', Id: 'arn:aws:iam::111122223333:role/web-prod-instance-role', Details: { AwsIamRole: { RoleName: 'payments-role' } } }, 'RoleName'],
    [
      'an access key (Id vs Details.AccessKeyId)',
      { Type: 'AwsIamAccessKey', Id: 'AWS::IAM::AccessKey:ASIA4EXAMPLEKEY7XQ2M', Details: { AwsIamAccessKey: { AccessKeyId: 'AKIA4OTHERKEY0000000' } } },
      'AccessKeyId',
    ],
  ])('disputes %s', (_label, resource, field) => {
    const [reason] = firstResource(asffWith(resource)).disputed ?? [];

    expect(reason).toMatch(new RegExp(`^detail\\.findings\\[0\\]\\.Resources\\[0\\]\\.Id names ".+" but detail\\.findings\\[0\\]\\.Resources\\[0\\]\\.Details\\.\\w+\\.${field} names ".+"$`));
  });

  it('gives Type: Other no instance id from a bare i-…, but keeps it from an instance ARN, and disputes neither', () => {
    const bare = firstResource(asffWith({ Type: 'Other', Id: INSTANCE_A }));
    const arn = firstResource(asffWith({ Type: 'Other', Id: INSTANCE_A_ARN }));

    expect(bare.instanceId).toBeUndefined();
    expect(arn.instanceId).toBe(INSTANCE_A);
    expect([bare.disputed, arn.disputed]).toEqual([undefined, undefined]);
  });

  it('disputes a typed AWS resource named by another kind’s id (Type: AwsS3Bucket, Id an instance ARN)', () => {
    const resource = firstResource(asffWith({ Type: 'AwsS3Bucket', Id: INSTANCE_A_ARN }));

    expect(resource.instanceId).toBeUndefined();
    expect(resource.disputed).toHaveLength(1);
  });

  it('keeps agreeing fields undisputed: the same group in Id and Details', () => {
    const resource = firstResource(asffWith({ Type: 'AwsEc2SecurityGroup', Id: GROUP_A_ARN, Details: { AwsEc2SecurityGroup: { GroupId: GROUP_A } } }));

    expect(resource.disputed).toBeUndefined();
    expect(resource.securityGroupIds).toEqual([GROUP_A]);
  });
});

describe('disagreeing resource fields, OCSF (issue 11, cases 1–2)', () => {
  it('disputes a security group whose uid and uid_alt name different groups (case 1)', () => {
    const resource = firstResource(ocsfWith({ type: 'AWS::EC2::SecurityGroup', uid: GROUP_B, uid_alt: GROUP_A_ARN }));

    expect(resource.disputed).toEqual([`detail.findings[0].resources[0].uid names "${GROUP_B}" but detail.findings[0].resources[0].uid_alt names "${GROUP_A}"`]);
    // The ARN keys the resource, and the group id follows it.
    expect(resource).toMatchObject({ arn: GROUP_A_ARN, securityGroupIds: [GROUP_A] });
  });

  it('disputes an instance whose uid and uid_alt name different instances, keeping the id consistent with the ARN', () => {
    const resource = firstResource(ocsfWith({ type: 'AWS::EC2::Instance', uid: INSTANCE_A, uid_alt: INSTANCE_B_ARN }));

    expect(resource.disputed).toEqual([`detail.findings[0].resources[0].uid names "${INSTANCE_A}" but detail.findings[0].resources[0].uid_alt names "${INSTANCE_B}"`]);
    expect(resource).toMatchObject({ id: INSTANCE_B_ARN, arn: INSTANCE_B_ARN, instanceId: INSTANCE_B });
  });

  it('gives no instance id to a role whose uid is an i-… (case 2), and disputes it', () => {
    const resource = firstResource(ocsfWith({ type: 'AWS::IAM::Role', uid: INSTANCE_A, name: 'forensics-exempt-role' }));

    expect(resource.instanceId).toBeUndefined();
    expect(resource.iamRole).toBeUndefined();
    expect(resource.disputed).toEqual([`detail.findings[0].resources[0].type is AWS::IAM::Role but detail.findings[0].resources[0].uid "${INSTANCE_A}" names an EC2 instance`]);
  });

  it('disputes an instance whose uid_alt is a security group ARN', () => {
    const resource = firstResource(ocsfWith({ type: 'AWS::EC2::Instance', uid: INSTANCE_A, uid_alt: GROUP_A_ARN }));

    expect(resource.instanceId).toBeUndefined();
    expect(resource.disputed?.[0]).toContain('names a security group');
  });
});

describe('disagreeing resource fields, native GuardDuty', () => {
  it('disputes the instance when the event’s resources name another instance', () => {
    const { event } = guardDutyFixture('guardduty-ec2-backdoor.json');
    event.resources = [INSTANCE_B_ARN];

    const resource = firstResource(event);

    expect(resource.instanceId).toBe(INSTANCE_A);
    expect(resource.disputed).toEqual([`detail.resource.instanceDetails.instanceId names "${INSTANCE_A}" (${INSTANCE_A_ARN}) but the event's resources name "${INSTANCE_B_ARN}"`]);
  });

  it('does not dispute an instance the event’s resources name the same way', () => {
    const { event } = guardDutyFixture('guardduty-ec2-backdoor.json');
    event.resources = [INSTANCE_A_ARN];

    expect(firstResource(event).disputed).toBeUndefined();
  });
});

describe('every stored fixture', () => {
  const events = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'events');
  const names = readdirSync(events).filter((name) => name.endsWith('.json') && !name.startsWith('api'));

  it.each(names)('%s has no disputed resource', (name) => {
    for (const finding of readEvent(fixtureText(name)).findings) {
      expect(finding.resources.filter((resource) => resource.disputed !== undefined)).toEqual([]);
    }
  });
});
