import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';

import { CollectionToolMissingError, InstanceNotManagedError, InstanceProfileInUseError, SsmCommandFailedError } from '../../src/actions/index.js';
import { stepOrderOf, type ActionContext } from '../../src/actions/runtime.js';
import { collectEvidence, collectEvidenceBehaviour, collectionKeysOf, outputKeysOf, type CollectEvidenceParams, type CollectionRecord } from '../../src/actions/ssm-collect-evidence.js';
import { actionContext } from '../support/action-context.js';
import { emulatorData, resetEmulator } from '../support/emulator.js';
import { ec2InstanceProfile } from '../support/instance-profiles.js';

/*
 * Against the emulator: moto's EC2, IAM, S3 and SSM, with the launcher's Run Command additions
 * (src/emulator/moto_riposte.py, test/emulator/ssm-run-command.int.test.ts): instances tagged
 * `riposte-emulator:ssm-ping-status` are managed nodes, SendCommand writes the S3 output where
 * the agent would (with the instance profile associated at the time), and
 * `#riposte-emulator: stdout|stderr|exit` lines in the script stand for what the instance would answer.
 */

const MEMBER = '222222222222';
const BUCKET = 'riposte-evidence-test';
const AMI = 'ami-12c6146b';
const PING_TAG = 'riposte-emulator:ssm-ping-status';
const FORENSIC = `arn:aws:iam::${MEMBER}:instance-profile/RiposteForensicCollection`;

const behaviour = collectEvidenceBehaviour({ pollIntervalMs: 10 });
const wantedOf = (input: Record<string, unknown>): CollectEvidenceParams => collectEvidence.params.parse(input);
const base = (): ActionContext => actionContext('guardduty-ec2-backdoor.json', MEMBER);
const on = (ctx: ActionContext, instanceId: string): ActionContext => ({ ...ctx, resource: { ...ctx.resource, instanceId } });
const ec2 = (ctx: ActionContext) => ctx.clients.create(EC2Client, ctx.target);
const iam = (ctx: ActionContext) => ctx.clients.create(IAMClient, ctx.target);
const hostingS3 = (ctx: ActionContext): S3Client => ctx.hosting.factory.create(S3Client, {}, { forcePathStyle: true });

const profileNamed = (ctx: ActionContext, name: string): Promise<string> => ec2InstanceProfile(iam(ctx), name);

/** An instance, managed by Systems Manager with `pingStatus` unless null. */
async function launch(ctx: ActionContext, pingStatus: string | null = 'Online'): Promise<string> {
  const { Instances } = await ec2(ctx).send(new RunInstancesCommand({ ImageId: AMI, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
  const instanceId = Instances?.[0]?.InstanceId as string;
  if (pingStatus !== null) await ec2(ctx).send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: PING_TAG, Value: pingStatus }] }));
  return instanceId;
}

async function associations(ctx: ActionContext, instanceId: string): Promise<(string | undefined)[]> {
  const { IamInstanceProfileAssociations = [] } = await ec2(ctx).send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
  return IamInstanceProfileAssociations.map((association) => association.IamInstanceProfile?.Arn);
}

interface SentCommand {
  command_id: string;
  output_s3_bucket_name: string;
  output_s3_key_prefix: string;
  parameters: { commands: string[] };
  riposte_instance_profiles: Record<string, string | null>;
}
/** The commands moto holds, read from its internal state: what was sent, and which profile each instance had then. */
async function sentCommands(): Promise<SentCommand[]> {
  const data = (await emulatorData()) as { ssm?: { Command?: SentCommand[] } };
  return data.ssm?.Command ?? [];
}

async function keysUnder(ctx: ActionContext, prefix: string): Promise<string[]> {
  const { Contents = [] } = await hostingS3(ctx).send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return Contents.map((object) => object.Key as string).sort();
}
async function text(ctx: ActionContext, key: string): Promise<string> {
  const { Body } = await hostingS3(ctx).send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return (await Body?.transformToString('utf8')) ?? '';
}

