import { RiposteError, type ErrorContext } from '../../errors.js';
import type { RunSummary } from './run-summary.js';

export interface RecordErrorOptions {
  readonly cause?: unknown;
  readonly retryable?: boolean;
}

/** The run a summary describes, as error context: the finding's account, the run, playbook and finding ids. */
export function summaryContext(summary: RunSummary): ErrorContext {
  return { account: summary.finding.account, playbook: summary.playbookId, runId: summary.runId, findingId: summary.finding.id, correlationId: summary.correlationId };
}

/** The SNS notification was not published (bad topic ARN, SNS refused or could not be reached). */
export class NotificationPublishError extends RiposteError {
  override readonly name: string = 'NotificationPublishError';
  readonly code = 'RECORD_NOTIFICATION_FAILED';
  constructor(message: string, context: ErrorContext, options: RecordErrorOptions = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? false });
  }
}

/** EventBridge did not take the result event: the call failed, or it answered with a failed entry. */
export class ResultEventError extends RiposteError {
  override readonly name: string = 'ResultEventError';
  readonly code = 'RECORD_RESULT_EVENT_FAILED';
  /** The failed entry's `ErrorCode` (e.g. `ThrottlingException`, `InvalidArgument`), when EventBridge gave one. */
  readonly errorCode: string | undefined;
  constructor(message: string, context: ErrorContext, options: RecordErrorOptions & { errorCode?: string } = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? false });
    this.errorCode = options.errorCode;
  }
}

/** Even with every step's summary and changes dropped, the result event would exceed EventBridge's 256 KB. */
export class ResultEventTooLargeError extends RiposteError {
  override readonly name: string = 'ResultEventTooLargeError';
  readonly code = 'RECORD_RESULT_EVENT_TOO_LARGE';
  readonly bytes: number;
  constructor(bytes: number, limit: number, context: ErrorContext) {
    super(`the result event is ${bytes} bytes even when truncated; EventBridge takes at most ${limit}`, { context: { ...context, bytes, limit }, retryable: false });
    this.bytes = bytes;
  }
}

/** A resume request could not be scheduled (the queue refused it, or cannot delay single messages). */
export class ResumeQueueError extends RiposteError {
  override readonly name: string = 'ResumeQueueError';
  readonly code = 'RESUME_QUEUE_FAILED';
  constructor(message: string, context: ErrorContext, options: RecordErrorOptions = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? false });
  }
}

/**
 * A queue message is not a resume request Riposte can read. Retrying cannot
 * fix it: drop it (it is logged and counted) rather than let the queue
 * redeliver it.
 */
export class InvalidResumeRequestError extends RiposteError {
  override readonly name: string = 'InvalidResumeRequestError';
  readonly code = 'RESUME_REQUEST_INVALID';
  /** The SQS message id, when the record had one. */
  readonly messageId: string | undefined;
  constructor(message: string, context: ErrorContext, cause?: unknown) {
    super(message, { context: { source: 'aws:sqs', ...context }, cause, retryable: false });
    this.messageId = typeof context.messageId === 'string' ? context.messageId : undefined;
  }
}

/** A finding update could not be queued for a retry (the queue refused it, or cannot delay single messages). */
export class RecordRetryQueueError extends RiposteError {
  override readonly name: string = 'RecordRetryQueueError';
  readonly code = 'RECORD_RETRY_QUEUE_FAILED';
  constructor(message: string, context: ErrorContext, options: RecordErrorOptions = {}) {
    super(message, { context, cause: options.cause, retryable: options.retryable ?? false });
  }
}

/**
 * A record-retry message Riposte cannot act on: not a request, or one that
 * names a run the ledger does not hold or another finding than its run's.
 * Retrying cannot fix it: drop it (logged and counted).
 */
export class InvalidRecordRetryRequestError extends RiposteError {
  override readonly name: string = 'InvalidRecordRetryRequestError';
  readonly code = 'RECORD_RETRY_REQUEST_INVALID';
  constructor(message: string, context: ErrorContext, cause?: unknown) {
    super(message, { context: { source: 'aws:sqs', ...context }, cause, retryable: false });
  }
}
