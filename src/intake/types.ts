import type { Partition } from '../aws-names.js';
import type { InvalidFindingError } from './errors.js';

/**
 * The `Finding`: what every later stage (match, guard, plan, execute, record)
 * sees, whatever channel delivered it. One event may yield several findings.
 */

/** The channel a finding arrived through. */
export const FindingSource = {
  SecurityHub: 'securityhub',
  GuardDuty: 'guardduty',
  Config: 'config',
  Api: 'api',
} as const;
export type FindingSource = (typeof FindingSource)[keyof typeof FindingSource];

/** The shape the finding was written in, before normalization. */
export const FindingFormat = {
  Asff: 'asff',
  Ocsf: 'ocsf',
  GuardDuty: 'guardduty',
  ConfigRule: 'config-rule',
  ApiRequest: 'api-request',
} as const;
export type FindingFormat = (typeof FindingFormat)[keyof typeof FindingFormat];

export const SeverityLabel = {
  Informational: 'INFORMATIONAL',
  Low: 'LOW',
  Medium: 'MEDIUM',
  High: 'HIGH',
  Critical: 'CRITICAL',
} as const;
export type SeverityLabel = (typeof SeverityLabel)[keyof typeof SeverityLabel];

/**
 * How the normalized severity was obtained: `reported` by the product on the
 * 0–100 scale or as a label, `derived` from the product's own scale (GuardDuty
 * 1.0–10.0, OCSF severity_id), `assumed` where the source has none (a Config
 * evaluation, an on-demand request).
 */
export type SeverityBasis = 'reported' | 'derived' | 'assumed';

export interface Severity {
  readonly label: SeverityLabel;
  /** 0–100, on Security Hub's normalized scale. */
  readonly normalized: number;
  /** The product's own value, as it sent it. */
  readonly original?: string;
  readonly basis: SeverityBasis;
}

export const ComplianceStatus = {
  Passed: 'PASSED',
  Warning: 'WARNING',
  Failed: 'FAILED',
  NotAvailable: 'NOT_AVAILABLE',
} as const;
export type ComplianceStatus = (typeof ComplianceStatus)[keyof typeof ComplianceStatus];

export interface Compliance {
  readonly status: ComplianceStatus;
  /** The source's own word, e.g. Config's `NON_COMPLIANT` or OCSF's `Fail`. */
  readonly original?: string;
}

export const WorkflowStatus = {
  New: 'NEW',
  Notified: 'NOTIFIED',
  Resolved: 'RESOLVED',
  Suppressed: 'SUPPRESSED',
} as const;
export type WorkflowStatus = (typeof WorkflowStatus)[keyof typeof WorkflowStatus];

export const RecordState = { Active: 'ACTIVE', Archived: 'ARCHIVED' } as const;
export type RecordState = (typeof RecordState)[keyof typeof RecordState];

/** A compliance control, as Security Hub and its standards name it. */
export interface Control {
  /** The best single id: the consolidated Security Hub control id (`IAM.15`) where there is one, else the standard's own. */
  readonly id: string;
  /** `Compliance.SecurityControlId`, e.g. `IAM.15`. */
  readonly securityControlId?: string;
  /** The standard's own control id (`ProductFields.ControlId` / `RuleId`, e.g. `1.9` in CIS 1.2.0). */
  readonly standardControlId?: string;
  readonly standardsControlArn?: string;
  /** Standards this control belongs to, e.g. `cis-aws-foundations-benchmark/v/1.2.0`. */
  readonly standards: readonly string[];
  /**
   * CIS AWS Foundations Benchmark rules, qualified by version because the
   * numbers move between versions: `1.2.0/1.9` and `1.4.0/1.8` are the same
   * check (password length).
   */
  readonly cisRules: readonly string[];
  readonly relatedRequirements: readonly string[];
}

export interface NetworkInterface {
  readonly id?: string;
  /** Private addresses; ASFF lists the public ones in the same field, so they may appear here too. */
  readonly ipv4Addresses: readonly string[];
  readonly ipv6Addresses: readonly string[];
  readonly publicIp?: string;
  readonly securityGroupIds: readonly string[];
  readonly subnetId?: string;
  readonly vpcId?: string;
}

export interface IamRoleRef {
  readonly name?: string;
  readonly arn?: string;
  /** For EC2 instances: the profile that carries the role. */
  readonly instanceProfileArn?: string;
}

export interface AccessKeyRef {
  readonly id?: string;
  readonly principalId?: string;
  readonly userName?: string;
  readonly userType?: string;
}