describe('ssm.collect-evidence against the emulator, member account 222222222222', () => {
  beforeEach(async () => {
    await resetEmulator();
    const ctx = base();
    await hostingS3(ctx).send(new CreateBucketCommand({ Bucket: BUCKET }));
    expect(await profileNamed(ctx, 'RiposteForensicCollection')).toBe(FORENSIC);
  });

  it('attaches the forensic profile for the command, sends it with S3 output under the run prefix, removes the profile, verifies, and sends nothing again', async () => {
    const ctx = on(base(), await launch(base()));
    const instanceId = ctx.resource.instanceId as string;
    const wanted = wantedOf({ commands: ['#riposte-emulator: stdout Linux ip-10-0-0-1 6.1.0', 'uname -a'] });
    const keys = collectionKeysOf(ctx, instanceId, wanted);
    expect(keys.outputPrefix).toMatch(new RegExp(`^evidence/${MEMBER}/${instanceId}/r-test/ssm-[0-9a-f]{16}$`));

    const plan = await behaviour.plan(ctx, wanted);
    expect(plan).toMatchObject({ compliant: false });
    expect(plan.summary).toContain(`would attach ${FORENSIC}`);
    expect(await sentCommands()).toEqual([]);

    const outcome = await behaviour.run(ctx, wanted);

    const [sent, ...others] = await sentCommands();
    expect(others).toEqual([]);
    // Sent with S3 output to the evidence bucket, under the run's prefix, while the forensic profile was associated.
    expect(sent).toMatchObject({ output_s3_bucket_name: BUCKET, output_s3_key_prefix: keys.outputPrefix, riposte_instance_profiles: { [instanceId]: FORENSIC } });
    expect(sent?.parameters.commands).toEqual(["echo '### #riposte-emulator: stdout Linux ip-10-0-0-1 6.1.0'", '#riposte-emulator: stdout Linux ip-10-0-0-1 6.1.0', "echo '### uname -a'", 'uname -a']);
    // ... and removed after.
    expect(await associations(ctx, instanceId)).toEqual([]);
    const output = outputKeysOf(keys.outputPrefix, sent?.command_id as string, instanceId);
    expect(output.stdout).toBe(`${keys.outputPrefix}/${sent?.command_id}/${instanceId}/awsrunShellScript/0.awsrunShellScript/stdout`);
    // stderr was empty, so the agent wrote no stderr object.
    expect(await keysUnder(ctx, `${keys.outputPrefix}/`)).toEqual([output.stdout]);
    expect(await text(ctx, output.stdout)).toBe('Linux ip-10-0-0-1 6.1.0\n');
    const stored = JSON.parse(await text(ctx, keys.record)) as { data: CollectionRecord };
    expect(stored.data).toMatchObject({
      commandId: sent?.command_id,
      status: 'Success',
      responseCode: 0,
      instanceProfileArn: FORENSIC,
      outputs: [{ stream: 'stdout', key: output.stdout, bytes: 24 }],
    });
    expect(outcome).toMatchObject({ changed: true });
    expect(outcome.undo).toBeUndefined();

    expect(await behaviour.verify(ctx, wanted)).toMatchObject({ compliant: true });
    const second = await behaviour.run(ctx, wanted);
    expect(second).toMatchObject({ changed: false, changes: [] });
    expect(await sentCommands()).toHaveLength(1);
  });

  it('removes the forensic profile when the command fails, and keeps what it wrote', async () => {
    const ctx = on(base(), await launch(base()));
    const instanceId = ctx.resource.instanceId as string;
    const wanted = wantedOf({ commands: ['#riposte-emulator: stderr ss: command not found', '#riposte-emulator: exit 127'] });

    const failure = await behaviour.run(ctx, wanted).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SsmCommandFailedError);
    expect(failure).toMatchObject({ status: 'Failed' });
    const [sent] = await sentCommands();
    expect(sent?.riposte_instance_profiles).toEqual({ [instanceId]: FORENSIC });
    expect(await associations(ctx, instanceId)).toEqual([]);
    const keys = collectionKeysOf(ctx, instanceId, wanted);
    expect(await text(ctx, outputKeysOf(keys.outputPrefix, sent?.command_id as string, instanceId).stderr)).toBe('ss: command not found\n');
    expect((JSON.parse(await text(ctx, keys.record)) as { data: CollectionRecord }).data).toMatchObject({ status: 'Failed', responseCode: 127 });
  });

  it('fails clearly when the memory capture tool is absent: CollectionToolMissingError naming AVML and its path, never success', async () => {
    const ctx = on(base(), await launch(base()));
    const instanceId = ctx.resource.instanceId as string;
    // What the script's first line writes on an instance without /opt/forensics/avml (test/actions/ssm-collect-evidence.subprocess.test.ts runs it).
    const wanted = wantedOf({
      memoryCapture: { path: '/opt/forensics/avml' },
      commands: ['#riposte-emulator: stderr riposte-collect: tool missing: avml /opt/forensics/avml', '#riposte-emulator: exit 69'],
    });

    const failure = await behaviour.run(ctx, wanted).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CollectionToolMissingError);
    expect(failure).toMatchObject({ tool: 'avml', path: '/opt/forensics/avml', code: 'SSM_COLLECTION_TOOL_MISSING' });
    expect((failure as Error).message).toContain('avml is not installed at /opt/forensics/avml');
    const [sent] = await sentCommands();
    expect(sent?.parameters.commands[0]).toBe("[ -x '/opt/forensics/avml' ] || { echo 'riposte-collect: tool missing: avml /opt/forensics/avml' >&2; exit 69; }");
    expect(await associations(ctx, instanceId)).toEqual([]);
    expect((await behaviour.verify(ctx, wanted)).compliant).toBe(true); // the record and its output are stored, the profile gone
  });

  it('skips an instance Systems Manager cannot reach (the plan says why), or fails with onUnmanaged: fail; attaches and sends nothing', async () => {
    const lost = on(base(), await launch(base(), 'ConnectionLost'));
    const unregistered = on(base(), await launch(base(), null));

    const plan = await behaviour.plan(lost, wantedOf({}));
    expect(plan).toMatchObject({ compliant: true, summary: `not managed by Systems Manager: would skip the collection (${lost.resource.instanceId}'s SSM agent is ConnectionLost)` });
    expect(await behaviour.run(lost, wantedOf({}))).toMatchObject({ changed: false, summary: expect.stringContaining('collection skipped') as string });
    expect(await behaviour.run(unregistered, wantedOf({}))).toMatchObject({ changed: false, summary: expect.stringContaining('is not registered with Systems Manager') as string });
    await expect(behaviour.run(unregistered, wantedOf({ onUnmanaged: 'fail' }))).rejects.toBeInstanceOf(InstanceNotManagedError);

    expect(await sentCommands()).toEqual([]);
    expect(await associations(lost, lost.resource.instanceId as string)).toEqual([]);
  });

  it('refuses an instance that still has its own profile: nothing replaced, nothing sent', async () => {
    const ctx = on(base(), await launch(base()));
    const instanceId = ctx.resource.instanceId as string;
    const own = await profileNamed(ctx, 'web-prod');
    await ec2(ctx).send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: own } }));

    expect((await behaviour.plan(ctx, wantedOf({}))).summary).toContain(`would refuse: ${instanceId} has instance profile ${own}`);
    await expect(behaviour.run(ctx, wantedOf({}))).rejects.toBeInstanceOf(InstanceProfileInUseError);

    expect(await associations(ctx, instanceId)).toEqual([own]);
    expect(await sentCommands()).toEqual([]);
  });

  it('after an isolation through the Systems Manager endpoints, skips an instance whose quarantine allows no egress (the VPC had no endpoints), and collects from one whose quarantine does; after a closed isolation, collects nothing', async () => {
    const collection = wantedOf({ commands: ['uname -a'] });
    const steps = (isolate: Record<string, unknown>) => [
      { action: 'ec2.isolate', params: isolate, concurrent: false },
      { action: 'ec2.detach-instance-profile', params: {}, concurrent: true },
      { action: 'ssm.collect-evidence', params: collection, concurrent: false },
    ];
    const throughEndpoints = stepOrderOf(steps({ allowAllFirst: true, ssmEndpoints: true }), 2);
    /** An instance moved into a new group of its VPC with these egress rules (none: the quarantine of a VPC without endpoints). */
    const isolatedIn = async (egress: IpPermission[]): Promise<{ instanceId: string; groupId: string }> => {
      const instanceId = await launch(base());
      const { Reservations } = await ec2(base()).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = Reservations?.[0]?.Instances?.[0];
      const { GroupId } = await ec2(base()).send(new CreateSecurityGroupCommand({ GroupName: `quarantine-${instanceId}`, Description: 'test quarantine', VpcId: instance?.VpcId }));
      await ec2(base()).send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      if (egress.length > 0) await ec2(base()).send(new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: egress }));
      await ec2(base()).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId, Groups: [GroupId as string] }));
      return { instanceId, groupId: GroupId as string };
    };

    const closed = await isolatedIn([]);
    const ctx = { ...on(base(), closed.instanceId), order: throughEndpoints };
    expect((await behaviour.plan(ctx, collection)).summary).toMatch(/^after isolation, through the VPC's Systems Manager endpoints/);
    const skipped = await behaviour.run(ctx, collection);
    expect(skipped).toMatchObject({ changed: false });
    expect(skipped.summary).toBe(
      `Systems Manager cannot reach the instance: collection skipped (${closed.instanceId} is isolated in ${closed.groupId}, which allows no egress (the VPC lacks the Systems Manager endpoints ec2.isolate would open it to))`,
    );
    expect(await behaviour.verify(ctx, collection)).toMatchObject({ compliant: true });
    await expect(behaviour.run(ctx, { ...collection, onUnmanaged: 'fail' })).rejects.toBeInstanceOf(InstanceNotManagedError);
    expect(await sentCommands()).toEqual([]);
    expect(await associations(ctx, closed.instanceId)).toEqual([]);

    const open = await isolatedIn([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.5/32', Description: 'ssm endpoint' }] }]);
    const reaching = { ...on(base(), open.instanceId), order: throughEndpoints };
    expect(await behaviour.run(reaching, collection)).toMatchObject({ changed: true });
    expect((await sentCommands()).map((command) => command.riposte_instance_profiles)).toEqual([{ [open.instanceId]: FORENSIC }]);

    // Isolated first with no egress at all: the plan says nothing will be collected, and the run sends nothing, whatever the instance's groups.
    const none = { ...on(base(), await launch(base())), order: stepOrderOf(steps({ allowAllFirst: true, ssmEndpoints: false }), 2) };
    expect((await behaviour.plan(none, collection)).summary).toMatch(/^no collection: would skip the collection \(ec2\.isolate runs before this step and its quarantine group allows no egress/);
    expect(await behaviour.run(none, collection)).toMatchObject({ changed: false });
    expect(await sentCommands()).toHaveLength(1);
  });

  it('keeps what GetCommandInvocation shows of a stream the agent did not upload (its upload refused), says so, and verifies it', async () => {
    const ctx = on(base(), await launch(base()));
    const instanceId = ctx.resource.instanceId as string;
    const wanted = wantedOf({ commands: ['#riposte-emulator: no-s3-output', '#riposte-emulator: stdout Linux ip-10-0-0-9 6.1.0', 'uname -a'] });
    const keys = collectionKeysOf(ctx, instanceId, wanted);

    const outcome = await behaviour.run(ctx, wanted);

    const [sent] = await sentCommands();
    const inlineKey = `${keys.outputPrefix}/${sent?.command_id as string}/${instanceId}/inline-stdout`;
    // Nothing from the agent; the inline text, written by Riposte.
    expect(await keysUnder(ctx, `${keys.outputPrefix}/`)).toEqual([inlineKey]);
    expect(await text(ctx, inlineKey)).toBe('Linux ip-10-0-0-9 6.1.0\n');
    const stored = JSON.parse(await text(ctx, keys.record)) as { data: CollectionRecord };
    expect(stored.data.outputs).toEqual([{ stream: 'stdout', key: inlineKey, bytes: 24, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), inline: true }]);
    expect(outcome.summary).toContain('the agent did not upload stdout: kept the start GetCommandInvocation returns (24,000 characters of stdout, 8,000 of stderr), not the whole stream');
    expect(await behaviour.verify(ctx, wanted)).toMatchObject({ compliant: true });
    expect(await associations(ctx, instanceId)).toEqual([]);
  });
});
