import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

import * as z from '../../zod.js';

import { FindingUpdateError, SECURITY_HUB_NOTE_MAX } from '../../actions/index.js';
import type { AwsClientFactory } from '../../aws/index.js';
import { describeError, isRetryableError, serializeError, type ErrorContext, type SerializedError } from '../../errors.js';
import type { Finding, RawFinding } from '../../intake/index.js';
import { isTerminal, RunAlreadyExistsError, type RunLedger, type RunRecord } from '../../ledger/index.js';
import { RECORD_RETRY_REQUEST_KIND } from './constants.js';
import { InvalidRecordRetryRequestError, RecordRetryQueueError } from './errors.js';
import { recordStatusRunId, type RunRecordStatus } from './record-status.js';
import { clampDelaySeconds } from './resume-queue.js';
import { recordOnFinding } from './security-hub-record.js';

/**
 * Write run `runId`'s note (and workflow) on its finding again: the first
 * write did not land. Small and bounded (a few KB, far under SQS's 256 KB):
 * the finding is named, not carried; the note text is at most 512 characters.
 */
export interface RecordRetryRequest {
  readonly kind: 'riposte.record-retry';
  readonly runId: string;
  readonly playbookId: string;
  readonly correlationId: string;
  /** The finding as Security Hub identifies it (`Id` and `ProductArn`; OCSF: `finding_info.uid`, product uid), where it lives. */
  readonly finding: { readonly id: string; readonly productArn: string; readonly account: string; readonly region: string };
  /** The note's text; the writer adds the `[riposte run … playbook …]` header, as the first attempt did. */
  readonly text: string;
  readonly workflow?: 'RESOLVED' | 'NOTIFIED';
  /** Calls already made to write it when this message was sent (the run's own: 1). */
  readonly attempts: number;
}

/** The body of a record-retry message. Unknown fields are ignored, so a newer sender does not break an older reader. */
export const recordRetryRequestSchema = z.object({
  kind: z.literal(RECORD_RETRY_REQUEST_KIND),
  runId: z.string().check(z.minLength(1), z.maxLength(256)),
  playbookId: z.string().check(z.minLength(1), z.maxLength(256)),
  correlationId: z.string().check(z.minLength(1), z.maxLength(256)),
  finding: z.object({
    // ASFF's limit on Id and ProductArn.
    id: z.string().check(z.minLength(1), z.maxLength(512)),
    productArn: z.string().check(z.minLength(1), z.maxLength(512)),
    account: z.string().check(z.regex(/^\d{12}$/)),
    region: z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/)),
  }),
  text: z.string().check(z.minLength(1), z.maxLength(SECURITY_HUB_NOTE_MAX)),
  workflow: z.optional(z.enum(['RESOLVED', 'NOTIFIED'])),
  attempts: z.number().check(z.int(), z.minimum(1), z.maximum(1_000)),
});

/** How a failed finding update is written again later. */
export interface RecordRetryQueue {
  schedule(request: RecordRetryRequest, delaySeconds: number): Promise<void>;
}

const issueText = (error: z.core.$ZodError): string => error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ');

/** The request exactly as a reader will take it (only its own fields), or a typed error for one it would reject. */
function checked(request: RecordRetryRequest): RecordRetryRequest {
  const parsed = recordRetryRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidRecordRetryRequestError(`not a valid record-retry request for run ${request.runId}: ${issueText(parsed.error)}`, { runId: request.runId }, parsed.error);
  return parsed.data;
}

/**
 * Record-retry requests as SQS messages with a per-message delay (at most 15
 * minutes). Standard queues only: FIFO queues cannot delay single messages.
 */
export class SqsRecordRetryQueue implements RecordRetryQueue {
  readonly #sqs: SQSClient;
  readonly #queueUrl: string;

  /** @throws RecordRetryQueueError for a FIFO queue URL. */
  constructor(sqs: SQSClient, queueUrl: string) {
    if (queueUrl.endsWith('.fifo')) {
      throw new RecordRetryQueueError(`record retries need a standard queue: FIFO queues cannot delay single messages (${queueUrl})`, { resource: queueUrl });
    }
    this.#sqs = sqs;
    this.#queueUrl = queueUrl;
  }

  /** @throws RecordRetryQueueError when SQS refuses the message or cannot be reached (retryable when throttled, 5xx or a network error). */
  async schedule(request: RecordRetryRequest, delaySeconds: number): Promise<void> {
    const body = checked(request);
    try {
      await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#queueUrl, MessageBody: JSON.stringify(body), DelaySeconds: clampDelaySeconds(delaySeconds) }));
    } catch (error) {
      throw new RecordRetryQueueError(
        `queueing the retry of run ${body.runId}'s finding update failed: ${describeError(error)}`,
        { resource: this.#queueUrl, runId: body.runId, correlationId: body.correlationId, findingId: body.finding.id },
        { cause: error, retryable: isRetryableError(error) },
      );
    }
  }
}

/** Record-retry requests kept in memory, delays clamped as SQS would: for tests. */
export class MemoryRecordRetryQueue implements RecordRetryQueue {
  readonly scheduled: Array<{ readonly request: RecordRetryRequest; readonly delaySeconds: number }> = [];

