import { z } from 'zod';

import { accountIdSchema, ec2Arn, instanceIdIn, parseArn, partitionOfArn, partitionOfRegion, partitionSchema, REGION_PATTERN, regionSchema, securityGroupIdIn, type Partition } from '../aws-names.js';
import { cisRulesOfRequirements, cisVersionOfStandard } from './cis.js';
import { readFindingBatch } from './finding-batch.js';
import type { ParsedEnvelope } from './envelope.js';
import { asffSeverity } from './severity.js';
import {
  FindingFormat,
  FindingSource,
  RecordState,
  WorkflowStatus,
  type Control,
  type Finding,
  type IntakeResult,
  type NetworkInterface,
  type ProductRef,
  type Resource,
  type Trigger,
} from './types.js';

const severityLabels = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const stringMap = z.record(z.string(), z.string());

const resourceSchema = z.looseObject({
  Type: z.string().min(1),
  Id: z.string().min(1),
  Partition: partitionSchema.optional(),
  Region: regionSchema.optional(),
  Tags: stringMap.optional(),
  Details: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The ASFF fields Riposte reads. Required ones are those Security Hub itself
 * requires on import; unknown fields pass through (kept in `raw`).
 */
const asffFindingSchema = z.looseObject({
  SchemaVersion: z.string().optional(),
  Id: z.string().min(1),
  ProductArn: z.string().startsWith('arn:', 'must be an ARN'),
  ProductName: z.string().optional(),
  CompanyName: z.string().optional(),
  GeneratorId: z.string().optional(),
  AwsAccountId: accountIdSchema,
  Region: regionSchema.optional(),
  Types: z.array(z.string()).default([]),
  CreatedAt: z.string().optional(),
  UpdatedAt: z.string().optional(),
  Severity: z
    .looseObject({
      Label: z.enum(severityLabels).optional(),
      Normalized: z.number().int().min(0).max(100).optional(),
      Original: z.string().optional(),
      Product: z.number().optional(),
    })
    .refine((severity) => severity.Label !== undefined || severity.Normalized !== undefined, 'needs Label or Normalized'),
  Title: z.string(),
  Description: z.string().optional(),
  ProductFields: stringMap.optional(),
  Resources: z.array(resourceSchema).min(1, 'must list at least one resource'),
  Compliance: z
    .looseObject({
      Status: z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE']).optional(),
      SecurityControlId: z.string().optional(),
      RelatedRequirements: z.array(z.string()).optional(),
      AssociatedStandards: z.array(z.looseObject({ StandardsId: z.string() })).optional(),
    })
    .optional(),
  Workflow: z.looseObject({ Status: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) }).optional(),
  WorkflowState: z.enum(['NEW', 'ASSIGNED', 'IN_PROGRESS', 'DEFERRED', 'RESOLVED']).optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  Note: z.looseObject({ Text: z.string(), UpdatedBy: z.string(), UpdatedAt: z.string().optional() }).optional(),
});
type AsffFinding = z.infer<typeof asffFindingSchema>;
type AsffResource = z.infer<typeof resourceSchema>;

/** `arn:aws:securityhub:us-east-1::product/aws/guardduty` -> id `guardduty`; partners -> `company/product`. */
function productOf(finding: AsffFinding): ProductRef {
  const resource = parseArn(finding.ProductArn)?.resource ?? '';
  const [, company = '', product = ''] = resource.split('/');
  const id = company === 'aws' ? product : `${company}/${product}`;
  return {
    id: id === '/' ? finding.ProductArn : id,
    owner: company === 'aws' ? 'aws' : 'third-party',
    name: finding.ProductName ?? product,
    ...(finding.CompanyName === undefined ? {} : { company: finding.CompanyName }),
    arn: finding.ProductArn,
  };
}

/** Old-style workflow states, for findings that predate `Workflow.Status`. */
const WORKFLOW_OF_STATE: Readonly<Record<string, WorkflowStatus>> = {
  NEW: WorkflowStatus.New,
  ASSIGNED: WorkflowStatus.Notified,
  IN_PROGRESS: WorkflowStatus.Notified,
  DEFERRED: WorkflowStatus.Suppressed,
  RESOLVED: WorkflowStatus.Resolved,
};

/** `arn:aws:securityhub:…:control/cis-aws-foundations-benchmark/v/1.2.0/1.9` -> standard + control id. */
function parseStandardsControlArn(arn: string | undefined): { standard: string; controlId: string } | undefined {
  const resource = parseArn(arn)?.resource;
  if (resource === undefined || !resource.startsWith('control/')) return undefined;
  const parts = resource.slice('control/'.length).split('/');
  const controlId = parts.pop();
  if (controlId === undefined || parts.length === 0) return undefined;
  return { standard: parts.join('/'), controlId };
}

function controlOf(finding: AsffFinding): Control | undefined {
  const fields = finding.ProductFields ?? {};
  const compliance = finding.Compliance;
  const standardsControlArn = fields.StandardsControlArn;
  const fromArn = parseStandardsControlArn(standardsControlArn);
  const standardControlId = fields.ControlId ?? fields.RuleId ?? fromArn?.controlId;
  const securityControlId = compliance?.SecurityControlId;
  const id = securityControlId ?? standardControlId;
  if (id === undefined) return undefined;

  const standards = new Set<string>();
  const addStandard = (text: string | undefined): void => {
    const match = text === undefined ? null : /(?:standards|ruleset)\/(.+)$/.exec(text);
    if (match?.[1] !== undefined) standards.add(match[1]);
  };
  for (const associated of compliance?.AssociatedStandards ?? []) addStandard(associated.StandardsId);
  addStandard(fields.StandardsArn);
  addStandard(fields.StandardsGuideArn);
  if (fromArn !== undefined) standards.add(fromArn.standard);

  const cisRules = new Set<string>();
  const cisVersion = [...standards].map(cisVersionOfStandard).find((version) => version !== undefined);
  if (cisVersion !== undefined && standardControlId !== undefined && /^\d+(\.\d+)+$/.test(standardControlId)) {
    cisRules.add(`${cisVersion}/${standardControlId}`);
  }
  const relatedRequirements = compliance?.RelatedRequirements ?? [];
  cisRulesOfRequirements(relatedRequirements).forEach((rule) => cisRules.add(rule));

  return {
    id,
    ...(securityControlId === undefined ? {} : { securityControlId }),
    ...(standardControlId === undefined ? {} : { standardControlId }),
    ...(standardsControlArn === undefined ? {} : { standardsControlArn }),
    standards: [...standards],
    cisRules: [...cisRules],
    relatedRequirements,
  };
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

function resourceOf(resource: AsffResource, finding: { account: string; region: string; partition: Partition }): Resource {
  const details = resource.Details ?? {};
  const arn = resource.Id.startsWith('arn:') ? resource.Id : undefined;
  const partition = resource.Partition ?? partitionOfArn(arn) ?? finding.partition;
  const region = resource.Region ?? finding.region;
  // An ARN names its own account (a resource shared from another account); ARNs
  // without one (S3 buckets) or with a non-account owner (`aws`) belong to the finding's.
  const arnAccount = parseArn(arn)?.account;
  const account = arnAccount !== undefined && /^\d{12}$/.test(arnAccount) ? arnAccount : finding.account;

  let instanceId = instanceIdIn(resource.Id);
  const securityGroupIds = new Set<string>();
  const networkInterfaces: NetworkInterface[] = [];
  let vpcId: string | undefined;
  let subnetId: string | undefined;
  let iamRole: Resource['iamRole'];

  const instance = record(details.AwsEc2Instance);
  if (resource.Type === 'AwsEc2Instance') {
    instanceId ??= instanceIdIn(str(instance.InstanceId));
    vpcId = str(instance.VpcId);
    subnetId = str(instance.SubnetId);
    const profile = str(instance.IamInstanceProfileArn);
    if (profile !== undefined) iamRole = { instanceProfileArn: profile };
    const ipv4 = strings(instance.IpV4Addresses);
    const ipv6 = strings(instance.IpV6Addresses);
    const interfaces = Array.isArray(instance.NetworkInterfaces) ? instance.NetworkInterfaces.map(record) : [];
    // ASFF lists the instance's addresses once, not per interface: with a single
    // interface they are that interface's; with several, they stay unassigned.
    interfaces.forEach((networkInterface, index) => {
      const id = str(networkInterface.NetworkInterfaceId);
      const only = interfaces.length === 1 && index === 0;
      networkInterfaces.push({
        ...(id === undefined ? {} : { id }),
        ipv4Addresses: only ? ipv4 : [],
        ipv6Addresses: only ? ipv6 : [],
        securityGroupIds: [],
        ...(subnetId === undefined ? {} : { subnetId }),
        ...(vpcId === undefined ? {} : { vpcId }),
      });
    });
    if (interfaces.length === 0 && (ipv4.length > 0 || ipv6.length > 0)) {
      networkInterfaces.push({ ipv4Addresses: ipv4, ipv6Addresses: ipv6, securityGroupIds: [] });
    }
  }

  const group = record(details.AwsEc2SecurityGroup);
  if (resource.Type === 'AwsEc2SecurityGroup') {
    const groupId = str(group.GroupId) ?? securityGroupIdIn(resource.Id);
    if (groupId !== undefined) securityGroupIds.add(groupId);
    vpcId = str(group.VpcId);
  }

  const eni = record(details.AwsEc2NetworkInterface);
  if (resource.Type === 'AwsEc2NetworkInterface') {
    const groups = Array.isArray(eni.SecurityGroups) ? eni.SecurityGroups.map(record) : [];
    const groupIds = groups.map((g) => str(g.GroupId)).filter((id): id is string => id !== undefined);
    groupIds.forEach((id) => securityGroupIds.add(id));
    instanceId ??= instanceIdIn(str(record(eni.Attachment).InstanceId));
    const eniId = str(eni.NetworkInterfaceId) ?? /network-interface\/(eni-[0-9a-f]+)/.exec(resource.Id)?.[1];
    networkInterfaces.push({
      ...(eniId === undefined ? {} : { id: eniId }),
      ipv4Addresses: [],
      ipv6Addresses: [],
      securityGroupIds: groupIds,
    });
  }

  if (resource.Type === 'AwsIamRole') {
    const role = record(details.AwsIamRole);
    const name = str(role.RoleName) ?? (arn !== undefined ? parseArn(arn)?.resource.split('/').pop() : undefined);
    iamRole = { ...(name === undefined ? {} : { name }), ...(arn === undefined ? {} : { arn }) };
  }

  let accessKey: Resource['accessKey'];
  if (resource.Type === 'AwsIamAccessKey') {
    const key = record(details.AwsIamAccessKey);
    const id = str(key.AccessKeyId) ?? /^AWS::IAM::AccessKey:(.+)$/.exec(resource.Id)?.[1];
    const userName = str(key.PrincipalName) ?? str(key.UserName);
    const userType = str(key.PrincipalType);
    const principalId = str(key.PrincipalId);
    accessKey = {
      ...(id === undefined ? {} : { id }),
      ...(userName === undefined ? {} : { userName }),
      ...(userType === undefined ? {} : { userType }),
      ...(principalId === undefined ? {} : { principalId }),
    };
    if (userType === 'AssumedRole' && userName !== undefined) iamRole = { name: userName };
  }

  const resolvedArn = arn ?? (resource.Type === 'AwsEc2Instance' && instanceId !== undefined ? ec2Arn(partition, region, account, 'instance', instanceId) : undefined);

  return {
    type: resource.Type,
    id: resource.Id,
    ...(resolvedArn === undefined ? {} : { arn: resolvedArn }),
    account,
    region,
    partition,
    ...(resource.Tags === undefined ? {} : { tags: resource.Tags }),
    ...(instanceId === undefined ? {} : { instanceId }),
    securityGroupIds: [...securityGroupIds],
    ...(vpcId === undefined ? {} : { vpcId }),
    ...(subnetId === undefined ? {} : { subnetId }),
    networkInterfaces,
    ...(iamRole === undefined ? {} : { iamRole }),
    ...(accessKey === undefined ? {} : { accessKey }),
  };
}

/**
 * GuardDuty writes its type into ASFF as the last part of a type path, with
 * its `/` turned into `-` (`Backdoor:EC2/C&CActivity.B!DNS` becomes
 * `TTPs/Command and Control/Backdoor:EC2-C&CActivity.B!DNS`). Recovering it
 * lets one playbook match GuardDuty findings from either channel.
 */
function guardDutyTypesOf(types: readonly string[]): string[] {
  return types.flatMap((type) => {
    const match = /^([A-Za-z]+:[A-Za-z0-9]+)-(.+)$/.exec(type.split('/').pop() ?? '');
    return match === null ? [] : [`${match[1]}/${match[2]}`];
  });
}

function normalize(finding: AsffFinding, parsed: ParsedEnvelope, index: number, trigger: Trigger, item: unknown): Finding {
  const productArn = parseArn(finding.ProductArn);
  const arnRegion = productArn?.region;
  // The envelope of a Security Hub event always names a region (parseEnvelope requires it).
  const region: string = finding.Region ?? (arnRegion !== undefined && REGION_PATTERN.test(arnRegion) ? arnRegion : undefined) ?? finding.Resources[0]?.Region ?? (parsed.envelope.region as string);
  const partition = partitionOfArn(finding.ProductArn) ?? finding.Resources[0]?.Partition ?? partitionOfRegion(region);
  const control = controlOf(finding);
  const product = productOf(finding);
  const types = product.id === 'guardduty' ? [...new Set([...finding.Types, ...guardDutyTypesOf(finding.Types)])] : finding.Types;
  const base = { account: finding.AwsAccountId, region, partition };
  return {
    id: finding.Id,
    source: FindingSource.SecurityHub,
    format: FindingFormat.Asff,
    product,
    title: finding.Title,
    ...(finding.Description === undefined ? {} : { description: finding.Description }),
    types,
    severity: asffSeverity(finding.Severity),
    ...(control === undefined ? {} : { control }),
    ...(finding.Compliance?.Status === undefined ? {} : { compliance: { status: finding.Compliance.Status } }),
    workflow: finding.Workflow?.Status ?? WORKFLOW_OF_STATE[finding.WorkflowState ?? 'NEW'] ?? WorkflowStatus.New,
    recordState: finding.RecordState ?? RecordState.Active,
    ...base,
    resources: finding.Resources.map((resource) => resourceOf(resource, base)),
    ...(finding.Note === undefined
      ? {}
      : {
          note: {
            text: finding.Note.Text,
            updatedBy: finding.Note.UpdatedBy,
            ...(finding.Note.UpdatedAt === undefined ? {} : { updatedAt: finding.Note.UpdatedAt }),
          },
        }),
    trigger,
    ...(finding.GeneratorId === undefined ? {} : { generatorId: finding.GeneratorId }),
    ...(finding.CreatedAt === undefined ? {} : { createdAt: finding.CreatedAt }),
    ...(finding.UpdatedAt === undefined ? {} : { updatedAt: finding.UpdatedAt }),
    raw: { envelope: parsed.envelope, record: item, index },
  };
}

/** Reads the ASFF findings of a `Findings - Imported` or `Findings - Custom Action` event. */
export function readAsffFindings(parsed: ParsedEnvelope, trigger: Trigger): IntakeResult {
  return readFindingBatch(parsed, {
    format: 'ASFF',
    schema: asffFindingSchema,
    identify: (item) => ({ findingId: str(record(item).Id), account: str(record(item).AwsAccountId) }),
    normalize: (finding, index, item) => normalize(finding, parsed, index, trigger, item),
  });
}
