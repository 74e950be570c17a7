import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { runLedgerTableProperties } from '../../src/ledger/index.js';

const root = join(import.meta.dirname, '..', '..');

/** serverless.yml with the Serverless variables a deploy would resolve replaced by sample values. */
function serverlessConfig(): { provider: { environment: Record<string, unknown> }; resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } } {
  const text = readFileSync(join(root, 'serverless.yml'), 'utf8')
    .replaceAll('${self:service}', 'riposte')
    .replaceAll('${sls:stage}', 'dev')
    .replace(/\$\{(?:param|opt):\w+, '([^']*)'\}/g, '$1');
  expect(text, 'an unresolved Serverless variable the test does not know').not.toMatch(/\$\{/);
  return parse(text) as ReturnType<typeof serverlessConfig>;
}

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

  it('passes cfn-lint', () => {
    const which = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (which.error !== undefined) throw new Error('cfn-lint is not on the PATH: install it with `pip install cfn-lint`');
    const template = { AWSTemplateFormatVersion: '2010-09-09', Resources: serverlessConfig().resources.Resources };
    const file = join(mkdtempSync(join(tmpdir(), 'riposte-sls-')), 'resources.json');
    writeFileSync(file, JSON.stringify(template, null, 2));
    const lint = spawnSync('cfn-lint', [file], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  }, 60_000);
});
