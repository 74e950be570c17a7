import { randomUUID } from 'node:crypto';

import { GetAccountPasswordPolicyCommand, IAMClient, UpdateAccountPasswordPolicyCommand } from '@aws-sdk/client-iam';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { AwsClientFactory } from '../../src/aws/index.js';
import { loadConfig } from '../../src/config.js';
import { emulatorClientOptions } from '../../src/emulator/index.js';
import {
  createLambdaRuntime,
  createRecordRetryRuntime,
  MemoryMetricsSink,
  recordRetryHandler,
  RiposteMetric,
  type LambdaRuntime,
  type RecordRetryRuntime,
  type SqsEvent,
  type SqsRecord,
} from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { MemoryLogSink, RiposteLogger } from '../../src/log/index.js';
import type { PlaybookRunResult } from '../../src/pipeline/index.js';
import { findingRecordStatus, recordStatusRunId, type RunRecordStatus } from '../../src/pipeline/record/index.js';
import { compiledLibraryFile } from '../support/compiled-library.js';
import { emulatorEndpoint } from '../support/emulator.js';
import { importFindings, readFinding } from '../support/emulator-securityhub.js';
import { flakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { EVENT_BUS, EVIDENCE_BUCKET, eventFor, LEDGER_TABLE, pipelineLab, type PipelineLab } from '../support/pipeline-lab.js';

const MEMBER = '222222222222';
const REGION = 'us-east-1';

interface RetryLab {
  readonly lab: PipelineLab;
  readonly proxy: FlakyProxy;
  /** The functions that run playbooks, as `createLambdaRuntime` builds them from the environment. */
  readonly runtime: LambdaRuntime;
  /** The record-retry function's own runtime, from the same environment. */
  readonly retryRuntime: RecordRetryRuntime;
  readonly metrics: MemoryMetricsSink;
  readonly logs: MemoryLogSink;
  readonly queue?: { readonly url: string; readonly arn: string };
  readonly sqs: SQSClient;
}

let current: RetryLab | undefined;
afterEach(async () => {
  await current?.proxy.close();
  await current?.lab.close();
  current = undefined;
});

/**
 * The emulated resources of a deployment (ledger, bucket, topic, bus) with
 * Security Hub on the emulator, a real record-retry queue unless `withQueue`
 * is false, and the environment `serverless.yml` gives the functions. The
 * runtimes here are handed events directly, so a finding is in Security Hub
 * only once a test imports it.
 */
async function retryLab(options: { withQueue?: boolean; maxAttempts?: number } = {}): Promise<RetryLab> {
  const lab = await pipelineLab();
  const proxy = await flakyProxy(emulatorEndpoint(), { serial: true });
  const sqs = new AwsClientFactory({ region: REGION, endpoint: emulatorEndpoint(), maxAttempts: 2 }, emulatorClientOptions()).create(SQSClient);
  let queue: { url: string; arn: string } | undefined;
  if (options.withQueue !== false) {
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `riposte-test-record-retry-${randomUUID().slice(0, 8)}` }))).QueueUrl as string;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    queue = { url, arn: Attributes?.QueueArn as string };
  }
  const resumeUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'riposte-test-resume' }))).QueueUrl as string;
  const environment: Record<string, string> = {
    AWS_REGION: REGION,
    RIPOSTE_AWS_ENDPOINT: proxy.endpoint,
    RIPOSTE_MAX_ATTEMPTS: '2',
    RIPOSTE_AUTOMATIC: 'enforce',
    RIPOSTE_LEDGER_TABLE: LEDGER_TABLE,
    RIPOSTE_RESUME_QUEUE_URL: resumeUrl,
    RIPOSTE_TOPIC_ARN: lab.topicArn,
    RIPOSTE_EVENT_BUS: EVENT_BUS,
    RIPOSTE_EVIDENCE_BUCKET: EVIDENCE_BUCKET,
    RIPOSTE_EXTERNAL_ID: 'riposte-test',
    RIPOSTE_PLAYBOOK_LIBRARY: await compiledLibraryFile(),
    // Moto's SQS delays are real seconds: the first retry is due at once.
    RIPOSTE_RECORD_RETRY_DELAY_SECONDS: '0',
    RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS: String(options.maxAttempts ?? 6),
    ...(queue === undefined ? {} : { RIPOSTE_RECORD_RETRY_QUEUE_URL: queue.url }),
  };
  const factory = new AwsClientFactory(loadConfig(environment).aws, emulatorClientOptions());
  const logs = new MemoryLogSink();
  const metrics = new MemoryMetricsSink();
  const logger = new RiposteLogger({ logLevel: 'debug', stream: logs });
  const runtime = await createLambdaRuntime({ environment, factory, logger, metrics });
  const retryRuntime = createRecordRetryRuntime({ environment, factory, logger, metrics });
  current = { lab, proxy, runtime, retryRuntime, metrics, logs, sqs, ...(queue === undefined ? {} : { queue }) };
  return current;
}

