import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

import { LedgerStoreError, RunAlreadyExistsError, RunNotFoundError } from './errors.js';
import { assertClaimWindow, epochSeconds, finishableFrom, newRunRecord, withFinish, withStep } from './ledger.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import type { ClaimResult, NewRun, RunOutcome, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

/*
 * One table, three kinds of item:
 *
 * | item   | pk                  | sk                          | attributes                                         |
 * |--------|---------------------|-----------------------------|----------------------------------------------------|
 * | run    | `RUN#<runId>`       | `RUN`                       | the record's fields; `version`; `steps` a list     |
 * | index  | `FINDING#<findingId>` | `RUN#<createdAt>#<runId>` | runId, playbookId, createdAt (written with the run) |
 * | claim  | `CLAIM#<key>`       | `CLAIM`                     | runId, claimedAt, `expiresAt` (epoch s, the TTL)    |
 *
 * The run and its index item are written in one transaction, so a finding
 * never lists a run that was not recorded. Appends are `list_append` updates
 * guarded by the run's status (and, when asked, its version), so concurrent
 * appends never overwrite each other. A claim's window is enforced by its
 * condition (`expiresAt <= :now` lets an expired claim be taken over), not by
 * TTL: TTL deletes expired items only eventually (within days), so it merely
 * keeps the table small.
 *
 * The received event, each step and the outcome are stored as JSON strings:
 * they are arbitrary JSON (numbers beyond 2^53, floats, `undefined`s) that
 * DynamoDB's number and map types would not keep exactly.
 */

const RUN_SK = 'RUN';
const CLAIM_SK = 'CLAIM';
const BATCH_GET_LIMIT = 100;

const runPk = (runId: string): string => `RUN#${runId}`;
const claimPk = (key: string): string => `CLAIM#${key}`;
const findingPk = (findingId: string): string => `FINDING#${findingId}`;

export interface DynamoDbRunLedgerOptions extends RunLedgerOptions {
  /** How many times to re-ask for keys a BatchGetItem left unprocessed (default 5). */
  readonly maxBatchRetries?: number;
}

/**
 * The production run ledger, on one DynamoDB table (see `runLedgerTableProperties`).
 *
 * ```ts
 * const dynamodb = DynamoDBDocumentClient.from(factory.create(DynamoDBClient));
 * const ledger = new DynamoDbRunLedger(dynamodb, config.ledgerTable);
 * ```
 */
