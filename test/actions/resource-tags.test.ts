import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, ListRoleTagsCommand, ListUserTagsCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { builtInActions, memberPermissions, memberRoleTemplate } from '../../src/actions/index.js';
import { AssumeRoleDeniedError, AwsClientFactory, MemberClients, MemberCredentials, type MemberTarget } from '../../src/aws/index.js';
import type { Resource } from '../../src/intake/index.js';
import { ResourceTagsUnreadableError } from '../../src/actions/index.js';
import { TAG_READ_PERMISSIONS, readResourceTags } from '../../src/actions/resource-tags.js';
import { riposte } from '../cli/run-cli.js';

/*
 * The reads' request shapes and error sorting, with the SDK clients mocked.
 * What the emulator answers is in resource-tags.int.test.ts.
 */

const ACCOUNT = '111122223333';
const target: MemberTarget = { account: ACCOUNT, region: 'eu-west-1', partition: 'aws', correlationId: 'c-unit' };

/** Clients acting with Riposte's own credentials in the account (no AssumeRole); every call is answered by a mock. */
function clients(): MemberClients {
  const factory = new AwsClientFactory({ region: 'eu-west-1', maxAttempts: 1 }, {});
  return new MemberClients(factory, new MemberCredentials(factory, { roleName: 'RiposteMemberRole', sessionDurationSeconds: 900, hostingAccount: ACCOUNT, assumeRoleInHostingAccount: false }));
}

const resource = (type: string, fields: Partial<Resource> = {}): Resource => ({
  type,
  id: `${type}-id`,
  account: ACCOUNT,
  region: 'eu-west-1',
  partition: 'aws',
  securityGroupIds: [],
  networkInterfaces: [],
  ...fields,
});

async function failure(promise: Promise<unknown>): Promise<ResourceTagsUnreadableError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ResourceTagsUnreadableError);
  return error as ResourceTagsUnreadableError;
}

const awsError = (name: string, message: string, status: number, extra: object = {}): Error =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client', ...extra });

