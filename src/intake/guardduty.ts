import * as z from '../zod.js';

import { accountIdSchema, ec2Arn, instanceIdIn, parseArn, partitionOfRegion, partitionSchema, regionSchema, type Partition } from '../aws-names.js';
import { MalformedEventError } from './errors.js';
import { parseOrThrow } from './field-path.js';
import type { ParsedEnvelope } from './envelope.js';
import { guardDutySample } from './sample.js';
import { guardDutySeverity } from './severity.js';
import { ec2Id, present, readTime, Refusals } from './values.js';
import { FindingFormat, FindingSource, RecordState, WorkflowStatus, type Finding, type IntakeResult, type NetworkInterface, type Resource } from './types.js';

// Built on first use, not when the module loads: a cold start builds only the schemas of the formats its events use (src/zod.ts, `deferred`).
const schemas = z.deferred(() => {
  const tagListSchema = z.optional(z.array(z.looseObject({ key: z.string(), value: z.optional(z.nullable(z.string())) })));

  const networkInterfaceSchema = z.looseObject({
    networkInterfaceId: z.optional(z.string()),
    privateIpAddress: z.optional(z.string()),
    privateIpAddresses: z.optional(z.array(z.looseObject({ privateIpAddress: z.optional(z.string()) }))),
    ipv6Addresses: z.optional(z.array(z.string())),
    publicIp: z.optional(z.string()),
    securityGroups: z.optional(z.array(z.looseObject({ groupId: z.optional(z.string()), groupName: z.optional(z.string()) }))),
    subnetId: z.optional(z.string()),
    vpcId: z.optional(z.string()),
  });

  const instanceDetailsSchema = z.looseObject({
    instanceId: z.string().check(z.regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'must be an EC2 instance id (i-…)')),
    iamInstanceProfile: z.optional(z.nullable(z.looseObject({ arn: z.optional(z.string()), id: z.optional(z.string()) }))),
    networkInterfaces: z.optional(z.array(networkInterfaceSchema)),
    tags: tagListSchema,
  });

  const accessKeyDetailsSchema = z.looseObject({
    accessKeyId: z.optional(z.string()),
    principalId: z.optional(z.string()),
    userName: z.optional(z.string()),
    userType: z.optional(z.string()),
  });

  const s3BucketSchema = z.looseObject({
    arn: z.optional(z.string()),
    name: z.optional(z.string()),
    tags: tagListSchema,
  });

  /** GuardDuty's own finding schema (the `detail` of a `GuardDuty Finding` event), the parts Riposte reads. */
  const guardDutyDetailSchema = z.looseObject({
    schemaVersion: z.optional(z.string()),
    accountId: accountIdSchema,
    region: regionSchema,
    partition: z.optional(partitionSchema),
    id: z.string().check(z.minLength(1)),
    arn: z.optional(z.string()),
    type: z.string().check(z.minLength(1)),
    title: z._default(z.string(), ''),
    description: z.optional(z.string()),
    severity: z.number().check(z.minimum(0), z.maximum(10)),
    createdAt: z.optional(z.string()),
    updatedAt: z.optional(z.string()),
    resource: z.looseObject({
      resourceType: z.string().check(z.minLength(1)),
      instanceDetails: z.optional(instanceDetailsSchema),
      accessKeyDetails: z.optional(accessKeyDetailsSchema),
      s3BucketDetails: z.optional(z.array(s3BucketSchema)),
    }),
    service: z.optional(
      z.looseObject({
        archived: z.optional(z.boolean()),
        detectorId: z.optional(z.string()),
        // `{ value: "<JSON text>", type }` in current events, an object of flags in older ones: read by guardDutySample.
        additionalInfo: z.optional(z.unknown()),
      }),
    ),
  });
  return { tagListSchema, networkInterfaceSchema, instanceDetailsSchema, accessKeyDetailsSchema, s3BucketSchema, guardDutyDetailSchema };
});
type Schemas = ReturnType<typeof schemas>;
type GuardDutyDetail = z.infer<Schemas['guardDutyDetailSchema']>;

