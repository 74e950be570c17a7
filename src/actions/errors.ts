import { EC2ServiceException } from '@aws-sdk/client-ec2';
import * as z from '../zod.js';

import { describeError, errorName, isRetryableError, RiposteError, type ErrorContext } from '../errors.js';
import { instanceArnOf, securityGroupArnOf, stepResourceOf } from './arns.js';
import type { ActionContext } from './runtime.js';
import type { StepPhase } from './types.js';

/**
 * Whether EC2 answered with one of `codes`. EC2 models no error shapes: every
 * error it answers is an EC2ServiceException, told apart by its code (`name`).
 */
export const isEc2Error = (error: unknown, codes: readonly string[]): boolean => error instanceof EC2ServiceException && codes.includes(error.name);

/** Where a step's action acts: the member account and region. */
const where = (context: ActionContext): Pick<ErrorContext, 'account' | 'region'> => ({ account: context.target.account, region: context.target.region });

/** The context every step error carries. */
function stepContext(context: ActionContext, step: string, phase: StepPhase): ErrorContext {
  return {
    ...where(context),
    resource: stepResourceOf(context),
    step,
    ...(context.playbookId === undefined ? {} : { playbook: context.playbookId }),
    phase,
  };
}

export class UnknownActionError extends RiposteError {
  override readonly name: string = 'UnknownActionError';
  readonly code = 'ACTION_UNKNOWN';
  readonly suggestion: string | undefined;
  constructor(name: string, known: readonly string[], suggestion: string | undefined) {
    super(`unknown action "${name}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}; known actions: ${known.join(', ')}`, { context: { step: name } });
    this.suggestion = suggestion;
  }
}

export class DuplicateActionError extends RiposteError {
  override readonly name: string = 'DuplicateActionError';
  readonly code = 'ACTION_DUPLICATE';
  constructor(name: string) {
    super(`action "${name}" is registered twice`, { context: { step: name } });
  }
}

interface CauseShape {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly errors?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown; readonly requestId?: unknown };
}

const shapeOf = (error: unknown): CauseShape => (typeof error === 'object' && error !== null ? error : {});
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * A step's action failed for a reason it did not name itself: an AWS error
 * (throttling, access denied, a 5xx), a network failure, or a Riposte error
 * without the step's account and region. `cause` keeps the original;
 * `retryable` says whether the same step may succeed when repeated.
 */
export class ActionFailedError extends RiposteError {
  override readonly name: string = 'ActionFailedError';
  readonly code = 'ACTION_FAILED';
  readonly action: string;
  readonly phase: StepPhase;
  /** The underlying error's name, e.g. `Throttling`, `AccessDenied`. */
  readonly errorName: string | undefined;

  constructor(action: string, phase: StepPhase, context: ActionContext, cause: unknown) {
    const { account, region } = context.target;
    const metadata = shapeOf(cause).$metadata;
    const statusCode = typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
    const requestId = text(metadata?.requestId);
    const name = errorName(cause);
    super(`${action} (${phase}) failed on ${stepResourceOf(context)} in account ${account}, region ${region}: ${describeError(cause)}`, {
      context: { ...stepContext(context, action, phase), errorName: name, statusCode, requestId },
      cause,
      retryable: isRetryableError(cause),
    });
    this.action = action;
    this.phase = phase;
    this.errorName = name;
  }
}

/** Rollback was asked of an action that has none: what it changed cannot be taken back by Riposte. */
export class ActionNotReversibleError extends RiposteError {
  override readonly name: string = 'ActionNotReversibleError';
  readonly code = 'ACTION_NOT_REVERSIBLE';
  readonly action: string;
  constructor(action: string, context: ActionContext) {
    super(`${action} cannot be rolled back: it has no rollback (resource ${stepResourceOf(context)}, account ${context.target.account}, region ${context.target.region})`, {
      context: stepContext(context, action, 'rollback'),
      retryable: false,
    });
    this.action = action;
  }
}

/** The step's parameters do not match the action's schema. */
export class ActionParamsInvalidError extends RiposteError {
  override readonly name: string = 'ActionParamsInvalidError';
  readonly code = 'ACTION_PARAMS_INVALID';
  readonly issues: z.core.$ZodError['issues'];
  constructor(action: string, phase: StepPhase, context: ActionContext, error: z.core.$ZodError) {
    const field = Object.keys(z.flattenError(error).fieldErrors)[0];
    super(`${action}: invalid parameters for ${stepResourceOf(context)} (account ${context.target.account}, region ${context.target.region}):\n${z.prettifyError(error)}`, {
      context: { ...stepContext(context, action, phase), field },
      cause: error,
      retryable: false,
    });
    this.issues = error.issues;
  }
}

/**
 * The step's EC2 instance does not exist in the member account and region
 * (EC2 answered `InvalidInstanceID.NotFound`/`.Malformed`, or
 * DescribeInstances returned nothing), or the finding names no instance at
 * all. Retrying cannot help: the instance was terminated long enough ago to
 * be gone, or the finding names another account.
 */
