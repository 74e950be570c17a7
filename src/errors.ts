import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Where an error happened, for the responder who reads it in a log line, the
 * run ledger or a notification. Every key means one thing, whichever module
 * sets it; a module needing a new kind of fact adds a key here, documented,
 * rather than reusing one that means something else.
 */
export interface ErrorContext {
  /** The AWS account concerned: the member account acted in, or the account a finding is about. */
  readonly account?: string;
  /** The AWS region concerned, with `account`. */
  readonly region?: string;
  /**
   * The AWS resource acted on or read: its ARN, or its id where it has no
   * ARN (`AWS::::Account:<id>`, a security group id, a queue URL, an event
   * bus name). Never a run id, a finding id or a local file.
   */
  readonly resource?: string;
  /** An EC2 instance's id, beside its ARN in `resource`: what a responder searches by. */
  readonly instanceId?: string;
  /** Security Hub's type name of `resource`, e.g. `AwsEc2Instance`. */
  readonly resourceType?: string;
  /** The run's id, as the ledger knows it. */
  readonly runId?: string;
  /** The correlation id that ties log lines and role sessions to one delivery. */
  readonly correlationId?: string;
  /** A playbook's id. */
  readonly playbook?: string;
  /**
   * Playbooks' ids, where a refusal concerns several: the playbooks an
   * on-demand request could run (none of them the one default), or those
   * that take on-demand requests when none took it. A list, so that the
   * API's answer can name them to a program, not only in its message.
   */
  readonly candidates?: readonly string[];
  /** An action's name (`ec2.isolate`): the action a step runs, or one being registered or looked up. */
  readonly step?: string;
  /** Zero-based position of the step in its playbook. */
  readonly stepIndex?: number;
  /** Which part of the step's action ran: `plan`, `run`, `verify` or `rollback`. */
  readonly phase?: string;
  /** The stage of the run's lifecycle the run was in (`claimed`, `executing`…). */
  readonly stage?: string;
  /** The id of the finding concerned. */
  readonly findingId?: string;
  /** Zero-based position of the finding in its event's `detail.findings`. */
  readonly findingIndex?: number;
  /** Where input came from: an event source (`aws.guardduty`), a channel (`api`, `aws:sqs`) or a file name. */
  readonly source?: string;
  /** The event's `detail-type`. */
  readonly detailType?: string;
  /** Dotted path of the offending field of the input or configuration, e.g. `detail.findings[1].AwsAccountId`. */
  readonly field?: string;
  /** A local file: a playbook file, a ledger file or its lock. */
  readonly file?: string;
  /** What was being done: an AWS call as `Service.Operation`, or a store's operation in words (`claim an idempotency key`). */
  readonly operation?: string;
  /** HTTP status of the failed response. */
  readonly statusCode?: number;
  /** AWS request id of the failed call. */
  readonly requestId?: string;
  /** The name of the error underneath (`Throttling`, `AccessDenied`), or a Riposte error's code. */
  readonly errorName?: string;
  /** The code a service gave for one entry of a batch call it otherwise took (Security Hub `UnprocessedFindings`, EventBridge failed entries). */
  readonly errorCode?: string;
  /** The status the subject was found in: a run's status, an SSM command's status. */
  readonly status?: string;
  /** Size in bytes of what was refused, and the limit it went over. */
  readonly bytes?: number;
  readonly limit?: number;
  /** In an optimistic write: the record version the writer expected, and the one it found. */
  readonly expectedVersion?: number;
  readonly currentVersion?: number;
  /** The idempotency key a run claims in the ledger. */
  readonly idempotencyKey?: string;
  /** The scope a change limit counts in (a playbook, or all playbooks). */
  readonly limitScope?: string;
  /** An SQS message id. */
  readonly messageId?: string;
  /** An SSM command id. */
  readonly commandId?: string;
}

/** An error as the run ledger keeps it and logs print it: plain JSON. */
export interface SerializedError {
  readonly name: string;
  /** A Riposte error's code; `UNEXPECTED` for anything else. */
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly context: ErrorContext;
}

