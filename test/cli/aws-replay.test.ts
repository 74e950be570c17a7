import { EC2Client, DescribeSecurityGroupsCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { GetAccountPasswordPolicyCommand, IAMClient, NoSuchEntityException, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';

import { AwsClientFactory } from '../../src/aws/index.js';
import type { AwsSettings } from '../../src/config.js';
import { AwsReplay, includes, recordedParam, REPLAY_HOSTING_CREDENTIALS, ReplayMissingAnswerError, type ReplayWorld } from '../../src/cli/aws-replay.js';

/*
 * The replayed accounts `riposte test` runs a case against: real SDK
 * clients, every request answered by the plugin before it reaches the
 * network (none of these tests has an endpoint to reach).
 */

const SETTINGS: AwsSettings = { region: 'us-east-1', maxAttempts: 1 };

function replayed(world: ReplayWorld): { replay: AwsReplay; factory: AwsClientFactory } {
  const replay = new AwsReplay(world);
  return { replay, factory: new AwsClientFactory(SETTINGS, { credentials: REPLAY_HOSTING_CREDENTIALS, plugins: [replay.plugin] }) };
}

const policy = (length: number) => ({
  PasswordPolicy: { MinimumPasswordLength: length, RequireSymbols: false, RequireNumbers: false, RequireUppercaseCharacters: false, RequireLowercaseCharacters: false },
});

describe('AwsReplay: answers as the account would give them over time', () => {
  it('[Get: 8, Update, Get: 14]: reads before the change see 8, the change is recorded with its parameters, reads after it see 14', async () => {
    const { replay, factory } = replayed({
      answers: [
        { call: 'iam:GetAccountPasswordPolicy', output: policy(8) },
        { call: 'iam:UpdateAccountPasswordPolicy', output: {} },
        { call: 'iam:GetAccountPasswordPolicy', output: policy(14) },
      ],
    });
    const iam = factory.create(IAMClient);

    const first = await iam.send(new GetAccountPasswordPolicyCommand({}));
    const second = await iam.send(new GetAccountPasswordPolicyCommand({}));
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14 }));
    const after = await iam.send(new GetAccountPasswordPolicyCommand({}));

    expect([first, second, after].map((answer) => answer.PasswordPolicy?.MinimumPasswordLength)).toEqual([8, 8, 14]);
    expect(replay.calls).toEqual([
      { call: 'iam:GetAccountPasswordPolicy', account: 'riposte', region: 'us-east-1', params: {} },
      { call: 'iam:GetAccountPasswordPolicy', account: 'riposte', region: 'us-east-1', params: {} },
      { call: 'iam:UpdateAccountPasswordPolicy', account: 'riposte', region: 'us-east-1', params: { MinimumPasswordLength: 14 } },
      { call: 'iam:GetAccountPasswordPolicy', account: 'riposte', region: 'us-east-1', params: {} },
    ]);
  });

  it('an answer naming its input answers only calls whose parameters include it (DescribeSecurityGroups by id, not by name)', async () => {
    const { factory } = replayed({
      answers: [
        { call: 'ec2:DescribeSecurityGroups', input: { GroupIds: ['sg-1'] }, output: { SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'web' }] } },
        { call: 'ec2:DescribeSecurityGroups', input: { Filters: [{ Name: 'group-name', Values: ['riposte-quarantine'] }] }, output: { SecurityGroups: [] } },
      ],
    });
    const ec2 = factory.create(EC2Client);

    const byId = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }));
    const byName = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['riposte-quarantine'] }] }));

    expect(byId.SecurityGroups?.map((group) => group.GroupName)).toEqual(['web']);
    expect(byName.SecurityGroups).toEqual([]);
  });

  it('an error answer is thrown as the SDK would throw it: NoSuchEntityException is the IAM class; a name the service does not model keeps its name', async () => {
    const { factory } = replayed({
      answers: [
        { call: 'iam:GetAccountPasswordPolicy', error: { name: 'NoSuchEntityException', message: 'The Password Policy with domain name 111122223333 cannot be found.' } },
        { call: 'ec2:DescribeSecurityGroups', error: { name: 'InvalidGroup.NotFound', message: "The security group 'sg-1' does not exist" } },
      ],
    });

    const iamError = await factory
      .create(IAMClient)
      .send(new GetAccountPasswordPolicyCommand({}))
      .catch((error: unknown) => error);
    const ec2Error = await factory
      .create(EC2Client)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }))
      .catch((error: unknown) => error);

    expect(iamError).toBeInstanceOf(NoSuchEntityException);
    expect((iamError as Error).message).toBe('The Password Policy with domain name 111122223333 cannot be found.');
    expect(ec2Error).toMatchObject({ name: 'InvalidGroup.NotFound', $fault: 'client' });
  });

  it('sts:AssumeRole is answered with credentials for the role’s account: the calls made with them are recorded against that account', async () => {
    const { replay, factory } = replayed({ answers: [{ call: 'ec2:RevokeSecurityGroupIngress', output: { Return: true } }] });

    const { Credentials } = await factory.create(STSClient).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111122223333:role/RiposteMemberRole', RoleSessionName: 'riposte-replay' }));
    const member = factory.create(EC2Client, {
      region: 'eu-west-1',
      credentials: { accessKeyId: Credentials?.AccessKeyId ?? '', secretAccessKey: Credentials?.SecretAccessKey ?? '', sessionToken: Credentials?.SessionToken ?? '' },
    });
    await member.send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));

    expect(Credentials?.Expiration).toBeInstanceOf(Date);
    expect(replay.calls.map(({ call, account, region }) => ({ call, account, region }))).toEqual([
      { call: 'sts:AssumeRole', account: 'riposte', region: 'us-east-1' },
      { call: 'ec2:RevokeSecurityGroupIngress', account: '111122223333', region: 'eu-west-1' },
    ]);
  });

  it('a call with no answer fails with ReplayMissingAnswerError naming it and its parameters, and is listed as missing', async () => {
    const { replay, factory } = replayed({ answers: [] });

    const error = await factory
      .create(EC2Client)
      .send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ReplayMissingAnswerError);
    expect((error as Error).message).toBe('no answer for ec2:DescribeSecurityGroups (account riposte) with {"GroupIds":["sg-1"]}');
    expect(replay.missing).toHaveLength(1);
    expect(replay.calls).toEqual([{ call: 'ec2:DescribeSecurityGroups', account: 'riposte', region: 'us-east-1', params: { GroupIds: ['sg-1'] }, error: 'ReplayMissingAnswerError' }]);
  });

  it('Riposte’s evidence bucket starts empty and keeps what is written: write-once puts, listing by prefix, reads back, NoSuchKey for what is not there', async () => {
    const { factory } = replayed({ answers: [] });
    const s3 = factory.create(S3Client);
    const put = () => s3.send(new PutObjectCommand({ Bucket: 'evidence', Key: 'run/a.json', Body: '{"a":1}', IfNoneMatch: '*', Metadata: { sha256: 'x' } }));

    await put();
    const again = await put().catch((error: unknown) => error);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'evidence', Prefix: 'run/' }));
    const read = await s3.send(new GetObjectCommand({ Bucket: 'evidence', Key: 'run/a.json' }));
    const missing = await s3.send(new GetObjectCommand({ Bucket: 'evidence', Key: 'run/b.json' })).catch((error: unknown) => error);

    expect(again).toMatchObject({ name: 'PreconditionFailed' });
    expect(listed.Contents?.map((object) => object.Key)).toEqual(['run/a.json']);
    expect(await read.Body?.transformToString()).toBe('{"a":1}');
    expect(read.Metadata).toEqual({ sha256: 'x' });
    expect(missing).toBeInstanceOf(NoSuchKey);
  });

  it('{ "$time": … } in an answer is a Date, as the SDK gives timestamps', async () => {
    const { factory } = replayed({ answers: [{ call: 'ec2:DescribeSecurityGroups', output: { SecurityGroups: [], When: { $time: '2026-12-04T12:00:00.000Z' } } }] });

    const answer = (await factory.create(EC2Client).send(new DescribeSecurityGroupsCommand({}))) as unknown as { When: Date };

    expect(answer.When).toEqual(new Date('2026-12-04T12:00:00.000Z'));
  });
});

