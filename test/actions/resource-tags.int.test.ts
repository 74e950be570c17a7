import { CreateSecurityGroupCommand, CreateVolumeCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { MemberClients, MemberTarget } from '../../src/aws/index.js';
import type { Resource } from '../../src/intake/index.js';
import { ResourceTagsUnreadableError } from '../../src/actions/index.js';
import { TAG_READ_PERMISSIONS, readResourceTags } from '../../src/actions/resource-tags.js';
import { resourceExemption } from '../../src/pipeline/guards/exemption.js';
import { memberClients } from '../support/action-context.js';
import { resetEmulator } from '../support/emulator.js';
import { memberRoleWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '333344445555';
const OTHER = '666677778888';
const REGION = 'us-east-1';
/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';
const target: MemberTarget = { account: MEMBER, region: REGION, partition: 'aws', correlationId: 'guard-test' };

const EXEMPT_TAGS = [
  { Key: 'riposte:exempt', Value: 'true' },
  { Key: 'riposte:exempt-until', Value: '2027-01-31' },
  { Key: 'riposte:exempt-owner', Value: 'team@example.com' },
];
const EXPECTED = { 'riposte:exempt': 'true', 'riposte:exempt-until': '2027-01-31', 'riposte:exempt-owner': 'team@example.com' };

const resource = (type: string, id: string, fields: Partial<Resource> = {}): Resource => ({
  type,
  id,
  account: MEMBER,
  region: REGION,
  partition: 'aws',
  securityGroupIds: [],
  networkInterfaces: [],
  ...fields,
});

type Made = Readonly<Record<'instance' | 'securityGroup' | 'volume' | 'role' | 'user', Resource>>;

/** An instance, a security group, a volume, a role and a user in the member account, each tagged as exempt until 2027-01-31 (plus a Name on some). */
async function makeTaggedResources(setup: MemberClients): Promise<Made> {
  const ec2 = setup.create(EC2Client, target);
  const iam = setup.create(IAMClient, target);
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({ GroupName: 'db', Description: 'db', TagSpecifications: [{ ResourceType: 'security-group', Tags: [...EXEMPT_TAGS, { Key: 'Name', Value: 'db' }] }] }),
  );
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [...EXEMPT_TAGS, { Key: 'Name', Value: 'web' }] }],
    }),
  );
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 8, TagSpecifications: [{ ResourceType: 'volume', Tags: EXEMPT_TAGS }] }));
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: 'web-prod',
      Path: '/service-role/',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      Tags: EXEMPT_TAGS,
    }),
  );
  const { User } = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/ops/', Tags: EXEMPT_TAGS }));
  const instanceId = Instances?.[0]?.InstanceId as string;
  return {
    // As intake writes them: an instance with its id, a group by ARN, the others by ARN.
    instance: resource('AwsEc2Instance', `arn:aws:ec2:${REGION}:${MEMBER}:instance/${instanceId}`, { instanceId }),
    securityGroup: resource('AwsEc2SecurityGroup', `arn:aws:ec2:${REGION}:${MEMBER}:security-group/${GroupId as string}`, { securityGroupIds: [GroupId as string] }),
    volume: resource('AwsEc2Volume', `arn:aws:ec2:${REGION}:${MEMBER}:volume/${VolumeId as string}`),
    role: resource('AwsIamRole', Role?.Arn as string, { arn: Role?.Arn as string }),
    user: resource('AwsIamUser', User?.Arn as string),
  };
}

async function unreadable(promise: Promise<unknown>): Promise<ResourceTagsUnreadableError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ResourceTagsUnreadableError);
  return error as ResourceTagsUnreadableError;
}

