import * as z from './zod.js';

/**
 * AWS's own naming: account ids, regions, partitions, ARNs, and Security
 * Hub's resource type names. Shared by intake, the AWS clients, actions,
 * the ledger and configuration, so it sits below all of them.
 */

/** The AWS partitions Riposte supports. */
export const Partition = { Aws: 'aws', GovCloud: 'aws-us-gov', China: 'aws-cn' } as const;
export type Partition = (typeof Partition)[keyof typeof Partition];

/** 12 digits, as every AWS account id. */
export const accountIdSchema = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));

/** `us-east-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-5`, `eusc-de-east-1`. */
export const REGION_PATTERN = /^[a-z]{2,4}(-gov|-iso[a-z]?)?(-[a-z]+)+-\d{1,2}$/;
export const regionSchema = z.string().check(z.regex(REGION_PATTERN, 'must be an AWS region such as us-east-1'));

export const PARTITIONS: readonly Partition[] = Object.values(Partition);
export const partitionSchema = z.enum(PARTITIONS as [Partition, ...Partition[]], {
  error: `must be one of ${PARTITIONS.join(', ')}`,
});

/**
 * Every region of each partition Riposte supports, as the AWS SDK's own
 * partition table lists them (`@aws-sdk/core` util-endpoints
 * `partitions.json`, the same list as AWS's "Regions and Availability
 * Zones" documentation, plus regions announced with endpoints). A region
 * named in a finding is checked against this before any client or role
 * session is made for it: a region string is otherwise anything a finding's
 * author typed, and each new one would cost a client and an AssumeRole.
 * A region AWS opens later is added here (a test compares the list with the
 * SDK's table).
 */
export const KNOWN_REGIONS: Readonly<Record<Partition, readonly string[]>> = Object.freeze({
  aws: Object.freeze([
    'af-south-1',
    'ap-east-1',
    'ap-east-2',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-6',
    'ap-southeast-7',
    'ca-central-1',
    'ca-west-1',
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-central-1',
    'me-south-1',
    'me-west-1',
    'mx-central-1',
    'sa-east-1',
    'sa-west-1',
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
  ]),
  'aws-cn': Object.freeze(['cn-north-1', 'cn-northwest-1']),
  'aws-us-gov': Object.freeze(['us-gov-east-1', 'us-gov-west-1']),
});

const KNOWN_REGION_SETS: ReadonlyMap<string, ReadonlySet<string>> = new Map(Object.entries(KNOWN_REGIONS).map(([partition, regions]) => [partition, new Set(regions)]));

/** Whether `region` is one of `partition`'s regions (false for a partition Riposte does not support). */
export function isKnownRegion(partition: string, region: string): boolean {
  return KNOWN_REGION_SETS.get(partition)?.has(region) ?? false;
}

/** The partition a region belongs to. */
export function partitionOfRegion(region: string): Partition {
  if (region.startsWith('us-gov-')) return Partition.GovCloud;
  if (region.startsWith('cn-')) return Partition.China;
  return Partition.Aws;
}

export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

