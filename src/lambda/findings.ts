import { IntakeError, readEvent, type IntakeResult } from '../intake/index.js';
import { DeliveryRetryError } from './errors.js';
import { RiposteMetric } from './metrics.js';
import { deliveryRetryReasons } from './outcome.js';
import { containerRuntime, type LambdaRuntime } from './runtime.js';
import { processSqsBatch, remainingTime, type RecordScope } from './sqs-batch.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from './types.js';

/** What became of one message: handled, or dropped unread (a retry cannot help). */
export type RecordOutcome = 'handled' | 'dropped';

/**
 * One message of the findings queue: an EventBridge event as the rule
 * delivered it. Unreadable (not JSON, not an EventBridge event, an event
 * intake refuses whole): logged, counted, dropped. Read: handled finding by
 * finding, under the event's id as correlation id (the message id when the
 * event has none), with the Lambda's remaining time; a run that must run
 * again throws, so the message is redelivered (see outcome.ts).
 */
export async function handleFindingRecord(record: SqsRecord, scope: RecordScope): Promise<RecordOutcome> {
  const { runtime, counts, context } = scope;
  const logger = runtime.logger.child({ messageId: record.messageId });
  let intake: IntakeResult;
  try {
    intake = readEvent(record.body, { origin: `sqs:${record.messageId}` });
  } catch (error) {
    if (!(error instanceof IntakeError)) throw error;
    logger.error('message dropped: not an event Riposte can read, and a retry cannot change that', { error });
    counts.add(RiposteMetric.MalformedRecordsDropped);
    return 'dropped';
  }
  const correlationId = intake.envelope.id === '' ? record.messageId : intake.envelope.id;
  let reasons: string[];
  try {
    const result = await runtime.pipeline.handleIntake(intake, { correlationId, deliveryId: record.messageId, remainingTimeMs: remainingTime(context) });
    counts.addDelivery(result);
    reasons = deliveryRetryReasons(result);
  } catch (error) {
    logger.error('message handed back for redelivery: the pipeline threw', { correlationId, error });
    throw error;
  }
  if (reasons.length > 0) {
    logger.warn('message handed back for redelivery', { correlationId, reasons });
    throw new DeliveryRetryError(reasons, { messageId: record.messageId, correlationId });
  }
  return 'handled';
}

/**
 * The findings function: EventBridge → SQS (a buffer with a DLQ) → here,
 * with partial batch responses (`ReportBatchItemFailures`).
 *
 * ```ts
 * // handlers/findings.ts
 * export const handler = findingsHandler();
 * ```
 */
export function findingsHandler(runtime: () => Promise<LambdaRuntime> = containerRuntime()): (event: SqsEvent, context: LambdaContext) => Promise<SqsBatchResponse> {
  return async (event, context) => processSqsBatch(event, context, await runtime(), handleFindingRecord);
}
