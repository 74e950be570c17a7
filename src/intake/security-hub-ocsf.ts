import * as z from '../zod.js';

import { accountIdSchema, asffResourceType, ec2Arn, instanceIdIn, parseArn, partitionNamed, partitionOfArn, partitionOfRegion, regionSchema, securityGroupIdIn, type Partition } from '../aws-names.js';
import { cisRulesOfRequirements } from './cis.js';
import { readFindingBatch } from './finding-batch.js';
import type { ParsedEnvelope } from './envelope.js';
import { productIdentity, unverifiedProduct } from './product.js';
import { kindOfId, typeIdDispute, valueDispute } from './resource-kind.js';
import { ocsfSeverity } from './severity.js';
import { present, readTime, Refusals } from './values.js';
import { ComplianceStatus, FindingFormat, FindingSource, RecordState, WorkflowStatus, type Control, type Finding, type IntakeResult, type ProductRef, type Resource, type Trigger } from './types.js';

// Built on first use, not when the module loads: a cold start builds only the schemas of the formats its events use (src/zod.ts, `deferred`).
const schemas = z.deferred(() => {
  const ocsfResourceSchema = z.looseObject({
    type: z.string().check(z.minLength(1)),
    uid: z.string().check(z.minLength(1)),
    uid_alt: z.optional(z.string()),
    name: z.optional(z.string()),
    region: z.optional(z.string()),
    cloud_partition: z.optional(z.string()),
    owner: z.optional(z.looseObject({ account: z.optional(z.looseObject({ uid: z.optional(accountIdSchema) })) })),
    tags: z.optional(z.array(z.looseObject({ name: z.string(), value: z.optional(z.nullable(z.string())) }))),
    data: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  });

  /**
   * An OCSF finding as Security Hub sends it in `Findings Imported V2`
   * (Compliance 2003, Detection 2004, Vulnerability 2002, … — any class of the
   * Findings category, 2000–2099).
   */
  const ocsfFindingSchema = z.looseObject({
    class_uid: z.number().check(z.int(), z.minimum(2000, 'must be an OCSF Findings class (2000–2099)'), z.maximum(2099, 'must be an OCSF Findings class (2000–2099)')),
    class_name: z.optional(z.string()),
    activity_id: z.optional(z.number().check(z.int())),
    severity_id: z.number().check(z.int()),
    severity: z.optional(z.string()),
    status_id: z.optional(z.number().check(z.int())),
    status: z.optional(z.string()),
    comment: z.optional(z.nullable(z.string())),
    time_dt: z.optional(z.string()),
    finding_info: z.looseObject({
      uid: z.string().check(z.minLength(1)),
      title: z._default(z.string(), ''),
      desc: z.optional(z.string()),
      types: z._default(z.array(z.string()), []),
      created_time_dt: z.optional(z.string()),
      modified_time_dt: z.optional(z.string()),
      analytic: z.optional(z.looseObject({ category: z.optional(z.string()), name: z.optional(z.string()) })),
    }),
    metadata: z.looseObject({
      uid: z.optional(z.string()),
      product: z.looseObject({ name: z.optional(z.string()), uid: z.optional(z.string()), vendor_name: z.optional(z.string()) }),
    }),
    cloud: z.looseObject({
      account: z.looseObject({ uid: accountIdSchema }),
      region: regionSchema,
      cloud_partition: z.optional(z.string()),
    }),
    compliance: z.optional(
      z.looseObject({
        control: z.optional(z.string()),
        standards: z.optional(z.array(z.string())),
        requirements: z.optional(z.array(z.string())),
        status: z.optional(z.string()),
        status_id: z.optional(z.number().check(z.int())),
      }),
    ),
    resources: z.array(ocsfResourceSchema).check(z.minLength(1, 'must list at least one resource')),
  });
  return { ocsfResourceSchema, ocsfFindingSchema };
});
type Schemas = ReturnType<typeof schemas>;
type OcsfFinding = z.infer<Schemas['ocsfFindingSchema']>;

