import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client, type Instance, type SecurityGroup, type Tag as Ec2Tag } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, IAMClient, NoSuchEntityException, paginateListRoleTags, paginateListUserTags, type InstanceProfile, type Tag as IamTag } from '@aws-sdk/client-iam';

import { instanceIdIn, parseArn, securityGroupIdIn } from '../aws-names.js';
import type { MemberClients, MemberTarget } from '../aws/index.js';
import { errorName, isRetryableError, RiposteError } from '../errors.js';
import type { Resource } from '../intake/index.js';
import { liveProfileAssociation } from './ec2-instance.js';
import { isEc2Error, ResourceTagsUnreadableError } from './errors.js';
import type { InstanceFacts, InstanceProfileFacts, ResourceTags, SecurityGroupFacts } from './target.js';

/**
 * The member-account IAM actions the exemption guard's reads need (one per
 * resource type it reads). The member role template grants them next to
 * the actions' own.
 *
 * The EC2 reads use each type's Describe call rather than DescribeTags: it
 * returns the tags too, and unlike DescribeTags (which answers an unknown id
 * with an empty list, indistinguishable from "no tags") it says when the
 * resource does not exist.
 */
export const TAG_READ_PERMISSIONS: { readonly member: readonly string[] } = Object.freeze({
  member: Object.freeze(['ec2:DescribeInstances', 'ec2:DescribeSecurityGroups', 'ec2:DescribeVolumes', 'iam:ListRoleTags', 'iam:ListUserTags']),
});

/** Resource types whose tags `readResourceTags` reads. */
export const TAGGED_RESOURCE_TYPES: readonly string[] = Object.freeze(['AwsEc2Instance', 'AwsEc2SecurityGroup', 'AwsEc2Volume', 'AwsIamRole', 'AwsIamUser']);

const VOLUME_ID = /^vol-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
/** IAM names: 1–128 (users 64) of these. */
const IAM_NAME = /^[\w+=,.@-]{1,128}$/;

const tagsOf = (tags: readonly (Ec2Tag | IamTag)[] | undefined): Record<string, string> =>
  // fromEntries defines own properties, so a tag named `__proto__` stays a tag.
  Object.fromEntries((tags ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [[tag.Key, tag.Value ?? '']])));

function volumeIdOf(resource: Resource): string | undefined {
  for (const text of [resource.arn, resource.id]) {
    if (text === undefined) continue;
    const arn = parseArn(text);
    const candidate = arn === undefined ? text : arn.service === 'ec2' && arn.resource.startsWith('volume/') ? arn.resource.slice('volume/'.length) : undefined;
    if (candidate !== undefined && VOLUME_ID.test(candidate)) return candidate;
  }
  return undefined;
}

/** The name at the end of an IAM ARN (`arn:aws:iam::111122223333:role/service-role/name` -> `name`), or a bare name. */
function iamNameOf(resource: Resource, kind: 'role' | 'user'): string | undefined {
  if (kind === 'role' && resource.iamRole?.name !== undefined && resource.iamRole.name !== '') return resource.iamRole.name;
  for (const text of [resource.arn, resource.id]) {
    if (text === undefined) continue;
    const arn = parseArn(text);
    if (arn === undefined) {
      if (IAM_NAME.test(text)) return text;
      continue;
    }
    if (arn.service === 'iam' && arn.resource.startsWith(`${kind}/`)) return arn.resource.split('/').pop() || undefined;
  }
  return undefined;
}

const errorMessage = (error: unknown): string => {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : String(error);
};

interface Read {
  readonly target: MemberTarget;
  readonly resource: Resource;
}

function unreadable(read: Read, reason: string, extra: { awsError?: string; cause?: unknown; retryable?: boolean } = {}): ResourceTagsUnreadableError {
  return new ResourceTagsUnreadableError({
    account: read.target.account,
    region: read.target.region,
    resource: read.resource.arn ?? read.resource.id,
    resourceType: read.resource.type,
    reason,
    ...extra,
  });
}

