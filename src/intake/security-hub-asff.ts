import * as z from '../zod.js';

import { accountIdSchema, ec2Arn, instanceIdIn, parseArn, partitionOfArn, partitionOfRegion, partitionSchema, REGION_PATTERN, regionSchema, securityGroupIdIn, type Partition } from '../aws-names.js';
import { cisRulesOfRequirements, cisVersionOfStandard } from './cis.js';
import { readFindingBatch } from './finding-batch.js';
import type { ParsedEnvelope } from './envelope.js';
import { productIdentity, unverifiedProduct } from './product.js';
import { KIND_OF_TYPE, typeIdDispute, valueDispute } from './resource-kind.js';
import { asffGuardDutySample } from './sample.js';
import { asffSeverity } from './severity.js';
import { ec2Id, present, presentStrings, readTime, Refusals } from './values.js';
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
// Built on first use, not when the module loads: a cold start builds only the schemas of the formats its events use (src/zod.ts, `deferred`).
const schemas = z.deferred(() => {
  const stringMap = z.record(z.string(), z.string());

  const resourceSchema = z.looseObject({
    Type: z.string().check(z.minLength(1)),
    Id: z.string().check(z.minLength(1)),
    Partition: z.optional(partitionSchema),
    Region: z.optional(regionSchema),
    Tags: z.optional(stringMap),
    Details: z.optional(z.record(z.string(), z.unknown())),
  });

  /**
   * The ASFF fields Riposte reads. Required ones are those Security Hub itself
   * requires on import; unknown fields pass through (kept in `raw`).
   */
  const asffFindingSchema = z.looseObject({
    SchemaVersion: z.optional(z.string()),
    Id: z.string().check(z.minLength(1)),
    ProductArn: z.string().check(z.startsWith('arn:', 'must be an ARN')),
    ProductName: z.optional(z.string()),
    CompanyName: z.optional(z.string()),
    GeneratorId: z.optional(z.string()),
    AwsAccountId: accountIdSchema,
    Region: z.optional(regionSchema),
    Types: z._default(z.array(z.string()), []),
    CreatedAt: z.optional(z.string()),
    UpdatedAt: z.optional(z.string()),
    Severity: z
      .looseObject({
        Label: z.optional(z.enum(severityLabels)),
        Normalized: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100))),
        Original: z.optional(z.string()),
        Product: z.optional(z.number()),
      })
      .check(z.refine((severity) => severity.Label !== undefined || severity.Normalized !== undefined, 'needs Label or Normalized')),
    Title: z.string(),
    Description: z.optional(z.string()),
    ProductFields: z.optional(stringMap),
    Resources: z.array(resourceSchema).check(z.minLength(1, 'must list at least one resource')),
    Compliance: z.optional(
      z.looseObject({
        Status: z.optional(z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'])),
        SecurityControlId: z.optional(z.string()),
        RelatedRequirements: z.optional(z.array(z.string())),
        AssociatedStandards: z.optional(z.array(z.looseObject({ StandardsId: z.string() }))),
      }),
    ),
    Workflow: z.optional(z.looseObject({ Status: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) })),
    WorkflowState: z.optional(z.enum(['NEW', 'ASSIGNED', 'IN_PROGRESS', 'DEFERRED', 'RESOLVED'])),
    RecordState: z.optional(z.enum(['ACTIVE', 'ARCHIVED'])),
    Note: z.optional(z.looseObject({ Text: z.string(), UpdatedBy: z.string(), UpdatedAt: z.optional(z.string()) })),
  });
  return { stringMap, resourceSchema, asffFindingSchema };
});
type Schemas = ReturnType<typeof schemas>;
type AsffFinding = z.infer<Schemas['asffFindingSchema']>;
type AsffResource = z.infer<Schemas['resourceSchema']>;

/**
 * `arn:aws:securityhub:us-east-1::product/aws/guardduty` -> id `guardduty`
 * (owner `aws`) only in the finding's own region and partition; partners ->
 * `company/product`; an account's products -> `<account>/<product>`. The
 * finding's own region is its `Region`, which Security Hub sets on import
 * (the envelope's where it is missing). `ProductName` and `CompanyName` only
 * label the product: a member account may set them to anything.
 */
