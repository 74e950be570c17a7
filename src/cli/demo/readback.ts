import { createHash } from 'node:crypto';

import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetAccountPasswordPolicyCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';

import type { AwsClientFactory, MemberClients } from '../../aws/index.js';
import { verifyManifestSignature } from '../../evidence/index.js';
import * as z from '../../zod.js';
import { memberTarget, type DemoInstance } from './world.js';

/*
 * What the demo prints as "before" and "after": each read back from the
 * emulator, never taken from what Riposte said it did.
 */

/** The account's password policy, in one line. */
export async function passwordPolicy(clients: MemberClients, account: string): Promise<string> {
  try {
    const { PasswordPolicy: policy } = await clients.create(IAMClient, memberTarget(account)).send(new GetAccountPasswordPolicyCommand({}));
    const required = [
      policy?.RequireUppercaseCharacters ? 'upper' : undefined,
      policy?.RequireLowercaseCharacters ? 'lower' : undefined,
      policy?.RequireNumbers ? 'number' : undefined,
      policy?.RequireSymbols ? 'symbol' : undefined,
    ].filter((part) => part !== undefined);
    return `length ≥ ${policy?.MinimumPasswordLength}, requires ${required.join('+') || 'nothing'}, reuse ${policy?.PasswordReusePrevention || 'none'}, max age ${policy?.MaxPasswordAge || 'none'}`;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return 'no password policy';
    throw error;
  }
}

function permissionText(permission: IpPermission, direction: 'from' | 'to', labels: Readonly<Record<string, string>> = {}): string {
  const protocol =
    permission.IpProtocol === '-1' ? 'all' : `${permission.IpProtocol} ${permission.FromPort === permission.ToPort ? permission.FromPort : `${permission.FromPort}-${permission.ToPort}`}`;
  const peers = [
    ...(permission.IpRanges ?? []).map((range) => range.CidrIp),
    ...(permission.Ipv6Ranges ?? []).map((range) => range.CidrIpv6),
    ...(permission.UserIdGroupPairs ?? []).map((pair) => pair.GroupId),
    ...(permission.PrefixListIds ?? []).map((list) => list.PrefixListId),
  ].map((peer) => (peer !== undefined && labels[peer] !== undefined ? `${peer} (${labels[peer]})` : peer));
  return `${protocol} ${direction} ${peers.join(', ')}`;
}

/** A security group's rules: `in tcp 22 from 0.0.0.0/0, ::/0; out all to 0.0.0.0/0`, or `no rules`. */
export async function groupRules(clients: MemberClients, account: string, groupId: string): Promise<string> {
  const { SecurityGroups } = await clients.create(EC2Client, memberTarget(account)).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const found = SecurityGroups?.[0];
  const rules = [
    ...(found?.IpPermissions ?? []).map((permission) => `in ${permissionText(permission, 'from')}`),
    ...(found?.IpPermissionsEgress ?? []).map((permission) => `out ${permissionText(permission, 'to')}`),
  ];
  return rules.length === 0 ? 'no rules' : rules.join('; ');
}

/** Each interface's security groups, by name: `eni-… web | eni-… admin, web`. */
export async function interfaceGroups(clients: MemberClients, instance: DemoInstance): Promise<Record<string, string>> {
  const ec2 = clients.create(EC2Client, memberTarget(instance.account));
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  return Object.fromEntries(
    Object.keys(instance.interfaces).map((id) => {
      const found = NetworkInterfaces?.find((eni) => eni.NetworkInterfaceId === id);
      const names = (found?.Groups ?? []).map((group) => `${group.GroupName} (${group.GroupId})`).sort();
      return [id, names.join(', ') || 'none'];
    }),
  );
}

/** The outbound rules of the instance's groups, one line per group: `web: out all to 0.0.0.0/0`, with the peers the instance's labels name. */
export async function groupEgress(clients: MemberClients, instance: DemoInstance): Promise<string> {
  const ec2 = clients.create(EC2Client, memberTarget(instance.account));
  const { NetworkInterfaces = [] } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: Object.keys(instance.interfaces) }));
  const groupIds = [...new Set(NetworkInterfaces.flatMap((eni) => (eni.Groups ?? []).map((group) => group.GroupId as string)))];
  if (groupIds.length === 0) return 'no groups';
  const { SecurityGroups = [] } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
  return SecurityGroups.map((group) => {
    const rules = (group.IpPermissionsEgress ?? []).map((permission) => permissionText(permission, 'to', instance.labels));
    return `${group.GroupName}: ${rules.length === 0 ? 'no egress' : `out ${rules.join('; out ')}`}`;
  })
    .sort()
    .join('\n');
}

