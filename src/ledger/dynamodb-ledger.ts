import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  paginateQuery,
  paginateScan,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';

import { isRetryableError, type ErrorContext } from '../errors.js';
import { LedgerStoreError, RunAlreadyExistsError, RunNotFoundError } from './errors.js';
import type { RunLedger, RunLedgerOptions } from './ledger.js';
import {
  assertChangeLimit,
  assertClaimWindow,
  claimOutcome,
  epochSeconds,
  finishableFrom,
  freeSlot,
  limitReached,
  listedRun,
  liveHolder,
  newestFirst,
  newRunRecord,
  TAKE,
  transferOutcome,
  withFinish,
  withinQuery,
  withState,
  withStep,
  type Holder,
} from './rules.js';
import { hasEnded, stagesBefore, type RunState } from './run-state.js';
import { bodyFromParts, bodyParts, INLINE_BODY_BYTES, storedBody, type StoredBody } from './stored-body.js';
import {
  LISTED_RUN_FIELDS,
  type ChangeReservation,
  type ClaimResult,
  type ListedRun,
  type NewRun,
  type RunOutcome,
  type RunQuery,
  type RunRecord,
  type StepRecord,
  type TerminalRunStatus,
} from './types.js';

/*
 * One table, five kinds of item:
 *
 * | item   | pk                    | sk                        | attributes                                                 |
 * |--------|-----------------------|---------------------------|------------------------------------------------------------|
 * | run    | `RUN#<runId>`         | `RUN`                     | the record's fields; `version`; `steps`, `history` lists   |
 * | index  | `FINDING#<findingId>` | `RUN#<createdAt>#<runId>` | runId, playbookId, createdAt (written with the run)        |
 * | claim  | `CLAIM#<key>`         | `CLAIM`                   | runId, claimedAt, `expiresAt` (epoch s, the TTL)           |
 * | slot   | `LIMIT#<scope>`       | `SLOT#<i>`, i < limit     | resourceKey, reservedAt, `expiresAt` (epoch s, the TTL)    |
 * | body   | `BODY#<sha256>`       | `PART#<i>` (4 digits)     | `data` (gzip bytes, part i), `parts` (how many)            |
 *
 * A run item keeps the SHA-256 of its received event and finding
 * (`bodySha256`), and the two themselves while they are small. Larger ones
 * (an event may be EventBridge's 256 KB; the run item may hold 400 KB with
 * its steps) are body items instead, written in the run's transaction and
 * shared by every run of the same event (`stored-body.ts`); the run item
 * then says `bodiesApart`.
 *
 * The run and its index item are written in one transaction, so a finding
 * never lists a run that was not recorded. Appends are `list_append` updates
 * guarded by the run's status (and, when asked, its version), so concurrent
 * appends never overwrite each other; a move to another stage is guarded by
 * the stage it comes from (`state.stage`, a map attribute for that reason).
 * A claim's window is enforced by its condition (`expiresAt <= :now` lets an
 * expired claim be taken over), not by TTL: TTL deletes expired items only
 * eventually (within days), so it merely keeps the table small. A transfer
 * is an update conditioned on the current owner (and its window).
 *
 * A change limit of N is N slot items under the scope. A reservation reads
 * them (one query), and takes a free or expired slot with a conditional put,
 * moving on to the next slot when another caller got there first: N
 * successful puts at most, whatever the concurrency. A resource that holds a
 * slot has its `expiresAt` pushed out instead (conditioned on still holding
 * it). Slot items at or beyond a lowered limit are ignored.
 *
 * Every conditional write goes through one loop (`#conditionally`): write;
 * when the condition fails, look at the item as it is and let the rule in
 * `rules.ts` answer.
 *
 * The received event, each step, each history entry and the outcome are
 * stored as JSON strings: they are arbitrary JSON (numbers beyond 2^53,
 * floats, `undefined`s) that DynamoDB's number and map types would not keep
 * exactly.
 */

