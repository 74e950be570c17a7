import {
  AttachVolumeCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, STSClient, STSServiceException, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { captureMetadata } from '../../src/actions/ec2-capture-metadata.js';
import { restrictDefaultSecurityGroup, type RestrictDefaultSecurityGroupUndo } from '../../src/actions/ec2-restrict-default-security-group.js';
import { revokeUnrestrictedIngress, type RevokeIngressUndo } from '../../src/actions/ec2-revoke-unrestricted-ingress.js';
import { snapshotVolumes } from '../../src/actions/ec2-snapshot-volumes.js';
import { notify } from '../../src/actions/notify.js';
import type { ActionBehaviour, ActionContext } from '../../src/actions/runtime.js';
import { AssumeRoleDeniedError, AwsClientFactory, MemberCredentials } from '../../src/aws/index.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { actionContext } from '../support/action-context.js';
import { emulatorData, resetEmulator } from '../support/emulator.js';
import { hostingFactoryWith, memberRoleWith, riposteWith, setIamEnforcement, setMemberRolePermissions } from '../support/least-privilege.js';

const MEMBER = '222222222222';
const FORENSICS = '444455556666';
const BUCKET = 'riposte-evidence-test';
/** One of the AMIs moto ships in every region. */
const AMI = 'ami-12c6146b';

type NoParams = Record<string, never>;
const revoke = revokeUnrestrictedIngress.behaviour;
const restrict = restrictDefaultSecurityGroup.behaviour as ActionBehaviour<NoParams, RestrictDefaultSecurityGroupUndo>;
const snapshots = snapshotVolumes.behaviour;
const capture = captureMetadata.behaviour;
const publish = notify.behaviour as ActionBehaviour<{ topicArn?: string; subject?: string }, never>;

/** The declared list without `permission` (which must be in it, or the test would prove nothing). */
function without(declared: readonly string[], permission: string): string[] {
  expect(declared).toContain(permission);
  return declared.filter((candidate) => candidate !== permission);
}

// ---- state, set up with enforcement off, through the emulator's unrestricted clients -------------

const setupContext = (fixture: string): ActionContext => actionContext(fixture, MEMBER);
const ec2 = (ctx: ActionContext): EC2Client => ctx.clients.create(EC2Client, ctx.target);
const onGroup = (ctx: ActionContext, groupId: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, securityGroupIds: [groupId] } });
const onInstance = (ctx: ActionContext, instanceId: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, instanceId } });

/** A group in a new VPC with SSH and RDP open to the world, and HTTPS (not offending). */
async function openGroup(): Promise<string> {
  const setup = setupContext('securityhub-imported-open-ssh.json');
  const { Vpc } = await ec2(setup).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const { GroupId } = await ec2(setup).send(new CreateSecurityGroupCommand({ GroupName: 'bastion-legacy-sg', Description: 'legacy bastion', VpcId: Vpc?.VpcId }));
  await ec2(setup).send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 3389, ToPort: 3389, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  return GroupId as string;
}

/**
 * The default group of a new dual-stack VPC (dual-stack: moto drops ::/0 from
 * RevokeSecurityGroupEgress in an IPv4-only VPC), with the self-referencing
 * rule moto leaves out and SSH open to the world.
 */
async function defaultGroup(): Promise<string> {
  const setup = setupContext('securityhub-imported-open-ssh.json');
  const { Vpc } = await ec2(setup).send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
  const { SecurityGroups } = await ec2(setup).send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [Vpc?.VpcId as string] },
        { Name: 'group-name', Values: ['default'] },
      ],
    }),
  );
  const groupId = SecurityGroups?.[0]?.GroupId as string;
  await ec2(setup).send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [
        { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId }] },
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    }),
  );
  return groupId;
}

/** An instance with its root volume and a tagged data volume at /dev/sdf. */
async function instanceWithTwoVolumes(): Promise<string> {
  const setup = setupContext('guardduty-ec2-backdoor.json');
  const { Instances } = await ec2(setup).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  const instance = Instances?.[0];
  const { VolumeId } = await ec2(setup).send(
    new CreateVolumeCommand({
      AvailabilityZone: instance?.Placement?.AvailabilityZone,
      Size: 10,
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Team', Value: 'payments' }] }],
    }),
  );
  await ec2(setup).send(new AttachVolumeCommand({ VolumeId, InstanceId: instance?.InstanceId, Device: '/dev/sdf' }));
  return instance?.InstanceId as string;
}