/** OCSF compliance `status_id`: 1 Pass, 2 Warning, 3 Fail. */
const COMPLIANCE_OF_STATUS: Readonly<Record<number, ComplianceStatus>> = {
  1: ComplianceStatus.Passed,
  2: ComplianceStatus.Warning,
  3: ComplianceStatus.Failed,
};

/** OCSF finding `status_id`: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved (5 Archived, 6 Deleted: see record state). */
const WORKFLOW_OF_STATUS: Readonly<Record<number, WorkflowStatus>> = {
  1: WorkflowStatus.New,
  2: WorkflowStatus.Notified,
  3: WorkflowStatus.Suppressed,
  4: WorkflowStatus.Resolved,
};
const CLOSED_STATUS_IDS = new Set([5, 6]);
/** OCSF `activity_id` 3 is Close: Security Hub treats everything else as active. */
const ACTIVITY_CLOSE = 3;

function controlOf(finding: OcsfFinding): Control | undefined {
  const compliance = finding.compliance;
  const id = compliance?.control;
  if (id === undefined || id === '') return undefined;
  const standards = (compliance?.standards ?? []).map((standard) => standard.replace(/^(standards|ruleset)\//, ''));
  const relatedRequirements = compliance?.requirements ?? [];
  const cisRules = new Set(cisRulesOfRequirements(relatedRequirements));
  return { id, securityControlId: id, standards, cisRules: [...cisRules], relatedRequirements };
}

/**
 * `arn:aws:securityhub:us-east-1::productv2/aws/guardduty` -> `guardduty`
 * (owner `aws`), only in the finding's own region (`cloud.region`) and
 * partition. Security Hub writes `productv2/aws/<service>` (`securityhub`,
 * `securityhub-coverage`, `guardduty`, `inspector`, `macie`); the ASFF form
 * `product/aws/<service>` is read the same way. A finding with only a name
 * ("GuardDuty") or with a uid that is no product ARN is `unverified/<name>`.
 */
function productOf(finding: OcsfFinding): ProductRef {
  const { name, uid, vendor_name: vendor } = finding.metadata.product;
  const context = { region: finding.cloud.region, ...(finding.cloud.cloud_partition === undefined ? {} : { statedPartition: finding.cloud.cloud_partition }) };
  const identity = productIdentity(uid, context, ['productv2', 'product']) ?? unverifiedProduct(present(name), 'unknown');
  return {
    id: identity.id,
    owner: identity.owner,
    name: name ?? identity.product,
    ...(vendor === undefined ? {} : { company: vendor }),
    ...(uid === undefined ? {} : { arn: uid }),
  };
}

/**
 * Security Hub's type name for an OCSF resource `type`. OCSF findings carry
 * the CloudFormation name (`AWS::EC2::Instance`), but some producers write
 * the ASFF one (`AwsEc2Instance`): both are the same type.
 */
function asffTypeOf(type: string): string {
  return /^Aws[A-Z][A-Za-z0-9]*$/.test(type) || type === 'Other' ? type : asffResourceType(type);
}

interface ResourceContext {
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  /** `detail.findings[i].resources[j]`, for the reasons of a dispute. */
  readonly path: string;
}

/**
 * One OCSF resource. Where its own fields disagree (`uid` and `uid_alt`
 * naming different resources, a `type` and the shape of its `uid`), the
 * resource is `disputed`, each reason naming both values; identifiers then
 * follow the ARN, which is what every key built on the resource names.
 */
function resourceOf(resource: z.infer<Schemas['ocsfResourceSchema']>, finding: ResourceContext): Resource {
  const { path } = finding;
  const account = resource.owner?.account?.uid ?? finding.account;
  // IAM resources say "global"; the finding's region is where they were evaluated.
  const region = resource.region !== undefined && regionSchema.safeParse(resource.region).success ? resource.region : finding.region;
  const partition = partitionNamed(resource.cloud_partition) ?? finding.partition;
  const uid = resource.uid;
  const uidAlt = present(resource.uid_alt);
  const arn = [uidAlt, uid].find((candidate) => candidate?.startsWith('arn:'));
  const tags = resource.tags === undefined ? undefined : Object.fromEntries(resource.tags.map(({ name, value }) => [name, value ?? '']));
  const type = asffTypeOf(resource.type);

  const disputes = [typeIdDispute(`${path}.type`, type, `${path}.uid`, uid, resource.type) ?? typeIdDispute(`${path}.type`, type, `${path}.uid_alt`, uidAlt, resource.type)];
  const typeDisputed = disputes[0] !== undefined;
  const uidKind = kindOfId(uid);
  const altKind = kindOfId(uidAlt);
  if (!typeDisputed && uidKind !== undefined && altKind !== undefined && uidKind !== altKind) {
    disputes.push(`${path}.uid ${JSON.stringify(uid)} and ${path}.uid_alt ${JSON.stringify(uidAlt)} name different kinds of resource`);
  } else if (!typeDisputed) {
    // The same resource written two ways (an id and its ARN): the ids must match.
    disputes.push(
      valueDispute(`${path}.uid`, instanceIdIn(uid), `${path}.uid_alt`, instanceIdIn(uidAlt)) ??
        valueDispute(`${path}.uid`, securityGroupIdIn(uid), `${path}.uid_alt`, securityGroupIdIn(uidAlt)) ??
        (uid.startsWith('arn:') && uidAlt?.startsWith('arn:') === true ? valueDispute(`${path}.uid`, uid, `${path}.uid_alt`, uidAlt) : undefined),
    );
  }
  const disputed = disputes.filter((reason): reason is string => reason !== undefined);

  const base = {
    type,
    nativeType: resource.type,
    account,
    region,
    partition,
    ...(tags === undefined ? {} : { tags }),
    ...(disputed.length === 0 ? {} : { disputed }),
    securityGroupIds: [] as string[],
    networkInterfaces: [],
  };
  const plain = { ...base, id: arn ?? uid, ...(arn === undefined ? {} : { arn }) };
  if (typeDisputed) return plain;
  switch (type) {
    case 'AwsAccount':
      return { ...base, id: `AWS::::Account:${uid}` };
    case 'AwsEc2Instance': {
      const instanceId = instanceIdIn(arn) ?? instanceIdIn(uid) ?? instanceIdIn(uidAlt);
      const instanceArn = arn ?? (instanceId === undefined ? undefined : ec2Arn(partition, region, account, 'instance', instanceId));
      return { ...base, id: instanceArn ?? uid, ...(instanceArn === undefined ? {} : { arn: instanceArn }), ...(instanceId === undefined ? {} : { instanceId }) };
    }
    case 'AwsEc2SecurityGroup': {
      const groupId = securityGroupIdIn(arn) ?? securityGroupIdIn(uid) ?? securityGroupIdIn(uidAlt);
      const groupArn = arn ?? (groupId === undefined ? undefined : ec2Arn(partition, region, account, 'security-group', groupId));
      return { ...base, id: groupArn ?? uid, ...(groupArn === undefined ? {} : { arn: groupArn }), securityGroupIds: groupId === undefined ? [] : [groupId] };
    }
    case 'AwsIamRole': {
      const name = present(resource.name) ?? (arn === undefined ? undefined : parseArn(arn)?.resource.split('/').pop());
      return { ...plain, iamRole: { ...(name === undefined ? {} : { name }), ...(arn === undefined ? {} : { arn }) } };
    }
    case 'AwsIamAccessKey': {
      const data = resource.data ?? {};
      const text = (key: string): string | undefined => (Object.hasOwn(data, key) ? present(data[key]) : undefined);
      const keyId = present(uid);
      const userName = text('user_name');
      const userType = text('user_type');
      const principalId = text('principal_id');
      return {
        ...base,
        id: `AWS::IAM::AccessKey:${uid}`,
        accessKey: {
          ...(keyId === undefined ? {} : { id: keyId }),
          ...(userName === undefined ? {} : { userName }),
          ...(userType === undefined ? {} : { userType }),
          ...(principalId === undefined ? {} : { principalId }),
        },
        ...(userType === 'AssumedRole' && userName !== undefined ? { iamRole: { name: userName } } : {}),
      };
    }
    default:
      return plain;
  }
}

function normalize(finding: OcsfFinding, parsed: ParsedEnvelope, index: number, trigger: Trigger, item: unknown): Finding {
  const path = `detail.findings[${index}]`;
  const account = finding.cloud.account.uid;
  const region = finding.cloud.region;
  const partition = partitionNamed(finding.cloud.cloud_partition) ?? partitionNamed(finding.resources[0]?.cloud_partition) ?? partitionOfArn(finding.finding_info.uid) ?? partitionOfRegion(region);
  const control = controlOf(finding);
  const complianceStatusId = finding.compliance?.status_id;
  const closed = finding.activity_id === ACTIVITY_CLOSE || CLOSED_STATUS_IDS.has(finding.status_id ?? 0);
  const configRuleName = finding.finding_info.analytic?.category === 'AWS::Config::ConfigRule' ? finding.finding_info.analytic.name : undefined;
  const refusals = new Refusals();
  const createdAt = refusals.time(readTime(finding.finding_info.created_time_dt, `${path}.finding_info.created_time_dt`));
  // A modification time that does not parse leaves the finding's update time
  // unknown: the event time is no stand-in for it (it could be older).
  const updatedAt =
    finding.finding_info.modified_time_dt === undefined
      ? refusals.time(readTime(finding.time_dt, `${path}.time_dt`))
      : refusals.time(readTime(finding.finding_info.modified_time_dt, `${path}.finding_info.modified_time_dt`));
  const base = { account, region, partition };
  return {
    id: finding.finding_info.uid,
    source: FindingSource.SecurityHub,
    format: FindingFormat.Ocsf,
    product: productOf(finding),
    title: finding.finding_info.title,
    ...(finding.finding_info.desc === undefined ? {} : { description: finding.finding_info.desc }),
    types: finding.finding_info.types,
    severity: ocsfSeverity(finding.severity_id, finding.severity),
    ...(control === undefined ? {} : { control }),
    ...(configRuleName === undefined ? {} : { configRule: { name: configRuleName } }),
    ...(complianceStatusId === undefined && finding.compliance?.status === undefined
      ? {}
      : {
          compliance: {
            status: COMPLIANCE_OF_STATUS[complianceStatusId ?? 0] ?? ComplianceStatus.NotAvailable,
            ...(finding.compliance?.status === undefined ? {} : { original: finding.compliance.status }),
          },
        }),
    workflow: WORKFLOW_OF_STATUS[finding.status_id ?? 1] ?? WorkflowStatus.New,
    recordState: closed ? RecordState.Archived : RecordState.Active,
    ...base,
    resources: finding.resources.map((resource, position) => resourceOf(resource, { ...base, path: `${path}.resources[${position}]` })),
    ...(finding.comment === undefined || finding.comment === null || finding.comment === '' ? {} : { note: { text: finding.comment } }),
    trigger,
    ...refusals.spread(),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    raw: { envelope: parsed.envelope, record: item, index },
  };
}

/** Reads the OCSF findings of a `Findings Imported V2` event. */
export function readOcsfFindings(parsed: ParsedEnvelope, trigger: Trigger): IntakeResult {
  return readFindingBatch(parsed, {
    format: 'OCSF',
    schema: schemas().ocsfFindingSchema,
    identify: (item) => {
      const info = (item ?? {}) as { finding_info?: { uid?: unknown }; cloud?: { account?: { uid?: unknown } } };
      const findingId = info.finding_info?.uid;
      const account = info.cloud?.account?.uid;
      return {
        findingId: typeof findingId === 'string' ? findingId : undefined,
        account: typeof account === 'string' ? account : undefined,
      };
    },
    normalize: (finding, index, item) => normalize(finding, parsed, index, trigger, item),
  });
}