const RUN_SK = 'RUN';
const CLAIM_SK = 'CLAIM';
const SLOT_PREFIX = 'SLOT#';
const BATCH_GET_LIMIT = 100;

const runPk = (runId: string): string => `RUN#${runId}`;
const bodyPk = (sha256: string): string => `BODY#${sha256}`;
const partSk = (index: number): string => `PART#${String(index).padStart(4, '0')}`;
/** Bodies kept in memory after a write or a read, so a run's later writes and reads need not read its body items again. */
const BODY_CACHE_ENTRIES = 32;
const claimPk = (key: string): string => `CLAIM#${key}`;
const findingPk = (findingId: string): string => `FINDING#${findingId}`;
const limitPk = (scope: string): string => `LIMIT#${scope}`;
const slotSk = (index: number): string => `${SLOT_PREFIX}${index}`;

type Item = Record<string, unknown>;

/** What a settle function answers for one more try of the write. */
const RETRY = Symbol('retry');

/** A conditional put (with `Item`) or update (with `UpdateExpression`) of one item. */
interface ConditionalWrite {
  readonly Item?: Item;
  readonly UpdateExpression?: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
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
  /** Stored bodies by SHA-256, most recently used last. */
  readonly #bodies = new Map<string, unknown>();

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbRunLedgerOptions = {}) {
    this.#client = client;
    this.tableName = tableName;
    this.#clock = options.clock ?? (() => new Date());
    this.#maxBatchRetries = options.maxBatchRetries ?? 5;
  }

  async startRun(run: NewRun): Promise<RunRecord> {
    const record = newRunRecord(run, this.#clock());
    const { item, bodies, apart } = toItem(record);
    try {
      await this.#client.send(
        new TransactWriteCommand({
          TransactItems: [
            ...apart.flatMap((body) =>
              bodyParts(body).map((data, index, parts) => ({ Put: { TableName: this.tableName, Item: { pk: bodyPk(body.sha256), sk: partSk(index), data, parts: parts.length } } })),
            ),
            {
              Put: {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { pk: findingPk(record.findingId), sk: `RUN#${record.createdAt}#${record.runId}`, runId: record.runId, playbookId: record.playbookId, createdAt: record.createdAt },
              },
            },
          ],
        }),
      );
      // What the run's own later writes return is then completed from memory.
      for (const [field, body] of Object.entries(bodies)) this.#keep(body.sha256, record[field as keyof typeof bodies]);
      return record;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw storeError('record the run', error, { runId: record.runId });
      // The run's put follows its body parts in the transaction.
      const runReason = error.CancellationReasons?.find((reason) => reason.Code === 'ConditionalCheckFailed') ?? error.CancellationReasons?.[0];
      // ALL_OLD puts the existing record in the cancellation reason; a transaction
      // that lost a race to a concurrent one (TransactionConflict) carries none, so read it.
      const existing = runReason?.Code === 'ConditionalCheckFailed' && runReason.Item !== undefined ? await this.#record(unmarshall(runReason.Item)) : await this.getRun(record.runId);
      if (existing !== undefined) throw new RunAlreadyExistsError(existing);
      throw storeError('record the run', error, { runId: record.runId }, true);
    }
  }

  async appendStep(runId: string, step: StepRecord, expectedVersion?: number, next?: RunState): Promise<RunRecord> {
    const now = this.#clock();
    const at = now.toISOString();
    const versionCheck = expectedVersion === undefined ? '' : ' AND #version = :expected';
    const from = next === undefined ? [] : stagesBefore(next.stage);
    const stageCheck = next === undefined ? '' : ` AND #state.#stage IN (${from.map((_, i) => `:from${i}`).join(', ')})`;
    return this.#updateRun(
      runId,
      'append a step',
      {
        UpdateExpression: `SET #steps = list_append(#steps, :step), #version = #version + :one, #updatedAt = :now, #status = :inProgress${
          next === undefined ? '' : ', #state = :state, #history = list_append(#history, :moved)'
        }`,
        ConditionExpression: `attribute_exists(pk) AND #status IN (:started, :inProgress)${versionCheck}${stageCheck}`,
        ExpressionAttributeNames: {
          '#steps': 'steps',
          '#version': 'version',
          '#updatedAt': 'updatedAt',
          '#status': 'status',
          ...(next === undefined ? {} : { '#state': 'state', '#stage': 'stage', '#history': 'history' }),
        },
        ExpressionAttributeValues: {
          ':step': [JSON.stringify(step)],
          ':one': 1,
          ':now': at,
          ':started': 'started',
          ':inProgress': 'in-progress',
          ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
          ...(next === undefined ? {} : { ':state': next, ':moved': [JSON.stringify({ state: next, at })], ...Object.fromEntries(from.map((stage, i) => [`:from${i}`, stage])) }),
        },
      },
      (current) => withStep(current, step, expectedVersion, now, next),
    );
  }

  async advanceRun(runId: string, next: RunState, expectedVersion: number): Promise<RunRecord> {
    const now = this.#clock();
    if (hasEnded(next.stage)) {
      // No condition can say why: the rule does, on the record as it is.
      const current = await this.getRun(runId);
      if (current === undefined) throw new RunNotFoundError(runId);
      return withState(current, next, expectedVersion, now);
    }
    const at = now.toISOString();
    const from = stagesBefore(next.stage);
    return this.#updateRun(
      runId,
      `move the run to ${next.stage}`,
      {
        UpdateExpression: 'SET #state = :state, #history = list_append(#history, :moved), #version = #version + :one, #updatedAt = :now',
        ConditionExpression: `attribute_exists(pk) AND #status IN (:started, :inProgress) AND #version = :expected AND #state.#stage IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
        ExpressionAttributeNames: { '#state': 'state', '#stage': 'stage', '#history': 'history', '#version': 'version', '#updatedAt': 'updatedAt', '#status': 'status' },
        ExpressionAttributeValues: {
          ':state': next,
          ':moved': [JSON.stringify({ state: next, at })],
          ':one': 1,
          ':now': at,
          ':started': 'started',
          ':inProgress': 'in-progress',
          ':expected': expectedVersion,
          ...Object.fromEntries(from.map((stage, i) => [`:from${i}`, stage])),
        },
      },
      (current) => withState(current, next, expectedVersion, now),
    );
  }

  async finishRun(runId: string, status: TerminalRunStatus, outcome: RunOutcome, expectedVersion?: number): Promise<RunRecord> {
    const now = this.#clock();
    const at = now.toISOString();
    const state: RunState = { stage: status };
    const fromValues = Object.fromEntries(finishableFrom(status).map((value, i) => [`:from${i}`, value]));
    const versionCheck = expectedVersion === undefined ? '' : ' AND #version = :expected';
    return this.#updateRun(
      runId,
      `finish the run as ${status}`,
      {
        UpdateExpression: 'SET #status = :status, #state = :state, #history = list_append(#history, :moved), #outcome = :outcome, #version = #version + :one, #updatedAt = :now',
        ConditionExpression: `attribute_exists(pk) AND #status IN (${Object.keys(fromValues).join(', ')})${versionCheck}`,
        ExpressionAttributeNames: { '#status': 'status', '#state': 'state', '#history': 'history', '#outcome': 'outcome', '#version': 'version', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: {
          ':status': status,
          ':state': state,
          ':moved': [JSON.stringify({ state, at })],
          ':outcome': JSON.stringify(outcome),
          ':one': 1,
          ':now': at,
          ...fromValues,
          ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
        },
      },
      (current) => withFinish(current, status, outcome, expectedVersion, now),
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const item = await this.#get({ pk: runPk(runId), sk: RUN_SK }, 'read the run', { runId });
    return item === undefined ? undefined : this.#record(item);
  }

  async claim(key: string, runId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    const nowSeconds = epochSeconds(now);
    const context = { runId, idempotencyKey: key };
    return this.#conditionally<ClaimResult>({
      operation: 'claim an idempotency key',
      context,
      key: { pk: claimPk(key), sk: CLAIM_SK },
      write: {
        Item: { pk: claimPk(key), sk: CLAIM_SK, runId, claimedAt: now.toISOString(), expiresAt: nowSeconds + windowSeconds },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
      written: () => ({ claimed: true }),
      // The holder read after a failed condition may itself have expired (or been removed by TTL) in between: then the key is free to take.
      settle: (item) => {
        const outcome = claimOutcome(claimHolder(item), runId, nowSeconds);
        return outcome === TAKE ? RETRY : outcome;
      },
    });
  }

  async transferClaim(key: string, fromRunId: string, toRunId: string, windowSeconds: number, now: Date = this.#clock()): Promise<ClaimResult> {
    assertClaimWindow(windowSeconds);
    const nowSeconds = epochSeconds(now);
    const context = { runId: fromRunId, idempotencyKey: key };
    return this.#conditionally<ClaimResult>({
      operation: 'transfer an idempotency key',
      context,
      key: { pk: claimPk(key), sk: CLAIM_SK },
      write: {
        UpdateExpression: 'SET #runId = :to, #claimedAt = :at, #expiresAt = :expires',
        ConditionExpression: '#runId = :from AND #expiresAt > :now',
        ExpressionAttributeNames: { '#runId': 'runId', '#claimedAt': 'claimedAt', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':to': toRunId, ':from': fromRunId, ':at': now.toISOString(), ':expires': nowSeconds + windowSeconds, ':now': nowSeconds },
      },
      written: () => ({ claimed: true }),
      // The owner read after a failed condition may be `fromRunId` again (it re-claimed an expired key in between): one more try.
      settle: (item, lastTry) => {
        const holder = claimHolder(item);
        const outcome = transferOutcome(holder, fromRunId, toRunId, nowSeconds);
        if (outcome !== TAKE) return outcome;
        return lastTry ? { claimed: false, existingRunId: liveHolder(holder, nowSeconds) ?? '' } : RETRY;
      },
    });
  }

  async releaseClaim(key: string, runId: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: claimPk(key), sk: CLAIM_SK },
          ConditionExpression: '#runId = :runId',
          ExpressionAttributeNames: { '#runId': 'runId' },
          ExpressionAttributeValues: { ':runId': runId },
        }),
      );
    } catch (error) {
      // Another run holds the key now (it took it over once this one's window passed), or nobody does: nothing of ours to give up.
      if (error instanceof ConditionalCheckFailedException) return;
      throw storeError('release a claim', error, { runId, idempotencyKey: key });
    }
  }

  async reserveChange(scope: string, resourceKey: string, limit: number, windowSeconds: number, now: Date = this.#clock()): Promise<ChangeReservation> {
    assertChangeLimit(limit, windowSeconds);
    const nowSeconds = epochSeconds(now);
    const expiresAt = nowSeconds + windowSeconds;
    const held = new Map<number, string>();
    for (const [index, slot] of await this.#readSlots(scope, limit)) {
      const holder = liveHolder(slot, nowSeconds);
      if (holder !== undefined) held.set(index, holder);
    }

    const mine = [...held].find(([, holder]) => holder === resourceKey);
    if (mine !== undefined) {
      if (await this.#extendSlot(scope, mine[0], resourceKey, now, expiresAt)) return { allowed: true, used: held.size, limit, alreadyHeld: true };
      // Lost between the read and the update (it expired and was taken): a fresh slot is needed.
      held.delete(mine[0]);
    }
    for (let index = freeSlot(held, limit); index !== undefined; index = freeSlot(held, limit)) {
      const holder = await this.#takeSlot(scope, index, resourceKey, now, expiresAt);
      if (holder === undefined) {
        held.set(index, resourceKey);
        return { allowed: true, used: held.size, limit, alreadyHeld: false };
      }
      // A concurrent reservation of the same resource took this slot first.
      if (holder === resourceKey) return { allowed: true, used: held.size + 1, limit, alreadyHeld: true };
      held.set(index, holder);
    }
    return limitReached(held, limit);
  }

  async listRunsForFinding(findingId: string): Promise<RunRecord[]> {
    const items = await this.#query(
      { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)', ExpressionAttributeValues: { ':pk': findingPk(findingId), ':run': 'RUN#' } },
      'list the runs of a finding',
      { findingId },
    );
    const runIds = items.map((item) => String(item.runId));
    const runs = await this.#batchGetRuns(runIds);
    // The index is sorted by creation time; keep that order.
    return runIds.map((runId) => runs.get(runId)).filter((run): run is RunRecord => run !== undefined);
  }

  /**
   * A paginated Scan, filtered to run items (`sk = RUN`) created since the
   * query's time and projected to the listing's fields. Not a Query: no key
   * orders runs across findings (the index items are grouped per finding),
   * and a global secondary index for it would cost a write on every run and
   * a change of the deployed table for what is an operator's occasional look
   * at history. The Scan reads every item (claims, slots and bodies too), so
   * its cost grows with the table; the projection keeps what comes back
   * small, and the order is made here.
   */
  async listRuns(query: RunQuery = {}): Promise<ListedRun[]> {
    const since = query.since?.toISOString();
    const names = Object.fromEntries(LISTED_RUN_FIELDS.map((field) => [`#${field}`, field]));
    const items: Item[] = [];
    try {
      const pages = paginateScan(
        { client: this.#client },
        {
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: `#sk = :run${since === undefined ? '' : ' AND #createdAt >= :since'}`,
          ProjectionExpression: Object.keys(names).join(', '),
          ExpressionAttributeNames: { ...names, '#sk': 'sk' },
          ExpressionAttributeValues: { ':run': RUN_SK, ...(since === undefined ? {} : { ':since': since }) },
        },
      );
      for await (const page of pages) items.push(...(page.Items ?? []));
    } catch (error) {
      throw storeError('list runs', error);
    }
    // The filter holds, and holds again here: a run item is the only kind with `sk = RUN` and a `runId`.
    return items
      .filter((item) => typeof item.runId === 'string' && typeof item.createdAt === 'string')
      .map((item) => listedRun(item as unknown as ListedRun))
      .filter((run) => withinQuery(run, query))
      .sort(newestFirst);
  }

  async #batchGetRuns(runIds: readonly string[]): Promise<Map<string, RunRecord>> {
    const found = new Map<string, RunRecord>();
    for (let start = 0; start < runIds.length; start += BATCH_GET_LIMIT) {
      let keys: Item[] = runIds.slice(start, start + BATCH_GET_LIMIT).map((runId) => ({ pk: runPk(runId), sk: RUN_SK }));
      // BatchGetItem has no paginator: keys it leaves unprocessed are asked for again, with a growing pause.
      for (let attempt = 0; keys.length > 0; attempt += 1) {
        if (attempt > this.#maxBatchRetries) {
          throw new LedgerStoreError('read runs', new Error(`${keys.length} keys stayed unprocessed`), {}, true);
        }
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        try {
          const { Responses, UnprocessedKeys } = await this.#client.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of Responses?.[this.tableName] ?? []) {
            const run = await this.#record(item);
            found.set(run.runId, run);
          }
          keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        } catch (error) {
          throw storeError('read runs', error);
        }
      }
    }
    return found;
  }

  /** The scope's slots below `limit`, by index, read consistently. */
  async #readSlots(scope: string, limit: number): Promise<Map<number, Holder>> {
    const items = await this.#query(
      { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :slot)', ExpressionAttributeValues: { ':pk': limitPk(scope), ':slot': SLOT_PREFIX } },
      'read the change-limit slots',
      { limitScope: scope },
    );
    const slots = new Map<number, Holder>();
    for (const item of items) {
      const index = Number(String(item.sk).slice(SLOT_PREFIX.length));
      const slot = slotHolder(item);
      if (Number.isInteger(index) && index >= 0 && index < limit && slot !== undefined) slots.set(index, slot);
    }
    return slots;
  }

  /**
   * Takes slot `index` if it is free or expired. Answers `undefined` when
   * taken, else the resource holding it (read from the failed condition).
   */
  async #takeSlot(scope: string, index: number, resourceKey: string, now: Date, expiresAt: number): Promise<string | undefined> {
    const nowSeconds = epochSeconds(now);
    const context = { limitScope: scope, resource: resourceKey };
    return this.#conditionally<string | undefined>({
      operation: 'reserve a change-limit slot',
      context,
      key: { pk: limitPk(scope), sk: slotSk(index) },
      write: {
        Item: { pk: limitPk(scope), sk: slotSk(index), resourceKey, reservedAt: now.toISOString(), expiresAt },
        ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt <= :now',
        ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':now': nowSeconds },
      },
      written: () => undefined,
      // The holder read after a failed condition may itself have expired (or been removed by TTL) in between: one more try.
      settle: (item) => liveHolder(slotHolder(item), nowSeconds) ?? RETRY,
    });
  }

  /**
   * Keeps slot `index` for a full window from `now`, while `resourceKey`
   * still holds it. Answers whether it does.
   */
  async #extendSlot(scope: string, index: number, resourceKey: string, now: Date, expiresAt: number): Promise<boolean> {
    const nowSeconds = epochSeconds(now);
    const context = { limitScope: scope, resource: resourceKey };
    return this.#conditionally<boolean>({
      operation: 'extend a change-limit slot',
      context,
      key: { pk: limitPk(scope), sk: slotSk(index) },
      write: {
        UpdateExpression: 'SET #reservedAt = :at, #expiresAt = :expires',
        // Never shortens a slot (a caller whose clock runs behind).
        ConditionExpression: '#resourceKey = :key AND #expiresAt > :now AND #expiresAt < :expires',
        ExpressionAttributeNames: { '#resourceKey': 'resourceKey', '#reservedAt': 'reservedAt', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':key': resourceKey, ':at': now.toISOString(), ':expires': expiresAt, ':now': nowSeconds },
      },
      written: () => true,
      settle: (item) => liveHolder(slotHolder(item), nowSeconds) === resourceKey,
    });
  }

  /**
   * A conditional update of the run item. When the condition fails, the
   * record as it is goes through the same rule the file store uses, which
   * throws the typed error that explains the refusal.
   */
  async #updateRun(runId: string, operation: string, update: ConditionalWrite, explain: (current: RunRecord) => RunRecord): Promise<RunRecord> {
    const context = { runId };
    const item = await this.#conditionally<Item>({
      operation,
      context,
      key: { pk: runPk(runId), sk: RUN_SK },
      write: update,
      written: (attributes) => {
        if (attributes === undefined) throw new LedgerStoreError(operation, new Error('the update returned no attributes'), context);
        return attributes;
      },
      settle: (item) => {
        if (item === undefined) throw new RunNotFoundError(runId);
        explain(fromItem(item));
        // Only reachable when the record had to be re-read and has changed since the refusal.
        throw new LedgerStoreError(operation, new Error('the run changed while the refusal was read'), context, true);
      },
    });
    return this.#record(item);
  }

  /** A run item as its record, with its received event and finding read back from their body items when they are stored apart. */
  async #record(item: Item): Promise<RunRecord> {
    const record = fromItem(item);
    if (item.bodiesApart !== true) return record;
    const hashes = (item.bodySha256 ?? {}) as { receivedEvent?: unknown; finding?: unknown };
    const body = async (field: 'receivedEvent' | 'finding'): Promise<{ [K in typeof field]?: unknown }> => {
      const sha256 = hashes[field];
      return typeof sha256 === 'string' ? { [field]: await this.#body(sha256, record.runId) } : {};
    };
    return { ...record, ...(await body('receivedEvent')), ...(await body('finding')) };
  }

  /** A stored body, from memory or its part items. */
  async #body(sha256: string, runId: string): Promise<unknown> {
    if (this.#bodies.has(sha256)) {
      const value = this.#bodies.get(sha256);
      this.#keep(sha256, value);
      return value;
    }
    const items = await this.#query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': bodyPk(sha256) } }, 'read a stored event', { runId });
    let value: unknown;
    try {
      const expected = Number(items[0]?.parts);
      if (items.length === 0 || items.length !== expected) throw new Error(`found ${items.length} of ${Number.isNaN(expected) ? 'its' : expected} parts`);
      value = bodyFromParts(
        items.map((part) => part.data as Uint8Array),
        sha256,
      );
    } catch (error) {
      throw new LedgerStoreError('read a stored event', error, { runId });
    }
    this.#keep(sha256, value);
    return value;
  }

  #keep(sha256: string, value: unknown): void {
    this.#bodies.delete(sha256);
    this.#bodies.set(sha256, value);
    if (this.#bodies.size > BODY_CACHE_ENTRIES) this.#bodies.delete(this.#bodies.keys().next().value as string);
  }

  /**
   * The one conditional-write loop of this store: a conditional put (`Item`)
   * or update of the item at `key`; when DynamoDB refuses the condition, look
   * at the item as it is (the copy the refusal carries, `ALL_OLD`, or else a
   * consistent read) and let `settle` answer — or ask for one more try when
   * the item changed between the refusal and the read (a holder that expired
   * meanwhile). A second refusal that still asks for a try is a store error
   * a retry may cure.
   */
  async #conditionally<T>(request: {
    readonly operation: string;
    readonly context: ErrorContext;
    readonly key: Item;
    readonly write: ConditionalWrite;
    /** The answer once written, from the item after an update (`ALL_NEW`). */
    readonly written: (attributes: Item | undefined) => T;
    readonly settle: (item: Item | undefined, lastTry: boolean) => T | typeof RETRY;
  }): Promise<T> {
    const { operation, context, key, write } = request;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const common = {
          TableName: this.tableName,
          ConditionExpression: write.ConditionExpression,
          ExpressionAttributeNames: write.ExpressionAttributeNames,
          ExpressionAttributeValues: write.ExpressionAttributeValues,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
        };
        if (write.Item !== undefined) {
          await this.#client.send(new PutCommand({ ...common, Item: write.Item }));
          return request.written(undefined);
        }
        const { Attributes } = await this.#client.send(new UpdateCommand({ ...common, Key: key, UpdateExpression: write.UpdateExpression, ReturnValues: 'ALL_NEW' }));
        return request.written(Attributes);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error instanceof LedgerStoreError ? error : storeError(operation, error, context);
        const item = error.Item === undefined ? await this.#get(key, `read the item to ${operation}`, context) : unmarshall(error.Item);
        const answer = request.settle(item, attempt >= 1);
        if (answer !== RETRY) return answer;
        if (attempt >= 1) throw storeError(operation, error, context, true);
      }
    }
  }

  async #get(key: Item, operation: string, context: ErrorContext): Promise<Item | undefined> {
    try {
      const { Item } = await this.#client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
      return Item;
    } catch (error) {
      throw storeError(operation, error, context);
    }
  }

  /** Every item of a key condition, read consistently, page after page. */
  async #query(input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'>, operation: string, context: ErrorContext): Promise<Item[]> {
    const items: Item[] = [];
    try {
      for await (const page of paginateQuery({ client: this.#client }, { TableName: this.tableName, ConsistentRead: true, ...input })) items.push(...(page.Items ?? []));
    } catch (error) {
      throw storeError(operation, error, context);
    }
    return items;
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
 * rather than being silently dropped. `json` fields (arbitrary JSON) and the
 * entries of `json-list` fields are JSON strings; `map` is a DynamoDB map the
 * conditions can look into; see the layout above.
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
  state: 'map',
  history: 'json-list',
  receivedEvent: 'json',
  finding: 'json',
  targets: 'json',
  attempt: 'number',
  retryOf: 'string',
  deliveryId: 'string',
  rollbackOf: 'string',
  matched: 'json',
  resumes: 'number',
  steps: 'json-list',
  outcome: 'json',
  createdAt: 'string',
  updatedAt: 'string',
  version: 'number',
} as const satisfies { readonly [K in keyof RunRecord]-?: 'string' | 'number' | 'map' | 'json' | 'json-list' };

const RUN_FIELDS = Object.entries(RUN_ATTRIBUTES) as [keyof RunRecord, (typeof RUN_ATTRIBUTES)[keyof RunRecord]][];

/**
 * A new run as its item, and the bodies to store apart from it (none while
 * the received event and the finding are small together).
 */
function toItem(record: RunRecord): { item: Item; bodies: { receivedEvent: StoredBody; finding?: StoredBody }; apart: StoredBody[] } {
  const item: Item = { pk: runPk(record.runId), sk: RUN_SK };
  const bodies = { receivedEvent: storedBody(record.receivedEvent), ...(record.finding === undefined ? {} : { finding: storedBody(record.finding) }) };
  item.bodySha256 = Object.fromEntries(Object.entries(bodies).map(([field, body]) => [field, body.sha256]));
  const bytes = Object.values(bodies).reduce((total, body) => total + Buffer.byteLength(body.json, 'utf8'), 0);
  const apart = bytes > INLINE_BODY_BYTES;
  if (apart) item.bodiesApart = true;
  for (const [name, kind] of RUN_FIELDS) {
    const value: unknown = record[name];
    if (value === undefined) continue;
    if (name === 'receivedEvent' || name === 'finding') {
      if (!apart) item[name] = bodies[name]?.json;
    } else if (kind === 'json') item[name] = JSON.stringify(value);
    else if (kind === 'json-list') item[name] = (value as readonly unknown[]).map((entry) => JSON.stringify(entry));
    else item[name] = value;
  }
  return { item, bodies, apart: apart ? Object.values(bodies) : [] };
}

/** A run item (plain values: the document client's, or `unmarshall`ed from a refusal) back into a record. */
function fromItem(item: Item): RunRecord {
  const record: Record<string, unknown> = {};
  try {
    for (const [name, kind] of RUN_FIELDS) {
      const value = item[name];
      if (value === undefined) continue;
      if (kind === 'json') record[name] = parseStored(value);
      else if (kind === 'json-list') record[name] = (Array.isArray(value) ? value : []).map(parseStored);
      else record[name] = value;
    }
  } catch (error) {
    throw new LedgerStoreError('read a run item', error, { runId: String(item.runId) });
  }
  return record as unknown as RunRecord;
}

/** One JSON-string attribute back into its value; anything else is a damaged item. */
function parseStored(value: unknown): unknown {
  if (typeof value !== 'string') throw new TypeError(`expected a JSON string, found ${typeof value}`);
  return JSON.parse(value);
}

/** The run holding a claim item, until when. */
function claimHolder(item: Item | undefined): Holder | undefined {
  return item === undefined || typeof item.runId !== 'string' ? undefined : { holder: item.runId, expiresAt: Number(item.expiresAt) };
}

/** The resource holding a slot item, until when. */
function slotHolder(item: Item | undefined): Holder | undefined {
  return item === undefined || typeof item.resourceKey !== 'string' ? undefined : { holder: item.resourceKey, expiresAt: Number(item.expiresAt) };
}

function storeError(operation: string, error: unknown, context: ErrorContext = {}, retryable?: boolean): LedgerStoreError {
  return new LedgerStoreError(operation, error, context, retryable ?? isRetryableError(error));
}