  async schedule(request: RecordRetryRequest, delaySeconds: number): Promise<void> {
    this.scheduled.push({ request: checked(request), delaySeconds: clampDelaySeconds(delaySeconds) });
  }
}

/**
 * A record-retry message body, read.
 * @throws InvalidRecordRetryRequestError when it is not JSON or not a record-retry request.
 */
export function readRecordRetryRequest(body: string, messageId?: string): RecordRetryRequest {
  const context: ErrorContext = messageId === undefined ? {} : { messageId };
  const label = messageId === undefined ? 'record-retry message' : `record-retry message ${messageId}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new InvalidRecordRetryRequestError(`${label}: body is not JSON (${describeError(error)})`, { ...context, field: 'body' }, error);
  }
  const request = recordRetryRequestSchema.safeParse(parsed);
  if (!request.success) {
    throw new InvalidRecordRetryRequestError(`${label} is not a record-retry request: ${issueText(request.error)}`, { ...context, field: 'body' }, request.error);
  }
  return request.data;
}

/** UnprocessedFindings codes (and SDK errors) no retry can change: the request itself is at fault, or Riposte may not write. */
const NEVER_CODES = new Set(['DuplicatedFindingIdentifier', 'FindingSizeExceeded', 'InvalidInput', 'ValidationException', 'AccessDeniedException']);
/** The finding is not (yet) in Security Hub: worth a few retries — an update may race the import — but not forever. */
const NOT_YET_CODES = new Set(['FindingNotFound', 'ResourceNotFoundException']);

/**
 * Whether a failed finding update is worth another attempt after `attempts`
 * calls: not for a request Security Hub refuses as such (invalid input, too
 * large, access denied); a finding it does not hold, until `maxAttempts`;
 * throttling, internal failures and concurrent updates, always (the queue's
 * redrive policy ends those in its dead-letter queue).
 */
export function worthRetrying(error: unknown, attempts: number, maxAttempts: number): boolean {
  const code = error instanceof FindingUpdateError ? error.errorCode : undefined;
  if (code !== undefined && NEVER_CODES.has(code)) return false;
  if (code !== undefined && NOT_YET_CODES.has(code)) return attempts < maxAttempts;
  return isRetryableError(error);
}

/** What a record retry came to. */
export type RecordRetryOutcome =
  /** Security Hub took the note (and workflow); the ledger says so. */
  | { readonly result: 'done'; readonly runId: string; readonly status: RunRecordStatus }
  /** An earlier delivery of the same request already settled it: nothing was written. */
  | { readonly result: 'duplicate'; readonly runId: string; readonly status?: RunRecordStatus }
  /** Given up: recorded as `failed`; the message is done with. */
  | { readonly result: 'failed'; readonly runId: string; readonly status: RunRecordStatus }
  /** Not yet: the message must come again (and ends in the dead-letter queue if it keeps failing). */
  | { readonly result: 'retry'; readonly runId: string; readonly attempts: number; readonly error: SerializedError }
  /** A message that cannot be acted on (unreadable, an unknown run, another finding than its run's): dropped. */
  | { readonly result: 'dropped'; readonly runId?: string; readonly error: SerializedError };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The finding a run record keeps, checked against the request; what the first attempt wrote on. */
function findingOf(run: RunRecord, request: RecordRetryRequest): Finding {
  const stored = run.finding;
  const product = isObject(stored) ? stored.product : undefined;
  const same =
    isObject(stored) &&
    isObject(product) &&
    stored.id === request.finding.id &&
    product.arn === request.finding.productArn &&
    stored.account === request.finding.account &&
    stored.region === request.finding.region &&
    typeof stored.source === 'string' &&
    typeof stored.format === 'string';
  if (!same) {
    // Only the finding the run acted on may receive its note: a message naming another is refused, whoever put it on the queue.
    throw new InvalidRecordRetryRequestError(`run ${run.runId} acted on another finding than the one the message names (${request.finding.id})`, {
      runId: run.runId,
      findingId: request.finding.id,
      field: 'finding',
    });
  }
  return { ...(stored as unknown as Omit<Finding, 'raw'>), raw: run.receivedEvent as RawFinding };
}

/** The settled status of a run's finding update, as the retry's own record keeps it (`undefined` while none is). */
export function settledRecordStatus(record: RunRecord | undefined): RunRecordStatus | undefined {
  if (record === undefined || !isTerminal(record.status)) return undefined;
  const details = record.outcome?.details;
  return isObject(details) && isObject(details.record) ? (details.record as unknown as RunRecordStatus) : undefined;
}

/**
 * Where a run's finding update stands: settled by a retry (its own record,
 * {@link recordStatusRunId}), else as the run ended (`outcome.details.record`).
 */
export async function findingRecordStatus(ledger: RunLedger, runId: string): Promise<RunRecordStatus | undefined> {
  const settled = settledRecordStatus(await ledger.getRun(recordStatusRunId(runId)));
  if (settled !== undefined) return settled;
  const details = (await ledger.getRun(runId))?.outcome?.details;
  return isObject(details) && isObject(details.record) ? (details.record as unknown as RunRecordStatus) : undefined;
}

/**
 * Writes the settled status beside the run: a record of its own (the run's
 * is closed), started and finished at once. A redelivery that finds it
 * started (the first delivery died between the two writes) finishes it.
 */
async function settle(ledger: RunLedger, run: RunRecord, request: RecordRetryRequest, status: RunRecordStatus): Promise<void> {
  const runId = recordStatusRunId(run.runId);
  let started: RunRecord;
  try {
    started = await ledger.startRun({
      runId,
      correlationId: request.correlationId,
      findingId: run.findingId,
      ...(run.findingUpdatedAt === undefined ? {} : { findingUpdatedAt: run.findingUpdatedAt }),
      playbookId: run.playbookId,
      account: run.account,
      region: run.region,
      trigger: run.trigger,
      mode: run.mode,
      // What was retried, for audit: the message as read.
      receivedEvent: request,
      attempt: status.attempts,
    });
  } catch (error) {
    if (!(error instanceof RunAlreadyExistsError)) throw error;
    started = error.existing;
    if (isTerminal(started.status)) return;
  }
  await ledger.finishRun(
    runId,
    status.securityHub === 'done' ? 'succeeded' : 'failed',
    {
      summary: `finding update of run ${run.runId}: ${status.detail}`,
      ...(status.securityHub === 'done' && status.workflow !== undefined ? { workflowStatus: status.workflow } : {}),
      ...(status.error === undefined ? {} : { error: status.error }),
      details: { recordOf: run.runId, record: status },
    },
    started.version,
  );
}

export interface RecordRetryOptions {
  /** Calls made before this one by deliveries of this message (SQS `ApproximateReceiveCount` − 1). */
  readonly earlierDeliveries?: number;
  /** Attempts after which a finding Security Hub does not hold is given up. */
  readonly maxAttempts: number;
  readonly now?: () => Date;
}

/**
 * One record retry: Security Hub's BatchUpdateFindings (V2 for OCSF) with the
 * run's note and workflow, then the ledger. Skips a request already settled
 * (SQS delivers at least once); drops one naming an unknown run or another
 * finding; gives up (`failed`, recorded) on what no retry can change; asks
 * for another delivery (`retry`) otherwise.
 *
 * @throws the ledger's errors (unreachable, a conflicting write): the message should come again.
 */
export async function retryFindingRecord(factory: AwsClientFactory, ledger: RunLedger, request: RecordRetryRequest, options: RecordRetryOptions): Promise<RecordRetryOutcome> {
  const now = options.now ?? (() => new Date());
  const settled = await ledger.getRun(recordStatusRunId(request.runId));
  if (settled !== undefined && isTerminal(settled.status)) {
    const status = settledRecordStatus(settled);
    return { result: 'duplicate', runId: request.runId, ...(status === undefined ? {} : { status }) };
  }
  const run = await ledger.getRun(request.runId);
  if (run === undefined) {
    return { result: 'dropped', runId: request.runId, error: serializeError(new InvalidRecordRetryRequestError(`no run ${request.runId} is recorded`, { runId: request.runId, field: 'runId' })) };
  }
  let finding: Finding;
  try {
    finding = findingOf(run, request);
  } catch (error) {
    return { result: 'dropped', runId: request.runId, error: serializeError(error) };
  }
  const attempts = request.attempts + (options.earlierDeliveries ?? 0) + 1;
  const base = { ...(request.workflow === undefined ? {} : { workflow: request.workflow }), attempts };
  try {
    const written = await recordOnFinding(factory, finding, {
      runId: run.runId,
      playbookId: run.playbookId,
      text: request.text,
      ...(request.workflow === undefined ? {} : { workflow: request.workflow }),
    });
    const status: RunRecordStatus = { securityHub: 'done', detail: `${written.summary}, attempt ${attempts}`, ...base, at: now().toISOString() };
    await settle(ledger, run, request, status);
    return { result: 'done', runId: run.runId, status };
  } catch (error) {
    if (worthRetrying(error, attempts, options.maxAttempts)) return { result: 'retry', runId: run.runId, attempts, error: serializeError(error) };
    const status: RunRecordStatus = {
      securityHub: 'failed',
      detail: `not written after ${attempts} attempts: ${describeError(error)}`,
      ...base,
      error: serializeError(error),
      at: now().toISOString(),
    };
    await settle(ledger, run, request, status);
    return { result: 'failed', runId: run.runId, status };
  }
}
