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
import { assertChangeLimit, assertClaimWindow, epochSeconds, finishableFrom, newRunRecord, withFinish, withStep } from './ledger.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import type { ChangeReservation, ClaimResult, NewRun, RunOutcome, RunRecord, StepRecord, TerminalRunStatus } from './types.js';

/*
 * One table, four kinds of item:
 *
 * | item   | pk                    | sk                        | attributes                                                 |
 * |--------|-----------------------|---------------------------|------------------------------------------------------------|
 * | run    | `RUN#<runId>`         | `RUN`                     | the record's fields; `version`; `steps` a list             |
 * | index  | `FINDING#<findingId>` | `RUN#<createdAt>#<runId>` | runId, playbookId, createdAt (written with the run)        |
 * | claim  | `CLAIM#<key>`         | `CLAIM`                   | runId, claimedAt, `expiresAt` (epoch s, the TTL)           |
 * | slot   | `LIMIT#<scope>`       | `SLOT#<i>`, i < limit     | resourceKey, reservedAt, `expiresAt` (epoch s, the TTL)    |
 *
 * The run and its index item are written in one transaction, so a finding
 * never lists a run that was not recorded. Appends are `list_append` updates
 * guarded by the run's status (and, when asked, its version), so concurrent
 * appends never overwrite each other. A claim's window is enforced by its
 * condition (`expiresAt <= :now` lets an expired claim be taken over), not by
 * TTL: TTL deletes expired items only eventually (within days), so it merely
 * keeps the table small. A transfer is an update conditioned on the current
 * owner (and its window).
 *
 * A change limit of N is N slot items under the scope. A reservation reads
 * them (one query), and takes a free or expired slot with a conditional put,
 * moving on to the next slot when another caller got there first: N
 * successful puts at most, whatever the concurrency. A resource that holds a
 * slot has its `expiresAt` pushed out instead (conditioned on still holding
 * it). Slot items at or beyond a lowered limit are ignored.
 *
 * The received event, each step and the outcome are stored as JSON strings:
 * they are arbitrary JSON (numbers beyond 2^53, floats, `undefined`s) that
 * DynamoDB's number and map types would not keep exactly.
 */

const RUN_SK = 'RUN';
const CLAIM_SK = 'CLAIM';
const SLOT_PREFIX = 'SLOT#';
const BATCH_GET_LIMIT = 100;

const runPk = (runId: string): string => `RUN#${runId}`;
const claimPk = (key: string): string => `CLAIM#${key}`;
const findingPk = (findingId: string): string => `FINDING#${findingId}`;
const limitPk = (scope: string): string => `LIMIT#${scope}`;

