import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';

import { DynamoDbRunLedger, runLedgerTableProperties } from '../../src/ledger/index.js';
import { emulatorClientFactory } from '../support/emulator.js';
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

beforeAll(async () => {
  dynamodb = emulatorClientFactory().create(DynamoDBClient);
  documents = DynamoDBDocumentClient.from(dynamodb);
  await createLedgerTable(dynamodb, TABLE);
});

runLedgerContract('DynamoDbRunLedger', async (clock) => new DynamoDbRunLedger(documents, TABLE, { clock: clock.now }));

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

    const { Item: runItem } = await dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `RUN#${run.runId}` }, sk: { S: 'RUN' } }, ConsistentRead: true }),
    );
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

  it('writes a claim with an epoch-seconds expiresAt, kept (not deleted) after it expires', async () => {
    const ledger = new DynamoDbRunLedger(documents, TABLE);
    const now = new Date('2020-01-01T00:00:00.000Z');
    await ledger.claim('finding-x|2020|p', 'run-x', 60, now);

    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'CLAIM#finding-x|2020|p' }, sk: { S: 'CLAIM' } }, ConsistentRead: true }),
    );

    // Long expired (2020) yet still there: TTL deletion is eventual, so the window is enforced by the condition.
    expect(Item).toMatchObject({ runId: { S: 'run-x' }, expiresAt: { N: String(Date.parse('2020-01-01T00:01:00Z') / 1000) } });
  });
});