/** The ingress rules of the one group a DescribeSecurityGroups answered. */
const ingressOf = (answer: { SecurityGroups?: Array<{ IpPermissions?: unknown[] }> }): number | undefined => answer.SecurityGroups?.[0]?.IpPermissions?.length;
const OPEN_SSH = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };

/** Two changes of different operations, each listed with the read it affects right after it. */
const TWO_CHANGES: ReplayWorld = {
  answers: [
    { call: 'iam:GetAccountPasswordPolicy', output: policy(8) },
    { call: 'ec2:DescribeSecurityGroups', output: { SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [OPEN_SSH] }] } },
    { call: 'iam:UpdateAccountPasswordPolicy', output: {} },
    { call: 'iam:GetAccountPasswordPolicy', output: policy(14) },
    { call: 'ec2:RevokeSecurityGroupIngress', output: { Return: true } },
    { call: 'ec2:DescribeSecurityGroups', output: { SecurityGroups: [{ GroupId: 'sg-1', IpPermissions: [] }] } },
  ],
};

describe('AwsReplay: changes made in any order (steps side by side)', () => {
  const world = () => {
    const { replay, factory } = replayed(TWO_CHANGES);
    const iam = factory.create(IAMClient);
    const ec2 = factory.create(EC2Client);
    return {
      replay,
      /** The password length and the group's inbound rule count, as the account answers them now. */
      state: async () => [
        (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength,
        ingressOf(await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-1'] }))),
      ],
      update: () => iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14 })),
      revoke: () => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-1', IpPermissions: [OPEN_SSH] })),
    };
  };

  it('changes made in the reverse of the listed order: after only the second-listed change its read moves on while the first’s read keeps the answer from before; after both, each read gets the answer listed after its own change', async () => {
    const { replay, state, update, revoke } = world();

    const before = await state();
    await revoke();
    const afterRevoke = await state();
    await update();
    const afterBoth = await state();

    expect([before, afterRevoke, afterBoth]).toEqual([
      [8, 1],
      [8, 0],
      [14, 0],
    ]);
    expect(replay.calls.map(({ call }) => call).filter((call) => call.includes('Update') || call.includes('Revoke'))).toEqual(['ec2:RevokeSecurityGroupIngress', 'iam:UpdateAccountPasswordPolicy']);
  });

  it('made in the listed order, as one step after another makes them: reads before any change get the initial answers, each change then moves its own read on', async () => {
    const { state, update, revoke } = world();

    const before = await state();
    await update();
    const afterUpdate = await state();
    await revoke();
    const afterBoth = await state();

    expect([before, afterUpdate, afterBoth]).toEqual([
      [8, 1],
      [14, 1],
      [14, 0],
    ]);
  });

  it('a change takes the first answer listed for it that no earlier call took: an attempt answered with an error takes that answer, and the retry takes the next one, after which reads see the change', async () => {
    const { replay, factory } = replayed({
      answers: [
        { call: 'iam:GetAccountPasswordPolicy', output: policy(8) },
        { call: 'iam:UpdateAccountPasswordPolicy', error: { name: 'LimitExceededException', message: 'Rate exceeded' } },
        { call: 'iam:UpdateAccountPasswordPolicy', output: {} },
        { call: 'iam:GetAccountPasswordPolicy', output: policy(14) },
      ],
    });
    const iam = factory.create(IAMClient);
    const length = async () => (await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy?.MinimumPasswordLength;
    const update = () =>
      iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 14 })).then(
        () => 'updated',
        (error: unknown) => (error as Error).name,
      );

    const first = await update();
    const afterFailure = await length();
    const second = await update();
    const afterRetry = await length();

    expect([first, afterFailure, second, afterRetry]).toEqual(['LimitExceededException', 8, 'updated', 14]);
    expect(replay.calls.map(({ call, error }) => (error === undefined ? call : `${call} (${error})`))).toEqual([
      'iam:UpdateAccountPasswordPolicy (LimitExceededException)',
      'iam:GetAccountPasswordPolicy',
      'iam:UpdateAccountPasswordPolicy',
      'iam:GetAccountPasswordPolicy',
    ]);
  });
});