/** Runs one AWS read; any failure becomes ResourceTagsUnreadableError naming the AWS error. */
async function attempt<T>(read: Read, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const awsError = error instanceof RiposteError ? error.code : errorName(error);
    const reason = awsError === undefined ? errorMessage(error) : `${awsError}: ${errorMessage(error)}`;
    throw unreadable(read, reason, { ...(awsError === undefined ? {} : { awsError }), cause: error, retryable: isRetryableError(error) });
  }
}

function required(read: Read, id: string | undefined, what: string): string {
  if (id === undefined || id === '') throw unreadable(read, `the finding does not say which ${what} it is`);
  return id;
}

/** EC2's answers for an id that names nothing (no longer, or never). */
const NOT_FOUND = ['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed', 'InvalidGroup.NotFound', 'InvalidGroupId.NotFound', 'InvalidGroupId.Malformed'];

/** Runs one EC2 read; EC2's "no such id" answers become `undefined`, any other failure ResourceTagsUnreadableError. */
async function describeOrNothing<T>(read: Read, call: () => Promise<T | undefined>): Promise<T | undefined> {
  return attempt(read, async () => {
    try {
      return await call();
    } catch (error) {
      if (isEc2Error(error, NOT_FOUND)) return undefined;
      throw error;
    }
  });
}

/** The instance, or `undefined` when EC2 says there is no such instance. */
async function describeInstance(clients: MemberClients, read: Read, instanceId: string): Promise<Instance | undefined> {
  const ec2 = clients.create(EC2Client, read.target);
  return describeOrNothing(read, async () => {
    const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return Reservations?.flatMap((reservation) => reservation.Instances ?? []).find((candidate) => candidate.InstanceId === instanceId);
  });
}

/** The group, or `undefined` when EC2 says there is no such group. */
async function describeSecurityGroup(clients: MemberClients, read: Read, groupId: string): Promise<SecurityGroup | undefined> {
  const ec2 = clients.create(EC2Client, read.target);
  return describeOrNothing(read, async () => {
    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return SecurityGroups?.find((candidate) => candidate.GroupId === groupId);
  });
}

async function instanceTags(clients: MemberClients, read: Read): Promise<Record<string, string>> {
  const { resource } = read;
  const instanceId = required(read, resource.instanceId ?? instanceIdIn(resource.arn) ?? instanceIdIn(resource.id), 'instance');
  const instance = await describeInstance(clients, read, instanceId);
  if (instance === undefined) throw unreadable(read, `instance ${instanceId} does not exist`, { awsError: 'InvalidInstanceID.NotFound' });
  return tagsOf(instance.Tags);
}

async function securityGroupTags(clients: MemberClients, read: Read): Promise<Record<string, string>> {
  const { resource } = read;
  const groupId = required(read, securityGroupIdIn(resource.arn) ?? securityGroupIdIn(resource.id) ?? resource.securityGroupIds[0], 'security group');
  const group = await describeSecurityGroup(clients, read, groupId);
  if (group === undefined) throw unreadable(read, `security group ${groupId} does not exist`, { awsError: 'InvalidGroup.NotFound' });
  return tagsOf(group.Tags);
}

async function volumeTags(clients: MemberClients, read: Read): Promise<Record<string, string>> {
  const volumeId = required(read, volumeIdOf(read.resource), 'volume');
  const ec2 = clients.create(EC2Client, read.target);
  const { Volumes } = await attempt(read, () => ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })));
  const volume = Volumes?.find((candidate) => candidate.VolumeId === volumeId);
  if (volume === undefined) throw unreadable(read, `volume ${volumeId} does not exist`, { awsError: 'InvalidVolume.NotFound' });
  return tagsOf(volume.Tags);
}

async function iamTags(clients: MemberClients, read: Read, kind: 'role' | 'user'): Promise<Record<string, string>> {
  const name = required(read, iamNameOf(read.resource, kind), kind === 'role' ? 'IAM role' : 'IAM user');
  const iam = clients.create(IAMClient, read.target);
  // IAM allows 50 tags; pages are followed anyway, as IAM may cut a page short.
  const pages = kind === 'role' ? paginateListRoleTags({ client: iam }, { RoleName: name }) : paginateListUserTags({ client: iam }, { UserName: name });
  const tags = await attempt(read, async () => {
    const all: IamTag[] = [];
    for await (const page of pages) all.push(...(page.Tags ?? []));
    return all;
  });
  return tagsOf(tags);
}

