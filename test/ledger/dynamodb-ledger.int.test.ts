import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { emulatorClientOptions } from '../../src/emulator/index.js';

import { DynamoDbRunLedger, LedgerStoreError, runLedgerTableProperties } from '../../src/ledger/index.js';
import { AwsClientFactory } from '../../src/aws/index.js';
import { emulatorClientFactory, emulatorEndpoint } from '../support/emulator.js';
import { flakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { newRun, runLedgerContract, step, testClock } from './ledger-contract.js';

const TABLE = 'riposte-ledger-test';
let dynamodb: DynamoDBClient;
let documents: DynamoDBDocumentClient;

/** What CloudFormation does with the table's properties: CreateTable, then TTL and PITR. */
async function createLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { TimeToLiveSpecification, PointInTimeRecoverySpecification, ...table } = runLedgerTableProperties(tableName);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: table.BillingMode,
      KeySchema: [...table.KeySchema],
      AttributeDefinitions: [...table.AttributeDefinitions],
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { ...TimeToLiveSpecification } }));
  await client.send(new UpdateContinuousBackupsCommand({ TableName: tableName, PointInTimeRecoverySpecification: { ...PointInTimeRecoverySpecification } }));
}

let proxy: FlakyProxy;
/** The contract's ledger reaches the emulator through a serial proxy: its race tests rely on DynamoDB applying writes to one item one at a time, which moto does not (see flaky-proxy.ts). */
let serialDocuments: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamodb = emulatorClientFactory().create(DynamoDBClient);
  documents = DynamoDBDocumentClient.from(dynamodb);
  await createLedgerTable(dynamodb, TABLE);
  proxy = await flakyProxy(emulatorEndpoint(), { serial: true });
  serialDocuments = DynamoDBDocumentClient.from(new AwsClientFactory({ ...emulatorClientFactory().settings, endpoint: proxy.endpoint }, emulatorClientOptions()).create(DynamoDBClient));
});

afterAll(async () => {
  await proxy.close();
});

runLedgerContract('DynamoDbRunLedger', async (clock) => new DynamoDbRunLedger(serialDocuments, TABLE, { clock: clock.now }));