describe('readResourceTags (AWS mocked)', () => {
  const ec2 = mockClient(EC2Client);
  const iam = mockClient(IAMClient);
  afterEach(() => {
    ec2.reset();
    iam.reset();
  });
  // The unit project shares one module graph across files (isolate: false): the stubs on the clients' send must not outlive this file.
  afterAll(() => {
    ec2.restore();
    iam.restore();
  });

  it('answers an account as untaggable, calling nothing', async () => {
    await expect(readResourceTags(clients(), target, resource('AwsAccount', { id: `AWS::::Account:${ACCOUNT}` }))).resolves.toEqual({
      kind: 'untaggable',
      reason: 'an account has no resource tags: account exemptions apply',
    });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('refuses a type it does not read (a resource whose exemption cannot be checked is not changed)', async () => {
    const error = await failure(readResourceTags(clients(), target, resource('AwsS3Bucket', { id: 'arn:aws:s3:::logs' })));

    expect(error.message).toBe(
      `cannot read tags of AwsS3Bucket arn:aws:s3:::logs in account ${ACCOUNT}, region eu-west-1: Riposte does not read tags of AwsS3Bucket resources (it reads AwsEc2Instance, AwsEc2SecurityGroup, AwsEc2Volume, AwsIamRole, AwsIamUser), so the exemption cannot be checked`,
    );
    expect(error).toMatchObject({
      code: 'GUARD_RESOURCE_TAGS_UNREADABLE',
      retryable: false,
      resourceType: 'AwsS3Bucket',
      context: { account: ACCOUNT, region: 'eu-west-1', resource: 'arn:aws:s3:::logs', resourceType: 'AwsS3Bucket' },
    });
  });

  it('reads an instance by the id the finding carries, or from its ARN', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0123456789abcdef0',
              Tags: [
                { Key: 'riposte:exempt', Value: 'true' },
                { Key: 'Name', Value: 'web' },
              ],
            },
          ],
        },
      ],
    });

    await expect(readResourceTags(clients(), target, resource('AwsEc2Instance', { instanceId: 'i-0123456789abcdef0' }))).resolves.toEqual({
      kind: 'tags',
      tags: { 'riposte:exempt': 'true', Name: 'web' },
    });
    await readResourceTags(clients(), target, resource('AwsEc2Instance', { id: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0` }));
    expect(ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input)).toEqual([{ InstanceIds: ['i-0123456789abcdef0'] }, { InstanceIds: ['i-0123456789abcdef0'] }]);
  });

  it('keeps a tag named __proto__ as a tag', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0123456789abcdef0', Tags: [{ Key: '__proto__', Value: 'x' }] }] }] });

    const read = await readResourceTags(clients(), target, resource('AwsEc2Instance', { instanceId: 'i-0123456789abcdef0' }));

    expect(read.kind === 'tags' && Object.hasOwn(read.tags, '__proto__')).toBe(true);
  });

  it('reads a security group and a volume by the id in their ARN', async () => {
    ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0123456789abcdef0', Tags: [{ Key: 'team', Value: 'net' }] }] });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [{ VolumeId: 'vol-0123456789abcdef0', Tags: [] }] });

    await expect(readResourceTags(clients(), target, resource('AwsEc2SecurityGroup', { id: `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/sg-0123456789abcdef0` }))).resolves.toEqual({
      kind: 'tags',
      tags: { team: 'net' },
    });
    await expect(readResourceTags(clients(), target, resource('AwsEc2Volume', { id: `arn:aws:ec2:eu-west-1:${ACCOUNT}:volume/vol-0123456789abcdef0` }))).resolves.toEqual({ kind: 'tags', tags: {} });
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)[0]?.args[0].input).toEqual({ GroupIds: ['sg-0123456789abcdef0'] });
    expect(ec2.commandCalls(DescribeVolumesCommand)[0]?.args[0].input).toEqual({ VolumeIds: ['vol-0123456789abcdef0'] });
  });

  it('reads a role by the name at the end of its ARN (path and all), following pages', async () => {
    // The SDK's paginator reuses one input object from page to page: each request is copied as it is sent.
    const sent: unknown[] = [];
    const pages = [
      { Tags: [{ Key: 'a', Value: '1' }], IsTruncated: true, Marker: 'm1' },
      { Tags: [{ Key: 'b', Value: '2' }], IsTruncated: false },
    ];
    iam.on(ListRoleTagsCommand, { RoleName: 'web-prod' }).callsFake((input: object) => {
      sent.push({ ...input });
      return pages[sent.length - 1];
    });

    await expect(readResourceTags(clients(), target, resource('AwsIamRole', { id: `arn:aws:iam::${ACCOUNT}:role/service-role/web-prod` }))).resolves.toEqual({
      kind: 'tags',
      tags: { a: '1', b: '2' },
    });
    expect(sent).toEqual([{ RoleName: 'web-prod' }, { RoleName: 'web-prod', Marker: 'm1' }]);
  });

  it('reads a user by the name in its ARN', async () => {
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'riposte:exempt', Value: 'true' }] });

    await readResourceTags(clients(), target, resource('AwsIamUser', { id: `arn:aws:iam::${ACCOUNT}:user/ops/alice` }));

    expect(iam.commandCalls(ListUserTagsCommand)[0]?.args[0].input).toEqual({ UserName: 'alice' });
  });

  it.each([
    ['AwsEc2Instance', 'instance'],
    ['AwsEc2SecurityGroup', 'security group'],
    ['AwsEc2Volume', 'volume'],
    ['AwsIamRole', 'IAM role'],
  ])('refuses a %s the finding does not identify', async (type, what) => {
    const error = await failure(readResourceTags(clients(), target, resource(type, { id: 'arn:aws:s3:::not-it' })));

    expect(error.message).toContain(`the finding does not say which ${what} it is`);
    expect(ec2.calls()).toHaveLength(0);
  });

  it.each([
    ['throttling', awsError('RequestLimitExceeded', 'Request limit exceeded.', 503), true],
    ['a server error', awsError('InternalError', 'An internal error has occurred', 500), true],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), true],
    ['access denied', awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403), false],
    ['an unknown instance', awsError('InvalidInstanceID.NotFound', "The instance ID 'i-0123456789abcdef0' does not exist", 400), false],
    ['a denied AssumeRole', new AssumeRoleDeniedError(`arn:aws:iam::${ACCOUNT}:role/RiposteMemberRole`, ACCOUNT, 'eu-west-1', new Error('denied')), false],
  ] as const)('wraps %s, retryable: %s', async (_, thrown, retryable) => {
    ec2.on(DescribeInstancesCommand).rejects(thrown);

    const error = await failure(
      readResourceTags(clients(), target, resource('AwsEc2Instance', { instanceId: 'i-0123456789abcdef0', arn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0` })),
    );

    expect(error.retryable).toBe(retryable);
    expect(error.cause).toBe(thrown);
    expect(error.context).toMatchObject({ account: ACCOUNT, region: 'eu-west-1', resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0`, resourceType: 'AwsEc2Instance' });
    const name = thrown instanceof AssumeRoleDeniedError ? thrown.code : thrown.name;
    expect(error.awsError).toBe(name);
    expect(error.message).toContain(`${name}: ${thrown.message}`);
  });

  it('treats an empty answer as no such resource', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });

    const error = await failure(readResourceTags(clients(), target, resource('AwsEc2Instance', { instanceId: 'i-0123456789abcdef0' })));

    expect(error).toMatchObject({ awsError: 'InvalidInstanceID.NotFound', retryable: false });
  });
});

describe('TAG_READ_PERMISSIONS in the member role', () => {
  const registry = builtInActions();

  it('are granted by the member role template', () => {
    const template = memberRoleTemplate(registry) as { Resources: { RiposteMemberRole: { Properties: { Policies: Array<{ PolicyDocument: { Statement: Array<{ Action: string[] }> } }> } } } };
    const granted = template.Resources.RiposteMemberRole.Properties.Policies.flatMap((policy) => policy.PolicyDocument.Statement.flatMap((statement) => statement.Action));

    expect(granted).toEqual(expect.arrayContaining([...TAG_READ_PERMISSIONS.member]));
    expect(memberPermissions(registry)).toEqual(expect.arrayContaining([...TAG_READ_PERMISSIONS.member]));
    for (const permission of TAG_READ_PERMISSIONS.member) expect(permission).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
  });

  it('appear in the output of `riposte roles`', async () => {
    const result = await riposte(['roles']);

    expect(result.status).toBe(0);
    const template = JSON.parse(result.stdout) as { Resources: { RiposteMemberRole: { Properties: { Policies: Array<{ PolicyDocument: { Statement: Array<{ Action: string[] }> } }> } } } };
    const granted = template.Resources.RiposteMemberRole.Properties.Policies.flatMap((policy) => policy.PolicyDocument.Statement.flatMap((statement) => statement.Action));
    expect(granted).toEqual(expect.arrayContaining([...TAG_READ_PERMISSIONS.member]));
  });
});