describe('readResourceTags against the emulator, in member account 333344445555 through AssumeRole', () => {
  // This emulator belongs to this file alone: each test starts from nothing.
  beforeEach(() => resetEmulator());

  it('reads back the tags of an instance, a security group, a volume, a role and a user', async () => {
    const clients = memberClients();
    const made = await makeTaggedResources(clients);

    await expect(readResourceTags(clients, target, made.instance)).resolves.toEqual({ kind: 'tags', tags: { ...EXPECTED, Name: 'web' } });
    await expect(readResourceTags(clients, target, made.securityGroup)).resolves.toEqual({ kind: 'tags', tags: { ...EXPECTED, Name: 'db' } });
    await expect(readResourceTags(clients, target, made.volume)).resolves.toEqual({ kind: 'tags', tags: EXPECTED });
    await expect(readResourceTags(clients, target, made.role)).resolves.toEqual({ kind: 'tags', tags: EXPECTED });
    await expect(readResourceTags(clients, target, made.user)).resolves.toEqual({ kind: 'tags', tags: EXPECTED });
  });

  it('reads an untagged resource as no tags', async () => {
    const clients = memberClients();
    const { GroupId } = await clients.create(EC2Client, target).send(new CreateSecurityGroupCommand({ GroupName: 'plain', Description: 'plain' }));

    await expect(readResourceTags(clients, target, resource('AwsEc2SecurityGroup', GroupId as string))).resolves.toEqual({ kind: 'tags', tags: {} });
  });

  it('feeds the exemption decision: exempt before the until day ends, not after', async () => {
    const clients = memberClients();
    const { instance } = await makeTaggedResources(clients);
    const read = await readResourceTags(clients, target, instance);
    if (read.kind !== 'tags') throw new Error('expected tags');

    expect(resourceExemption({ 'riposte:exempt': 'true' }, read.tags, new Date('2027-01-31T23:00:00Z'))).toMatchObject({ exempt: true, owner: 'team@example.com', until: '2027-01-31' });
    expect(resourceExemption({ 'riposte:exempt': 'true' }, read.tags, new Date('2027-02-01T00:00:00Z'))).toMatchObject({
      exempt: false,
      reason: 'exemption riposte:exempt=true expired on 2027-01-31 (owner team@example.com)',
    });
  });

  it('answers an account as untaggable, without a call', async () => {
    await expect(readResourceTags(memberClients(), target, resource('AwsAccount', `AWS::::Account:${MEMBER}`))).resolves.toEqual({
      kind: 'untaggable',
      reason: 'an account has no resource tags: account exemptions apply',
    });
  });

  it('refuses a missing instance, volume, security group, role and user, not retryable', async () => {
    const clients = memberClients();
    const missing = [
      resource('AwsEc2Instance', `arn:aws:ec2:${REGION}:${MEMBER}:instance/i-0123456789abcdef0`, { instanceId: 'i-0123456789abcdef0' }),
      resource('AwsEc2SecurityGroup', 'sg-0123456789abcdef0'),
      resource('AwsEc2Volume', 'vol-0123456789abcdef0'),
      resource('AwsIamRole', `arn:aws:iam::${MEMBER}:role/gone`),
      resource('AwsIamUser', `arn:aws:iam::${MEMBER}:user/gone`),
    ];
    const errors: Record<string, string | undefined> = {};
    for (const each of missing) {
      const error = await unreadable(readResourceTags(clients, target, each));
      expect(error).toMatchObject({ retryable: false, context: { account: MEMBER, region: REGION, resource: each.id, resourceType: each.type } });
      errors[each.type] = error.awsError;
    }

    expect(errors).toEqual({
      AwsEc2Instance: 'InvalidInstanceID.NotFound',
      AwsEc2SecurityGroup: 'InvalidGroup.NotFound',
      AwsEc2Volume: 'InvalidVolume.NotFound',
      AwsIamRole: 'NoSuchEntityException',
      AwsIamUser: 'NoSuchEntityException',
    });
  });

  it('reads in the target account only: the same instance named in another account does not exist there', async () => {
    const clients = memberClients();
    const { instance } = await makeTaggedResources(clients);

    const error = await unreadable(readResourceTags(clients, { ...target, account: OTHER }, instance));

    expect(error).toMatchObject({ awsError: 'InvalidInstanceID.NotFound', context: { account: OTHER } });
  });

  describe('with the member role allowed exactly TAG_READ_PERMISSIONS (IAM enforcement on)', () => {
    afterEach(() => setIamEnforcement(false));

    it('reads every type, and each read fails with AccessDenied once its own permission is taken away', async () => {
      const made = await makeTaggedResources(memberClients());
      const clients = await memberRoleWith(MEMBER, TAG_READ_PERMISSIONS.member);
      await setIamEnforcement(true);

      for (const each of Object.values(made)) await expect(readResourceTags(clients, target, each), each.type).resolves.toMatchObject({ kind: 'tags', tags: expect.objectContaining(EXPECTED) });

      const needs: ReadonlyArray<readonly [string, Resource]> = [
        ['ec2:DescribeInstances', made.instance],
        ['ec2:DescribeSecurityGroups', made.securityGroup],
        ['ec2:DescribeVolumes', made.volume],
        ['iam:ListRoleTags', made.role],
        ['iam:ListUserTags', made.user],
      ];
      expect(needs.map(([permission]) => permission).sort()).toEqual([...TAG_READ_PERMISSIONS.member].sort());
      for (const [permission, each] of needs) {
        await setIamEnforcement(false);
        await setMemberRolePermissions(
          MEMBER,
          TAG_READ_PERMISSIONS.member.filter((granted) => granted !== permission),
        );
        await setIamEnforcement(true);

        const error = await unreadable(readResourceTags(clients, target, each));

        expect(error.awsError, permission).toBe('AccessDenied');
        expect(error.message, permission).toContain('AccessDenied');
        expect(error.retryable, permission).toBe(false);
      }
    });

    it('cannot read instance tags with ec2:DescribeTags alone (DescribeTags cannot tell a missing instance from an untagged one, so the guard does not use it)', async () => {
      const { instance } = await makeTaggedResources(memberClients());
      const clients = await memberRoleWith(MEMBER, ['ec2:DescribeTags']);
      await setIamEnforcement(true);

      const error = await unreadable(readResourceTags(clients, target, instance));

      expect(error.awsError).toBe('AccessDenied');
    });
  });
});