describe('DynamoDbRunLedger', () => {
  it('creates its table as CloudFormation would: TTL on expiresAt, point-in-time recovery on', async () => {
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));
    const backups = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: TABLE }));

    expect(ttl.TimeToLiveDescription).toMatchObject({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
    expect(backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
  });

  it('writes the run and its finding index item in one transaction, read back with GetItem', async () => {
    const clock = testClock();
    const ledger = new DynamoDbRunLedger(documents, TABLE, { clock: clock.now });
    const run = newRun();
    await ledger.startRun(run);
    await ledger.appendStep(run.runId, step(0));

    const { Item: runItem } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } }, ConsistentRead: true }));
    const { Item: indexItem } = await dynamodb.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: { pk: { S: `FINDING#${run.findingId}` }, sk: { S: `RUN#${clock.now().toISOString()}#${run.runId}` } },
      }),
    );

    expect(runItem).toMatchObject({ status: { S: 'in-progress' }, version: { N: '2' }, playbookId: { S: 'cis-password-policy' } });
    expect(runItem?.steps?.L).toHaveLength(1);
    expect(JSON.parse(runItem?.steps?.L?.[0]?.S ?? '')).toEqual(step(0));
    expect(JSON.parse(runItem?.receivedEvent?.S ?? '')).toEqual(run.receivedEvent);
    expect(indexItem).toMatchObject({ runId: { S: run.runId } });
  });

  it("holds a run whose received event is EventBridge's 256 KB limit and whose finding repeats it: stored apart under their SHA-256, read back whole", async () => {
    // Incompressible text, so compression alone cannot make it fit: before, the run item passed 400 KB and every delivery failed.
    const padding = randomBytes(190 * 1024).toString('base64');
    const run = newRun({ receivedEvent: { envelope: { id: 'large' }, record: { Description: padding } }, finding: { id: 'large', description: padding } });
    expect(Buffer.byteLength(JSON.stringify(run.receivedEvent))).toBeGreaterThan(250 * 1024);
    const writer = new DynamoDbRunLedger(documents, TABLE);
    const started = await writer.startRun(run);
    const appended = await writer.appendStep(run.runId, step(0));
    expect(appended.receivedEvent).toEqual(run.receivedEvent);
    expect(appended.finding).toEqual(run.finding);

    const { Item: runItem } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } }, ConsistentRead: true }));
    const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');
    expect(runItem?.bodiesApart).toEqual({ BOOL: true });
    expect(runItem?.bodySha256?.M).toEqual({ receivedEvent: { S: sha256(run.receivedEvent) }, finding: { S: sha256(run.finding) } });
    expect(runItem?.receivedEvent).toBeUndefined();
    const parts = await dynamodb.send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: `BODY#${sha256(run.receivedEvent)}` } }, ConsistentRead: true }),
    );
    expect(parts.Items?.[0]?.sk?.S).toBe('PART#0000');
    expect(parts.Items).toHaveLength(Number(parts.Items?.[0]?.parts?.N));

    // A ledger with nothing in memory (another Lambda) reads the parts back.
    const reader = new DynamoDbRunLedger(documents, TABLE);
    const read = await reader.getRun(run.runId);
    expect(read).toEqual({ ...started, steps: [step(0)], status: 'in-progress', version: 2, updatedAt: read?.updatedAt });
    expect((await reader.listRunsForFinding(run.findingId)).map((listed) => listed.receivedEvent)).toEqual([run.receivedEvent]);
    // Another run of the same event shares its parts.
    const again = newRun({ findingId: run.findingId, receivedEvent: run.receivedEvent, finding: run.finding });
    await expect(writer.startRun(again)).resolves.toMatchObject({ runId: again.runId });
    expect((await reader.getRun(again.runId))?.finding).toEqual(run.finding);
  });

  it('keeps a small received event and finding inside the run item, with their SHA-256', async () => {
    const run = newRun({ finding: { id: 'small' } });
    await new DynamoDbRunLedger(documents, TABLE).startRun(run);
    const { Item: runItem } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } }, ConsistentRead: true }));
    expect(runItem?.bodiesApart).toBeUndefined();
    expect(runItem?.bodySha256?.M?.receivedEvent?.S).toBe(createHash('sha256').update(JSON.stringify(run.receivedEvent)).digest('hex'));
    expect(JSON.parse(runItem?.finding?.S ?? '')).toEqual({ id: 'small' });
  });

  it('refuses a stored event whose part was changed (its hash no longer matches), with a store error naming the run', async () => {
    const padding = randomBytes(100 * 1024).toString('base64');
    const run = newRun({ receivedEvent: { record: { Description: padding } } });
    await new DynamoDbRunLedger(documents, TABLE).startRun(run);
    const sha256 = createHash('sha256').update(JSON.stringify(run.receivedEvent)).digest('hex');
    const tampered = gzipSync(Buffer.from(JSON.stringify({ record: { Description: 'changed' } })));
    await dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: `BODY#${sha256}` }, sk: { S: 'PART#0000' }, data: { B: tampered }, parts: { N: '1' } } }));

    const error = await new DynamoDbRunLedger(documents, TABLE).getRun(run.runId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LedgerStoreError);
    expect(error).toMatchObject({ context: { runId: run.runId } });
    expect(String((error as Error).message)).toMatch(/read a stored event/);
  });

  it('writes a claim with an epoch-seconds expiresAt, kept (not deleted) after it expires', async () => {
    const ledger = new DynamoDbRunLedger(documents, TABLE);
    const now = new Date('2020-01-01T00:00:00.000Z');
    await ledger.claim('finding-x|2020|p', 'run-x', 60, now);

    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'CLAIM#finding-x|2020|p' }, sk: { S: 'CLAIM' } }, ConsistentRead: true }));

    // Long expired (2020) yet still there: TTL deletion is eventual, so the window is enforced by the condition.
    expect(Item).toMatchObject({ runId: { S: 'run-x' }, expiresAt: { N: String(Date.parse('2020-01-01T00:01:00Z') / 1000) } });
  });

  it('keeps a change limit as one slot item per resource, taking over an expired one and ignoring those beyond the limit', async () => {
    const ledger = new DynamoDbRunLedger(documents, TABLE);
    const t0 = new Date('2020-01-01T00:00:00.000Z');
    // Left over from a time the limit was 3, and live for an hour.
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: 'LIMIT#p-layout' }, sk: { S: 'SLOT#2' }, resourceKey: { S: 'old' }, reservedAt: { S: t0.toISOString() }, expiresAt: { N: String(t0.getTime() / 1000 + 3600) } },
      }),
    );
    await ledger.reserveChange('p-layout', 'i-0', 2, 60, t0);
    await ledger.reserveChange('p-layout', 'i-1', 2, 60, t0);
    const later = new Date(t0.getTime() + 60_000);
    const reservation = await ledger.reserveChange('p-layout', 'i-2', 2, 60, later);

    const { Items } = await dynamodb.send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'LIMIT#p-layout' } }, ConsistentRead: true }),
    );

    expect(reservation).toEqual({ allowed: true, used: 1, limit: 2, alreadyHeld: false });
    expect(Items?.map((item) => [item.sk?.S, item.resourceKey?.S])).toEqual([
      ['SLOT#0', 'i-2'],
      ['SLOT#1', 'i-1'],
      ['SLOT#2', 'old'],
    ]);
    expect(Items?.[0]).toMatchObject({ reservedAt: { S: later.toISOString() }, expiresAt: { N: String(later.getTime() / 1000 + 60) } });
    // i-1's slot expired but is still there: as for claims, the window is the condition's, not TTL's.
    expect(Items?.[1]).toMatchObject({ expiresAt: { N: String(t0.getTime() / 1000 + 60) } });
  });

  it('transfers a claim by rewriting its item: the new owner, a fresh claimedAt and expiresAt', async () => {
    const ledger = new DynamoDbRunLedger(documents, TABLE);
    const t0 = new Date('2020-01-01T00:00:00.000Z');
    const later = new Date(t0.getTime() + 30_000);
    await ledger.claim('finding-t|2020|p', 'run-failed', 60, t0);

    await ledger.transferClaim('finding-t|2020|p', 'run-failed', 'run-retry', 60, later);
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'CLAIM#finding-t|2020|p' }, sk: { S: 'CLAIM' } }, ConsistentRead: true }));

    expect(Item).toMatchObject({ runId: { S: 'run-retry' }, claimedAt: { S: later.toISOString() }, expiresAt: { N: String(later.getTime() / 1000 + 60) } });
  });

  it('lists only run items (not their finding index, claim, slot or stored-body items), read by a paginated Scan, newest first', async () => {
    // A table of its own, so the listing can be compared whole.
    const table = `riposte-ledger-list-${process.pid}`;
    await createLedgerTable(dynamodb, table);
    const clock = testClock('2025-06-01T00:00:00.000Z');
    const ledger = new DynamoDbRunLedger(documents, table, { clock: clock.now });
    const small = await ledger.startRun(newRun({ playbookId: 'small' }));
    clock.advance(60);
    // An event beyond the inline limit: its body is stored apart, in part items under BODY#.
    const large = await ledger.startRun(newRun({ playbookId: 'large', receivedEvent: { padding: randomBytes(190 * 1024).toString('base64') } }));
    await ledger.claim('finding-list|2025|p', large.runId, 60, clock.now());
    await ledger.reserveChange('p-list', 'i-0', 2, 60, clock.now());
    const items = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true, Select: 'COUNT' }));

    const runs = await ledger.listRuns();

    expect(items.Count).toBeGreaterThan(5);
    expect(runs.map((run) => [run.runId, run.playbookId, run.createdAt])).toEqual([
      [large.runId, 'large', '2025-06-01T00:01:00.000Z'],
      [small.runId, 'small', '2025-06-01T00:00:00.000Z'],
    ]);
    expect(await ledger.listRuns({ since: new Date('2025-06-01T00:00:30.000Z') })).toEqual([
      {
        runId: large.runId,
        createdAt: large.createdAt,
        updatedAt: large.updatedAt,
        playbookId: 'large',
        findingId: large.findingId,
        account: large.account,
        region: large.region,
        trigger: 'automatic',
        mode: 'enforce',
        status: 'started',
      },
    ]);
  });
});
