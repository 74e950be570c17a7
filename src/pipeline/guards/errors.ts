import { RiposteError } from '../../errors.js';

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
        ...(details.awsError === undefined ? {} : { awsError: details.awsError }),
      },
      cause: details.cause,
      retryable: details.retryable ?? false,
    });
    this.resourceType = details.resourceType;
    this.awsError = details.awsError;
  }
}