/** The instance's Auto Scaling group and lifecycle state (DescribeAutoScalingInstances): `web-prod-asg InService`. */
export async function autoScalingState(clients: MemberClients, instance: DemoInstance): Promise<string> {
  const { AutoScalingInstances = [] } = await clients.create(AutoScalingClient, memberTarget(instance.account)).send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instance.instanceId] }));
  const found = AutoScalingInstances.find((member) => member.InstanceId === instance.instanceId);
  return found === undefined ? 'in no Auto Scaling group' : `${found.AutoScalingGroupName} ${found.LifecycleState}`;
}

/** Whether each target group names the instance (DescribeTargetHealth; a target draining is on its way out): `registered in web-prod on port 80`. */
export async function targetRegistration(clients: MemberClients, instance: DemoInstance, targetGroupArns: readonly string[]): Promise<string> {
  const elbv2 = clients.create(ElasticLoadBalancingV2Client, memberTarget(instance.account));
  const lines = await Promise.all(
    targetGroupArns.map(async (arn) => {
      const name = /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
      const { TargetHealthDescriptions = [] } = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      const ports = TargetHealthDescriptions.filter((target) => target.Target?.Id === instance.instanceId && target.TargetHealth?.State !== 'draining').map((target) => target.Target?.Port);
      return ports.length === 0 ? `not registered in ${name}` : `registered in ${name} on port ${ports.join(', ')}`;
    }),
  );
  return lines.join('\n') || 'in no target group';
}

export async function terminationProtection(clients: MemberClients, instance: DemoInstance): Promise<string> {
  const { DisableApiTermination } = await clients
    .create(EC2Client, memberTarget(instance.account))
    .send(new DescribeInstanceAttributeCommand({ InstanceId: instance.instanceId, Attribute: 'disableApiTermination' }));
  return DisableApiTermination?.Value === true ? 'on' : 'off';
}

export async function instanceProfile(clients: MemberClients, instance: DemoInstance): Promise<string> {
  const { IamInstanceProfileAssociations } = await clients
    .create(EC2Client, memberTarget(instance.account))
    .send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instance.instanceId] }] }));
  const associated = (IamInstanceProfileAssociations ?? []).filter((association) => association.State === 'associated');
  return associated.map((association) => association.IamInstanceProfile?.Arn ?? '?').join(', ') || 'none';
}

/** The snapshots of the instance's volumes, with their tags. */
export async function snapshots(clients: MemberClients, instance: DemoInstance): Promise<string[]> {
  const { Snapshots } = await clients
    .create(EC2Client, memberTarget(instance.account))
    .send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [...instance.volumeIds] }] }));
  return (Snapshots ?? []).map(
    (snapshot) =>
      `${snapshot.SnapshotId} of ${snapshot.VolumeId}: ${(snapshot.Tags ?? [])
        .map((tag) => `${tag.Key}=${tag.Value}`)
        .sort()
        .join(' ')}`,
  );
}

/**
 * The snapshots of the instance's volumes that `viewer` (another account) can open, read as that account reads them
 * (DescribeSnapshots, OwnerIds the owner, RestorableByUserIds self): each with its encryption and key. Which instance a
 * snapshot is of, and what it is a copy of, come from the owner's tags (another account does not see them).
 */
export async function sharedWith(clients: MemberClients, instance: DemoInstance, viewer: string): Promise<string[]> {
  const { Snapshots: visible = [] } = await clients.create(EC2Client, memberTarget(viewer)).send(new DescribeSnapshotsCommand({ OwnerIds: [instance.account], RestorableByUserIds: ['self'] }));
  if (visible.length === 0) return [];
  const { Snapshots: owned = [] } = await clients
    .create(EC2Client, memberTarget(instance.account))
    .send(new DescribeSnapshotsCommand({ SnapshotIds: visible.map((snapshot) => snapshot.SnapshotId as string) }));
  const tagsOf = (id: string | undefined): Record<string, string> =>
    Object.fromEntries((owned.find((snapshot) => snapshot.SnapshotId === id)?.Tags ?? []).map((tag) => [tag.Key as string, tag.Value as string]));
  return visible
    .filter((snapshot) => tagsOf(snapshot.SnapshotId)['riposte:instance-id'] === instance.instanceId)
    .map((snapshot) => {
      const tags = tagsOf(snapshot.SnapshotId);
      const key = snapshot.KmsKeyId === undefined ? '' : (instance.labels?.[snapshot.KmsKeyId] ?? snapshot.KmsKeyId);
      const what = tags['riposte:copy-of'] === undefined ? `of ${tags['riposte:volume-id'] ?? snapshot.VolumeId}` : `copy of ${tags['riposte:copy-of']}`;
      return `${snapshot.SnapshotId} ${what}, ${snapshot.Encrypted === true ? `encrypted under ${key}` : 'unencrypted'}, ${snapshot.State}`;
    })
    .sort();
}