export class DynamoDbRunLedger implements RunLedger {
  readonly tableName: string;
  readonly #client: DynamoDBDocumentClient;
  readonly #clock: () => Date;
  readonly #maxBatchRetries: number;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbRunLedgerOptions = {}) {
    this.#client = client;
    this.tableName = tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#maxBatchRetries = options.maxBatchRetries ?? 5;
  }

  async startRun(run: NewRun): Promise<RunRecord> {
    const record = newRunRecord(run, this.#clock());
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(record),
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  pk: findingPk(record.findingId),
                  sk: `RUN#${record.createdAt}#${record.runId}`,
                  runId: record.runId,
                  playbookId: record.playbookId,
                  createdAt: record.createdAt,
                },
              },
            },
          ],
        }),
      );
      return record;
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') throw storeError('record the run', error, record.runId);
      const reasons = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, unknown> }[] }).CancellationReasons ?? [];
      const runReason = reasons[0];
      // ALL_OLD puts the existing record in the cancellation reason; a transaction
      // that lost a race to a concurrent one (TransactionConflict) carries none, so read it.
      const existing =
        runReason?.Code === 'ConditionalCheckFailed' && runReason.Item !== undefined ? fromItem(runReason.Item) : await this.getRun(record.runId);
      if (existing !== undefined) throw new RunAlreadyExistsError(existing);
      throw storeError('record the run', error, record.runId, true);
    }
  }

  async appendStep(runId: string, step: StepRecord, expectedVersion?: number): Promise<RunRecord> {
    const now = this.#clock();
    const versionCheck = expectedVersion === undefined ? '' : ' AND #version = :expected';
    return this.#update(
      runId,
      'append a step',
      {
        UpdateExpression: 'SET #steps = list_append(#steps, :step), #version = #version + :one, #updatedAt = :now, #status = :inProgress',
        ConditionExpression: `attribute_exists(pk) AND #status IN (:started, :inProgress)${versionCheck}`,
        ExpressionAttributeNames: { '#steps': 'steps', '#version': 'version', '#updatedAt': 'updatedAt', '#status': 'status' },
        ExpressionAttributeValues: {
          ':step': [JSON.stringify(step)],
          ':one': 1,
          ':now': now.toISOString(),
          ':started': 'started',
          ':inProgress': 'in-progress',
          ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
        },
      },
      (current) => withStep(current, step, expectedVersion, now),
    );
  }

  async finishRun(runId: string, status: TerminalRunStatus, outcome: RunOutcome, expectedVersion?: number): Promise<RunRecord> {
    const now = this.#clock();
    const from = finishableFrom(status);
    const fromValues = Object.fromEntries(from.map((value, i) => [`:from${i}`, value]));
    const versionCheck = expectedVersion === undefined ? '' : ' AND #version = :expected';
    return this.#update(
      runId,
      `finish the run as ${status}`,
      {
        UpdateExpression: 'SET #status = :status, #outcome = :outcome, #version = #version + :one, #updatedAt = :now',
        ConditionExpression: `attribute_exists(pk) AND #status IN (${Object.keys(fromValues).join(', ')})${versionCheck}`,
        ExpressionAttributeNames: { '#status': 'status', '#outcome': 'outcome', '#version': 'version', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: {
          ':status': status,
          ':outcome': JSON.stringify(outcome),
          ':one': 1,
          ':now': now.toISOString(),
          ...fromValues,
          ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
        },
      },
      (current) => withFinish(current, status, outcome, expectedVersion, now),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    try {
      const { Item } = await this.#client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: runPk(runId), sk: RUN_SK }, ConsistentRead: true }),
      );
      return Item === undefined ? undefined : fromItem(Item);
    } catch (error) {
      throw storeError('read the run', error, runId);
    }
  }

  async claim(key: string, runId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    const nowSeconds = epochSeconds(now);
    // Two tries: the holder read after a failed condition may itself expire (or be
    // removed by TTL) in between, and then the key is free to take.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: claimPk(key), sk: CLAIM_SK, runId, claimedAt: now.toISOString(), expiresAt: nowSeconds + windowSeconds },
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': nowSeconds },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') throw storeError('claim an idempotency key', error, runId, undefined, { key });
        const item = (error as { Item?: Record<string, unknown> }).Item ?? (await this.#getClaim(key));
        const holder = item === undefined ? undefined : attributeValue(item.runId);
        if (typeof holder === 'string') return holder === runId ? { claimed: true } : { claimed: false, existingRunId: holder };
        if (attempt >= 1) throw storeError('claim an idempotency key', error, runId, true, { key });
      }
    }
  }

  async listRunsForFinding(findingId: string): Promise<RunRecord[]> {
    const runIds: string[] = [];
    try {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
            ExpressionAttributeValues: { ':pk': findingPk(findingId), ':run': 'RUN#' },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) runIds.push(String(item.runId));
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    } catch (error) {
      throw new LedgerStoreError('list the runs of a finding', error, { findingId }, isRetryable(error));
    }
    const runs = await this.#batchGetRuns(runIds);
    // The index is sorted by creation time; keep that order.
    return runIds.map((runId) => runs.get(runId)).filter((run): run is RunRecord => run !== undefined);
  }

  async #batchGetRuns(runIds: readonly string[]): Promise<Map<string, RunRecord>> {
    const found = new Map<string, RunRecord>();
    for (let start = 0; start < runIds.length; start += BATCH_GET_LIMIT) {
      let keys: Record<string, unknown>[] = runIds.slice(start, start + BATCH_GET_LIMIT).map((runId) => ({ pk: runPk(runId), sk: RUN_SK }));
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt > this.#maxBatchRetries) {
          throw new LedgerStoreError('read runs', new Error(`${keys.length} keys stayed unprocessed`), {}, true);
        }
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        try {
          const { Responses, UnprocessedKeys } = await this.#client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of Responses?.[this.tableName] ?? []) {
            const run = fromItem(item);
            found.set(run.runId, run);
          }
          keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        } catch (error) {
          throw new LedgerStoreError('read runs', error, {}, isRetryable(error));
        }
      }
    }
    return found;
  }

  async #getClaim(key: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: claimPk(key), sk: CLAIM_SK }, ConsistentRead: true }),
    );
    return Item;
  }

  /**
   * A conditional update of the run item. When the condition fails, the record
   * DynamoDB returns (ALL_OLD) goes through the same rule the file store uses,
   * which throws the typed error that explains the refusal.
   */
  async #update(
    runId: string,
    operation: string,
    update: Pick<
      ConstructorParameters<typeof UpdateCommand>[0],
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
    explain: (current: RunRecord) => RunRecord,
  ): Promise<RunRecord> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: runPk(runId), sk: RUN_SK },
          ...update,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (Attributes === undefined) throw new Error('the update returned no attributes');
      return fromItem(Attributes);
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw storeError(operation, error, runId);
      const old = (error as { Item?: Record<string, unknown> }).Item;
      const current = old === undefined ? await this.getRun(runId) : fromItem(old);
      if (current === undefined) throw new RunNotFoundError(runId);
      explain(current);
      // Only reachable when the record had to be re-read and has changed since.
      throw storeError(operation, error, runId, true);
    }
  }
}