export class InstanceNotFoundError extends RiposteError {
  override readonly name: string = 'InstanceNotFoundError';
  readonly code = 'EC2_INSTANCE_NOT_FOUND';
  readonly instanceId: string | undefined;
  constructor(action: string, context: ActionContext, instanceId: string | undefined, cause?: unknown) {
    const { account, region } = context.target;
    super(
      instanceId === undefined
        ? `${action}: the finding names no EC2 instance to act on (account ${account}, region ${region}, resource ${context.resource.id})`
        : `${action}: EC2 instance ${instanceId} does not exist in account ${account}, region ${region}`,
      {
        context: { ...where(context), resource: instanceId === undefined ? context.resource.id : instanceArnOf(context, instanceId), instanceId, step: action },
        cause,
        retryable: false,
      },
    );
    this.instanceId = instanceId;
  }
}

/**
 * The security group the step acts on does not exist in the member account
 * and region (EC2 answered `InvalidGroup.NotFound` or
 * `InvalidGroupId.Malformed`, or DescribeSecurityGroups returned nothing),
 * or the finding names no security group at all.
 */
export class SecurityGroupNotFoundError extends RiposteError {
  override readonly name: string = 'SecurityGroupNotFoundError';
  readonly code = 'EC2_SECURITY_GROUP_NOT_FOUND';
  readonly groupId: string | undefined;
  constructor(context: ActionContext, groupId: string | undefined, cause?: unknown) {
    super(
      groupId === undefined
        ? `the finding names no security group to act on (account ${context.target.account}, region ${context.target.region}, resource ${context.resource.id})`
        : `security group ${groupId} does not exist in account ${context.target.account}, region ${context.target.region}`,
      { context: { ...where(context), resource: groupId === undefined ? context.resource.id : securityGroupArnOf(context, groupId) }, cause },
    );
    this.groupId = groupId;
  }
}

/**
 * A security group with the name Riposte uses exists but was not created by
 * Riposte (no `riposte:managed=true` tag) and is not already as Riposte needs
 * it: Riposte will not change rules on a group it does not own.
 */
export class UnmanagedSecurityGroupError extends RiposteError {
  override readonly name: string = 'UnmanagedSecurityGroupError';
  readonly code = 'EC2_SECURITY_GROUP_UNMANAGED';
  constructor(action: string, context: ActionContext, group: { readonly id: string; readonly name: string; readonly vpcId: string }, managedTag: string, problem: string) {
    super(
      `${action}: security group ${group.id} ("${group.name}") in ${group.vpcId} ${problem}, and it is not managed by Riposte (no ${managedTag}=true tag): fix or rename it, or choose another quarantineGroupName`,
      { context: { ...where(context), resource: group.id, step: action } },
    );
  }
}

/**
 * A Riposte quarantine group under the step's name exists for the other
 * purpose (no rules, or Systems Manager endpoints): its rules are decided by
 * that purpose and other instances are in it, so the step will not change
 * them. Choose another `quarantineGroupName`; retrying cannot help.
 */
export class QuarantineGroupPurposeError extends RiposteError {
  override readonly name: string = 'QuarantineGroupPurposeError';
  readonly code = 'EC2_QUARANTINE_GROUP_PURPOSE';
  constructor(action: string, context: ActionContext, group: { readonly id: string; readonly name: string; readonly vpcId: string }, found: string, wanted: string) {
    super(
      `${action}: security group ${group.id} ("${group.name}") in ${group.vpcId} is Riposte's riposte:purpose=${found} group, and this step needs a ${wanted} group: choose another quarantineGroupName`,
      { context: { ...where(context), resource: group.id, step: action } },
    );
  }
}

/**
 * The step's security group is not a VPC's default security group (its
 * name is not `default`): emptying it could cut traffic the group exists
 * to allow, so the action refuses to plan, run or verify against it.
 */
export class NotDefaultSecurityGroupError extends RiposteError {
  override readonly name: string = 'NotDefaultSecurityGroupError';
  readonly code = 'EC2_NOT_DEFAULT_SECURITY_GROUP';
  readonly groupId: string;
  readonly groupName: string | undefined;
  constructor(context: ActionContext, groupId: string, groupName: string | undefined) {
    super(
      `security group ${groupId} (${groupName ?? 'no name'}) in account ${context.target.account}, region ${context.target.region} is not a default security group; ec2.restrict-default-security-group empties only groups named "default"`,
      { context: { ...where(context), resource: securityGroupArnOf(context, groupId) } },
    );
    this.groupId = groupId;
    this.groupName = groupName;
  }
}

/** Rollback found a different profile on the instance than the one it would restore, and left it alone. */
export class InstanceProfileConflictError extends RiposteError {
  override readonly name: string = 'InstanceProfileConflictError';
  readonly code = 'EC2_INSTANCE_PROFILE_CONFLICT';
  constructor(context: ActionContext, instanceId: string, current: string, wanted: string) {
    super(`instance ${instanceId} now has instance profile ${current}; not replacing it with ${wanted} on rollback`, {
      context: { ...where(context), resource: instanceArnOf(context, instanceId), instanceId },
    });
  }
}

