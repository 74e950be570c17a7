import * as z from '../zod.js';

import { accountIdSchema, asffResourceType, ec2Arn, instanceIdIn, partitionOfArn, partitionOfRegion, regionSchema, securityGroupIdIn, type Partition } from '../aws-names.js';
import { MalformedEventError } from './errors.js';
import { parseOrThrow } from './field-path.js';
import type { ParsedEnvelope } from './envelope.js';
import { assumedSeverity } from './severity.js';
import { readTime, Refusals } from './values.js';
import { ComplianceStatus, FindingFormat, FindingSource, RecordState, SeverityLabel, WorkflowStatus, type Finding, type IntakeResult, type Resource } from './types.js';

const complianceTypes = ['COMPLIANT', 'NON_COMPLIANT', 'NOT_APPLICABLE', 'INSUFFICIENT_DATA'] as const;

// Built on first use, not when the module loads: a cold start builds only the schemas of the formats its events use (src/zod.ts, `deferred`).
const schemas = z.deferred(() => {
  const evaluationSchema = z.looseObject({
    complianceType: z.enum(complianceTypes),
    resultRecordedTime: z.optional(z.string()),
    configRuleInvokedTime: z.optional(z.string()),
    annotation: z.optional(z.string()),
    evaluationResultIdentifier: z.optional(z.looseObject({ orderingTimestamp: z.optional(z.string()) })),
  });

  /** The `detail` of a `Config Rules Compliance Change` event. */
  const configDetailSchema = z.looseObject({
    resourceId: z.string().check(z.minLength(1)),
    awsRegion: regionSchema,
    awsAccountId: accountIdSchema,
    configRuleName: z.string().check(z.minLength(1)),
    configRuleARN: z.optional(z.string()),
    resourceType: z.string().check(z.minLength(1)),
    messageType: z.optional(z.string()),
    recordVersion: z.optional(z.string()),
    notificationCreationTime: z.optional(z.string()),
    newEvaluationResult: evaluationSchema,
    oldEvaluationResult: z.optional(evaluationSchema),
  });
  return { evaluationSchema, configDetailSchema };
});
type Schemas = ReturnType<typeof schemas>;
type ConfigDetail = z.infer<Schemas['configDetailSchema']>;

const COMPLIANCE: Readonly<Record<(typeof complianceTypes)[number], ComplianceStatus>> = {
  COMPLIANT: ComplianceStatus.Passed,
  NON_COMPLIANT: ComplianceStatus.Failed,
  NOT_APPLICABLE: ComplianceStatus.NotAvailable,
  INSUFFICIENT_DATA: ComplianceStatus.NotAvailable,
};

function resourceOf(detail: ConfigDetail, partition: Partition): Resource {
  const type = asffResourceType(detail.resourceType);
  const base = {
    type,
    nativeType: detail.resourceType,
    account: detail.awsAccountId,
    region: detail.awsRegion,
    partition,
    securityGroupIds: [] as string[],
    networkInterfaces: [],
  };
  // Name resources the way Security Hub does, so the same resource has the same id from every source.
  switch (detail.resourceType) {
    case 'AWS::::Account':
      return { ...base, id: `AWS::::Account:${detail.resourceId}` };
    case 'AWS::EC2::Instance': {
      const arn = ec2Arn(partition, detail.awsRegion, detail.awsAccountId, 'instance', detail.resourceId);
      return { ...base, id: arn, arn, instanceId: detail.resourceId };
    }
    case 'AWS::EC2::SecurityGroup': {
      const arn = ec2Arn(partition, detail.awsRegion, detail.awsAccountId, 'security-group', detail.resourceId);
      return { ...base, id: arn, arn, securityGroupIds: [detail.resourceId] };
    }
    default:
      return { ...base, id: detail.resourceId, ...(detail.resourceId.startsWith('arn:') ? { arn: detail.resourceId } : {}) };
  }
}

/**
 * A `Config Rules Compliance Change` event: one rule's verdict on one
 * resource. Config carries no severity: a failed evaluation is assumed
 * MEDIUM (stated in `severity.basis`), anything else INFORMATIONAL.
 */
export function readConfigComplianceChange(parsed: ParsedEnvelope): IntakeResult {
  const source = parsed.envelope.source;
  const detail = parseOrThrow(schemas().configDetailSchema, parsed.detail, (message, field) => new MalformedEventError(message, source, field), 'detail');
  const malformedId =
    (detail.resourceType === 'AWS::EC2::Instance' && instanceIdIn(detail.resourceId) !== detail.resourceId) ||
    (detail.resourceType === 'AWS::EC2::SecurityGroup' && securityGroupIdIn(detail.resourceId) !== detail.resourceId) ||
    (detail.resourceType === 'AWS::::Account' && !/^\d{12}$/.test(detail.resourceId));
  if (malformedId) throw new MalformedEventError(`is not a valid id for ${detail.resourceType}: "${detail.resourceId}"`, source, 'detail.resourceId');
  const partition = partitionOfArn(detail.configRuleARN) ?? partitionOfArn(parsed.envelope.resources[0]) ?? partitionOfRegion(detail.awsRegion);
  const evaluation = detail.newEvaluationResult;
  const compliance = COMPLIANCE[evaluation.complianceType];
  const ruleId = detail.configRuleARN ?? detail.configRuleName;
  const refusals = new Refusals();
  const createdAt = refusals.time(readTime(evaluation.configRuleInvokedTime, 'detail.newEvaluationResult.configRuleInvokedTime'));
  const updatedAt = refusals.time(readTime(evaluation.resultRecordedTime, 'detail.newEvaluationResult.resultRecordedTime'));
  const finding: Finding = {
    // Config has no finding id: the rule and the resource identify the verdict.
    id: `${ruleId}/${detail.resourceType}/${detail.resourceId}`,
    source: FindingSource.Config,
    format: FindingFormat.ConfigRule,
    product: { id: 'config', owner: 'aws', name: 'Config', company: 'Amazon' },
    title: `${detail.configRuleName}: ${detail.resourceType} ${detail.resourceId} is ${evaluation.complianceType}`,
    ...(evaluation.annotation === undefined ? {} : { description: evaluation.annotation }),
    types: ['Software and Configuration Checks/AWS Config Analysis'],
    severity: assumedSeverity(compliance === ComplianceStatus.Failed ? SeverityLabel.Medium : SeverityLabel.Informational),
    configRule: { name: detail.configRuleName, ...(detail.configRuleARN === undefined ? {} : { arn: detail.configRuleARN }) },
    compliance: { status: compliance, original: evaluation.complianceType },
    workflow: WorkflowStatus.New,
    recordState: RecordState.Active,
    account: detail.awsAccountId,
    region: detail.awsRegion,
    partition,
    resources: [resourceOf(detail, partition)],
    trigger: { kind: 'automatic' },
    ...refusals.spread(),
    ...(createdAt === undefined ? {} : { createdAt }),
    ...(updatedAt === undefined ? {} : { updatedAt }),
    raw: { envelope: parsed.envelope, record: parsed.detail },
  };
  return { envelope: parsed.envelope, findings: [finding], rejected: [] };
}
