import { readResumeRequests, RunUnknownError } from '../pipeline/index.js';
import { DeliveryRetryError } from './errors.js';
import { RiposteMetric } from './metrics.js';
import { runRetryReason } from './outcome.js';
import { containerRuntime, type LambdaRuntime } from './runtime.js';
import { processSqsBatch, remainingTime, type RecordScope } from './sqs-batch.js';
import type { RecordOutcome } from './findings.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from './types.js';

/**
 * One message of the resume queue: a run saved with a step in progress,
 * carried on (`Pipeline.resume`) with the Lambda's remaining time. A
 * message that is not a resume request, or names a run the ledger does not
 * hold, is logged, counted and dropped. A resumed run that failed for a
 * reason that may pass, or a throw (the ledger unreachable), sends the
 * message back; redelivered after the visibility timeout, it finds the
 * worker's lease lapsed, or the run ended (then it is a no-op).
 */
export async function handleResumeRecord(record: SqsRecord, scope: RecordScope): Promise<RecordOutcome> {
  const { runtime, counts, context } = scope;
  const logger = runtime.logger.child({ messageId: record.messageId });
  const { errors, received } = readResumeRequests({ Records: [record] });
  const request = received[0]?.request;
  if (request === undefined) {
    logger.error('message dropped: not a resume request, and a retry cannot change that', { error: errors[0] });
    counts.add(RiposteMetric.MalformedRecordsDropped);
    return 'dropped';
  }
  let reason: string | undefined;
  try {
    const result = await runtime.pipeline.resume(request, { remainingTimeMs: remainingTime(context) });
    counts.addRun(result);
    reason = runRetryReason(result);
  } catch (error) {
    if (error instanceof RunUnknownError) {
      logger.error('message dropped: it names a run the ledger does not hold', { correlationId: request.correlationId, runId: request.runId, error });
      counts.add(RiposteMetric.MalformedRecordsDropped);
      return 'dropped';
    }
    logger.error('message handed back for redelivery: the resume threw', { correlationId: request.correlationId, runId: request.runId, error });
    throw error;
  }
  if (reason !== undefined) {
    logger.warn('message handed back for redelivery', { correlationId: request.correlationId, runId: request.runId, reason });
    throw new DeliveryRetryError([reason], { messageId: record.messageId, correlationId: request.correlationId, runId: request.runId });
  }
  return 'handled';
}

/**
 * The resume function: the resume queue (per-message delays) → here, with
 * partial batch responses.
 *
 * ```ts
 * // handlers/resume.ts
 * export const handler = resumeHandler();
 * ```
 */
export function resumeHandler(runtime: () => Promise<LambdaRuntime> = containerRuntime()): (event: SqsEvent, context: LambdaContext) => Promise<SqsBatchResponse> {
  return async (event, context) => processSqsBatch(event, context, await runtime(), handleResumeRecord);
}
