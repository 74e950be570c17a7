import { RiposteError } from '../errors.js';

/**
 * A delivery (an SQS message, an asynchronous invocation) must come again:
 * one of its runs failed for a reason that may pass, or failed before
 * anything recorded it. Thrown so that Powertools lists the message in
 * `batchItemFailures` (or Lambda retries the invocation); after the queue's
 * last attempt it lands in the dead-letter queue.
 */
export class DeliveryRetryError extends RiposteError {
  override readonly name: string = 'DeliveryRetryError';
  readonly code = 'DELIVERY_RETRY';
  /** Why, one line per run or finding. */
  readonly reasons: readonly string[];
  constructor(reasons: readonly string[], context: { readonly messageId?: string; readonly correlationId?: string; readonly runId?: string }) {
    super(`delivery ${context.messageId ?? context.correlationId ?? ''} must be retried: ${reasons.join('; ')}`, { context, retryable: true });
    this.reasons = reasons;
  }
}