describe('AwsReplay.rounds: the round trips on the critical path', () => {
  it('calls sent together share a round trip, a call sent after an answer takes the next one', async () => {
    const replay = new AwsReplay({ answers: [{ call: 'ec2:DescribeSecurityGroups', output: { SecurityGroups: [] } }] }, { latencyMs: 2 });
    const factory = new AwsClientFactory(SETTINGS, { credentials: REPLAY_HOSTING_CREDENTIALS, plugins: [replay.plugin] });
    const ec2 = factory.create(EC2Client);
    const lookUp = (group: string) => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [group] }));

    await lookUp('sg-1');
    await Promise.all([lookUp('sg-2'), lookUp('sg-3'), lookUp('sg-4')]);
    await lookUp('sg-5');

    expect(replay.rounds.map((sent) => sent.round)).toEqual([1, 2, 2, 2, 3]);
    expect(replay.rounds.every((sent, index) => index === 0 || sent.sentAtMs >= (replay.rounds[index - 1]?.sentAtMs ?? 0))).toBe(true);
  });
});

describe('recordedParam: what a golden file holds of a parameter', () => {
  it('a run id, times and SHA-256 digests become placeholders; a finding id or resource id is kept as it is', () => {
    expect(
      recordedParam({
        Key: 'evidence/111122223333/i-0a1b2c3d4e5f60718/r-20261204T120000Z-0123456789ab/manifest.json',
        Description: 'captured at 2026-12-04T12:00:00.123Z',
        Finding: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
        Metadata: { sha256: 'a'.repeat(64) },
        ChecksumSHA256: 'qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=',
        Since: new Date(0),
      }),
    ).toEqual({
      Key: 'evidence/111122223333/i-0a1b2c3d4e5f60718/<run>/manifest.json',
      Description: 'captured at <time>',
      Finding: 'arn:aws:securityhub:us-east-1:111122223333:subscription/cis/v/1.2.0/1.9/finding/ed11922f-86d5-48bc-b784-4d69fcf13037',
      Metadata: { sha256: '<sha256>' },
      ChecksumSHA256: '<sha256>',
      Since: '<time>',
    });
  });

  it('a body is its JSON when it is JSON, else its size', () => {
    expect(recordedParam({ Body: new TextEncoder().encode('{"name":"tags"}') })).toEqual({ Body: { json: { name: 'tags' } } });
    expect(recordedParam({ Body: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) })).toEqual({ Body: { bytes: 4 } });
  });
});

describe('includes: whether a call’s parameters hold what an answer names', () => {
  it('objects by the keys named, lists item by item and of the same length, values as equal', () => {
    expect(includes({ GroupIds: ['sg-1'], DryRun: false }, { GroupIds: ['sg-1'] })).toBe(true);
    expect(includes({ GroupIds: ['sg-1', 'sg-2'] }, { GroupIds: ['sg-1'] })).toBe(false);
    expect(includes({ Filters: [{ Name: 'vpc-id', Values: ['vpc-1'] }] }, { Filters: [{ Name: 'vpc-id' }] })).toBe(true);
    expect(includes({ Filters: [{ Name: 'vpc-id' }] }, { Filters: [{ Name: 'group-name' }] })).toBe(false);
    expect(includes(undefined, { a: 1 })).toBe(false);
  });
});