/** Riposte's evidence snapshots (moto also lists its AMIs' snapshots). */
async function evidenceSnapshots() {
  const { Snapshots } = await ec2(setupContext('guardduty-ec2-backdoor.json')).send(
    new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:riposte:evidence', Values: ['true'] }] }),
  );
  return Snapshots ?? [];
}

const ipRulesOf = async (groupId: string) => {
  const { SecurityGroups } = await ec2(setupContext('securityhub-imported-open-ssh.json')).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return { ingress: SecurityGroups?.[0]?.IpPermissions ?? [], egress: SecurityGroups?.[0]?.IpPermissionsEgress ?? [] };
};

// ---- tests ---------------------------------------------------------------------------------

/**
 * With moto's IAM enforcement on, each action runs as Riposte would: through
 * the member role allowed exactly `permissions.member` and, where the action
 * writes in the hosting account, as a hosting-account user allowed exactly
 * `permissions.hosting`. Removing one permission the run needs is refused.
 */
describe('least privilege of each action, with IAM enforcement on', () => {
  afterEach(async () => {
    await setIamEnforcement(false);
    await resetEmulator();
  });

  describe('ec2.revoke-unrestricted-ingress', () => {
    const defaults = revokeUnrestrictedIngress.params.parse({});

    it('plans, runs, verifies and rolls back with exactly its declared member permissions', async () => {
      const groupId = await openGroup();
      const clients = await memberRoleWith(MEMBER, revokeUnrestrictedIngress.permissions.member);
      await setIamEnforcement(true);
      const ctx = onGroup(actionContext('securityhub-imported-open-ssh.json', MEMBER, clients), groupId);

      expect((await revoke.plan(ctx, defaults)).compliant).toBe(false);
      const outcome = await revoke.run(ctx, defaults);
      expect(outcome).toMatchObject({ changed: true, undo: { groupId } });
      expect(outcome.changes).toHaveLength(2);
      expect((await revoke.verify(ctx, defaults)).compliant).toBe(true);
      expect(await revoke.rollback?.(ctx, outcome.undo as RevokeIngressUndo)).toMatchObject({ changed: true });
      expect((await revoke.verify(ctx, defaults)).compliant).toBe(false);
    });

    it('is denied without ec2:RevokeSecurityGroupIngress (run), and without ec2:AuthorizeSecurityGroupIngress (rollback)', async () => {
      const groupId = await openGroup();
      const clients = await memberRoleWith(MEMBER, without(revokeUnrestrictedIngress.permissions.member, 'ec2:RevokeSecurityGroupIngress'));
      await setIamEnforcement(true);
      const ctx = onGroup(actionContext('securityhub-imported-open-ssh.json', MEMBER, clients), groupId);

      expect((await revoke.plan(ctx, defaults)).compliant).toBe(false); // reads are still allowed
      await expect(revoke.run(ctx, defaults)).rejects.toMatchObject({ name: 'AccessDenied' });

      await setIamEnforcement(false);
      expect((await ipRulesOf(groupId)).ingress).toHaveLength(3); // nothing was revoked
      await setMemberRolePermissions(MEMBER, without(revokeUnrestrictedIngress.permissions.member, 'ec2:AuthorizeSecurityGroupIngress'));
      await setIamEnforcement(true);
      const outcome = await revoke.run(ctx, defaults);
      expect(outcome.changed).toBe(true);
      await expect(revoke.rollback?.(ctx, outcome.undo as RevokeIngressUndo)).rejects.toMatchObject({ name: 'AccessDenied' });
    });
  });

  describe('ec2.restrict-default-security-group', () => {
    it('plans, runs, verifies and rolls back with exactly its declared member permissions', async () => {
      const groupId = await defaultGroup();
      const clients = await memberRoleWith(MEMBER, restrictDefaultSecurityGroup.permissions.member);
      await setIamEnforcement(true);
      const ctx = onGroup(actionContext('securityhub-imported-open-ssh.json', MEMBER, clients), groupId);

      expect((await restrict.plan(ctx, {})).compliant).toBe(false);
      const outcome = await restrict.run(ctx, {});
      expect(outcome.changed).toBe(true);
      expect(outcome.changes).toHaveLength(4); // self-referencing and SSH ingress, egress to 0.0.0.0/0 and ::/0
      expect((await restrict.verify(ctx, {})).compliant).toBe(true);
      expect(await restrict.rollback?.(ctx, outcome.undo as RestrictDefaultSecurityGroupUndo)).toMatchObject({ changed: true });
      expect((await restrict.verify(ctx, {})).compliant).toBe(false);

      await setIamEnforcement(false);
      const after = await ipRulesOf(groupId);
      expect(after.ingress.length + after.egress.length).toBeGreaterThan(0);
    });

    it('is denied without ec2:RevokeSecurityGroupEgress (run), and without ec2:AuthorizeSecurityGroupEgress (rollback)', async () => {
      const groupId = await defaultGroup();
      const clients = await memberRoleWith(MEMBER, without(restrictDefaultSecurityGroup.permissions.member, 'ec2:RevokeSecurityGroupEgress'));
      await setIamEnforcement(true);
      const ctx = onGroup(actionContext('securityhub-imported-open-ssh.json', MEMBER, clients), groupId);

      await expect(restrict.run(ctx, {})).rejects.toMatchObject({ name: 'AccessDenied' });

      await setIamEnforcement(false);
      await setMemberRolePermissions(MEMBER, without(restrictDefaultSecurityGroup.permissions.member, 'ec2:AuthorizeSecurityGroupEgress'));
      await setIamEnforcement(true);
      const outcome = await restrict.run(ctx, {}).catch((error: unknown) => error);
      // The failed run above may already have revoked the ingress rules (they go first); what it recorded is all that matters here.
      expect(outcome).toMatchObject({ changed: true });
      const { egress } = (outcome as { undo: RestrictDefaultSecurityGroupUndo }).undo;
      expect(egress.flatMap((rule) => [...(rule.IpRanges ?? []).map((range) => range.CidrIp), ...(rule.Ipv6Ranges ?? []).map((range) => range.CidrIpv6)]).sort()).toEqual(['0.0.0.0/0', '::/0']);
      await expect(restrict.rollback?.(ctx, (outcome as { undo: RestrictDefaultSecurityGroupUndo }).undo)).rejects.toMatchObject({ name: 'AccessDenied' });
    });
  });

  describe('ec2.snapshot-volumes', () => {
    const wanted = snapshotVolumes.params.parse({ shareWithAccount: FORENSICS });

    it('plans, snapshots, shares and verifies with exactly its declared member permissions', async () => {
      const instanceId = await instanceWithTwoVolumes();
      const clients = await memberRoleWith(MEMBER, snapshotVolumes.permissions.member);
      await setIamEnforcement(true);
      const ctx = onInstance(actionContext('guardduty-ec2-backdoor.json', MEMBER, clients), instanceId);

      expect((await snapshots.plan(ctx, wanted)).compliant).toBe(false);
      const outcome = await snapshots.run(ctx, wanted);
      expect(outcome.changed).toBe(true);
      expect(outcome.summary).toContain(`shared with ${FORENSICS}`);
      expect(outcome.summary).not.toContain('failed');
      expect(outcome.changes).toHaveLength(4); // two snapshots, two shares
      expect(await snapshots.verify(ctx, wanted)).toMatchObject({ compliant: true });
      expect(await snapshots.run(ctx, wanted)).toMatchObject({ changed: false, changes: [] });
    });

    it('is denied without ec2:CreateSnapshot, and reports (without failing) a share refused without ec2:ModifySnapshotAttribute', async () => {
      const instanceId = await instanceWithTwoVolumes();
      const clients = await memberRoleWith(MEMBER, without(snapshotVolumes.permissions.member, 'ec2:CreateSnapshot'));
      await setIamEnforcement(true);
      const ctx = onInstance(actionContext('guardduty-ec2-backdoor.json', MEMBER, clients), instanceId);

      await expect(snapshots.run(ctx, wanted)).rejects.toMatchObject({ name: 'AccessDenied' });

      await setIamEnforcement(false);
      expect(await evidenceSnapshots()).toEqual([]);
      await setMemberRolePermissions(MEMBER, without(snapshotVolumes.permissions.member, 'ec2:ModifySnapshotAttribute'));
      await setIamEnforcement(true);
      // A refused share does not fail the step (its snapshots exist): the summary names the denial, verify() reports it.
      const outcome = await snapshots.run(ctx, wanted);
      expect(outcome.changed).toBe(true);
      expect(outcome.summary).toMatch(/sharing snap-\w+ with 444455556666 failed: AccessDenied/);
      expect((await snapshots.verify(ctx, wanted)).compliant).toBe(false);

      await setIamEnforcement(false);
      const made = await evidenceSnapshots();
      expect(made).toHaveLength(2);
      for (const snapshot of made) {
        const { CreateVolumePermissions } = await ec2(setupContext('guardduty-ec2-backdoor.json')).send(
          new DescribeSnapshotAttributeCommand({ SnapshotId: snapshot.SnapshotId, Attribute: 'createVolumePermission' }),
        );
        expect(CreateVolumePermissions ?? []).toEqual([]);
      }
    });
  });

  describe('ec2.capture-metadata (EC2 in the member account, S3 in the hosting account)', () => {
    const wanted = captureMetadata.params.parse({});

    async function prepare(): Promise<string> {
      await new AwsClientFactory(setupContext('guardduty-ec2-backdoor.json').hosting.factory.settings, emulatorClientOptions())
        .create(S3Client, {}, { forcePathStyle: true })
        .send(new CreateBucketCommand({ Bucket: BUCKET }));
      return instanceWithTwoVolumes();
    }

    function contextAs(clients: ActionContext['clients'], hosting: AwsClientFactory, instanceId: string): ActionContext {
      const base = actionContext('guardduty-ec2-backdoor.json', MEMBER, clients);
      return onInstance({ ...base, hosting: { ...base.hosting, factory: hosting } }, instanceId);
    }

    it('plans, captures, verifies and changes nothing the second time with exactly its declared member and hosting permissions', async () => {
      const instanceId = await prepare();
      const { clients, hosting } = await riposteWith(MEMBER, captureMetadata.permissions);
      await setIamEnforcement(true);
      const ctx = contextAs(clients, hosting, instanceId);

      expect((await capture.plan(ctx, wanted)).compliant).toBe(false);
      const outcome = await capture.run(ctx, wanted);
      expect(outcome.changed).toBe(true);
      expect(outcome.changes).toHaveLength(9); // 8 evidence objects and the manifest
      expect(await capture.verify(ctx, wanted)).toMatchObject({ compliant: true });
      expect((await capture.plan(ctx, wanted)).compliant).toBe(true);
      expect(await capture.run(ctx, wanted)).toMatchObject({ changed: false, changes: [] });
    });

    it('is denied without s3:PutObject in the hosting account, writing nothing', async () => {
      const instanceId = await prepare();
      const { clients, hosting } = await riposteWith(MEMBER, { member: captureMetadata.permissions.member, hosting: without(captureMetadata.permissions.hosting, 's3:PutObject') });
      await setIamEnforcement(true);

      await expect(capture.run(contextAs(clients, hosting, instanceId), wanted)).rejects.toMatchObject({ name: 'AccessDenied' });

      await setIamEnforcement(false);
      const { Contents } = await new AwsClientFactory(hosting.settings, emulatorClientOptions()).create(S3Client, {}, { forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect(Contents ?? []).toEqual([]);
    });

    it('is denied without s3:ListBucket in the hosting account (the run first looks for its manifest)', async () => {
      const instanceId = await prepare();
      const { clients, hosting } = await riposteWith(MEMBER, { member: captureMetadata.permissions.member, hosting: without(captureMetadata.permissions.hosting, 's3:ListBucket') });
      await setIamEnforcement(true);

      await expect(capture.run(contextAs(clients, hosting, instanceId), wanted)).rejects.toMatchObject({ name: 'AccessDenied' });
    });

    it('is denied without ec2:GetConsoleOutput in the member account', async () => {
      const instanceId = await prepare();
      const { clients, hosting } = await riposteWith(MEMBER, { member: without(captureMetadata.permissions.member, 'ec2:GetConsoleOutput'), hosting: captureMetadata.permissions.hosting });
      await setIamEnforcement(true);

      await expect(capture.run(contextAs(clients, hosting, instanceId), wanted)).rejects.toMatchObject({ name: 'AccessDenied' });
    });
  });

  describe('notify (SNS in the hosting account)', () => {
    async function topic(): Promise<string> {
      const { TopicArn } = await setupContext('guardduty-ec2-backdoor.json')
        .hosting.factory.create(SNSClient)
        .send(new CreateTopicCommand({ Name: 'riposte-notifications' }));
      return TopicArn as string;
    }

    const contextAs = (hosting: AwsClientFactory, topicArn: string): ActionContext => {
      const base = actionContext('guardduty-ec2-backdoor.json', MEMBER);
      return { ...base, playbookId: 'ec2-compromise-isolate', hosting: { ...base.hosting, factory: hosting, topicArn } };
    };

    it('publishes with exactly its declared hosting permission (sns:Publish) and no member permission', async () => {
      expect(notify.permissions.member).toEqual([]);
      const topicArn = await topic();
      const hosting = await hostingFactoryWith(notify.permissions.hosting);
      await setIamEnforcement(true);

      const outcome = await publish.run(contextAs(hosting, topicArn), { subject: 'EC2 instance isolated' });
      expect(outcome.summary).toMatch(/^published message \S+ to /);

      await setIamEnforcement(false);
      const data = (await emulatorData()) as { sns: { Topic: Array<{ arn: string; sent_notifications: Array<[string, string, string]> }> } };
      expect(data.sns.Topic.find((candidate) => candidate.arn === topicArn)?.sent_notifications.map(([, , subject]) => subject)).toEqual(['EC2 instance isolated']);
    });

    it('is denied without sns:Publish, publishing nothing', async () => {
      const topicArn = await topic();
      const hosting = await hostingFactoryWith(without(notify.permissions.hosting, 'sns:Publish'));
      await setIamEnforcement(true);

      await expect(publish.run(contextAs(hosting, topicArn), {})).rejects.toMatchObject({ name: 'AccessDenied' });

      await setIamEnforcement(false);
      const data = (await emulatorData()) as { sns: { Topic: Array<{ arn: string; sent_notifications: unknown[] }> } };
      expect(data.sns.Topic.find((candidate) => candidate.arn === topicArn)?.sent_notifications).toEqual([]);
    });
  });
});

/**
 * Emulator gap: moto's AssumeRole checks neither the role's trust policy nor
 * sts:ExternalId, even with IAM enforcement on (docs/emulator.md), so a wrong
 * external ID cannot be proven refused against it. STS is mocked here instead:
 * AssumeRole refuses, as real STS does, any ExternalId but the one the trust
 * policy names, and the exact request Riposte sends is asserted.
 */
describe('the member role refuses a wrong external ID (STS mocked: moto ignores ExternalId)', () => {
  const ROLE_ARN = `arn:aws:iam::${MEMBER}:role/RiposteMemberRole`;
  const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'run-7f3a' };
  let sts: AwsClientStub<STSClient>;

  beforeEach(() => {
    sts = mockClient(STSClient);
    sts.on(AssumeRoleCommand).callsFake((input: AssumeRoleCommandInput) => {
      if (input.ExternalId !== 'riposte-test') {
        throw new STSServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          $metadata: { httpStatusCode: 403 },
          message: `User: arn:aws:iam::123456789012:user/riposte is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
        });
      }
      return { Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 900_000) } };
    });
  });
  afterEach(() => sts.restore());

  const credentialsWith = (externalId: string) =>
    new MemberCredentials(new AwsClientFactory({ region: 'us-east-1', maxAttempts: 1 }, { credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' } }), {
      roleName: 'RiposteMemberRole',
      externalId,
      sessionDurationSeconds: 900,
      assumeRoleInHostingAccount: true,
    });

  it('throws AssumeRoleDeniedError naming the role and account, after sending the exact AssumeRole request', async () => {
    const error: unknown = await credentialsWith('not-the-external-id')
      .credentials(target)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AssumeRoleDeniedError);
    expect(error).toMatchObject({ code: 'AWS_ASSUME_ROLE_DENIED', roleArn: ROLE_ARN, retryable: false, context: { account: MEMBER, region: 'us-east-1', resource: ROLE_ARN } });
    expect((error as Error).message).toContain(`cannot assume ${ROLE_ARN} in account ${MEMBER}: access denied`);
    expect((error as Error).cause).toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('is not authorized to perform: sts:AssumeRole on resource:') });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: 'riposte-run-7f3a', ExternalId: 'not-the-external-id', DurationSeconds: 900 },
    ]);
  });

  it('assumes the role with the right external ID (the mock tells them apart)', async () => {
    const credentials = await credentialsWith('riposte-test').credentials(target);

    expect(credentials).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', sessionToken: 'token' });
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: 'riposte-run-7f3a', ExternalId: 'riposte-test', DurationSeconds: 900 },
    ]);
  });
});
