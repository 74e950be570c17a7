import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client, type Tag as Ec2Tag } from '@aws-sdk/client-ec2';
import { IAMClient, paginateListRoleTags, paginateListUserTags, type Tag as IamTag } from '@aws-sdk/client-iam';

import { instanceIdIn, parseArn, securityGroupIdIn } from '../aws-names.js';
import type { MemberClients, MemberTarget } from '../aws/index.js';
import { errorName, isRetryableError, RiposteError } from '../errors.js';
import type { Resource } from '../intake/index.js';
import { ResourceTagsUnreadableError } from './errors.js';

/** What the guard learned of a resource's tags: its tags as they are now, or that the resource type has none. */
export type ResourceTags = { readonly kind: 'tags'; readonly tags: Readonly<Record<string, string>> } | { readonly kind: 'untaggable'; readonly reason: string };

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

async function instanceTags(clients: MemberClients, read: Read): Promise<Record<string, string>> {
  const { resource, target } = read;
  const instanceId = required(read, resource.instanceId ?? instanceIdIn(resource.arn) ?? instanceIdIn(resource.id), 'instance');
  const ec2 = clients.create(EC2Client, target);
  const { Reservations } = await attempt(read, () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
  const instance = Reservations?.flatMap((reservation) => reservation.Instances ?? []).find((candidate) => candidate.InstanceId === instanceId);
  if (instance === undefined) throw unreadable(read, `instance ${instanceId} does not exist`, { awsError: 'InvalidInstanceID.NotFound' });
  return tagsOf(instance.Tags);
}

async function securityGroupTags(clients: MemberClients, read: Read): Promise<Record<string, string>> {
  const { resource, target } = read;
  const groupId = required(read, securityGroupIdIn(resource.arn) ?? securityGroupIdIn(resource.id) ?? resource.securityGroupIds[0], 'security group');
  const ec2 = clients.create(EC2Client, target);
  const { SecurityGroups } = await attempt(read, () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })));
  const group = SecurityGroups?.find((candidate) => candidate.GroupId === groupId);
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