/**
 * The resource's tags as they are now, read in the member account through
 * the member role (the tags a finding carries may be stale, and most
 * sources send none). `target` is the account and region the resource lives
 * in.
 *
 * - `AwsEc2Instance`, `AwsEc2SecurityGroup`, `AwsEc2Volume`: DescribeInstances /
 *   DescribeSecurityGroups / DescribeVolumes by id (from the finding's
 *   instance id, ARN or id);
 * - `AwsIamRole`, `AwsIamUser`: ListRoleTags / ListUserTags by name (from the ARN);
 * - `AwsAccount`: `untaggable` — account exemptions apply instead.
 *
 * @throws ResourceTagsUnreadableError for any other type (a resource whose
 *   exemption cannot be checked is not changed), when the finding does not
 *   identify the resource, and when the read fails (access denied, no such
 *   resource, throttling, network), with `retryable` set where a retry may help.
 */
export async function readResourceTags(clients: MemberClients, target: MemberTarget, resource: Resource): Promise<ResourceTags> {
  const read: Read = { target, resource };
  switch (resource.type) {
    case 'AwsAccount':
      return { kind: 'untaggable', reason: 'an account has no resource tags: account exemptions apply' };
    case 'AwsEc2Instance':
      return { kind: 'tags', tags: await instanceTags(clients, read) };
    case 'AwsEc2SecurityGroup':
      return { kind: 'tags', tags: await securityGroupTags(clients, read) };
    case 'AwsEc2Volume':
      return { kind: 'tags', tags: await volumeTags(clients, read) };
    case 'AwsIamRole':
      return { kind: 'tags', tags: await iamTags(clients, read, 'role') };
    case 'AwsIamUser':
      return { kind: 'tags', tags: await iamTags(clients, read, 'user') };
    default:
      throw unreadable(read, `Riposte does not read tags of ${resource.type} resources (it reads ${TAGGED_RESOURCE_TYPES.join(', ')}), so the exemption cannot be checked`);
  }
}

/**
 * What the pipeline reads live to resolve a step's target: the member
 * account as it is now. Each read throws ResourceTagsUnreadableError when
 * AWS cannot be asked (access denied, throttling, network): a target that
 * cannot be read is not changed.
 */
export interface LiveView {
  /** The instance now, or `undefined` when EC2 knows no such instance. `resource` is what the finding said (for errors). */
  instance(instanceId: string, resource: Resource): Promise<InstanceFacts | undefined>;
  /** The group now, or `undefined` when EC2 knows no such group. */
  securityGroup(groupId: string, resource: Resource): Promise<SecurityGroupFacts | undefined>;
  /** The tags of a resource no step acts on (see `readResourceTags`). */
  tags(resource: Resource): Promise<ResourceTags>;
}

/**
 * The member-account permissions resolving a target needs beyond
 * TAG_READ_PERMISSIONS: an instance's profile association, and the role in
 * that profile.
 */
export const TARGET_READ_PERMISSIONS: { readonly member: readonly string[] } = Object.freeze({
  member: Object.freeze([...TAG_READ_PERMISSIONS.member, 'ec2:DescribeIamInstanceProfileAssociations', 'iam:GetInstanceProfile']),
});

const present = <T>(value: T | undefined): value is T => value !== undefined;

/** An instance profile by name, or `undefined` when IAM has none by that name. */
async function instanceProfile(clients: MemberClients, read: Read, name: string): Promise<InstanceProfile | undefined> {
  const iam = clients.create(IAMClient, read.target);
  return attempt(read, async () => {
    try {
      return (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))).InstanceProfile;
    } catch (error) {
      // A profile deleted while still associated carries no role any more.
      if (error instanceof NoSuchEntityException) return undefined;
      throw error;
    }
  });
}

