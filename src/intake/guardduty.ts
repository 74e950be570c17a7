import { z } from 'zod';

import { accountIdSchema, ec2Arn, partitionOfRegion, partitionSchema, regionSchema, type Partition } from '../aws-names.js';
import { MalformedEventError } from './errors.js';
import { parseOrThrow } from './field-path.js';
import type { ParsedEnvelope } from './envelope.js';
import { guardDutySeverity } from './severity.js';
import { FindingFormat, FindingSource, RecordState, WorkflowStatus, type Finding, type IntakeResult, type NetworkInterface, type Resource } from './types.js';

const tagListSchema = z.array(z.looseObject({ key: z.string(), value: z.string().nullable().optional() })).optional();

const networkInterfaceSchema = z.looseObject({
  networkInterfaceId: z.string().optional(),
  privateIpAddress: z.string().optional(),
  privateIpAddresses: z.array(z.looseObject({ privateIpAddress: z.string().optional() })).optional(),
  ipv6Addresses: z.array(z.string()).optional(),
  publicIp: z.string().optional(),
  securityGroups: z.array(z.looseObject({ groupId: z.string().optional(), groupName: z.string().optional() })).optional(),
  subnetId: z.string().optional(),
  vpcId: z.string().optional(),
});

const instanceDetailsSchema = z.looseObject({
  instanceId: z.string().regex(/^i-[0-9a-f]{8}([0-9a-f]{9})?$/, 'must be an EC2 instance id (i-…)'),
  iamInstanceProfile: z.looseObject({ arn: z.string().optional(), id: z.string().optional() }).nullable().optional(),
  networkInterfaces: z.array(networkInterfaceSchema).optional(),
  tags: tagListSchema,
});

const accessKeyDetailsSchema = z.looseObject({
  accessKeyId: z.string().optional(),
  principalId: z.string().optional(),
  userName: z.string().optional(),
  userType: z.string().optional(),
});

const s3BucketSchema = z.looseObject({
  arn: z.string().optional(),
  name: z.string().optional(),
  tags: tagListSchema,
});

/** GuardDuty's own finding schema (the `detail` of a `GuardDuty Finding` event), the parts Riposte reads. */
const guardDutyDetailSchema = z.looseObject({
  schemaVersion: z.string().optional(),
  accountId: accountIdSchema,
  region: regionSchema,
  partition: partitionSchema.optional(),
  id: z.string().min(1),
  arn: z.string().optional(),
  type: z.string().min(1),
  title: z.string().default(''),
  description: z.string().optional(),
  severity: z.number().min(0).max(10),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  resource: z.looseObject({
    resourceType: z.string().min(1),
    instanceDetails: instanceDetailsSchema.optional(),
    accessKeyDetails: accessKeyDetailsSchema.optional(),
    s3BucketDetails: z.array(s3BucketSchema).optional(),
  }),
  service: z
    .looseObject({
      archived: z.boolean().optional(),
      detectorId: z.string().optional(),
    })
    .optional(),
});
type GuardDutyDetail = z.infer<typeof guardDutyDetailSchema>;

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

const tagsOf = (tags: z.infer<typeof tagListSchema>): Record<string, string> | undefined => (tags === undefined ? undefined : Object.fromEntries(tags.map(({ key, value }) => [key, value ?? ''])));

function instanceResource(detail: GuardDutyDetail, instance: z.infer<typeof instanceDetailsSchema>, partition: Partition): Resource {
  const interfaces: NetworkInterface[] = (instance.networkInterfaces ?? []).map((eni) => {
    const privateIps = new Set<string>();
    if (eni.privateIpAddress !== undefined) privateIps.add(eni.privateIpAddress);
    for (const address of eni.privateIpAddresses ?? []) if (address.privateIpAddress !== undefined) privateIps.add(address.privateIpAddress);
    return {
      ...(eni.networkInterfaceId === undefined ? {} : { id: eni.networkInterfaceId }),
      ipv4Addresses: [...privateIps],
      ipv6Addresses: eni.ipv6Addresses ?? [],
      ...(eni.publicIp === undefined ? {} : { publicIp: eni.publicIp }),
      securityGroupIds: (eni.securityGroups ?? []).flatMap((group) => (group.groupId === undefined ? [] : [group.groupId])),
      ...(eni.subnetId === undefined ? {} : { subnetId: eni.subnetId }),
      ...(eni.vpcId === undefined ? {} : { vpcId: eni.vpcId }),
    };
  });
  const first = interfaces[0];
  const tags = tagsOf(instance.tags);
  const profileArn = instance.iamInstanceProfile?.arn;
  const arn = ec2Arn(partition, detail.region, detail.accountId, 'instance', instance.instanceId);
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
    securityGroupIds: [...new Set(interfaces.flatMap((eni) => eni.securityGroupIds))],
    ...(first?.vpcId === undefined ? {} : { vpcId: first.vpcId }),
    ...(first?.subnetId === undefined ? {} : { subnetId: first.subnetId }),
    networkInterfaces: interfaces,
    ...(profileArn === undefined ? {} : { iamRole: { instanceProfileArn: profileArn } }),
  };
}

function resourcesOf(detail: GuardDutyDetail, partition: Partition): Resource[] {
  const { resource } = detail;
  const base = { account: detail.accountId, region: detail.region, partition, securityGroupIds: [], networkInterfaces: [] };
  const resources: Resource[] = [];
  if (resource.instanceDetails !== undefined) resources.push(instanceResource(detail, resource.instanceDetails, partition));
  const key = resource.accessKeyDetails;
  if (key !== undefined && (key.accessKeyId !== undefined || key.userName !== undefined)) {
    const accessKey = {
      ...(key.accessKeyId === undefined ? {} : { id: key.accessKeyId }),
      ...(key.principalId === undefined ? {} : { principalId: key.principalId }),
      ...(key.userName === undefined ? {} : { userName: key.userName }),
      ...(key.userType === undefined ? {} : { userType: key.userType }),
    };
    resources.push({
      ...base,
      type: 'AwsIamAccessKey',
      nativeType: 'AccessKey',
      id: `AWS::IAM::AccessKey:${key.accessKeyId ?? key.userName}`,
      accessKey,
      // For an assumed role the "user name" GuardDuty reports is the role's name.
      ...(key.userType === 'AssumedRole' && key.userName !== undefined ? { iamRole: { name: key.userName } } : {}),
    });
  }
  for (const bucket of resource.s3BucketDetails ?? []) {
    const tags = tagsOf(bucket.tags);
    const id = bucket.arn ?? (bucket.name === undefined ? undefined : `arn:${partition}:s3:::${bucket.name}`);
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
  const detail = parseOrThrow(guardDutyDetailSchema, parsed.detail, (message, field) => new MalformedEventError(message, source, field), 'detail');
  const partition = detail.partition ?? partitionOfRegion(detail.region);
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
    resources: resourcesOf(detail, partition),
    trigger: { kind: 'automatic' },
    ...(detail.createdAt === undefined ? {} : { createdAt: detail.createdAt }),
    ...(detail.updatedAt === undefined ? {} : { updatedAt: detail.updatedAt }),
    raw: { envelope: parsed.envelope, record: parsed.detail },
  };
  return { envelope: parsed.envelope, findings: [finding], rejected: [] };
}
