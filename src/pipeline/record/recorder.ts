import { SQSClient } from '@aws-sdk/client-sqs';

import type { AwsClientFactory } from '../../aws/index.js';
import type { Config } from '../../config.js';
import { describeError, serializeError, type SerializedError } from '../../errors.js';
import type { Finding } from '../../intake/index.js';
import type { RunLedger } from '../../ledger/index.js';
import { DEFAULT_RECORD_RETRY_DELAY_SECONDS, DEFAULT_RECORD_RETRY_MAX_ATTEMPTS, RECORD_RETRY_REQUEST_KIND } from './constants.js';
import { publishNotification, runNotification } from './notification.js';
import { readRecordRetryRequest, retryFindingRecord, SqsRecordRetryQueue, worthRetrying, type RecordRetryOutcome, type RecordRetryQueue } from './record-retry.js';
import { clampDelaySeconds } from './resume-queue.js';
import type { RunRecordStatus } from './record-status.js';
import { publishResultEvent } from './result-event.js';
import { summaryNoteText, type RunSummary } from './run-summary.js';
import { recordOnFinding } from './security-hub-record.js';

/** What became of one kind of record. A failed note whose retry is queued says when it comes (`retry`). */
export type RecordingItem =
  | { readonly status: 'done'; readonly detail: string }
  | { readonly status: 'skipped'; readonly detail: string }
  | { readonly status: 'failed'; readonly error: SerializedError; readonly retry?: { readonly delaySeconds: number } };

/** What the recorder did for one run: the finding's note, the SNS message, the result event. */
export type RecordingReport = Readonly<Record<'note' | 'notification' | 'event', RecordingItem>>;

export interface RecordOptions {
  /** The workflow status to set with the note (only when the run changed something or failed to). */
  readonly workflow?: 'RESOLVED' | 'NOTIFIED';
  /** Whether the run is worth an SNS message (changes, failures, a tripped limit — not every plan). */
  readonly notify: boolean;
}

/**
 * Tells the world how a run ended. Each record is attempted on its own: a
 * failure is reported (and kept in the ledger), never thrown, so one
 * unreachable topic does not hide the note or the event.
 */
export interface RunRecorder {
  record(finding: Finding, summary: RunSummary, options: RecordOptions): Promise<RecordingReport>;
}

/** How failed finding updates are retried (the deployment's record-retry queue). */
export interface RecordRetrySettings {
  /** Where the retries go; none (the CLI, the demo) → a failed note stays failed. */
  readonly queue?: RecordRetryQueue;
  /** Wait before the first retry (SQS per-message delay, at most 900 s). */
  readonly delaySeconds: number;
  /** Attempts, the run's own included, after which a finding Security Hub does not hold is given up. */
  readonly maxAttempts: number;
}

export interface AwsRunRecorderOptions {
  /** SNS topic for run notifications; none configured → no message. */
  readonly topicArn?: string;
  /** EventBridge bus for `Riposte Remediation Result` events; none configured → no event. */
  readonly eventBus?: { readonly name: string; readonly region: string };
  /** Retries of a note that did not land; none → it is reported failed, not retried. */
  readonly recordRetry?: RecordRetrySettings;
}

/**
 * Where the finding update of a run stands, from the recorder's report of
 * its note: written, skipped (not a Security Hub finding), failed with a
 * retry queued (`pending-retry`), or failed.
 */
export function runRecordStatus(note: RecordingItem, workflow: 'RESOLVED' | 'NOTIFIED' | undefined, at: string): RunRecordStatus {
  const wanted = workflow === undefined ? {} : { workflow };
  switch (note.status) {
    case 'done':
      return { securityHub: 'done', detail: note.detail, ...wanted, attempts: 1, at };
    case 'skipped':
      return { securityHub: 'skipped', detail: note.detail, attempts: 0, at };
    case 'failed':
      return note.retry === undefined
        ? { securityHub: 'failed', detail: `not written: ${note.error.message}`, ...wanted, attempts: 1, error: note.error, at }
        : { securityHub: 'pending-retry', detail: `not written yet: ${note.error.message}; retried in ${note.retry.delaySeconds} s`, ...wanted, attempts: 1, error: note.error, at };
  }
}

async function attempt(call: () => Promise<string>): Promise<RecordingItem> {
  try {
    return { status: 'done', detail: await call() };
  } catch (error) {
    return { status: 'failed', error: serializeError(error) };
  }
}

/** Records through Security Hub (BatchUpdateFindings), SNS and EventBridge in Riposte's account. */
export class AwsRunRecorder implements RunRecorder {
  readonly #factory: AwsClientFactory;
  readonly #options: AwsRunRecorderOptions;

  constructor(factory: AwsClientFactory, options: AwsRunRecorderOptions) {
    this.#factory = factory;
    this.#options = options;
  }