const profileName = (arn: string | undefined): string | undefined => (arn === undefined ? undefined : parseArn(arn)?.resource.split('/').at(-1) || undefined);

/**
 * The profile associated with the instance now (state `associating` or
 * `associated`), with its role. The profile the finding names (`claimed`)
 * is read beside the association, to save a round trip on the way to
 * containment; its answer is used only when AWS says that very profile is
 * the one associated now, and otherwise the associated one is read.
 */
async function liveProfile(clients: MemberClients, read: Read, instanceId: string, claimed?: string): Promise<InstanceProfileFacts | undefined> {
  const ec2 = clients.create(EC2Client, read.target);
  const claimedName = profileName(claimed);
  const early = claimedName === undefined ? undefined : instanceProfile(clients, read, claimedName).catch(() => undefined);
  const live = await attempt(read, () => liveProfileAssociation(ec2, instanceId));
  const arn = live?.IamInstanceProfile?.Arn;
  if (live?.AssociationId === undefined || arn === undefined) return undefined;
  const name = profileName(arn);
  if (name === undefined) return { arn, associationId: live.AssociationId };
  const prefetched = await early;
  const profile = prefetched?.Arn === arn ? prefetched : await instanceProfile(clients, read, name);
  const role = profile?.Roles?.[0];
  return {
    arn,
    associationId: live.AssociationId,
    ...(role?.RoleName === undefined || role.Arn === undefined ? {} : { role: { name: role.RoleName, arn: role.Arn } }),
  };
}

function instanceFacts(instance: Instance, profile: InstanceProfileFacts | undefined): InstanceFacts {
  const networkInterfaces = (instance.NetworkInterfaces ?? [])
    .filter((eni) => eni.NetworkInterfaceId !== undefined)
    .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
    .map((eni) => ({
      id: eni.NetworkInterfaceId as string,
      securityGroupIds: (eni.Groups ?? []).map((group) => group.GroupId).filter(present),
      ...(eni.SubnetId === undefined ? {} : { subnetId: eni.SubnetId }),
      ...(eni.VpcId === undefined ? {} : { vpcId: eni.VpcId }),
    }));
  const groups = networkInterfaces.length > 0 ? networkInterfaces.flatMap((eni) => eni.securityGroupIds) : (instance.SecurityGroups ?? []).map((group) => group.GroupId).filter(present);
  return {
    state: instance.State?.Name ?? 'unknown',
    tags: tagsOf(instance.Tags),
    ...(instance.VpcId === undefined ? {} : { vpcId: instance.VpcId }),
    ...(instance.SubnetId === undefined ? {} : { subnetId: instance.SubnetId }),
    networkInterfaces,
    securityGroupIds: [...new Set(groups)],
    volumeIds: (instance.BlockDeviceMappings ?? []).map((mapping) => mapping.Ebs?.VolumeId).filter(present),
    ...(profile === undefined ? {} : { profile }),
  };
}

/**
 * The member account as it is now, read through the member role in
 * `target`'s account and region: one DescribeInstances gives an instance's
 * tags, interfaces, groups and volumes; its profile association and the
 * profile's role are read beside it.
 */
export function memberLiveView(clients: MemberClients, target: MemberTarget): LiveView {
  return {
    async instance(instanceId, resource) {
      const read: Read = { target, resource };
      // The association read answers an unknown instance with an empty list: it runs beside DescribeInstances, which says whether the instance exists.
      const [instance, profile] = await Promise.all([describeInstance(clients, read, instanceId), liveProfile(clients, read, instanceId, resource.iamRole?.instanceProfileArn)]);
      return instance === undefined ? undefined : instanceFacts(instance, profile);
    },
    async securityGroup(groupId, resource) {
      const group = await describeSecurityGroup(clients, { target, resource }, groupId);
      return group === undefined ? undefined : { name: group.GroupName ?? groupId, tags: tagsOf(group.Tags), ...(group.VpcId === undefined ? {} : { vpcId: group.VpcId }) };
    },
    tags: (resource) => readResourceTags(clients, target, resource),
  };
}