/** An affected resource, typed with Security Hub's resource type names. */
export interface Resource {
  /** ASFF resource type (`AwsEc2Instance`, `AwsAccount`, …); other sources' names are mapped to these. */
  readonly type: string;
  /** The source's own type name where it differs (`AWS::EC2::Instance`, GuardDuty's `Instance`). */
  readonly nativeType?: string;
  /** ASFF-style id: an ARN for EC2 instances and security groups, `AWS::::Account:<id>` for accounts. */
  readonly id: string;
  readonly arn?: string;
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  /** Present only where the source sent tags (possibly empty); absent means "not known". */
  readonly tags?: Readonly<Record<string, string>>;
  /** The EC2 instance id, where it can be derived. */
  readonly instanceId?: string;
  /**
   * Where the finding's own fields disagree about this resource (`Id` vs
   * `Details`, OCSF `uid` vs `uid_alt`, a `Type` vs the shape of its `Id`):
   * one reason per disagreement, naming both values. A disputed resource is
   * never acted on.
   */
  readonly disputed?: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly networkInterfaces: readonly NetworkInterface[];
  readonly iamRole?: IamRoleRef;
  readonly accessKey?: AccessKeyRef;
}

export interface Note {
  readonly text: string;
  /** Who wrote it (ASFF `Note.UpdatedBy`); absent where the source records no author (OCSF `comment`). */
  readonly updatedBy?: string;
  readonly updatedAt?: string;
}

export interface Requester {
  /** The caller's identity: an IAM ARN, a user name or a Cognito subject. */
  readonly principal: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** How a run was asked for; playbooks bind to one or more of these. */
export type Trigger =
  | { readonly kind: 'automatic' }
  | {
      readonly kind: 'custom-action';
      /** The custom action id (the last part of its ARN, at most 20 letters and digits). */
      readonly actionId: string;
      readonly actionName: string;
      readonly actionDescription?: string;
      readonly actionArn: string;
    }
  | {
      readonly kind: 'api';
      readonly requestedBy: Requester;
      readonly requestId: string;
      readonly playbook?: string;
      readonly reason?: string;
      readonly dryRun: boolean;
    };
export type TriggerKind = Trigger['kind'];

/** The envelope of the event a finding came in, kept for audit. */
export interface EventEnvelope {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly account?: string;
  readonly region?: string;
  readonly time?: string;
  readonly resources: readonly string[];
}

/** Exactly what was received for this finding: the envelope and the finding's own record. */
export interface RawFinding {
  readonly envelope: EventEnvelope;
  /** The finding as the source wrote it (one element of `detail.findings`, or the whole `detail`). */
  readonly record: unknown;
  /** Position in `detail.findings`, for sources that batch. */
  readonly index?: number;
}

/**
 * Who is proven to have made the finding: `aws` only when an AWS-owned
 * identity says so (a `product/aws/<service>` ARN in the finding's own
 * partition and region, or an EventBridge source only AWS can emit:
 * `aws.guardduty`, `aws.config`); `riposte` for the on-demand API's own
 * findings; `third-party` for everything else (partners, an account's
 * default product, a product known only by its name).
 */
export type ProductOwner = 'aws' | 'riposte' | 'third-party';

export interface ProductRef {
  /**
   * A stable slug. Ids without a `/` (`guardduty`, `securityhub`, `inspector`,
   * `config`, `riposte`) are reserved for products whose `owner` is `aws` or
   * `riposte`; every other product is `<company>/<product>` (partners, an
   * account's `<account>/default`), never a bare name.
   */
  readonly id: string;
  readonly owner: ProductOwner;
  readonly name: string;
  readonly company?: string;
  readonly arn?: string;
}

export interface Finding {
  readonly id: string;
  readonly source: FindingSource;
  readonly format: FindingFormat;
  readonly product: ProductRef;
  readonly title: string;
  readonly description?: string;
  /**
   * ASFF-style type paths, or the product's own type. GuardDuty findings carry
   * GuardDuty's type (`Backdoor:EC2/C&CActivity.B!DNS`) whichever channel
   * delivered them.
   */
  readonly types: readonly string[];
  readonly severity: Severity;
  readonly control?: Control;
  /** The AWS Config rule that evaluated the resource, where there is one. */
  readonly configRule?: { readonly name: string; readonly arn?: string };
  readonly compliance?: Compliance;
  readonly workflow: WorkflowStatus;
  readonly recordState: RecordState;
  /** The account the finding is about (a member account), not necessarily the one that delivered it. */
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
  readonly resources: readonly Resource[];
  readonly note?: Note;
  readonly trigger: Trigger;
  /**
   * Set when the source marks the finding as a sample (GuardDuty
   * `service.additionalInfo.sample: true`, Security Hub's sample products):
   * why. A sample never changes anything unless a playbook opts in.
   */
  readonly sample?: { readonly reason: string };
  /**
   * Values the finding sent that intake refused, each naming the field and
   * the value (a time that does not parse). Nothing is guessed in their place:
   * a refused `UpdatedAt` leaves `updatedAt` absent, and what depends on it
   * (idempotency, the loop guard) treats it as unknown.
   */
  readonly refused?: readonly string[];
  readonly generatorId?: string;
  readonly createdAt?: string;
  /** When the source last changed the finding; with `id`, what idempotency keys on. */
  readonly updatedAt?: string;
  readonly raw: RawFinding;
}

/** What intake made of one event: the findings it could read, and an error for each one it could not. */
export interface IntakeResult {
  readonly envelope: EventEnvelope;
  readonly findings: readonly Finding[];
  readonly rejected: readonly InvalidFindingError[];
}