/** An evidence record's envelope (src/actions/evidence-store.ts), with the collection record's fields the demo prints. */
const collectionRecordShape = z.object({
  name: z.string(),
  data: z.object({
    commandId: z.string(),
    status: z.string(),
    instanceProfileArn: z.string(),
    outputPrefix: z.string(),
    outputs: z.array(z.object({ stream: z.string(), key: z.string(), bytes: z.number() })),
  }),
});

/** The collections from inside the instance recorded in the evidence bucket (ssm.collect-evidence's `ssm-<request>.json` records), one line each. */
export async function collections(factory: AwsClientFactory, bucket: string, instance: DemoInstance): Promise<string[]> {
  const s3 = factory.create(S3Client, {}, { forcePathStyle: true });
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `evidence/${instance.account}/${instance.instanceId}/` }));
  const records = await Promise.all(
    Contents.filter((object) => /\/ssm-[0-9a-f]{16}\.json$/.test(object.Key ?? '')).map(async (object) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const parsed = collectionRecordShape.safeParse(JSON.parse((await Body?.transformToString('utf8')) ?? 'null'));
      return parsed.success && parsed.data.name === 'ssm-collect-evidence' ? [{ key: object.Key as string, record: parsed.data.data }] : [];
    }),
  );
  return records.flat().map(({ key, record }) => {
    const profile = record.instanceProfileArn.slice(record.instanceProfileArn.lastIndexOf('/') + 1);
    const outputs = record.outputs.length === 0 ? 'no output written' : record.outputs.map((output) => `${output.stream} ${output.bytes} bytes`).join(', ');
    return `${key.slice(key.lastIndexOf('/') + 1)}: command ${record.commandId} ${record.status} under ${profile}, ${outputs} (s3://${bucket}/${record.outputPrefix}/)`;
  });
}

/** The evidence bucket's objects, each with the SHA-256 of what it holds (computed here, from the bytes read back). */
export async function evidenceObjects(factory: AwsClientFactory, bucket: string): Promise<Array<{ key: string; sha256: string; bytes: number }>> {
  const s3 = factory.create(S3Client, {}, { forcePathStyle: true });
  const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return Promise.all(
    (Contents ?? []).map(async (object) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
      const bytes = (await Body?.transformToByteArray()) ?? new Uint8Array();
      return { key: object.Key as string, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
    }),
  );
}

/** A Security Hub finding's workflow status and note, read back with GetFindings. */
export async function findingState(factory: AwsClientFactory, id: string, productArn: string): Promise<{ workflow: string; note: string }> {
  const { Findings } = await factory
    .create(SecurityHubClient)
    .send(new GetFindingsCommand({ Filters: { Id: [{ Value: id, Comparison: 'EQUALS' }], ProductArn: [{ Value: productArn, Comparison: 'EQUALS' }] } }));
  const [finding] = Findings ?? [];
  if (finding === undefined) return { workflow: 'not in Security Hub', note: '' };
  return { workflow: finding.Workflow?.Status ?? '(none)', note: finding.Note === undefined ? 'no note' : `by ${finding.Note.UpdatedBy}: ${finding.Note.Text}` };
}

/** What moto recorded as published to the topic (its internal state: SNS keeps no readable history of its own). */
export async function sentNotifications(endpoint: string, topicArn: string): Promise<Array<{ subject: string; message: string }>> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  const data = (await response.json()) as { sns?: { Topic?: Record<string, { arn?: string; sent_notifications?: Array<[string, string, string | null]> }> } };
  return Object.values(data.sns?.Topic ?? {})
    .filter((topic) => topic.arn === undefined || topic.arn === topicArn)
    .flatMap((topic) => topic.sent_notifications ?? [])
    .map(([, message, subject]) => ({ subject: subject ?? '', message }));
}

/**
 * The run's manifest checked as an investigator checks it later: the
 * signature file beside it, verified with the key's public half alone
 * (GetPublicKey, as `riposte evidence verify --public-key` takes it).
 */
export async function manifestCheck(factory: AwsClientFactory, bucket: string, manifestKey: string, keyId: string): Promise<string> {
  const s3 = factory.create(S3Client, {}, { forcePathStyle: true });
  const bytesOf = async (key: string): Promise<Uint8Array | undefined> => {
    try {
      return (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  };
  const [manifest, signature, { PublicKey }] = await Promise.all([bytesOf(manifestKey), bytesOf(`${manifestKey}.sig`), factory.create(KMSClient).send(new GetPublicKeyCommand({ KeyId: keyId }))]);
  if (manifest === undefined || signature === undefined) return `manifest ${manifestKey}: ${manifest === undefined ? 'missing' : 'unsigned (no manifest.json.sig)'}`;
  const verified = verifyManifestSignature({ manifest, signature, publicKey: PublicKey ?? new Uint8Array() });
  return verified.valid
    ? `manifest.json signed by ${verified.keyId} (${verified.signingAlgorithm}): verified with the public key alone`
    : `manifest.json NOT verified: ${verified.problems.join('; ')}`;
}