export interface RiposteErrorOptions {
  readonly context?: ErrorContext;
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

/**
 * The one base class every Riposte error extends.
 *
 * Errors carry the context a responder needs to find the problem, say
 * whether retrying can help, and keep the underlying `cause`.
 */
export abstract class RiposteError extends Error {
  /**
   * The class's name, written out by each class (`override readonly name =
   * 'AssumeRoleDeniedError'`): the deployed bundles are minified, so a class
   * name is not what the code says, and logs, the ledger and the API name
   * errors by this.
   */
  abstract override readonly name: string;
  /** Stable machine-readable code, e.g. `INTAKE_MALFORMED_EVENT`. */
  abstract readonly code: string;
  readonly context: ErrorContext;
  /** Whether the same call may succeed when repeated (throttling, timeouts). */
  readonly retryable: boolean;

  protected constructor(message: string, options: RiposteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Unset keys are left out, as JSON would leave them out.
    this.context = Object.freeze(Object.fromEntries(Object.entries(options.context ?? {}).filter(([, value]) => value !== undefined)) as ErrorContext);
    this.retryable = options.retryable ?? false;
  }

  /** Error fields are not enumerable: logs and the ledger get this instead. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/** The error's `name` (`Throttling`, `InvalidInstanceID.NotFound`), when it has a non-empty one. */
export function errorName(error: unknown): string | undefined {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * An underlying error in one line, for the message of the error that wraps
 * it: `Throttling: Rate exceeded`, `Error [ECONNREFUSED]: connect ECONNREFUSED …`
 * (an AggregateError by the messages of the errors it holds).
 */
export function describeError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code, errors } = error as { message?: unknown; code?: unknown; errors?: unknown };
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  const name = errorName(error) ?? 'Error';
  const codeText = text(code);
  let said = text(message);
  if (said === undefined && Array.isArray(errors)) {
    said = errors
      .map((inner) => (typeof inner === 'object' && inner !== null ? text((inner as { message?: unknown }).message) : undefined))
      .filter((item) => item !== undefined)
      .join('; ');
  }
  return `${name}${codeText === undefined || codeText === name ? '' : ` [${codeText}]`}: ${said || 'no message'}`;
}

/** Any thrown value as plain JSON: a Riposte error with its code and context, anything else by name and message. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof RiposteError) {
    return { name: error.name, code: error.code, message: error.message, retryable: error.retryable, context: { ...error.context } };
  }
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return {
    name: errorName(error) ?? 'Error',
    code: 'UNEXPECTED',
    message: typeof message === 'string' ? message : String(error),
    retryable: isRetryableError(error),
    context: {},
  };
}

/** Socket failures named only in the message (an error without a `code`, as some HTTP stacks throw them). */
const NETWORK_MESSAGE = /socket hang up|ECONNREFUSED|ECONNRESET/;
/** How deep an AggregateError is looked into. */
const MAX_DEPTH = 3;

function retryable(error: unknown, depth: number): boolean {
  if (error instanceof RiposteError) return error.retryable;
  if (typeof error !== 'object' || error === null) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  // The SDK's own classification: throttling names and 429, `$retryable`, 5xx,
  // TimeoutError, Node's connection and timeout codes (ECONNREFUSED, ECONNRESET,
  // ETIMEDOUT, EPIPE, …), and a transient `cause`.
  if (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)) return true;
  const { message, errors } = error as { message?: unknown; errors?: unknown };
  if (typeof message === 'string' && NETWORK_MESSAGE.test(message)) return true;
  // Node reports a failed connection to several addresses as an AggregateError, which the SDK does not look into.
  return depth < MAX_DEPTH && Array.isArray(errors) && errors.some((inner) => retryable(inner, depth + 1));
}

/**
 * Whether repeating the same call may succeed: throttling, a 5xx answer, a
 * network failure (connection refused or reset, socket hang up, timeout).
 * A Riposte error answers for itself (`retryable`).
 */
export function isRetryableError(error: unknown): boolean {
  return retryable(error, 0);
}