/** No evidence bucket is configured for Riposte, so evidence has nowhere to go. Fix the configuration; retrying cannot help. */
export class EvidenceBucketNotConfiguredError extends RiposteError {
  override readonly name: string = 'EvidenceBucketNotConfiguredError';
  readonly code = 'ACTION_EVIDENCE_BUCKET_NOT_CONFIGURED';
  constructor(action: string, context: ActionContext) {
    super(`${action}: no evidence bucket is configured (hosting.evidenceBucket), so evidence for ${context.resource.instanceId ?? context.resource.id} cannot be stored`, {
      context: { ...where(context), resource: stepResourceOf(context), step: action, field: 'hosting.evidenceBucket' },
      retryable: false,
    });
  }
}

/**
 * The command ended in a status other than Success (Failed, Cancelled,
 * TimedOut). Whatever output came back is already stored as evidence at
 * `evidenceKey`. Not retryable: the same commands would most likely end the same way.
 */
export class SsmCommandFailedError extends RiposteError {
  override readonly name: string = 'SsmCommandFailedError';
  readonly code = 'SSM_COMMAND_FAILED';
  readonly commandId: string;
  readonly status: string;
  constructor(action: string, context: ActionContext, instanceId: string, failure: { commandId: string; status: string; responseCode: number | undefined; evidence: string }) {
    const { commandId, status, responseCode, evidence } = failure;
    super(`${action}: command ${commandId} on ${instanceId} ended ${status}${responseCode === undefined ? '' : ` (response code ${responseCode})`}; its output is stored at ${evidence}`, {
      context: { ...where(context), resource: instanceArnOf(context, instanceId), instanceId, step: action, commandId, status },
      retryable: false,
    });
    this.commandId = commandId;
    this.status = status;
  }
}

/** Security Hub did not take the update for this finding, or the call to it failed. */
export class FindingUpdateError extends RiposteError {
  override readonly name: string = 'FindingUpdateError';
  readonly code = 'FINDING_UPDATE_FAILED';
  /** Security Hub's `UnprocessedFindings[].ErrorCode`, when it answered with one. */
  readonly errorCode: string | undefined;
  /**
   * @param context where: at least the finding's account and region, and the finding (what Security Hub updates) as `resource`.
   * @param retryable defaults to true: Security Hub leaves findings unprocessed under load, too.
   */
  constructor(message: string, context: ErrorContext, options: { cause?: unknown; retryable?: boolean; errorCode?: string } = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? true });
    this.errorCode = options.errorCode;
  }
}

/** Neither the step nor the deployment names a topic. */
export class NotificationTopicMissingError extends RiposteError {
  override readonly name: string = 'NotificationTopicMissingError';
  readonly code = 'NOTIFY_TOPIC_MISSING';
  constructor(action: string, context: ActionContext) {
    super('no SNS topic to notify: set the deployment topic or the step’s topicArn', {
      context: { ...where(context), step: action, findingId: context.finding.id, field: 'topicArn' },
    });
  }
}

export interface ResourceTagsUnreadableDetails {
  readonly account: string;
  readonly region: string;
  /** The resource's ARN or id, as the finding names it. */
  readonly resource: string;
  /** Security Hub's type name, e.g. `AwsEc2Instance`. */
  readonly resourceType: string;
  /** Why, in words: `AccessDenied: User … is not authorized to perform ec2:DescribeInstances`. */
  readonly reason: string;
  /** The AWS error's name (`AccessDenied`, `InvalidInstanceID.NotFound`), or a Riposte error's code. */
  readonly awsError?: string;
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

/**
 * The tags of the resource a playbook would change cannot be read, so its
 * exemption cannot be checked: the resource is not changed (safe default).
 * Raised for resource types Riposte does not read tags of, for a finding
 * that does not say which resource it is, and for every failed read (access
 * denied, no such resource, throttling, network); `retryable` says whether
 * the same read may succeed later.
 */
export class ResourceTagsUnreadableError extends RiposteError {
  override readonly name: string = 'ResourceTagsUnreadableError';
  readonly code = 'GUARD_RESOURCE_TAGS_UNREADABLE';
  readonly resourceType: string;
  readonly awsError: string | undefined;

  constructor(details: ResourceTagsUnreadableDetails) {
    super(`cannot read tags of ${details.resourceType} ${details.resource} in account ${details.account}, region ${details.region}: ${details.reason}`, {
      context: {
        account: details.account,
        region: details.region,
        resource: details.resource,
        resourceType: details.resourceType,
        errorName: details.awsError,
      },
      cause: details.cause,
      retryable: details.retryable ?? false,
    });
    this.resourceType = details.resourceType;
    this.awsError = details.awsError;
  }
}