/**
 * The next message of the record-retry queue as the SQS event source hands it to Lambda, left on the queue
 * (invisible for a second): a message the handler hands back is delivered again, as SQS does.
 */
async function nextDelivery(lab: RetryLab): Promise<SqsEvent> {
  const queue = lab.queue as { url: string; arn: string };
  for (;;) {
    const { Messages } = await lab.sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 1, MessageSystemAttributeNames: ['All'] }));
    const [message] = Messages ?? [];
    if (message !== undefined) return { Records: [sqsRecord(message.MessageId as string, message.Body as string, queue.arn, message.Attributes ?? {}, message.ReceiptHandle)] };
  }
}

function sqsRecord(messageId: string, body: string, queueArn: string, attributes: Record<string, string> = {}, receiptHandle: string = randomUUID()): SqsRecord {
  return { messageId, receiptHandle, body, attributes, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: queueArn, awsRegion: REGION };
}

const context = { awsRequestId: randomUUID(), functionName: 'riposte-test-record-retry', getRemainingTimeInMillis: () => 60_000 };

/** The CIS 1.9 finding event moved to the member account, with a weak password policy there for the run to fix. */
async function cisFinding(lab: RetryLab): Promise<{ event: Record<string, unknown>; asff: AwsSecurityFinding }> {
  const iam = lab.lab.clients.create(IAMClient, { account: MEMBER, region: REGION, partition: 'aws', correlationId: 'setup' });
  await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));
  const event = eventFor('securityhub-imported-cis-password-policy.json', MEMBER);
  const asff = (event.detail as { findings: AwsSecurityFinding[] }).findings[0] as AwsSecurityFinding;
  return { event, asff };
}

async function onlyRun(lab: RetryLab, event: Record<string, unknown>): Promise<PlaybookRunResult & { runId: string }> {
  const result = await lab.runtime.pipeline.handleEvent(event, { correlationId: `corr-${randomUUID().slice(0, 8)}` });
  const runs = result.findings.flatMap((finding) => finding.runs);
  expect(runs).toHaveLength(1);
  return runs[0] as PlaybookRunResult & { runId: string };
}

const details = (record: RunRecord | undefined): { record?: RunRecordStatus } => record?.outcome?.details ?? {};