/** A slot as read: who holds it, and until when (epoch seconds). */
interface Slot {
  readonly resourceKey: string;
  readonly expiresAt: number;
}

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

  async transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    const nowSeconds = epochSeconds(now);
    // Two tries, as in claim(): the owner read after a failed condition may be
    // `fromRunId` again (it re-claimed an expired key in between).
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: claimPk(key), sk: CLAIM_SK },
            UpdateExpression: 'SET #runId = :to, #claimedAt = :at, #expiresAt = :expires',
            ConditionExpression: '#runId = :from AND #expiresAt > :now',
            ExpressionAttributeNames: { '#runId': 'runId', '#claimedAt': 'claimedAt', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':to': toRunId, ':from': fromRunId, ':at': now.toISOString(), ':expires': nowSeconds + windowSeconds, ':now': nowSeconds },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') throw storeError('transfer an idempotency key', error, fromRunId, undefined, { key });
        const item = (error as { Item?: Record<string, unknown> }).Item ?? (await this.#getClaim(key));
        const owner = item !== undefined && Number(attributeValue(item.expiresAt)) > nowSeconds ? String(attributeValue(item.runId)) : '';
        if (owner === toRunId) return { claimed: true };
        if (owner !== fromRunId || attempt >= 1) return { claimed: false, existingRunId: owner };
      }
    }
  }

  async reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date = this.#clock()): Promise<ChangeReservation> {
    assertChangeLimit(limit, windowSeconds);
    const nowSeconds = epochSeconds(now);
    const expiresAt = nowSeconds + windowSeconds;
    const held = new Map<number, string>();
    for (const [index, slot] of await this.#readSlots(scope, limit)) if (slot.expiresAt > nowSeconds) held.set(index, slot.resourceKey);

    const mine = [...held].find(([, holder]) => holder === resourceKey);
    if (mine !== undefined) {
      if (await this.#extendSlot(scope, mine[0], resourceKey, now, expiresAt)) return { allowed: true, used: held.size, limit, alreadyHeld: true };
      // Lost between the read and the update (it expired and was taken): a fresh slot is needed.
      held.delete(mine[0]);
    }
    for (let index = 0; index < limit; index += 1) {
      if (held.has(index)) continue;
      const holder = await this.#takeSlot(scope, index, resourceKey, now, expiresAt);
      if (holder === undefined) {
        held.set(index, resourceKey);
        return { allowed: true, used: held.size, limit, alreadyHeld: false };
      }
      // A concurrent reservation of the same resource took this slot first.
      if (holder === resourceKey) return { allowed: true, used: held.size + 1, limit, alreadyHeld: true };
      held.set(index, holder);
    }
    const holders = [...held].sort(([a], [b]) => a - b).map(([, holder]) => holder);
    return { allowed: false, used: held.size, limit, holders };
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

  /** The scope's slots below `limit`, by index, read consistently. */
  async #readSlots(scope: string, limit: number): Promise<Map<number, Slot>> {
    const slots = new Map<number, Slot>();
    try {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :slot)',
            ExpressionAttributeValues: { ':pk': limitPk(scope), ':slot': SLOT_PREFIX },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const index = Number(String(item.sk).slice(SLOT_PREFIX.length));
          if (Number.isInteger(index) && index >= 0 && index < limit) slots.set(index, slotFrom(item));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    } catch (error) {
      throw new LedgerStoreError('read the change-limit slots', error, { playbook: scope }, isRetryable(error));
    }
    return slots;
  }

  /**
   * Takes slot `index` if it is free or expired. Answers `undefined` when
   * taken, else the resource holding it (read from the failed condition).
   */
  async #takeSlot(scope: string, index: number, resourceKey: string, now: Date, expiresAt: number): Promise<string | undefined> {
    const nowSeconds = epochSeconds(now);
    // Two tries, as in claim(): the holder read after a failed condition may
    // itself have expired (or been removed by TTL) in between.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk: limitPk(scope), sk: `${SLOT_PREFIX}${index}`, resourceKey, reservedAt: now.toISOString(), expiresAt },
            ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt <= :now',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':now': nowSeconds },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return undefined;
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') throw slotError('reserve a change-limit slot', error, scope, resourceKey);
        const item = (error as { Item?: Record<string, unknown> }).Item ?? (await this.#getSlot(scope, index));
        const slot = item === undefined ? undefined : slotFrom(item);
        if (slot !== undefined && slot.expiresAt > nowSeconds) return slot.resourceKey;
        if (attempt >= 1) throw slotError('reserve a change-limit slot', error, scope, resourceKey, true);
      }
    }
  }

  /**
   * Keeps slot `index` for a full window from `now`, while `resourceKey`
   * still holds it. Answers whether it does.
   */
  async #extendSlot(scope: string, index: number, resourceKey: string, now: Date, expiresAt: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: limitPk(scope), sk: `${SLOT_PREFIX}${index}` },
          UpdateExpression: 'SET #reservedAt = :at, #expiresAt = :expires',
          // Never shortens a slot (a caller whose clock runs behind).
          ConditionExpression: '#resourceKey = :key AND #expiresAt > :now AND #expiresAt < :expires',
          ExpressionAttributeNames: { '#resourceKey': 'resourceKey', '#reservedAt': 'reservedAt', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: { ':key': resourceKey, ':at': now.toISOString(), ':expires': expiresAt, ':now': nowSeconds },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) !== 'ConditionalCheckFailedException') throw slotError('extend a change-limit slot', error, scope, resourceKey);
      const item = (error as { Item?: Record<string, unknown> }).Item ?? (await this.#getSlot(scope, index));
      const slot = item === undefined ? undefined : slotFrom(item);
      return slot !== undefined && slot.resourceKey === resourceKey && slot.expiresAt > nowSeconds;
    }
  }

  async #getSlot(scope: string, index: number): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: limitPk(scope), sk: `${SLOT_PREFIX}${index}` }, ConsistentRead: true }),
    );
    return Item;
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