/** Splits an ARN; `undefined` when the text is not one. */
export function parseArn(text: string | undefined): ParsedArn | undefined {
  if (text === undefined || !text.startsWith('arn:')) return undefined;
  const parts = text.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

/** `name` as a partition, if it is one Riposte supports. */
export const partitionNamed = (name: string | undefined): Partition | undefined => PARTITIONS.find((known) => known === name);

/** The partition an ARN names, if it is one Riposte supports. */
export function partitionOfArn(arn: string | undefined): Partition | undefined {
  return partitionNamed(parseArn(arn)?.partition);
}

const INSTANCE_ID = /\b(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b/;
const SECURITY_GROUP_ID = /\b(sg-[0-9a-f]{8}(?:[0-9a-f]{9})?)\b/;

/** `arn:aws:ec2:us-east-1:111122223333:instance/i-0abc…` or a bare id -> `i-0abc…`. */
export function instanceIdIn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const arn = parseArn(text);
  if (arn !== undefined) return arn.service === 'ec2' && arn.resource.startsWith('instance/') ? INSTANCE_ID.exec(arn.resource)?.[1] : undefined;
  return INSTANCE_ID.exec(text)?.[1] === text ? text : undefined;
}

export function securityGroupIdIn(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const arn = parseArn(text);
  if (arn !== undefined) return arn.service === 'ec2' && arn.resource.startsWith('security-group/') ? SECURITY_GROUP_ID.exec(arn.resource)?.[1] : undefined;
  return SECURITY_GROUP_ID.exec(text)?.[1] === text ? text : undefined;
}

export function ec2Arn(partition: Partition, region: string, account: string, kind: 'instance' | 'security-group', id: string): string {
  return `arn:${partition}:ec2:${region}:${account}:${kind}/${id}`;
}

/**
 * CloudFormation-style names (AWS Config, OCSF) to Security Hub's:
 * `AWS::EC2::Instance` -> `AwsEc2Instance`, `AWS::::Account` -> `AwsAccount`.
 * Security Hub's names follow this rule for nearly every type; the table holds
 * the ones that do not.
 */
const CFN_TO_ASFF_EXCEPTIONS: Readonly<Record<string, string>> = {
  'AWS::EC2::EIP': 'AwsEc2Eip',
  'AWS::EC2::VPC': 'AwsEc2Vpc',
  'AWS::IAM::AccessKey': 'AwsIamAccessKey',
  'AWS::RDS::DBInstance': 'AwsRdsDbInstance',
  'AWS::RDS::DBCluster': 'AwsRdsDbCluster',
  'AWS::RDS::DBSnapshot': 'AwsRdsDbSnapshot',
  'AWS::KMS::Key': 'AwsKmsKey',
  'AWS::SNS::Topic': 'AwsSnsTopic',
  'AWS::SQS::Queue': 'AwsSqsQueue',
};

export function asffResourceType(cfnType: string): string {
  const exception = CFN_TO_ASFF_EXCEPTIONS[cfnType];
  if (exception !== undefined) return exception;
  const parts = cfnType.split('::').filter((part) => part !== '');
  if (parts.length < 2 || parts[0] !== 'AWS') return 'Other';
  // The service is title-cased (EC2 -> Ec2, IAM -> Iam); the type keeps its own case.
  const [, service, ...type] = parts as [string, string, ...string[]];
  if (type.length === 0) return `Aws${service}`;
  return `Aws${service.charAt(0)}${service.slice(1).toLowerCase()}${type.join('')}`;
}

/** An IAM principal ARN without wildcards: an account's root, a role (with its path) or a user. */
export const PRINCIPAL_ARN = /^arn:aws[\w-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/;

/** Who may call the on-demand API: accounts (any principal of theirs) and IAM principals, as the `apiPrincipals` stage parameter names them. */
export interface PrincipalList {
  readonly accounts: readonly string[];
  readonly arns: readonly string[];
}

/** `apiPrincipals` (comma-separated 12-digit account ids and IAM principal ARNs) as a list, with the entries that are neither. */
export function parsePrincipalList(text: string): { readonly list: PrincipalList; readonly refused: readonly string[] } {
  const accounts: string[] = [];
  const arns: string[] = [];
  const refused: string[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    if (/^\d{12}$/.test(entry)) accounts.push(entry);
    else if (PRINCIPAL_ARN.test(entry)) arns.push(entry);
    else refused.push(entry);
  }
  return { list: { accounts, arns }, refused };
}

/**
 * Whether the API's resource policy admits `caller` (the `userArn` API
 * Gateway puts in the request context once it has checked the signature):
 * a principal of a listed account, or a listed principal (`aws:PrincipalArn`:
 * an assumed-role session is its role, named without its path in the
 * session's ARN, and a role's name is unique in its account). An empty list
 * admits the API's own account only, as the deployed policy does.
 */
export function principalAdmits(list: PrincipalList, caller: string, ownAccount: string): boolean {
  const match = /^arn:(aws[\w-]*):(iam|sts)::(\d{12}):(.+)$/.exec(caller);
  if (match === null) return false;
  const [, partition, service, account, resource] = match as unknown as [string, string, string, string, string];
  if (list.accounts.length === 0 && list.arns.length === 0) return account === ownAccount;
  if (list.accounts.includes(account)) return true;
  const session = service === 'sts' ? /^assumed-role\/([\w+=,.@-]+)\/[^/]+$/.exec(resource) : null;
  return list.arns.some((arn) => {
    if (service === 'iam') return arn === caller;
    if (session === null) return false;
    const prefix = `arn:${partition}:iam::${account}:role/`;
    return arn.startsWith(prefix) && arn.split('/').at(-1) === session[1];
  });
}
