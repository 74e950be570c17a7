import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runLedgerTableProperties } from '../../src/ledger/index.js';
import { root, serverlessConfig } from './serverless-config.js';

describe('serverless.yml', () => {
  it('declares the ledger table exactly as the DynamoDB ledger expects it', () => {
    const table = serverlessConfig().resources.Resources.RunLedgerTable;
    const expected = runLedgerTableProperties();
    expect(table?.Type).toBe('AWS::DynamoDB::Table');
    expect(table?.Properties).toMatchObject({
      BillingMode: expected.BillingMode,
      KeySchema: expected.KeySchema,
      AttributeDefinitions: expected.AttributeDefinitions,
      TimeToLiveSpecification: expected.TimeToLiveSpecification,
    });
  });

  it('hands the pipeline its resources through the variables config.ts reads', () => {
    const { environment } = serverlessConfig().provider;
    expect(environment).toMatchObject({
      RIPOSTE_AUTOMATIC: 'plan',
      RIPOSTE_LEDGER_TABLE: { Ref: 'RunLedgerTable' },
      RIPOSTE_RESUME_QUEUE_URL: { Ref: 'ResumeQueue' },
      RIPOSTE_TOPIC_ARN: { Ref: 'NotificationTopic' },
    });
    const config = readFileSync(join(root, 'src', 'config.ts'), 'utf8');
    for (const name of Object.keys(environment).filter((key) => key.startsWith('RIPOSTE_'))) expect(config).toContain(`${name}:`);
  });
});
