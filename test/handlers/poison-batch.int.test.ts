import { EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';

import { MAX_EVENT_BYTES } from '../../src/intake/index.js';
import { RiposteMetric, type SqsEvent, type SqsRecord } from '../../src/lambda/index.js';
import type { MemoryLogEntry } from '../../src/log/index.js';
import { compromisedInstance, eventFor, guardDutyEventFor, interfaceGroups, originalGroups as original, terminationProtected, type CompromisedInstance } from '../support/pipeline-lab.js';
import { lambdaContext, lambdaLab, type LambdaLab } from './lambda-lab.js';

/*
 * Issue 14, "Poison input": SQS batches of the findings queue that mix valid
 * finding events with input that is malformed, oversized, from a source
 * Riposte does not read, or no finding at all (test/fixtures/events/poison,
 * each shape's origin in its README). Through the deployed shape: the
 * findings handler over batches received from the queue on the emulator.
 */

const MEMBER = '222222222222';
const target = { account: MEMBER, region: 'us-east-1', partition: 'aws' as const, correlationId: 'readback' };

/** The GuardDuty finding id both valid fixtures carry; each event below gets its own. */
const FIXTURE_FINDING = '5a82ee9adccd84d14d108fae10cd4bb8';
/** The instance every poison input names: the bystander, which nothing may touch. */
const FIXTURE_INSTANCE = 'i-0a1b2c3d4e5f60718';
const FIXTURE_PROFILE = 'web-prod-instance-profile';

const SUPPORTED = /Riposte consumes: aws\.securityhub "Security Hub Findings - Imported"; .*aws\.guardduty "GuardDuty Finding"; aws\.config "Config Rules Compliance Change"$/;
const DELIVERED_EVENT = /Riposte expects an event as EventBridge delivers it \(version, id, detail-type, source, account, time, region, resources, detail\)$/;

let lab: LambdaLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

/** Isolated as the isolation playbook leaves an instance: every interface in one group (quarantine), none of its own, and termination protection on. */
async function expectIsolated(ec2: EC2Client, instance: CompromisedInstance): Promise<void> {
  const groups = await interfaceGroups(ec2, instance);
  expect(new Set(Object.values(groups).flat()).size).toBe(1);
  expect(groups).not.toEqual(original(instance));
  expect(await terminationProtected(ec2, instance.instanceId)).toBe(true);
}

/** One input that must be dropped, and what its reason must say: what it is, and what Riposte expected. */
interface Poison {
  readonly kind: string;
  readonly body: string;
  readonly code: string;
  readonly reason: readonly RegExp[];
}

/** The lines the handler wrote for dropped messages, by message id. */
function droppedLines(lab: LambdaLab): Map<string, MemoryLogEntry> {
  const lines = lab.logs.entries.filter((entry) => entry.message.startsWith('message dropped'));
  return new Map(lines.map((entry) => [entry.attributes.messageId as string, entry]));
}

/** The record of a batch that carries `body` (SQS does not promise the order it was sent in). */
function recordOf(batch: SqsEvent, body: string): SqsRecord {
  const record = batch.Records.find((candidate) => candidate.body === body);
  if (record === undefined) throw new Error('a message sent to the queue did not come back in the batch');
  return record;
}

/**
 * Every kind of poison input of the issue, each about the bystander instance
 * in the member account (so any action it led to would show on an instance
 * that must stay as it is), and each with a finding id of its own (so an
 * input read by mistake could not pass as a duplicate of a valid one).
 */
function poisonInputs(bystander: CompromisedInstance): Poison[] {
  const about = { [FIXTURE_INSTANCE]: bystander.instanceId, [FIXTURE_PROFILE]: bystander.profileArn.split('/').pop() as string, [FIXTURE_FINDING]: 'c0ffee00d15ea5e0c0ffee00d15ea5e0' };
  const poison = (name: string): string => JSON.stringify(eventFor(`poison/${name}`, MEMBER, about));
  const guardDuty = (id: string): Record<string, unknown> => ({ ...guardDutyEventFor(MEMBER, bystander, { [FIXTURE_FINDING]: 'c0ffee00d15ea5e0c0ffee00d15ea5e0' }), id });

  const oversized = guardDuty('7d1e4b2a-0c9f-4e38-b6a5-3f2d1c0b9a87');
  const detail = oversized.detail as { service: Record<string, unknown> };
  // Within SQS's 1 MiB, over EventBridge's 256 KB: no event EventBridge delivered.
  detail.service = { ...detail.service, additionalInfo: { value: JSON.stringify({ padding: 'A'.repeat(MAX_EVENT_BYTES) }), type: 'default' } };
  const truncated = JSON.stringify(guardDuty('1e6b3c9d-4f27-4a80-9d15-8c2e7f0a6b34'));

  return [
    { kind: 'malformed JSON', body: truncated.slice(0, Math.floor(truncated.length / 2)), code: 'INTAKE_MALFORMED_EVENT', reason: [/: is not valid JSON \(/] },
    { kind: 'oversized', body: JSON.stringify(oversized), code: 'INTAKE_EVENT_TOO_LARGE', reason: [/: event is \d+ bytes, over the 262144-byte limit$/] },
    {
      kind: 'unknown source (a GuardDuty finding re-published under a custom source)',
      body: JSON.stringify({ ...guardDuty('5b0c8e3f-2d61-4a97-8e4c-0f1a2b3c4d5e'), source: 'com.example.secops-forwarder' }),
      code: 'INTAKE_UNSUPPORTED_EVENT',
      reason: [/^com\.example\.secops-forwarder: unsupported event "GuardDuty Finding"; /, SUPPORTED],
    },
    {
      kind: 'unknown source (an Inspector finding, in its own format)',
      body: poison('inspector2-finding.json'),
      code: 'INTAKE_UNSUPPORTED_EVENT',
      reason: [/^aws\.inspector2: unsupported event "Inspector2 Finding" \(a finding in aws\.inspector2's own format, which Riposte reads once Security Hub has imported it/, SUPPORTED],
    },
    {
      kind: 'Security Hub Insight Results',
      body: poison('securityhub-insight-results.json'),
      code: 'INTAKE_UNSUPPORTED_EVENT',
      reason: [
        /^aws\.securityhub: unsupported event "Security Hub Insight Results" \(the results of a Security Hub insight sent to a custom action: counts of findings per value, not the findings\); /,
        SUPPORTED,
      ],
    },
    {
      kind: 'AWS API Call via CloudTrail from aws.guardduty',
      body: poison('cloudtrail-guardduty-archive-findings.json'),
      code: 'INTAKE_UNSUPPORTED_EVENT',
      reason: [/^aws\.guardduty: unsupported event "AWS API Call via CloudTrail" \(a CloudTrail record of the API call guardduty:ArchiveFindings, not a finding\); /, SUPPORTED],
    },
    {
      kind: 'GuardDuty Runtime Protection Unhealthy',
      body: poison('guardduty-runtime-protection-unhealthy.json'),
      code: 'INTAKE_UNSUPPORTED_EVENT',
      reason: [
        /^aws\.guardduty: unsupported event "GuardDuty Runtime Protection Unhealthy" \(GuardDuty's notice that its Runtime Monitoring coverage of a resource changed, not a finding\); /,
        SUPPORTED,
      ],
    },
    {
      kind: 'bare ASFF finding',
      body: poison('bare-asff-finding.json'),
      code: 'INTAKE_MALFORMED_EVENT',
      reason: [
        /^sqs:[\w-]+: is a bare ASFF finding, without the EventBridge event that carries it; Riposte expects the aws\.securityhub "Security Hub Findings - Imported" event, with the finding in detail\.findings$/,
      ],
    },
    {
      kind: 'bare GuardDuty finding',
      body: poison('bare-guardduty-finding.json'),
      code: 'INTAKE_MALFORMED_EVENT',
      reason: [
        /^sqs:[\w-]+: is a bare GuardDuty finding, without the EventBridge event that carries it; Riposte expects the aws\.guardduty "GuardDuty Finding" event, with the finding as its detail$/,
      ],
    },
    {
      kind: 'boto3 put_events entry (PascalCase, Detail as JSON text)',
      body: poison('boto3-put-events-entry.json'),
      code: 'INTAKE_MALFORMED_EVENT',
      reason: [/^sqs:[\w-]+: is a PutEvents request entry \(Source, DetailType, Detail as JSON text\), not the event EventBridge delivers from it; /, DELIVERED_EVENT],
    },
    {
      kind: 'PascalCase envelope around ASFF findings',
      body: poison('pascalcase-envelope-asff.json'),
      code: 'INTAKE_MALFORMED_EVENT',
      reason: [
        /^sqs:[\w-]+: is an EventBridge event with PascalCase keys \(DetailType, Source, Detail\), as an SDK's event class serialises it, not the event EventBridge delivers; /,
        DELIVERED_EVENT,
      ],
    },
    {
      kind: "a Config rule's Lambda invocation payload",
      body: poison('config-rule-lambda-invocation.json'),
      code: 'INTAKE_MALFORMED_EVENT',
      reason: [
        /^sqs:[\w-]+: is the payload AWS Config invokes a custom rule's Lambda function with \(invokingEvent, ruleParameters, resultToken\), not an EventBridge event; Riposte reads a Config rule's result as the aws\.config "Config Rules Compliance Change" event$/,
      ],
    },
  ];
}

describe('findings handler fed poison input (issue 14, fault tolerance)', () => {
  it('isolates the instances of the valid GuardDuty and Security Hub events in batches mixed with every kind of poison input, drops each poison message with a reason naming what it is and what Riposte expected, redelivers none, and acts on none', async () => {
    lab = await lambdaLab();
    const clients = lab.lab.clients;
    const first = await compromisedInstance(clients, MEMBER);
    const second = await compromisedInstance(clients, MEMBER, { suffix: '-b' });
    const bystander = await compromisedInstance(clients, MEMBER, { suffix: '-c' });
    const ec2 = clients.create(EC2Client, target);
    const guardDuty = guardDutyEventFor(MEMBER, first);
    const securityHub = eventFor('securityhub-imported-guardduty-ec2.json', MEMBER, {
      [FIXTURE_INSTANCE]: second.instanceId,
      [FIXTURE_PROFILE]: second.profileArn.split('/').pop() as string,
      [FIXTURE_FINDING]: 'b7c4e19a2d3f5068a1b2c3d4e5f60789',
    });
    const poison = poisonInputs(bystander);
    // The event source hands a function at most 10 records: two batches, each a valid event among poison.
    const batches = [
      [JSON.stringify(guardDuty), ...poison.slice(0, 6).map((input) => input.body)],
      [...poison.slice(6).map((input) => input.body), JSON.stringify(securityHub)],
    ];

    const delivered: SqsEvent[] = [];
    for (const bodies of batches) {
      const batch = await lab.findingsBatch(bodies);
      expect(batch.Records).toHaveLength(bodies.length);
      delivered.push(batch);
      // The handler returns normally, and hands back nothing: no retry can fix any of these.
      expect(await lab.findings(batch, lambdaContext())).toEqual({ batchItemFailures: [] });
    }

    // Every valid event processed: its run in the ledger, succeeded, under the event's id; its instance isolated.
    await expectIsolated(ec2, first);
    await expectIsolated(ec2, second);
    const ledger = lab.runtime.ledger;
    const runs = await Promise.all((await ledger.listRuns()).map((run) => ledger.getRun(run.runId)));
    expect(runs.map((run) => run?.correlationId).sort()).toEqual([guardDuty.id, securityHub.id].sort());
    for (const run of runs) expect(run).toMatchObject({ status: 'succeeded', account: MEMBER, trigger: 'automatic', mode: 'enforce' });
    expect(lab.metrics.total(RiposteMetric.Runs, 'succeeded')).toBe(2);

    // No poison input became a finding: no run beside those two (above), nothing changed on the instance they all name,
    // and Security Hub was written only for the valid Security Hub event's finding.
    expect(await interfaceGroups(ec2, bystander)).toEqual(original(bystander));
    expect(await terminationProtected(ec2, bystander.instanceId)).toBe(false);
    expect(lab.lab.findingUpdates().map((update) => update.FindingIdentifiers?.map((identifier) => identifier.Id))).toEqual([
      [(securityHub.detail as { findings: Array<{ Id: string }> }).findings[0]?.Id],
    ]);
    expect(lab.metrics.total(RiposteMetric.FindingsRejected)).toBe(0);

    // Every poison message dropped, counted and logged once, its reason saying what it is and what Riposte expected.
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(poison.length);
    expect(lab.metrics.total(RiposteMetric.RecordsRetried)).toBe(0);
    const dropped = droppedLines(lab);
    expect(dropped.size).toBe(poison.length);
    expect(lab.logs.entries.filter((entry) => entry.message.startsWith('message dropped'))).toHaveLength(poison.length);
    for (const [index, input] of poison.entries()) {
      const record = recordOf(delivered[index < 6 ? 0 : 1] as SqsEvent, input.body);
      const error = dropped.get(record.messageId)?.attributes.error as { code: string; message: string; retryable: boolean; context: Record<string, unknown> } | undefined;
      expect(error, input.kind).toMatchObject({ code: input.code, retryable: false });
      for (const reason of input.reason) expect(error?.message, input.kind).toMatch(reason);
    }
    const oversized = recordOf(delivered[0] as SqsEvent, (poison[1] as Poison).body);
    expect(dropped.get(oversized.messageId)?.attributes.error).toMatchObject({ context: { bytes: expect.any(Number) as number, limit: MAX_EVENT_BYTES } });
    expect(Buffer.byteLength(oversized.body)).toBeGreaterThan(MAX_EVENT_BYTES);
  });

  it('returns normally from a full batch of ten poison messages, handing none back, and a second delivery of the same messages is dropped the same way', async () => {
    lab = await lambdaLab();
    const bystander = await compromisedInstance(lab.lab.clients, MEMBER);
    const ec2 = lab.lab.clients.create(EC2Client, target);
    const poison = poisonInputs(bystander).slice(0, 10);
    const batch = await lab.findingsBatch(poison.map((input) => input.body));

    const response = await lab.findings(batch, lambdaContext());
    // SQS delivers at least once: the same messages may come again.
    const again = await lab.findings(batch, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(lab.metrics.total(RiposteMetric.MalformedRecordsDropped)).toBe(20);
    expect(lab.metrics.total(RiposteMetric.RecordsRetried)).toBe(0);
    const lines = lab.logs.entries.filter((entry) => entry.message.startsWith('message dropped'));
    expect(lines.map((entry) => entry.attributes.messageId).sort()).toEqual([...batch.Records, ...batch.Records].map((record) => record.messageId).sort());
    expect(await lab.runtime.ledger.listRuns()).toEqual([]);
    expect(await interfaceGroups(ec2, bystander)).toEqual(original(bystander));
    expect(await terminationProtected(ec2, bystander.instanceId)).toBe(false);
  });
});