/**
 * The ledger table's CloudFormation properties (`AWS::DynamoDB::Table`), for
 * `serverless.yml`: on-demand billing, TTL on `expiresAt` for spent claims,
 * point-in-time recovery for the audit trail.
 */
export function runLedgerTableProperties(tableName?: string): RunLedgerTableProperties {
  return {
    ...(tableName === undefined ? {} : { TableName: tableName }),
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  };
}

export interface RunLedgerTableProperties {
  readonly TableName?: string;
  readonly BillingMode: 'PAY_PER_REQUEST';
  readonly AttributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: 'S' }[];
  readonly KeySchema: readonly { readonly AttributeName: string; readonly KeyType: 'HASH' | 'RANGE' }[];
  readonly TimeToLiveSpecification: { readonly AttributeName: string; readonly Enabled: boolean };
  readonly PointInTimeRecoverySpecification: { readonly PointInTimeRecoveryEnabled: boolean };
}

function toItem(record: RunRecord): Record<string, unknown> {
  const item: Record<string, unknown> = {
    pk: runPk(record.runId),
    sk: RUN_SK,
    runId: record.runId,
    correlationId: record.correlationId,
    findingId: record.findingId,
    playbookId: record.playbookId,
    account: record.account,
    region: record.region,
    trigger: record.trigger,
    mode: record.mode,
    status: record.status,
    receivedEvent: JSON.stringify(record.receivedEvent ?? null),
    steps: record.steps.map((step) => JSON.stringify(step)),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version: record.version,
  };
  if (record.findingUpdatedAt !== undefined) item.findingUpdatedAt = record.findingUpdatedAt;
  if (record.outcome !== undefined) item.outcome = JSON.stringify(record.outcome);
  return item;
}

/**
 * A run item back into a record. Accepts both the document client's plain
 * values and raw attribute values (`{ S: … }`), because the item a failed
 * condition returns (ALL_OLD) comes on the error, which the document client
 * does not unmarshall.
 */
function fromItem(item: Record<string, unknown>): RunRecord {
  const field = (name: string): unknown => attributeValue(item[name]);
  const text = (name: string): string => String(field(name));
  const steps = field('steps');
  const outcome = field('outcome');
  const findingUpdatedAt = field('findingUpdatedAt');
  try {
    return {
      runId: text('runId'),
      correlationId: text('correlationId'),
      findingId: text('findingId'),
      ...(findingUpdatedAt === undefined ? {} : { findingUpdatedAt: String(findingUpdatedAt) }),
      playbookId: text('playbookId'),
      account: text('account'),
      region: text('region'),
      trigger: text('trigger') as RunRecord['trigger'],
      mode: text('mode') as RunRecord['mode'],
      status: text('status') as RunRecord['status'],
      receivedEvent: JSON.parse(text('receivedEvent')) as unknown,
      steps: (Array.isArray(steps) ? steps : []).map((step) => JSON.parse(String(step)) as StepRecord),
      ...(outcome === undefined ? {} : { outcome: JSON.parse(String(outcome)) as RunOutcome }),
      createdAt: text('createdAt'),
      updatedAt: text('updatedAt'),
      version: Number(field('version')),
    };
  } catch (error) {
    throw new LedgerStoreError('read a run item', error, { resource: String(field('runId')) });
  }
}

/** A plain value, or the value of a raw attribute value of the kinds the ledger writes. */
function attributeValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const raw = value as { S?: string; N?: string; L?: unknown[]; BOOL?: boolean; NULL?: boolean };
  if (raw.S !== undefined) return raw.S;
  if (raw.N !== undefined) return Number(raw.N);
  if (raw.L !== undefined) return raw.L.map(attributeValue);
  if (raw.BOOL !== undefined) return raw.BOOL;
  if (raw.NULL !== undefined) return null;
  return value;
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'TransactionInProgressException',
  'TransactionCanceledException',
]);

function isRetryable(error: unknown): boolean {
  return (error as { $retryable?: unknown })?.$retryable !== undefined || RETRYABLE_NAMES.has(errorName(error) ?? '');
}

function storeError(operation: string, error: unknown, runId: string, retryable?: boolean, extra: Record<string, string> = {}): LedgerStoreError {
  return new LedgerStoreError(operation, error, { resource: runId, ...extra }, retryable ?? isRetryable(error));
}
