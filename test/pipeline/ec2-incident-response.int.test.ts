import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  AttachVolumeCommand,
  CreateLaunchTemplateCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  AuthorizeSecurityGroupIngressCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, GetObjectLegalHoldCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';

import { FORENSICS_KEY_ALIAS } from '../../src/actions/ec2-snapshot-volumes.js';
import type { MemberClients } from '../../src/aws/index.js';
import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import { parseManifestSignature, verifyManifestSignature } from '../../src/evidence/index.js';
import { readApiRequest } from '../../src/intake/index.js';
import { createLambdaRuntime } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import { emulatorClientFactory, emulatorData, emulatorEndpoint } from '../support/emulator.js';
import { createCustomerKey } from '../support/emulator-ebs.js';
import { createSigningKey, hostingKms } from '../support/emulator-kms.js';
import { ec2InstanceProfile } from '../support/instance-profiles.js';
import { EVIDENCE_BUCKET, LEDGER_TABLE, libraryPlaybooks, onlyRun, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

/*
 * Issue 17's end-to-end proof: the default ec2-compromise-isolate playbook,
 * deployed as the stack configures it (the runtime assembled from the
 * environment: the forensics account, the evidence bucket with Object Lock,
 * the manifest signing key), answering an on-demand request for an instance
 * that sits in an Auto Scaling group behind a target group, with a volume
 * encrypted under the AWS managed EBS key, in a VPC with Systems Manager's
 * interface endpoints. Everything is read back from the emulator, from the
 * member account and from the forensics account.
 *
 * The emulator runs no health checks: `nextHealthCheck` plays the group's
 * next evaluation as EC2 Auto Scaling does it with ELB health checks.
 */

const MEMBER = '222222222222';
const FORENSICS = '444455556666';
const REGION = 'us-east-1';
const AMI = 'ami-12c6146b';
const GROUP = 'web-prod-asg';
const PING_TAG = 'riposte-emulator:ssm-ping-status';
const target = { account: MEMBER, region: REGION, partition: 'aws' as const, correlationId: 'setup' };
const forensicsTarget = { ...target, account: FORENSICS };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

interface Estate {
  readonly instanceId: string;
  readonly neighbourId: string;
  readonly webGroup: string;
  readonly targetGroupArn: string;
  readonly suspectProfileArn: string;
  readonly roleName: string;
  readonly encryptedVolumeId: string;
  readonly endpointAddresses: readonly string[];
}

/**
 * The member account as a web tier runs: a VPC with Systems Manager's interface
 * endpoints and an S3 gateway endpoint, an Auto Scaling group of two instances
 * in the `web` group behind a target group on port 80; the suspect is one of
 * them, with an instance profile, an encrypted data volume (AWS managed key),
 * and an SSM agent online. The member template's forensics key and forensic
 * collection profile exist, as the template makes them.
 */
async function webTier(clients: MemberClients): Promise<Estate> {
  const ec2 = clients.create(EC2Client, target);
  const iam = clients.create(IAMClient, target);
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc?.VpcId as string;
  const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.1.0/24', AvailabilityZone: `${REGION}a` }))).Subnet?.SubnetId as string;
  const routeTableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable?.RouteTableId as string;
  const endpoints = await Promise.all(
    ['ssm', 'ssmmessages', 'ec2messages'].map((service) =>
      ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.${REGION}.${service}`, SubnetIds: [subnetId], PrivateDnsEnabled: true })),
    ),
  );
  await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Gateway', ServiceName: `com.amazonaws.${REGION}.s3`, RouteTableIds: [routeTableId] }));
  const endpointInterfaces = endpoints.flatMap(({ VpcEndpoint }) => VpcEndpoint?.NetworkInterfaceIds ?? []);
  const { NetworkInterfaces = [] } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: endpointInterfaces }));
  const endpointAddresses = NetworkInterfaces.map((eni) => `${eni.PrivateIpAddress as string}/32`).sort();

  const webGroup = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'web', Description: 'web servers' }))).GroupId as string;
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: webGroup, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.50.0.0/16' }] }] }));
  await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web-prod', LaunchTemplateData: { ImageId: AMI, InstanceType: 't3.micro', SecurityGroupIds: [webGroup] } }));
  const autoscaling = clients.create(AutoScalingClient, target);
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      LaunchTemplate: { LaunchTemplateName: 'web-prod', Version: '$Latest' },
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 2,
      VPCZoneIdentifier: subnetId,
      HealthCheckType: 'ELB',
    }),
  );
  const [instanceId, neighbourId] = (await groupMembers(clients)).map((member) => member.id) as [string, string];

  const elbv2 = clients.create(ElasticLoadBalancingV2Client, target);
  const { TargetGroups } = await elbv2.send(new CreateTargetGroupCommand({ Name: 'web-prod', Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'instance' }));
  const targetGroupArn = TargetGroups?.[0]?.TargetGroupArn as string;
  await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId }, { Id: neighbourId }] }));

  const suspectProfileArn = await ec2InstanceProfile(iam, 'web-prod');
  await ec2InstanceProfile(iam, 'RiposteForensicCollection');
  await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: { Arn: suspectProfileArn } }));
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const zone = Reservations?.[0]?.Instances?.[0]?.Placement?.AvailabilityZone;
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 20, Encrypted: true }));
  await ec2.send(new AttachVolumeCommand({ VolumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
  await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: PING_TAG, Value: 'Online' }] }));
  await createCustomerKey(clients, MEMBER, FORENSICS_KEY_ALIAS);
  return { instanceId, neighbourId, webGroup, targetGroupArn, suspectProfileArn, roleName: 'web-prod', encryptedVolumeId: VolumeId as string, endpointAddresses };
}

async function groupMembers(clients: MemberClients): Promise<{ id: string; state: string | undefined }[]> {
  const { AutoScalingGroups: [group] = [] } = await clients.create(AutoScalingClient, target).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }));
  return (group?.Instances ?? []).map((instance) => ({ id: instance.InstanceId as string, state: instance.LifecycleState })).sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The group's next health check evaluation, as EC2 Auto Scaling makes it with
 * ELB health checks (the emulator makes none): an InService instance the load
 * balancer cannot reach on the target group's port (no security group of its
 * lets port 80 in) is Unhealthy, and is terminated to be replaced. Instances
 * on Standby or detached are not checked. Returns the instances terminated.
 */
async function nextHealthCheck(clients: MemberClients): Promise<string[]> {
  const ec2 = clients.create(EC2Client, target);
  const inService = (await groupMembers(clients)).filter((member) => member.state === 'InService').map((member) => member.id);
  if (inService.length === 0) return [];
  const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: inService }));
  const unhealthy: string[] = [];
  for (const instance of Reservations.flatMap((reservation) => reservation.Instances ?? [])) {
    const groupIds = [...new Set((instance.NetworkInterfaces ?? []).flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId as string)))];
    const { SecurityGroups = [] } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
    const reachable = SecurityGroups.some((group) =>
      (group.IpPermissions ?? []).some((rule) => rule.IpProtocol === '-1' || (rule.IpProtocol === 'tcp' && (rule.FromPort ?? 0) <= 80 && 80 <= (rule.ToPort ?? 65535))),
    );
    if (!reachable) unhealthy.push(instance.InstanceId as string);
  }
  const autoscaling = clients.create(AutoScalingClient, target);
  for (const instanceId of unhealthy) await autoscaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false }));
  return unhealthy;
}

/** Everything the release must put back, read from the member account. */
async function instanceState(clients: MemberClients, estate: Estate) {
  const ec2 = clients.create(EC2Client, target);
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [estate.instanceId] }));
  const instance = Reservations?.[0]?.Instances?.[0];
  const [{ IamInstanceProfileAssociations = [] }, termination, { AutoScalingInstances = [] }, { TargetHealthDescriptions = [] }, { PolicyNames = [] }] = await Promise.all([
    ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [estate.instanceId] }] })),
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: estate.instanceId, Attribute: 'disableApiTermination' })),
    clients.create(AutoScalingClient, target).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [estate.instanceId] })),
    clients.create(ElasticLoadBalancingV2Client, target).send(new DescribeTargetHealthCommand({ TargetGroupArn: estate.targetGroupArn })),
    clients.create(IAMClient, target).send(new ListRolePoliciesCommand({ RoleName: estate.roleName })),
  ]);
  return {
    state: instance?.State?.Name,
    groups: (instance?.NetworkInterfaces ?? []).map((eni) => (eni.Groups ?? []).map((group) => group.GroupId)),
    profiles: IamInstanceProfileAssociations.filter((association) => association.State === 'associated').map((association) => association.IamInstanceProfile?.Arn),
    terminationProtection: termination.DisableApiTermination?.Value,
    autoScaling: AutoScalingInstances.map((member) => `${member.AutoScalingGroupName as string}:${member.LifecycleState as string}`),
    registered: TargetHealthDescriptions.filter((description) => description.Target?.Id === estate.instanceId && description.TargetHealth?.State !== 'draining').map(
      (description) => `${description.Target?.Id as string}:${description.Target?.Port ?? ''}`,
    ),
    rolePolicies: PolicyNames,
  };
}

const s3 = (): S3Client => emulatorClientFactory().create(S3Client, {}, { forcePathStyle: true });

describe('issue 17 end to end: the default playbook contains an instance in an Auto Scaling group behind a target group without losing the evidence', () => {
  it('takes it out of service beside the isolation (it survives the next health check), gives the forensics account a copy it can open, collects from inside through the endpoints, signs the manifest, and the release puts everything back', async () => {
    lab = await pipelineLab();
    const factory = emulatorClientFactory();
    const estate = await webTier(lab.clients);
    const signingKey = await createSigningKey(factory, 'ECC_NIST_P256');
    const resumeQueue = (await factory.create(SQSClient).send(new CreateQueueCommand({ QueueName: 'riposte-ir-resume' }))).QueueUrl as string;
    const environment = {
      AWS_REGION: REGION,
      RIPOSTE_AWS_ENDPOINT: emulatorEndpoint(),
      RIPOSTE_EXTERNAL_ID: 'riposte-e2e',
      RIPOSTE_LEDGER_TABLE: LEDGER_TABLE,
      RIPOSTE_RESUME_QUEUE_URL: resumeQueue,
      RIPOSTE_EVIDENCE_BUCKET: EVIDENCE_BUCKET,
      RIPOSTE_EVIDENCE_SIGNING_KEY: signingKey.Arn,
      RIPOSTE_FORENSICS_ACCOUNT: FORENSICS,
    };
    const runtime = await createLambdaRuntime({
      environment,
      factory: new AwsClientFactory(loadConfig(environment).aws, emulatorClientOptions()),
      logger: new RiposteLogger({ logLevel: 'error', stream: new MemoryLogSink() }),
      playbooks: await libraryPlaybooks(),
    });
    const before = await instanceState(lab.clients, estate);
    expect(before).toEqual({
      state: 'running',
      groups: [[estate.webGroup]],
      profiles: [estate.suspectProfileArn],
      terminationProtection: false,
      autoScaling: [`${GROUP}:InService`],
      registered: [`${estate.instanceId}:80`],
      rolePolicies: [],
    });

    // An analyst's on-demand request with the instance id.
    const request = readApiRequest(JSON.stringify({ instanceId: estate.instanceId, account: MEMBER, region: REGION, reason: 'INC-2041 crypto-mining' }), {
      principal: 'arn:aws:iam::123456789012:role/incident-responder',
    });
    const run = onlyRun((await runtime.pipeline.handleIntake(request, { correlationId: 'inc-2041' })).findings[0]?.runs);
    const record = (await lab.ledger.getRun(run.runId as string)) as RunRecord;
    expect(run, record.steps.map((step) => `${step.index} ${step.action} ${step.phase} ${step.status}: ${step.summary}`).join('\n')).toMatchObject({
      playbookId: 'ec2-compromise-isolate',
      status: 'succeeded',
      mode: 'enforce',
    });
    const ran = Object.fromEntries(record.steps.filter((step) => step.phase === 'run').map((step) => [step.action, step.status]));
    expect(ran).toEqual({
      'ec2.snapshot-volumes': 'changed',
      'autoscaling.standby-instance': 'changed',
      'elb.deregister-instance': 'changed',
      'ec2.isolate': 'changed',
      'ec2.capture-metadata': 'changed',
      'ec2.enable-termination-protection': 'changed',
      'iam.revoke-role-sessions': 'changed',
      'ec2.detach-instance-profile': 'changed',
      'ssm.collect-evidence': 'changed',
    });
    expect(record.steps.filter((step) => step.phase === 'verify').map((step) => `${step.action}:${step.status}`)).not.toContainEqual(expect.stringMatching(/:failed$/));
    // The plan said when the collection would run.
    expect(record.steps.find((step) => step.phase === 'plan' && step.action === 'ssm.collect-evidence')?.summary).toMatch(
      new RegExp(
        `^after isolation, through the VPC's Systems Manager endpoints .*: would attach \\S+RiposteForensicCollection once ec2\\.detach-instance-profile has removed ${estate.suspectProfileArn}`,
      ),
    );

    // Contained: on Standby, out of the target group, isolated with egress to the endpoints only, protected, profile gone, sessions revoked.
    const contained = await instanceState(lab.clients, estate);
    expect(contained).toMatchObject({ state: 'running', profiles: [], terminationProtection: true, autoScaling: [`${GROUP}:Standby`], registered: [] });
    expect(contained.rolePolicies.length).toBe(1);
    const [quarantine] = contained.groups.flat();
    const { SecurityGroups: [group] = [] } = await lab.clients.create(EC2Client, target).send(new DescribeSecurityGroupsCommand({ GroupIds: [quarantine as string] }));
    expect(group?.GroupName).toBe('riposte-quarantine-ssm');
    expect(group?.IpPermissions ?? []).toEqual([]);
    const egressTo = (group?.IpPermissionsEgress ?? []).flatMap((rule) => [
      ...(rule.IpRanges ?? []).map((range) => `${rule.IpProtocol as string}:${rule.FromPort ?? ''}:${range.CidrIp as string}`),
      ...(rule.PrefixListIds ?? []).map((list) => `${rule.IpProtocol as string}:${rule.FromPort ?? ''}:${list.PrefixListId as string}`),
    ]);
    expect(egressTo.filter((entry) => !entry.includes(':pl-')).sort()).toEqual(estate.endpointAddresses.map((address) => `tcp:443:${address}`));
    expect(egressTo.filter((entry) => entry.includes(':pl-'))).toHaveLength(1);

    // The group's next health check: a neighbour the load balancer cannot reach is replaced (the check can terminate); the contained instance is not checked.
    const neighbourInterface = (await lab.clients.create(EC2Client, target).send(new DescribeInstancesCommand({ InstanceIds: [estate.neighbourId] }))).Reservations?.[0]?.Instances?.[0]
      ?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    await lab.clients.create(EC2Client, target).send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: neighbourInterface, Groups: [quarantine as string] }));
    expect(await nextHealthCheck(lab.clients)).toEqual([estate.neighbourId]);
    expect((await instanceState(lab.clients, estate)).state).toBe('running');
    const { Volumes: attached = [] } = await lab.clients.create(EC2Client, target).send(new DescribeVolumesCommand({ VolumeIds: [estate.encryptedVolumeId] }));
    expect(attached[0]?.Attachments?.[0]?.InstanceId).toBe(estate.instanceId);

    // The forensics account, from its side: a copy of the encrypted snapshot under the forensics key, which it can describe.
    const forensics = lab.clients.create(EC2Client, forensicsTarget);
    const { Snapshots: open = [] } = await forensics.send(new DescribeSnapshotsCommand({ OwnerIds: [MEMBER], RestorableByUserIds: ['self'] }));
    const tag = (snapshot: Snapshot, key: string) => snapshot.Tags?.find((entry) => entry.Key === key)?.Value;
    const copy = open.find((snapshot) => tag(snapshot, 'riposte:copy-of') !== undefined);
    expect(copy).toMatchObject({ OwnerId: MEMBER, Encrypted: true, State: 'completed' });
    expect(copy?.KmsKeyId).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${MEMBER}:key/`));
    const { Snapshots: [original] = [] } = await lab.clients.create(EC2Client, target).send(new DescribeSnapshotsCommand({ SnapshotIds: [tag(copy as Snapshot, 'riposte:copy-of') as string] }));
    expect(original).toMatchObject({ VolumeId: estate.encryptedVolumeId, Encrypted: true });
    expect(open.map((snapshot) => snapshot.SnapshotId)).not.toContain(original?.SnapshotId);

    // The evidence: under a legal hold, its manifest signed and verified with the public key alone; the collection's record beside it.
    const { Contents = [] } = await s3().send(new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: `evidence/${MEMBER}/${estate.instanceId}/` }));
    const keys = Contents.map((object) => object.Key as string);
    const manifestKey = keys.find((key) => key.endsWith('/manifest.json')) as string;
    const bytes = async (key: string) => (await (await s3().send(new GetObjectCommand({ Bucket: EVIDENCE_BUCKET, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();
    const { PublicKey } = await hostingKms(factory).send(new GetPublicKeyCommand({ KeyId: signingKey.Arn }));
    const verified = verifyManifestSignature({ manifest: await bytes(manifestKey), signature: parseManifestSignature(await bytes(`${manifestKey}.sig`)), publicKey: PublicKey ?? new Uint8Array() });
    expect(verified).toMatchObject({ valid: true, problems: [] });
    const manifest = JSON.parse(Buffer.from(await bytes(manifestKey)).toString('utf8')) as { legalHold: boolean; objects: { key: string }[] };
    expect(manifest.legalHold).toBe(true);
    for (const { key } of manifest.objects) expect((await s3().send(new GetObjectLegalHoldCommand({ Bucket: EVIDENCE_BUCKET, Key: key }))).LegalHold?.Status).toBe('ON');
    expect(keys.some((key) => /\/ssm-[0-9a-f]{16}\.json$/.test(key))).toBe(true);
    const data = (await emulatorData()) as { ssm?: { Command?: { riposte_instance_profiles: Record<string, string | null> }[] } };
    expect(data.ssm?.Command?.map((command) => command.riposte_instance_profiles[estate.instanceId])).toEqual([`arn:aws:iam::${MEMBER}:instance-profile/RiposteForensicCollection`]);

    // The release: every change undone, last step first; the instance is as it was, back in service and in the target group.
    const release = await runtime.pipeline.rollback(run.runId as string, { requestedBy: 'arn:aws:iam::123456789012:role/incident-responder', reason: 'INC-2041 closed' });
    expect(release.status).toBe('succeeded');
    const order = release.steps.map((step) => step.action);
    expect(order.indexOf('ec2.isolate')).toBeLessThan(order.indexOf('elb.deregister-instance'));
    expect(order.indexOf('elb.deregister-instance')).toBeLessThan(order.indexOf('autoscaling.standby-instance'));
    expect(await instanceState(lab.clients, estate)).toEqual(before);
    // Riposte's copy is gone and nothing is shared any more; the original snapshot stays, as evidence.
    const { Snapshots: afterRelease = [] } = await forensics.send(new DescribeSnapshotsCommand({ OwnerIds: [MEMBER], RestorableByUserIds: ['self'] }));
    expect(afterRelease).toEqual([]);
    const { Snapshots: kept = [] } = await lab.clients
      .create(EC2Client, target)
      .send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:riposte:instance-id', Values: [estate.instanceId] }] }));
    expect(kept.map((snapshot) => snapshot.SnapshotId)).toContain(original?.SnapshotId);
    expect(kept.map((snapshot) => snapshot.SnapshotId)).not.toContain(copy?.SnapshotId);
  });
});
