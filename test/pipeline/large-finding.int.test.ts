import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';

import { DynamoDbRunLedger, type RunRecord } from '../../src/ledger/index.js';
import { MAX_EVENT_BYTES } from '../../src/intake/index.js';
import { eventFor, LEDGER_TABLE, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emulatorClientFactory } from '../support/emulator.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: PipelineLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** The CIS password-policy event, grown to just under EventBridge's 256 KB with text that does not compress (so storage cannot rely on compression). */
function largeEvent(): Record<string, unknown> {
  const event = eventFor('securityhub-imported-cis-password-policy.json', MEMBER);
  const finding = (event.detail as { findings: Array<Record<string, unknown>> }).findings[0] as Record<string, unknown>;
  const size = (): number => Buffer.byteLength(JSON.stringify(event));
  finding.Description = '';
  finding.Description = randomBytes(Math.floor(((MAX_EVENT_BYTES - size() - 64) * 3) / 4)).toString('base64');
  return event;
}

describe('a finding as large as EventBridge delivers', () => {
  it('is remediated, and its run keeps the event and the finding whole (before: "Item size has exceeded the maximum allowed size" on every delivery)', async () => {
    lab = await pipelineLab({ settings: { automatic: 'enforce' } });
    const iam = lab.clients.create(IAMClient, target);
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
    const event = largeEvent();
    const bytes = Buffer.byteLength(JSON.stringify(event));
    expect(bytes).toBeGreaterThan(MAX_EVENT_BYTES - 1024);
    expect(bytes).toBeLessThanOrEqual(MAX_EVENT_BYTES);

    const result = await lab.pipeline.handleEvent(event, { correlationId: 'corr-large' });

    const runs = result.findings[0]?.runs ?? [];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ playbookId: 'cis-password-policy', status: 'succeeded' });
    const { PasswordPolicy: policy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    expect(policy?.MinimumPasswordLength).toBe(14);

    // Read by a ledger with nothing in memory, as another Lambda (a resume, a rollback) would.
    const ledger = new DynamoDbRunLedger(DynamoDBDocumentClient.from(emulatorClientFactory().create(DynamoDBClient)), LEDGER_TABLE);
    const record = (await ledger.getRun(runs[0]?.runId as string)) as RunRecord;
    const description = ((event.detail as { findings: Array<{ Description: string }> }).findings[0] as { Description: string }).Description;
    expect((record.receivedEvent as { record: { Description: string } }).record.Description).toBe(description);
    expect((record.finding as { description: string }).description).toBe(description);
    expect(record.status).toBe('succeeded');
  });
});
