import { parseArn } from '../aws-names.js';

/*
 * What kind of resource an identifier names, read from its shape alone. A
 * finding's `Type` says one thing, its `Id` (or OCSF `uid` / `uid_alt`)
 * another: when both are clear and they disagree, the resource is disputed
 * and nothing is derived from the id (no role yields an instance id).
 */

/** The kinds Riposte acts on, and so must never mistake for one another. */
export type ResourceKind = 'instance' | 'security-group' | 'network-interface' | 'iam-role' | 'access-key' | 'account';

/** The kind each Security Hub type name stands for (types Riposte does not act on have none). */
export const KIND_OF_TYPE: Readonly<Record<string, ResourceKind>> = {
  AwsEc2Instance: 'instance',
  AwsEc2SecurityGroup: 'security-group',
  AwsEc2NetworkInterface: 'network-interface',
  AwsIamRole: 'iam-role',
  AwsIamAccessKey: 'access-key',
  AwsAccount: 'account',
};

const BARE: ReadonlyArray<readonly [RegExp, ResourceKind]> = [
  [/^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'instance'],
  [/^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'security-group'],
  [/^eni-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'network-interface'],
  [/^AWS::IAM::AccessKey:/, 'access-key'],
  [/^AWS::::Account:/, 'account'],
];

/** ARNs of the kinds Riposte acts on: service, resource pattern. An EC2 ARN counts only with a well-formed id. */
const ARN_KINDS: ReadonlyArray<readonly [string, RegExp, ResourceKind]> = [
  ['ec2', /^instance\/i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'instance'],
  ['ec2', /^security-group\/sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'security-group'],
  ['ec2', /^network-interface\/eni-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, 'network-interface'],
  ['iam', /^role\/./, 'iam-role'],
];

/** The kinds whose resources are named by ARN: a typed resource whose ARN names none of its kind is disputed. */
const ARN_NAMED: ReadonlySet<ResourceKind> = new Set(['instance', 'security-group', 'network-interface', 'iam-role']);

/** The kind `id` names by its shape (an ARN or a bare EC2 id), if it is one of {@link ResourceKind}. */
export function kindOfId(id: string | undefined): ResourceKind | undefined {
  if (id === undefined) return undefined;
  const arn = parseArn(id);
  if (arn !== undefined) return ARN_KINDS.find(([service, pattern]) => arn.service === service && pattern.test(arn.resource))?.[2];
  return BARE.find(([pattern]) => pattern.test(id))?.[1];
}

const NOUN: Readonly<Record<ResourceKind, string>> = {
  instance: 'EC2 instance',
  'security-group': 'security group',
  'network-interface': 'network interface',
  'iam-role': 'IAM role',
  'access-key': 'access key',
  account: 'account',
};

const ARTICLE: Readonly<Record<ResourceKind, string>> = {
  instance: 'an EC2 instance',
  'security-group': 'a security group',
  'network-interface': 'a network interface',
  'iam-role': 'an IAM role',
  'access-key': 'an access key',
  account: 'an account',
};

/**
 * Where the type (`typeField` = `type`, Security Hub's name; `sentType` as
 * the finding wrote it) and the id (`idField` = `id`) disagree about what the
 * resource is: the reason, naming both. Ids of no
 * recognisable kind, and types Riposte does not act on, agree with anything,
 * except that a typed AWS resource named by an id of a kind Riposte acts on
 * (an `AwsS3Bucket` whose id is an instance) is a disagreement too.
 */
export function typeIdDispute(typeField: string, type: string, idField: string, id: string | undefined, sentType: string = type): string | undefined {
  if (id === undefined) return undefined;
  const idKind = kindOfId(id);
  const typeKind = Object.hasOwn(KIND_OF_TYPE, type) ? KIND_OF_TYPE[type] : undefined;
  if (typeKind === idKind) return undefined;
  if (idKind === undefined) {
    // An ARN of something else under a type Riposte acts on (a volume ARN typed
    // as an instance): the ARN would key the change limit while the target came
    // from elsewhere.
    return typeKind !== undefined && ARN_NAMED.has(typeKind) && parseArn(id) !== undefined ? `${typeField} is ${sentType} but ${idField} ${JSON.stringify(id)} names no ${NOUN[typeKind]}` : undefined;
  }
  if (typeKind === undefined && !/^Aws[A-Z]/.test(type)) return undefined;
  return `${typeField} is ${sentType} but ${idField} ${JSON.stringify(id)} names ${ARTICLE[idKind]}`;
}

/** The reason two fields name different values for one thing, or nothing when they agree (or one is unknown). */
export function valueDispute(leftField: string, left: string | undefined, rightField: string, right: string | undefined): string | undefined {
  if (left === undefined || right === undefined || left === right) return undefined;
  return `${leftField} names ${JSON.stringify(left)} but ${rightField} names ${JSON.stringify(right)}`;
}