  /**
   * The recorder a deployment's configuration describes: its topic, its bus
   * (in the hosting region) and its record-retry queue, if named.
   *
   * @param retryQueue overrides the queue `RIPOSTE_RECORD_RETRY_QUEUE_URL` names.
   */
  static fromConfig(factory: AwsClientFactory, config: Config, retryQueue?: RecordRetryQueue): AwsRunRecorder {
    const { resources } = config;
    const retry = resources.recordRetry;
    const queue = retryQueue ?? (retry?.queueUrl === undefined ? undefined : new SqsRecordRetryQueue(factory.create(SQSClient), retry.queueUrl));
    return new AwsRunRecorder(factory, {
      ...(resources.topicArn === undefined ? {} : { topicArn: resources.topicArn }),
      ...(resources.eventBus === undefined ? {} : { eventBus: { name: resources.eventBus, region: config.aws.region } }),
      recordRetry: {
        ...(queue === undefined ? {} : { queue }),
        delaySeconds: retry?.delaySeconds ?? DEFAULT_RECORD_RETRY_DELAY_SECONDS,
        maxAttempts: retry?.maxAttempts ?? DEFAULT_RECORD_RETRY_MAX_ATTEMPTS,
      },
    });
  }

  /**
   * One record-retry message (its SQS body): the run's note and workflow
   * written on its finding again, and the ledger told how it went. A body
   * that is not a record-retry request comes back as `dropped`.
   *
   * @param earlierDeliveries deliveries of this message before this one (SQS `ApproximateReceiveCount` − 1).
   * @throws the ledger's errors: the message should come again.
   */
  async retry(body: string, ledger: RunLedger, options: { readonly messageId?: string; readonly earlierDeliveries?: number } = {}): Promise<RecordRetryOutcome> {
    let request;
    try {
      request = readRecordRetryRequest(body, options.messageId);
    } catch (error) {
      return { result: 'dropped', error: serializeError(error) };
    }
    return retryFindingRecord(this.#factory, ledger, request, {
      maxAttempts: this.#options.recordRetry?.maxAttempts ?? DEFAULT_RECORD_RETRY_MAX_ATTEMPTS,
      ...(options.earlierDeliveries === undefined ? {} : { earlierDeliveries: options.earlierDeliveries }),
    });
  }

  /** The note on the finding, and its retry queued when it failed for a reason that may pass. */
  async #recordNote(finding: Finding, summary: RunSummary, options: RecordOptions): Promise<RecordingItem> {
    const text = summaryNoteText(summary);
    const workflow = options.workflow === undefined ? {} : { workflow: options.workflow };
    try {
      const result = await recordOnFinding(this.#factory, finding, { runId: summary.runId, playbookId: summary.playbookId, text, ...workflow });
      return { status: result.updated ? 'done' : 'skipped', detail: result.summary };
    } catch (error) {
      const retry = this.#options.recordRetry;
      const productArn = finding.product.arn;
      if (retry?.queue === undefined || productArn === undefined || !worthRetrying(error, 1, retry.maxAttempts)) return { status: 'failed', error: serializeError(error) };
      try {
        await retry.queue.schedule(
          {
            kind: RECORD_RETRY_REQUEST_KIND,
            runId: summary.runId,
            playbookId: summary.playbookId,
            correlationId: summary.correlationId,
            finding: { id: finding.id, productArn, account: finding.account, region: finding.region },
            text,
            ...workflow,
            attempts: 1,
          },
          retry.delaySeconds,
        );
      } catch (queueError) {
        // Neither the note nor its retry: both reasons are worth reading.
        const failed = serializeError(error);
        return { status: 'failed', error: { ...failed, message: `${failed.message}; and its retry could not be queued: ${describeError(queueError)}` } };
      }
      return { status: 'failed', error: serializeError(error), retry: { delaySeconds: clampDelaySeconds(retry.delaySeconds) } };
    }
  }

  async record(finding: Finding, summary: RunSummary, options: RecordOptions): Promise<RecordingReport> {
    const { topicArn, eventBus } = this.#options;
    const [note, notification, event] = await Promise.all([
      this.#recordNote(finding, summary, options),
      !options.notify
        ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'nothing worth a message (a plan or a skip)' })
        : topicArn === undefined
          ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'no SNS topic configured' })
          : attempt(async () => `message ${(await publishNotification(this.#factory, topicArn, runNotification(summary))).messageId} to ${topicArn}`),
      eventBus === undefined
        ? Promise.resolve<RecordingItem>({ status: 'skipped', detail: 'no event bus configured' })
        : attempt(async () => `event ${(await publishResultEvent(this.#factory, { busName: eventBus.name, region: eventBus.region }, summary)).eventId} on ${eventBus.name}`),
    ]);
    return { note, notification, event };
  }
}
