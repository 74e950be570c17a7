import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { readEvent, type Resource } from '../../src/intake/index.js';
import { propertyTimeout, runs } from '../support/fast-check.js';
import { asffFixture, ocsfFixture } from './editable-events.js';

/*
 * Whatever a finding's resource fields say, an undisputed resource is one
 * resource: every identifier intake derives for it agrees with its Id (OCSF:
 * its ARN), and no type but an instance yields an instance id from a bare id.
 */

const ACCOUNT = '111122223333';
const hex = (length: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`));
const ec2Id = (prefix: string): fc.Arbitrary<string> => fc.oneof(hex(8), hex(17)).map((digits) => `${prefix}-${digits}`);
const instanceId = ec2Id('i');
const groupId = ec2Id('sg');
const ec2ArnOf = (kind: string, id: string): string => `arn:aws:ec2:us-east-1:${ACCOUNT}:${kind}/${id}`;

/** Ids of every shape a resource may be named by: bare, ARN, another kind's, placeholders. */
const anyId: fc.Arbitrary<string> = fc.oneof(
  instanceId,
  instanceId.map((id) => ec2ArnOf('instance', id)),
  groupId,
  groupId.map((id) => ec2ArnOf('security-group', id)),
  ec2Id('eni').map((id) => ec2ArnOf('network-interface', id)),
  fc.constantFrom(`arn:aws:iam::${ACCOUNT}:role/web`, `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-0a1b2c3d`, 'AWS::IAM::AccessKey:ASIA4EXAMPLEKEY7XQ2M', 'acme-asset-7731', 'null', ''),
);
const anyType = fc.constantFrom('AwsEc2Instance', 'AwsEc2SecurityGroup', 'AwsEc2NetworkInterface', 'AwsIamRole', 'AwsIamAccessKey', 'AwsS3Bucket', 'Other');

const asffResource = fc.record({
  Type: anyType,
  Id: anyId.filter((id) => id !== ''),
  details: fc.record({
    AwsEc2Instance: fc.option(fc.record({ InstanceId: anyId }), { nil: undefined }),
    AwsEc2SecurityGroup: fc.option(fc.record({ GroupId: anyId }), { nil: undefined }),
    AwsIamRole: fc.option(fc.record({ RoleName: fc.constantFrom('web', 'payments', 'null') }), { nil: undefined }),
  }),
});

/** The instance or group id an Id names (bare or by ARN), if any. */
const named = (id: string | undefined, kind: 'instance' | 'security-group', bare: RegExp): string | undefined =>
  id === undefined ? undefined : bare.test(id) ? id : new RegExp(`^arn:aws:ec2:[^:]+:\\d{12}:${kind}/(${bare.source.slice(1, -1)})$`).exec(id)?.[1];
const INSTANCE = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const GROUP = /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

function assertOneResource(resource: Resource, key: string | undefined, type: string): void {
  if (resource.disputed !== undefined) return;
  const keyInstance = named(key, 'instance', INSTANCE);
  const keyGroup = named(key, 'security-group', GROUP);
  if (resource.instanceId !== undefined) {
    expect(type === 'AwsEc2Instance' || (type === 'Other' && key?.startsWith('arn:') === true) || type === 'AwsEc2NetworkInterface').toBe(true);
    if (keyInstance !== undefined) expect(resource.instanceId).toBe(keyInstance);
  }
  if (keyGroup !== undefined && type === 'AwsEc2SecurityGroup') expect(resource.securityGroupIds).toEqual([keyGroup]);
  if (type === 'AwsIamRole' || type === 'AwsS3Bucket' || type === 'AwsIamAccessKey') expect(resource.instanceId).toBeUndefined();
}

describe('resource fields that disagree (property, issue 11)', () => {
  it(
    'ASFF: an undisputed resource’s instance and group ids agree with its Id, and only instances get an instance id',
    () => {
      fc.assert(
        fc.property(asffResource, ({ Type, Id, details }) => {
          const { event, record } = asffFixture('securityhub-imported-open-ssh.json');
          const Details = Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
          record.Resources = [{ Type, Id, Partition: 'aws', Region: 'us-east-1', Details }];

          const [finding] = readEvent(event).findings;
          const resource = finding?.resources[0] as Resource;

          assertOneResource(resource, Id, Type);
          if (resource.disputed !== undefined) for (const reason of resource.disputed) expect(reason).toMatch(/^detail\.findings\[0\]\.Resources\[0\]\./);
        }),
        { numRuns: runs(300) },
      );
    },
    propertyTimeout(20_000),
  );

  it(
    'OCSF: an undisputed resource’s instance and group ids agree with its ARN',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom('AWS::EC2::Instance', 'AwsEc2Instance', 'AWS::EC2::SecurityGroup', 'AWS::IAM::Role', 'AWS::S3::Bucket'),
          anyId.filter((id) => id !== ''),
          anyId,
          (type, uid, uidAlt) => {
            const { event, record } = ocsfFixture('securityhub-v2-ocsf-detection.json');
            record.resources = [{ type, uid, ...(uidAlt === '' ? {} : { uid_alt: uidAlt }), region: 'us-east-1', cloud_partition: 'aws' }];

            const [finding] = readEvent(event).findings;
            const resource = finding?.resources[0] as Resource;

            assertOneResource(resource, resource.arn ?? uid, resource.type === 'AwsEc2Instance' ? 'AwsEc2Instance' : resource.type);
            if (resource.disputed === undefined && resource.instanceId !== undefined) {
              expect([named(uid, 'instance', INSTANCE), named(uidAlt, 'instance', INSTANCE)].filter((id) => id !== undefined && id !== resource.instanceId)).toEqual([]);
            }
            if (resource.disputed === undefined && resource.securityGroupIds.length > 0) {
              expect([named(uid, 'security-group', GROUP), named(uidAlt, 'security-group', GROUP)].filter((id) => id !== undefined && id !== resource.securityGroupIds[0])).toEqual([]);
            }
          },
        ),
        { numRuns: runs(300) },
      );
    },
    propertyTimeout(20_000),
  );
});
