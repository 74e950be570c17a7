import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';

import { MetricCounts, RiposteMetric, type MetricsSink } from './metrics.js';
import type { LambdaRuntime } from './runtime.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from './types.js';

/** What one record's handler is given: the runtime (the pipeline's, or a function's own smaller one), the invocation's counts and the time left. */
export interface RecordScope<Runtime extends { readonly metrics: MetricsSink } = LambdaRuntime> {
  readonly runtime: Runtime;
  readonly counts: MetricCounts;
  readonly context: LambdaContext;
}

/**
 * One SQS batch through Powertools' BatchProcessor: each record handled on
 * its own (in parallel), a record whose handler throws listed in
 * `batchItemFailures` for redelivery, every other one deleted by Lambda.
 * The invocation's metrics are published whatever happens.
 *
 * Not throwing when every record failed (`throwOnFullBatchFailure: false`):
 * the response already names each failed message, and a thrown error would
 * count as a failure of the function itself, which its error alarm is for.
 */
export async function processSqsBatch<Runtime extends { readonly metrics: MetricsSink } = LambdaRuntime>(
  event: SqsEvent,
  context: LambdaContext,
  runtime: Runtime,
  handleRecord: (record: SqsRecord, scope: RecordScope<Runtime>) => Promise<unknown>,
): Promise<SqsBatchResponse> {
  const counts = new MetricCounts();
  // A processor per invocation: it keeps the batch's state while it runs.
  const processor = new BatchProcessor(EventType.SQS);
  try {
    const response = await processPartialResponse(
      event as unknown as { Records: Array<Record<string, unknown>> },
      (record: SqsRecord) => handleRecord(record, { runtime, counts, context }),
      processor,
      { context: context as never, throwOnFullBatchFailure: false },
    );
    if (response.batchItemFailures.length > 0) counts.add(RiposteMetric.RecordsRetried, response.batchItemFailures.length);
    return response;
  } finally {
    runtime.metrics.publish(counts.points());
  }
}

/** The Lambda's remaining time, as the pipeline reads it. */
export const remainingTime =
  (context: LambdaContext): (() => number) =>
  () =>
    context.getRemainingTimeInMillis();
