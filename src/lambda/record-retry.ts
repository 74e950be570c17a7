import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import { AwsClientFactory } from '../aws/index.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DynamoDbRunLedger, type RunLedger } from '../ledger/index.js';
import { RiposteLogger, type RunLogger } from '../log/index.js';
import { AwsRunRecorder } from '../pipeline/index.js';
import { DeliveryRetryError } from './errors.js';
import type { RecordOutcome } from './findings.js';
import { PowertoolsMetricsSink, RiposteMetric, type MetricCounts, type MetricsSink } from './metrics.js';
import { processSqsBatch } from './sqs-batch.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent, SqsRecord } from './types.js';

/**
 * What the record-retry function works with: no playbooks and no pipeline
 * (its package has neither), only the ledger and Security Hub through the
 * recorder. Built once per container.
 */
export interface RecordRetryRuntime {
  readonly config: Config;
  readonly ledger: RunLedger;
  readonly recorder: AwsRunRecorder;
  readonly logger: RunLogger;
  readonly metrics: MetricsSink;
}

/** What a caller may supply instead of what the environment describes (tests: the emulator's clients, a memory log and metrics). */
export interface RecordRetryRuntimeOptions {
  readonly environment?: NodeJS.ProcessEnv;
  readonly factory?: AwsClientFactory;
  readonly logger?: RunLogger;
  readonly metrics?: MetricsSink;
}

/**
 * The record-retry function's cold start: configuration from the
 * environment, the DynamoDB ledger, the recorder (with the deployment's
 * retry settings: `RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS`).
 *
 * @throws ConfigError (no ledger table, an invalid variable).
 */
export function createRecordRetryRuntime(options: RecordRetryRuntimeOptions = {}): RecordRetryRuntime {
  const config = loadConfig(options.environment ?? process.env);
  const factory = options.factory ?? new AwsClientFactory(config.aws);
  const table = config.resources.ledgerTable;
  if (table === undefined) throw new ConfigError('Invalid configuration: RIPOSTE_LEDGER_TABLE must name the run ledger table', 'RIPOSTE_LEDGER_TABLE');
  return {
    config,
    ledger: new DynamoDbRunLedger(DynamoDBDocumentClient.from(factory.create(DynamoDBClient)), table),
    recorder: AwsRunRecorder.fromConfig(factory, config),
    logger: options.logger ?? new RiposteLogger({ logLevel: config.logLevel }),
    metrics: options.metrics ?? new PowertoolsMetricsSink(),
  };
}

/** Deliveries of this message before this one, from SQS's `ApproximateReceiveCount` (1 on the first). */
function earlierDeliveries(record: SqsRecord): number {
  const count = Number.parseInt(record.attributes.ApproximateReceiveCount ?? '1', 10);
  return Number.isInteger(count) && count > 1 ? count - 1 : 0;
}

/**
 * One message of the record-retry queue: the run's note and workflow
 * written on its finding again (`AwsRunRecorder.retry`), the ledger told.
 * Settled (written, or given up on what no retry can change) or already
 * settled by an earlier delivery: done with. Unreadable, naming an unknown
 * run or another finding: logged, counted, dropped. Not yet written for a
 * reason that may pass (throttling, the finding not yet in Security Hub), or
 * the ledger unreachable: handed back, and after the queue's last attempt
 * it lands in the dead-letter queue.
 */
export async function handleRecordRetryRecord(record: SqsRecord, runtime: RecordRetryRuntime, counts: MetricCounts): Promise<RecordOutcome> {
  const logger = runtime.logger.child({ messageId: record.messageId });
  const outcome = await runtime.recorder.retry(record.body, runtime.ledger, { messageId: record.messageId, earlierDeliveries: earlierDeliveries(record) }).catch((error: unknown) => {
    logger.error('message handed back for redelivery: the record retry threw', { error });
    throw error;
  });
  counts.add(RiposteMetric.RecordRetries, 1, { name: 'result', value: outcome.result });
  switch (outcome.result) {
    case 'dropped':
      logger.error('message dropped: not a finding update Riposte can retry, and a retry cannot change that', {
        ...(outcome.runId === undefined ? {} : { runId: outcome.runId }),
        error: outcome.error,
      });
      counts.add(RiposteMetric.MalformedRecordsDropped);
      return 'dropped';
    case 'retry':
      logger.warn('message handed back for redelivery: the finding update did not land', { runId: outcome.runId, attempts: outcome.attempts, error: outcome.error });
      throw new DeliveryRetryError([`run ${outcome.runId}: finding update not written (attempt ${outcome.attempts}): ${outcome.error.message}`], { messageId: record.messageId, runId: outcome.runId });
    case 'failed':
      logger.error('finding update given up', { runId: outcome.runId, record: outcome.status });
      return 'handled';
    case 'done':
    case 'duplicate':
      logger.info(outcome.result === 'done' ? 'finding update written' : 'finding update already settled', {
        runId: outcome.runId,
        ...(outcome.status === undefined ? {} : { record: outcome.status.securityHub }),
      });
      return 'handled';
  }
}

/**
 * The record-retry function: the record-retry queue (per-message delays) →
 * here, with partial batch responses through `processSqsBatch`, as for the
 * functions that run playbooks (this one has none to load).
 *
 * ```ts
 * // handlers/record-retry.ts
 * export const handler = recordRetryHandler();
 * ```
 */
export function recordRetryHandler(runtime: () => RecordRetryRuntime = containerRecordRetryRuntime()): (event: SqsEvent, context: LambdaContext) => Promise<SqsBatchResponse> {
  return async (event, context) => processSqsBatch(event, context, runtime(), (record, { runtime: shared, counts }) => handleRecordRetryRecord(record, shared, counts));
}

/** The runtime of this container: built on the first call, shared by later invocations; a failed build is tried again on the next. */
export function containerRecordRetryRuntime(build: () => RecordRetryRuntime = () => createRecordRetryRuntime()): () => RecordRetryRuntime {
  let built: RecordRetryRuntime | undefined;
  return () => {
    built ??= build();
    return built;
  };
}