describe('record retry (the record-retry queue and function, on the emulator)', () => {
  it('a CIS run whose note meets FindingNotFound (not yet imported) is fixed and verified but its finding update pending; the retry writes note and RESOLVED once imported, read back from Security Hub', async () => {
    const lab = await retryLab();
    const { event, asff } = await cisFinding(lab);

    const run = await onlyRun(lab, event);

    // Fixed and verified: the run's outcome. Finding updated: not yet, and nothing claims RESOLVED.
    expect(run).toMatchObject({ status: 'succeeded', record: { securityHub: 'pending-retry', workflow: 'RESOLVED', attempts: 1, error: { context: { errorCode: 'FindingNotFound' } } } });
    expect(run.workflowStatus).toBeUndefined();
    expect(run.recording?.note).toMatchObject({ status: 'failed', retry: { delaySeconds: 0 } });
    const recorded = await lab.runtime.ledger.getRun(run.runId);
    expect(recorded?.status).toBe('succeeded');
    expect(recorded?.outcome?.workflowStatus).toBeUndefined();
    expect(details(recorded).record).toMatchObject({ securityHub: 'pending-retry', workflow: 'RESOLVED' });
    const { PasswordPolicy } = await lab.lab.clients.create(IAMClient, { account: MEMBER, region: REGION, partition: 'aws', correlationId: 'readback' }).send(new GetAccountPasswordPolicyCommand({}));
    expect(PasswordPolicy?.MinimumPasswordLength).toBe(14);

    // Security Hub gets the finding; the queued retry is delivered to the record-retry function.
    await importFindings([asff]);
    const delivery = await nextDelivery(lab);
    expect(JSON.parse(delivery.Records[0]?.body as string)).toMatchObject({
      kind: 'riposte.record-retry',
      runId: run.runId,
      finding: { id: asff.Id, productArn: asff.ProductArn, account: MEMBER },
      workflow: 'RESOLVED',
      attempts: 1,
    });

    const response = await recordRetryHandler(() => lab.retryRuntime)(delivery, context);

    expect(response).toEqual({ batchItemFailures: [] });
    const read = await readFinding(asff.Id as string, asff.ProductArn as string);
    expect(read?.Workflow?.Status).toBe('RESOLVED');
    expect(read?.Note).toMatchObject({
      UpdatedBy: RIPOSTE_NOTE_AUTHOR,
      Text: expect.stringMatching(new RegExp(`^\\[riposte run ${run.runId} playbook cis-password-policy\\] RESOLVED: iam.set-password-policy changed`)),
    });
    expect(await findingRecordStatus(lab.runtime.ledger, run.runId)).toMatchObject({ securityHub: 'done', workflow: 'RESOLVED', attempts: 2 });
    expect(await lab.runtime.ledger.getRun(recordStatusRunId(run.runId))).toMatchObject({ status: 'succeeded', outcome: { workflowStatus: 'RESOLVED', details: { recordOf: run.runId } } });
    expect(lab.metrics.total(RiposteMetric.RecordRetries, 'done')).toBe(1);

    // SQS delivers at least once: the same message again writes nothing and changes nothing.
    const again = await recordRetryHandler(() => lab.retryRuntime)(delivery, context);
    expect(again).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.RecordRetries, 'duplicate')).toBe(1);
  });

  it('a retry of a finding Security Hub still does not hold is handed back in batchItemFailures, redelivered by SQS, and given up as failed at RIPOSTE_RECORD_RETRY_MAX_ATTEMPTS=3', async () => {
    const lab = await retryLab({ maxAttempts: 3 });
    const { event, asff } = await cisFinding(lab);
    const run = await onlyRun(lab, event);
    const handler = recordRetryHandler(() => lab.retryRuntime);

    const first = await nextDelivery(lab);
    const handedBack = await handler(first, context);

    expect(handedBack).toEqual({ batchItemFailures: [{ itemIdentifier: first.Records[0]?.messageId }] });
    expect(lab.metrics.total(RiposteMetric.RecordRetries, 'retry')).toBe(1);
    expect(lab.metrics.total(RiposteMetric.RecordsRetried)).toBe(1);
    expect(await findingRecordStatus(lab.runtime.ledger, run.runId)).toMatchObject({ securityHub: 'pending-retry' });

    // The same message again (SQS redelivers what was handed back): the third attempt, the last.
    const second = await nextDelivery(lab);
    expect(second.Records[0]?.messageId).toBe(first.Records[0]?.messageId);
    expect(second.Records[0]?.attributes.ApproximateReceiveCount).toBe('2');
    const givenUp = await handler(second, context);

    expect(givenUp).toEqual({ batchItemFailures: [] });
    expect(await findingRecordStatus(lab.runtime.ledger, run.runId)).toMatchObject({ securityHub: 'failed', attempts: 3, error: { context: { errorCode: 'FindingNotFound' } } });
    expect(await lab.runtime.ledger.getRun(recordStatusRunId(run.runId))).toMatchObject({ status: 'failed', outcome: { details: { recordOf: run.runId } } });
    expect((await lab.runtime.ledger.getRun(recordStatusRunId(run.runId)))?.outcome?.workflowStatus).toBeUndefined();
    expect(lab.metrics.total(RiposteMetric.RecordRetries, 'failed')).toBe(1);
    expect(await readFinding(asff.Id as string, asff.ProductArn as string)).toBeUndefined();
  });

  it('drops a malformed retry message (not JSON, not a request, an unknown run, another finding than its run) without handing it back, counted', async () => {
    const lab = await retryLab();
    const { event } = await cisFinding(lab);
    const run = await onlyRun(lab, event);
    const queued = JSON.parse((await nextDelivery(lab)).Records[0]?.body as string) as Record<string, unknown>;
    const arn = lab.queue?.arn as string;
    const batch: SqsEvent = {
      Records: [
        sqsRecord('m-not-json', '{"kind": "riposte.record-retry", ', arn),
        sqsRecord('m-not-a-request', JSON.stringify({ kind: 'riposte.resume', runId: run.runId, resumes: 1, correlationId: 'c' }), arn),
        sqsRecord('m-unknown-run', JSON.stringify({ ...queued, runId: 'r-20260314T092107Z-000000000000' }), arn),
        sqsRecord('m-other-finding', JSON.stringify({ ...queued, finding: { ...(queued.finding as object), id: 'arn:aws:securityhub:us-east-1:222222222222:subscription/other/finding/1' } }), arn),
      ],
    };

    const response = await recordRetryHandler(() => lab.retryRuntime)(batch, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(4);
    expect(lab.metrics.total(RiposteMetric.RecordRetries, 'dropped')).toBe(4);
    const dropped = lab.logs.entries.filter((entry) => entry.message.startsWith('message dropped'));
    expect(dropped.map((entry) => entry.attributes.messageId)).toEqual(['m-not-json', 'm-not-a-request', 'm-unknown-run', 'm-other-finding']);
    expect(await findingRecordStatus(lab.runtime.ledger, run.runId)).toMatchObject({ securityHub: 'pending-retry' });
  });

  it('without RIPOSTE_RECORD_RETRY_QUEUE_URL (the CLI, the demo) a note that meets FindingNotFound is reported failed, not retried, and RESOLVED is not claimed', async () => {
    const lab = await retryLab({ withQueue: false });
    const { event } = await cisFinding(lab);

    const run = await onlyRun(lab, event);

    expect(run).toMatchObject({ status: 'succeeded', record: { securityHub: 'failed', workflow: 'RESOLVED', attempts: 1 } });
    expect(run.workflowStatus).toBeUndefined();
    expect(run.recording?.note).toMatchObject({ status: 'failed', error: { message: 'Security Hub did not update the finding: FindingNotFound Finding Not Found' } });
    expect(run.recording?.note).not.toHaveProperty('retry');
    const recorded = await lab.runtime.ledger.getRun(run.runId);
    expect(recorded?.outcome?.workflowStatus).toBeUndefined();
    expect(details(recorded).record).toMatchObject({ securityHub: 'failed' });
  });

  it('a run whose note lands at once records done and claims RESOLVED, and queues no retry', async () => {
    const lab = await retryLab();
    const { event, asff } = await cisFinding(lab);
    await importFindings([asff]);

    const run = await onlyRun(lab, event);

    expect(run).toMatchObject({ status: 'succeeded', workflowStatus: 'RESOLVED', record: { securityHub: 'done', workflow: 'RESOLVED', attempts: 1 } });
    expect((await lab.runtime.ledger.getRun(run.runId))?.outcome).toMatchObject({ workflowStatus: 'RESOLVED', details: { record: { securityHub: 'done' } } });
    expect((await readFinding(asff.Id as string, asff.ProductArn as string))?.Workflow?.Status).toBe('RESOLVED');
    const { Messages } = await lab.sqs.send(new ReceiveMessageCommand({ QueueUrl: lab.queue?.url, WaitTimeSeconds: 1 }));
    expect(Messages ?? []).toEqual([]);
  });
});