/** GuardDuty resource types -> Security Hub's names (as GuardDuty uses when it sends to Security Hub). */
const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  Instance: 'AwsEc2Instance',
  AccessKey: 'AwsIamAccessKey',
  S3Bucket: 'AwsS3Bucket',
  EKSCluster: 'AwsEksCluster',
  ECSCluster: 'AwsEcsCluster',
  Container: 'Container',
  Lambda: 'AwsLambdaFunction',
  RDSDBInstance: 'AwsRdsDbInstance',
  RDSLimitlessDB: 'AwsRdsDbCluster',
  EC2NetworkInterface: 'AwsEc2NetworkInterface',
};

const tagsOf = (tags: z.infer<Schemas['tagListSchema']>): Record<string, string> | undefined => (tags === undefined ? undefined : Object.fromEntries(tags.map(({ key, value }) => [key, value ?? ''])));

/** An instance profile ARN, never GuardDuty's "null" placeholder or other text. */
const instanceProfileArn = (value: string | undefined): string | undefined => {
  const arn = present(value);
  const parsed = parseArn(arn);
  return parsed?.service === 'iam' && parsed.resource.startsWith('instance-profile/') ? arn : undefined;
};

/**
 * The instance a finding names. GuardDuty also names it in the event's
 * `resources` on some deliveries: an EC2 instance ARN there that names
 * another instance disputes the resource.
 */
function instanceResource(detail: GuardDutyDetail, instance: z.infer<Schemas['instanceDetailsSchema']>, partition: Partition, eventResources: readonly string[]): Resource {
  const interfaces: NetworkInterface[] = (instance.networkInterfaces ?? []).map((eni) => {
    const privateIps = new Set<string>();
    const primary = present(eni.privateIpAddress);
    if (primary !== undefined) privateIps.add(primary);
    for (const address of eni.privateIpAddresses ?? []) {
      const ip = present(address.privateIpAddress);
      if (ip !== undefined) privateIps.add(ip);
    }
    const id = ec2Id('eni', eni.networkInterfaceId);
    const publicIp = present(eni.publicIp);
    const subnetId = ec2Id('subnet', eni.subnetId);
    const vpcId = ec2Id('vpc', eni.vpcId);
    return {
      ...(id === undefined ? {} : { id }),
      ipv4Addresses: [...privateIps],
      ipv6Addresses: (eni.ipv6Addresses ?? []).flatMap((address) => present(address) ?? []),
      ...(publicIp === undefined ? {} : { publicIp }),
      securityGroupIds: (eni.securityGroups ?? []).flatMap((group) => ec2Id('sg', group.groupId) ?? []),
      ...(subnetId === undefined ? {} : { subnetId }),
      ...(vpcId === undefined ? {} : { vpcId }),
    };
  });
  const first = interfaces[0];
  const tags = tagsOf(instance.tags);
  const profileArn = instanceProfileArn(instance.iamInstanceProfile?.arn);
  const arn = ec2Arn(partition, detail.region, detail.accountId, 'instance', instance.instanceId);
  const disputed = eventResources
    .filter((resource) => instanceIdIn(resource) !== undefined && resource !== arn)
    .map((resource) => `detail.resource.instanceDetails.instanceId names ${JSON.stringify(instance.instanceId)} (${arn}) but the event's resources name ${JSON.stringify(resource)}`);
  return {
    type: 'AwsEc2Instance',
    nativeType: 'Instance',
    id: arn,
    arn,
    account: detail.accountId,
    region: detail.region,
    partition,
    ...(tags === undefined ? {} : { tags }),
    instanceId: instance.instanceId,
    ...(disputed.length === 0 ? {} : { disputed }),
    securityGroupIds: [...new Set(interfaces.flatMap((eni) => eni.securityGroupIds))],
    ...(first?.vpcId === undefined ? {} : { vpcId: first.vpcId }),
    ...(first?.subnetId === undefined ? {} : { subnetId: first.subnetId }),
    networkInterfaces: interfaces,
    ...(profileArn === undefined ? {} : { iamRole: { instanceProfileArn: profileArn } }),
  };
}

