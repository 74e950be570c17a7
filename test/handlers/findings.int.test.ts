import { EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import { RIPOSTE_NOTE_AUTHOR } from '../../src/actions/index.js';
import { RiposteMetric } from '../../src/lambda/index.js';
import type { RunRecord } from '../../src/ledger/index.js';
import { readEventFinding } from '../support/emulator-securityhub.js';
import { compromisedInstance, eventFor, guardDutyEventFor, interfaceGroups, originalGroups as original, terminationProtected } from '../support/pipeline-lab.js';
import { lambdaContext, lambdaLab, type LambdaLab } from './lambda-lab.js';

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

let lab: LambdaLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** The runs the handlers started, by the log line each run starts with. */
const startedRuns = (lab: LambdaLab): string[] => lab.logs.entries.filter((entry) => entry.message === 'run started').map((entry) => entry.attributes.runId as string);

describe('findings handler (SQS batch of EventBridge events)', () => {
  it('isolates the instance of a GuardDuty event and drops a record that is not JSON and one that is no EventBridge event, without redelivering them', async () => {
    lab = await lambdaLab();
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const event = guardDutyEventFor(MEMBER, instance);
    const batch = await lab.findingsBatch([JSON.stringify(event), '{"detail-type": "GuardDuty Finding", "source": ', JSON.stringify({ hello: 'not an EventBridge event' })]);

    const response = await lab.findings(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    const groups = await interfaceGroups(ec2, instance);
    expect(new Set(Object.values(groups).flat()).size).toBe(1);
    expect(Object.values(groups).flat()[0]).not.toBe(Object.values(original(instance)).flat()[0]);
    expect(await terminationProtected(ec2, instance.instanceId)).toBe(true);
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(2);
    expect(lab.metrics.total(RiposteMetric.Runs, 'succeeded')).toBe(1);
    expect(lab.metrics.total(RiposteMetric.Steps, 'changed')).toBe(6);
    expect(lab.metrics.total(RiposteMetric.RecordsRetried)).toBe(0);
    // The run carries the event's id as its correlation id.
    const [runId] = startedRuns(lab);
    expect(await lab.runtime.ledger.getRun(runId as string)).toMatchObject({ status: 'succeeded', correlationId: event.id, trigger: 'automatic', mode: 'enforce' });
    const dropped = lab.logs.entries.filter((entry) => entry.message.startsWith('message dropped'));
    expect(dropped.map((entry) => entry.attributes.messageId)).toEqual([batch.Records[1]?.messageId, batch.Records[2]?.messageId]);
  });

  it('isolates the instance of a Security Hub-imported GuardDuty finding (securityhub-imported-guardduty-ec2.json), and Security Hub then holds the run’s note and RESOLVED', async () => {
    lab = await lambdaLab();
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const event = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER, {
      'i-0a1b2c3d4e5f60718': instance.instanceId,
      'web-prod-instance-profile': instance.profileArn.split('/').pop() as string,
    });
    const batch = await lab.findingsBatch([JSON.stringify(event)]);

    const response = await lab.findings(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(new Set(Object.values(await interfaceGroups(ec2, instance)).flat()).size).toBe(1);
    expect(lab.metrics.total(RiposteMetric.Runs, 'succeeded')).toBe(1);
    const [runId] = startedRuns(lab);
    expect(await lab.runtime.ledger.getRun(runId as string)).toMatchObject({ status: 'succeeded', outcome: { workflowStatus: 'RESOLVED', details: { record: { securityHub: 'done' } } } });
    // Read back from the emulator's Security Hub, where the function's BatchUpdateFindings went.
    const held = await readEventFinding(event);
    expect(held?.Workflow?.Status).toBe('RESOLVED');
    expect(held?.Note).toMatchObject({ UpdatedBy: RIPOSTE_NOTE_AUTHOR, Text: expect.stringMatching(new RegExp(`^\\[riposte run ${runId as string} playbook ec2-compromise-isolate\\] RESOLVED`)) });
    expect(lab.lab.findingUpdates().map((update) => update.Workflow?.Status)).toEqual(['RESOLVED']);
  });

  it('hands back the record whose run could not reach the ledger (connection refused), not the malformed one, and the redelivery isolates the instance', async () => {
    lab = await lambdaLab();
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const batch = await lab.findingsBatch([JSON.stringify(guardDutyEventFor(MEMBER, instance)), 'not json at all']);
    // The first ledger call (the idempotency claim) finds Riposte's AWS endpoint gone.
    lab.proxy.goDownWhen((request) => String(request.headers['x-amz-target'] ?? '').startsWith('DynamoDB_'));

    const response = await lab.findings(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[0]?.messageId }] });
    expect(await interfaceGroups(ec2, instance)).toEqual(original(instance));
    expect(lab.metrics.total(RiposteMetric.RecordsRetried)).toBe(1);
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(1);

    // SQS delivers the message again once the endpoint is back.
    await lab.proxy.up();
    const again = await lab.findings({ Records: [batch.Records[0] as (typeof batch.Records)[number]] }, lambdaContext());

    expect(again).toEqual({ batchItemFailures: [] });
    expect(new Set(Object.values(await interfaceGroups(ec2, instance)).flat()).size).toBe(1);
  });

  it('records a run that failed for a reason a retry cannot change (no evidence bucket configured) and does not redeliver it', async () => {
    lab = await lambdaLab({ without: ['RIPOSTE_EVIDENCE_BUCKET'] });
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const batch = await lab.findingsBatch([JSON.stringify(guardDutyEventFor(MEMBER, instance))]);

    const response = await lab.findings(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.Runs, 'failed')).toBe(1);
    const runs = lab.metrics.published.filter((point) => point.name === RiposteMetric.Runs);
    expect(runs).toEqual([{ name: 'Runs', value: 1, dimension: { name: 'outcome', value: 'failed' } }]);
    const record = (await lab.runtime.ledger.getRun(startedRuns(lab)[0] as string)) as RunRecord;
    expect(record.status).toBe('failed');
    // The evidence step's plan fails ("no evidence bucket is configured"), so it does not run; containment runs beside
    // it and does not wait for it. The run is failed all the same: never RESOLVED without its evidence.
    expect(record.steps.find((step) => step.action === 'ec2.capture-metadata' && step.status === 'failed')?.error).toMatchObject({ code: 'ACTION_EVIDENCE_BUCKET_NOT_CONFIGURED', retryable: false });
    expect(record.steps.find((step) => step.action === 'ec2.capture-metadata' && step.phase === 'run')?.status).toBe('skipped');
    expect(record.outcome?.workflowStatus).toBe('NOTIFIED');
    const isolated = await interfaceGroups(ec2, instance);
    expect(new Set(Object.values(isolated).flat()).size).toBe(1);
    expect(isolated).not.toEqual(original(instance));
  });

  it('stops before a step with less than 30 s of the Lambda left, and the resume function finishes the run from the resume queue', async () => {
    lab = await lambdaLab();
    const instance = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const batch = await lab.findingsBatch([JSON.stringify(guardDutyEventFor(MEMBER, instance))]);

    // 20 s left: under the pipeline's 30 s margin from the start, whatever the machine's speed.
    const response = await lab.findings(batch, lambdaContext(20_000));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.Runs, 'in-progress')).toBe(1);
    expect(await interfaceGroups(ec2, instance)).toEqual(original(instance));
    expect(await terminationProtected(ec2, instance.instanceId)).toBe(false);

    const resumes = await lab.resumeBatch(1);
    const request = JSON.parse(resumes.Records[0]?.body as string) as { kind: string; runId: string; resumes: number };
    expect(request).toMatchObject({ kind: 'riposte.resume', resumes: 1 });
    const resumed = await lab.resume(resumes, lambdaContext(900_000, 'riposte-test-resume'));

    expect(resumed).toEqual({ batchItemFailures: [] });
    expect(await terminationProtected(ec2, instance.instanceId)).toBe(true);
    expect(new Set(Object.values(await interfaceGroups(ec2, instance)).flat()).size).toBe(1);
    const record = (await lab.runtime.ledger.getRun(request.runId)) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(record.history.map((transition) => transition.state.stage)).toContain('paused');
  });
});

describe('resume handler (SQS batch of resume requests)', () => {
  it('drops a message that is not a resume request and one naming a run the ledger does not hold, and redelivers neither', async () => {
    lab = await lambdaLab();
    const records = [
      { messageId: 'm-not-json', body: 'resume please' },
      { messageId: 'm-unknown-run', body: JSON.stringify({ kind: 'riposte.resume', runId: 'r-20260314T092107Z-000000000000', resumes: 1, correlationId: 'c-1' }) },
    ].map((record) => ({
      ...record,
      receiptHandle: `AQEB${record.messageId}`,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1741944067412', SenderId: 'AROA4EXAMPLE:riposte', ApproximateFirstReceiveTimestamp: '1741944067413' },
      messageAttributes: {},
      md5OfBody: '0',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:riposte-test-resume',
      awsRegion: 'us-east-1',
    }));

    const response = await lab.resume({ Records: records }, lambdaContext(900_000, 'riposte-test-resume'));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(2);
  });
});