/**
 * How each field of a run record is stored. Typed over every key of
 * `RunRecord`, so a field added to the record and not here fails to compile
 * rather than being silently dropped. `json` fields (arbitrary JSON) and each
 * of the `json-list` steps are JSON strings; see the layout above.
 */
const RUN_ATTRIBUTES = {
  runId: 'string',
  correlationId: 'string',
  findingId: 'string',
  findingUpdatedAt: 'string',
  playbookId: 'string',
  account: 'string',
  region: 'string',
  trigger: 'string',
  mode: 'string',
  status: 'string',
  receivedEvent: 'json',
  finding: 'json',
  attempt: 'number',
  retryOf: 'string',
  rollbackOf: 'string',
  resumes: 'number',
  steps: 'json-list',
  outcome: 'json',
  createdAt: 'string',
  updatedAt: 'string',
  version: 'number',
} as const satisfies { readonly [K in keyof RunRecord]-?: 'string' | 'number' | 'json' | 'json-list' };

const RUN_FIELDS = Object.entries(RUN_ATTRIBUTES) as [keyof RunRecord, (typeof RUN_ATTRIBUTES)[keyof RunRecord]][];

function toItem(record: RunRecord): Record<string, unknown> {
  const item: Record<string, unknown> = { pk: runPk(record.runId), sk: RUN_SK };
  for (const [name, kind] of RUN_FIELDS) {
    const value: unknown = record[name];
    if (value === undefined) continue;
    if (kind === 'json') item[name] = JSON.stringify(value);
    else if (kind === 'json-list') item[name] = (value as readonly unknown[]).map((entry) => JSON.stringify(entry));
    else item[name] = value;
  }
  return item;
}

/**
 * A run item back into a record. Accepts both the document client's plain
 * values and raw attribute values (`{ S: … }`), because the item a failed
 * condition returns (ALL_OLD) comes on the error, which the document client
 * does not unmarshall.
 */
function fromItem(item: Record<string, unknown>): RunRecord {
  const record: Record<string, unknown> = {};
  try {
    for (const [name, kind] of RUN_FIELDS) {
      const value = attributeValue(item[name]);
      if (value === undefined) continue;
      if (kind === 'string') record[name] = String(value);
      else if (kind === 'number') record[name] = Number(value);
      else if (kind === 'json') record[name] = JSON.parse(String(value)) as unknown;
      else record[name] = (Array.isArray(value) ? value : []).map((entry) => JSON.parse(String(entry)) as unknown);
    }
  } catch (error) {
    throw new LedgerStoreError('read a run item', error, { resource: String(attributeValue(item.runId)) });
  }
  return record as unknown as RunRecord;
}

/** A slot item (plain or raw attribute values) as who holds it and until when. */
function slotFrom(item: Record<string, unknown>): Slot {
  return { resourceKey: String(attributeValue(item.resourceKey)), expiresAt: Number(attributeValue(item.expiresAt)) };
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

function slotError(operation: string, error: unknown, scope: string, resourceKey: string, retryable?: boolean): LedgerStoreError {
  return new LedgerStoreError(operation, error, { playbook: scope, resource: resourceKey }, retryable ?? isRetryable(error));
}

function storeError(operation: string, error: unknown, runId: string, retryable?: boolean, extra: Record<string, string> = {}): LedgerStoreError {
  return new LedgerStoreError(operation, error, { resource: runId, ...extra }, retryable ?? isRetryable(error));
}