function productOf(finding: AsffFinding, ownRegion: string): ProductRef {
  const identity = productIdentity(finding.ProductArn, { region: ownRegion }, ['product']) ?? unverifiedProduct(finding.ProductName, 'unknown');
  return {
    id: identity.id,
    owner: identity.owner,
    name: finding.ProductName ?? identity.product,
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

/**
 * The control a finding is about. `Compliance` is Security Hub's own block;
 * `ProductFields` are whatever the product wrote, so the standard's control
 * id, its ARN and standards are read from them only when the product is
 * Security Hub itself (verified by ARN): a member account's default product
 * writing `ControlId: EC2.13` names no control.
 */
function controlOf(finding: AsffFinding, product: ProductRef): Control | undefined {
  const fromSecurityHub = product.owner === 'aws' && product.id === 'securityhub';
  const fields: Readonly<Record<string, string>> = fromSecurityHub ? (finding.ProductFields ?? {}) : {};
  const compliance = finding.Compliance;
  const standardsControlArn = present(fields.StandardsControlArn);
  const fromArn = parseStandardsControlArn(standardsControlArn);
  const standardControlId = present(fields.ControlId) ?? present(fields.RuleId) ?? fromArn?.controlId;
  const securityControlId = present(compliance?.SecurityControlId);
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

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});

/** An instance profile ARN (`arn:aws:iam::111122223333:instance-profile/web`), never a placeholder or other text. */
const instanceProfileArn = (value: unknown): string | undefined => {
  const arn = present(value);
  const parsed = parseArn(arn);
  return parsed?.service === 'iam' && parsed.resource.startsWith('instance-profile/') ? arn : undefined;
};

/** The `Details` objects Riposte reads, each of which describes one resource type only. */
const READ_DETAILS = Object.keys(KIND_OF_TYPE).filter((type) => type !== 'AwsAccount');

interface ResourceContext {
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  /** `detail.findings[i].Resources[j]`, for the reasons of a dispute. */
  readonly path: string;
}

/**
 * One ASFF resource. Where the resource's own fields disagree (its `Type` and
 * the shape of its `Id`, the `Id` and the id in `Details`, `Details` for
 * another type), the resource is `disputed`, each reason naming both values,
 * and identifiers follow the `Id` (what the ARN, and so every key built on it,
 * names) rather than `Details`.
 */
function resourceOf(resource: AsffResource, finding: ResourceContext): Resource {
  const { path } = finding;
  const details = resource.Details ?? {};
  const arn = resource.Id.startsWith('arn:') ? resource.Id : undefined;
  const partition = resource.Partition ?? partitionOfArn(arn) ?? finding.partition;
  const region = resource.Region ?? finding.region;
  // An ARN names its own account (a resource shared from another account); ARNs
  // without one (S3 buckets) or with a non-account owner (`aws`) belong to the finding's.
  const arnAccount = parseArn(arn)?.account;
  const account = arnAccount !== undefined && /^\d{12}$/.test(arnAccount) ? arnAccount : finding.account;

  const disputes: string[] = [];
  const dispute = (reason: string | undefined): void => void (reason === undefined ? undefined : disputes.push(reason));
  const typeDispute = typeIdDispute(`${path}.Type`, resource.Type, `${path}.Id`, resource.Id);
  dispute(typeDispute);
  for (const key of READ_DETAILS) {
    if (key !== resource.Type && Object.hasOwn(details, key)) dispute(`${path}.Type is ${resource.Type} but ${path}.Details holds ${key}`);
  }

  // The Id yields an instance id only where the type says instance, or where
  // an untyped resource (`Other`) is named by an instance ARN: never a role's
  // bare `i-…`. Where the Type and the Id disagree, nothing typed is derived.
  const typed = Object.hasOwn(KIND_OF_TYPE, resource.Type) || /^Aws[A-Z]/.test(resource.Type);
  let instanceId = typeDispute === undefined && (resource.Type === 'AwsEc2Instance' || (!typed && arn !== undefined)) ? instanceIdIn(resource.Id) : undefined;
  const securityGroupIds = new Set<string>();
  const networkInterfaces: NetworkInterface[] = [];
  let vpcId: string | undefined;
  let subnetId: string | undefined;
  let iamRole: Resource['iamRole'];

  if (resource.Type === 'AwsEc2Instance' && typeDispute === undefined) {
    const instance = record(details.AwsEc2Instance);
    const detailsInstanceId = instanceIdIn(present(instance.InstanceId));
    dispute(valueDispute(`${path}.Id`, instanceId, `${path}.Details.AwsEc2Instance.InstanceId`, detailsInstanceId));
    instanceId ??= detailsInstanceId;
    vpcId = ec2Id('vpc', instance.VpcId);
    subnetId = ec2Id('subnet', instance.SubnetId);
    const profile = instanceProfileArn(instance.IamInstanceProfileArn);
    if (profile !== undefined) iamRole = { instanceProfileArn: profile };
    const ipv4 = presentStrings(instance.IpV4Addresses);
    const ipv6 = presentStrings(instance.IpV6Addresses);
    const interfaces = Array.isArray(instance.NetworkInterfaces) ? instance.NetworkInterfaces.map(record) : [];
    // ASFF lists the instance's addresses once, not per interface: with a single
    // interface they are that interface's; with several, they stay unassigned.
    interfaces.forEach((networkInterface, index) => {
      const id = ec2Id('eni', networkInterface.NetworkInterfaceId);
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

  if (resource.Type === 'AwsEc2SecurityGroup' && typeDispute === undefined) {
    const group = record(details.AwsEc2SecurityGroup);
    const idGroup = securityGroupIdIn(resource.Id);
    const detailsGroup = securityGroupIdIn(present(group.GroupId));
    dispute(valueDispute(`${path}.Id`, idGroup, `${path}.Details.AwsEc2SecurityGroup.GroupId`, detailsGroup));
    const groupId = idGroup ?? detailsGroup;
    if (groupId !== undefined) securityGroupIds.add(groupId);
    vpcId = ec2Id('vpc', group.VpcId);
  }

  if (resource.Type === 'AwsEc2NetworkInterface' && typeDispute === undefined) {
    const eni = record(details.AwsEc2NetworkInterface);
    const groups = Array.isArray(eni.SecurityGroups) ? eni.SecurityGroups.map(record) : [];
    const groupIds = groups.map((g) => securityGroupIdIn(present(g.GroupId))).filter((id): id is string => id !== undefined);
    groupIds.forEach((id) => securityGroupIds.add(id));
    instanceId ??= instanceIdIn(present(record(eni.Attachment).InstanceId));
    const idEni = /network-interface\/(eni-[0-9a-f]+)$/.exec(resource.Id)?.[1];
    const detailsEni = ec2Id('eni', eni.NetworkInterfaceId);
    dispute(valueDispute(`${path}.Id`, idEni, `${path}.Details.AwsEc2NetworkInterface.NetworkInterfaceId`, detailsEni));
    const eniId = idEni ?? detailsEni;
    networkInterfaces.push({
      ...(eniId === undefined ? {} : { id: eniId }),
      ipv4Addresses: [],
      ipv6Addresses: [],
      securityGroupIds: groupIds,
    });
  }

  if (resource.Type === 'AwsIamRole' && typeDispute === undefined) {
    const role = record(details.AwsIamRole);
    const arnName = arn === undefined ? undefined : parseArn(arn)?.resource.split('/').pop();
    const detailsName = present(role.RoleName);
    dispute(valueDispute(`${path}.Id`, arnName, `${path}.Details.AwsIamRole.RoleName`, detailsName));
    const name = arnName ?? detailsName;
    iamRole = { ...(name === undefined ? {} : { name }), ...(arn === undefined ? {} : { arn }) };
  }

  let accessKey: Resource['accessKey'];
  if (resource.Type === 'AwsIamAccessKey' && typeDispute === undefined) {
    const key = record(details.AwsIamAccessKey);
    const idKey = present(/^AWS::IAM::AccessKey:(.+)$/.exec(resource.Id)?.[1]);
    const detailsKey = present(key.AccessKeyId);
    dispute(valueDispute(`${path}.Id`, idKey, `${path}.Details.AwsIamAccessKey.AccessKeyId`, detailsKey));
    const id = idKey ?? detailsKey;
    const userName = present(key.PrincipalName) ?? present(key.UserName);
    const userType = present(key.PrincipalType);
    const principalId = present(key.PrincipalId);
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
    ...(disputes.length === 0 ? {} : { disputed: disputes }),
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
  const path = `detail.findings[${index}]`;
  const productArn = parseArn(finding.ProductArn);
  const arnRegion = productArn?.region;
  // The envelope of a Security Hub event always names a region (parseEnvelope requires it).
  const envelopeRegion = parsed.envelope.region as string;
  const region: string = finding.Region ?? (arnRegion !== undefined && REGION_PATTERN.test(arnRegion) ? arnRegion : undefined) ?? finding.Resources[0]?.Region ?? envelopeRegion;
  const partition = partitionOfArn(finding.ProductArn) ?? finding.Resources[0]?.Partition ?? partitionOfRegion(region);
  // The product ARN is checked against the finding's own Region, never against itself.
  const product = productOf(finding, finding.Region ?? envelopeRegion);
  const control = controlOf(finding, product);
  const types = product.id === 'guardduty' ? [...new Set([...finding.Types, ...guardDutyTypesOf(finding.Types)])] : finding.Types;
  const sample = asffGuardDutySample(finding.ProductFields, `${path}.ProductFields`);
  const refusals = new Refusals();
  const createdAt = refusals.time(readTime(finding.CreatedAt, `${path}.CreatedAt`));
  const updatedAt = refusals.time(readTime(finding.UpdatedAt, `${path}.UpdatedAt`));
  const notedAt = finding.Note === undefined ? undefined : refusals.time(readTime(finding.Note.UpdatedAt, `${path}.Note.UpdatedAt`));
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
    resources: finding.Resources.map((resource, position) => resourceOf(resource, { ...base, path: `${path}.Resources[${position}]` })),
    ...(finding.Note === undefined
      ? {}
      : {
          note: {
            text: finding.Note.Text,
            updatedBy: finding.Note.UpdatedBy,
            ...(notedAt === undefined ? {} : { updatedAt: notedAt }),
          },
        }),
    trigger,
    ...(sample === undefined ? {} : { sample }),
    ...refusals.spread(),
    ...(finding.GeneratorId === undefined ? {} : { generatorId: finding.GeneratorId }),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    raw: { envelope: parsed.envelope, record: item, index },
  };
}

/** Reads the ASFF findings of a `Findings - Imported` or `Findings - Custom Action` event. */
export function readAsffFindings(parsed: ParsedEnvelope, trigger: Trigger): IntakeResult {
  return readFindingBatch(parsed, {
    format: 'ASFF',
    schema: schemas().asffFindingSchema,
    identify: (item) => ({ findingId: present(record(item).Id), account: present(record(item).AwsAccountId) }),
    normalize: (finding, index, item) => normalize(finding, parsed, index, trigger, item),
  });
}
