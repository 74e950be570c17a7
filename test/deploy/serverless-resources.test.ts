import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { PACKAGED_PLAYBOOK_LIBRARY } from '../../src/config.js';
import { runLedgerTableProperties } from '../../src/ledger/index.js';
import { FUNCTIONS } from '../../deploy/stack.js';
import { root, serverlessConfig } from './serverless-config.js';

/** The handler files agreed for issue 12, each exporting `handler`. */
const AGREED_HANDLERS = ['handlers/findings', 'handlers/custom-action', 'handlers/api', 'handlers/resume', 'handlers/record-retry', 'handlers/action-targets'];

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
    const environment = serverlessConfig().custom.pipelineEnvironment;
    expect(environment).toMatchObject({
      RIPOSTE_AUTOMATIC: 'plan',
      RIPOSTE_LEDGER_TABLE: { Ref: 'RunLedgerTable' },
      RIPOSTE_RESUME_QUEUE_URL: { Ref: 'ResumeQueue' },
      RIPOSTE_TOPIC_ARN: { Ref: 'NotificationTopic' },
      RIPOSTE_EVIDENCE_BUCKET: { Ref: 'EvidenceBucket' },
    });
    const config = readFileSync(join(root, 'src', 'config.ts'), 'utf8');
    for (const name of Object.keys(environment).filter((key) => key.startsWith('RIPOSTE_'))) expect(config).toContain(`${name}:`);
  });

  it('declares the six agreed handlers, each with the role deploy/stack.ts generates for it', () => {
    const { functions } = serverlessConfig();
    expect(Object.keys(functions).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    expect(
      Object.values(functions)
        .map((fn) => fn.handler.replace(/\.handler$/, ''))
        .sort(),
    ).toEqual([...AGREED_HANDLERS].sort());
    for (const [name, fn] of Object.entries(functions)) expect(fn.role, name).toBe(FUNCTIONS[name as keyof typeof FUNCTIONS].role);
  });

  it('ships the compiled playbook library with every function that runs playbooks, and only with those', () => {
    const { functions } = serverlessConfig();
    for (const [name, fn] of Object.entries(FUNCTIONS)) expect(functions[name]?.package?.patterns ?? [], name).toEqual(fn.pipeline ? [PACKAGED_PLAYBOOK_LIBRARY] : []);
    expect(existsSync(join(root, 'playbooks'))).toBe(true);
  });

  it('keeps evidence write-once and private: versioning, Object Lock, public access blocked, encryption, retained', () => {
    const bucket = serverlessConfig().resources.Resources.EvidenceBucket as { Type: string; DeletionPolicy?: string; Properties: Record<string, unknown> };
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE' } } },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  it('gives every queue a dead-letter queue', () => {
    const resources = serverlessConfig().resources.Resources;
    for (const queue of ['FindingsQueue', 'ResumeQueue', 'RecordRetryQueue']) expect(resources[queue]?.Properties.RedrivePolicy, queue).toMatchObject({ maxReceiveCount: expect.any(Number) });
  });
});