function resourcesOf(detail: GuardDutyDetail, partition: Partition, eventResources: readonly string[]): Resource[] {
  const { resource } = detail;
  const base = { account: detail.accountId, region: detail.region, partition, securityGroupIds: [], networkInterfaces: [] };
  const resources: Resource[] = [];
  if (resource.instanceDetails !== undefined) resources.push(instanceResource(detail, resource.instanceDetails, partition, eventResources));
  const key = resource.accessKeyDetails;
  // GuardDuty fills access key details with "null" where no key applies.
  const accessKeyId = present(key?.accessKeyId);
  const userName = present(key?.userName);
  const principalId = present(key?.principalId);
  const userType = present(key?.userType);
  if (accessKeyId !== undefined || userName !== undefined) {
    const accessKey = {
      ...(accessKeyId === undefined ? {} : { id: accessKeyId }),
      ...(principalId === undefined ? {} : { principalId }),
      ...(userName === undefined ? {} : { userName }),
      ...(userType === undefined ? {} : { userType }),
    };
    resources.push({
      ...base,
      type: 'AwsIamAccessKey',
      nativeType: 'AccessKey',
      id: `AWS::IAM::AccessKey:${accessKeyId ?? userName}`,
      accessKey,
      // For an assumed role the "user name" GuardDuty reports is the role's name.
      ...(userType === 'AssumedRole' && userName !== undefined ? { iamRole: { name: userName } } : {}),
    });
  }
  for (const bucket of resource.s3BucketDetails ?? []) {
    const tags = tagsOf(bucket.tags);
    const bucketName = present(bucket.name);
    const id = present(bucket.arn) ?? (bucketName === undefined ? undefined : `arn:${partition}:s3:::${bucketName}`);
    if (id === undefined) continue;
    resources.push({ ...base, type: 'AwsS3Bucket', nativeType: 'S3Bucket', id, arn: id, ...(tags === undefined ? {} : { tags }) });
  }
  if (resources.length === 0) {
    // A resource type Riposte has no details reader for: keep it typed, identified by the finding.
    resources.push({
      ...base,
      type: RESOURCE_TYPES[resource.resourceType] ?? 'Other',
      nativeType: resource.resourceType,
      id: detail.arn ?? detail.id,
    });
  }
  return resources;
}

/** A native `GuardDuty Finding` event: one finding, GuardDuty's schema. */
export function readGuardDutyFinding(parsed: ParsedEnvelope): IntakeResult {
  const source = parsed.envelope.source;
  const detail = parseOrThrow(schemas().guardDutyDetailSchema, parsed.detail, (message, field) => new MalformedEventError(message, source, field), 'detail');
  const partition = detail.partition ?? partitionOfRegion(detail.region);
  const sample = guardDutySample(detail.service?.additionalInfo);
  const refusals = new Refusals();
  const createdAt = refusals.time(readTime(detail.createdAt, 'detail.createdAt'));
  const updatedAt = refusals.time(readTime(detail.updatedAt, 'detail.updatedAt'));
  const finding: Finding = {
    id: detail.id,
    source: FindingSource.GuardDuty,
    format: FindingFormat.GuardDuty,
    product: { id: 'guardduty', owner: 'aws', name: 'GuardDuty', company: 'Amazon', ...(detail.arn === undefined ? {} : { arn: detail.arn }) },
    title: detail.title,
    ...(detail.description === undefined ? {} : { description: detail.description }),
    types: [detail.type],
    severity: guardDutySeverity(detail.severity),
    // GuardDuty has no workflow of its own; archiving is its only state.
    workflow: WorkflowStatus.New,
    recordState: detail.service?.archived === true ? RecordState.Archived : RecordState.Active,
    account: detail.accountId,
    region: detail.region,
    partition,
    resources: resourcesOf(detail, partition, parsed.envelope.resources),
    trigger: { kind: 'automatic' },
    ...(sample === undefined ? {} : { sample }),
    ...refusals.spread(),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    raw: { envelope: parsed.envelope, record: parsed.detail },
  };
  return { envelope: parsed.envelope, findings: [finding], rejected: [] };
}
