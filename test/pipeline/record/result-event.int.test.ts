import { CreateEventBusCommand, EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';

import { publishResultEvent, RESULT_EVENT_DETAIL_TYPE, ResultEventError, type ResultEventDetail } from '../../../src/pipeline/record/index.js';
import { emulatorClientFactory, resetEmulator } from '../../support/emulator.js';
import { hugeSummary, passwordPolicySummary } from './summaries.js';

const bus = { busName: 'riposte-results', region: 'us-east-1' };

interface DeliveredEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly resources: string[];
  readonly detail: ResultEventDetail;
}

/** A queue receiving what a rule with `pattern` matches on the results bus. */
async function ruleToQueue(name: string, pattern: object): Promise<string> {
  const factory = emulatorClientFactory();
  const sqs = factory.create(SQSClient);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const events = factory.create(EventBridgeClient);
  await events.send(new PutRuleCommand({ Name: name, EventBusName: bus.busName, EventPattern: JSON.stringify(pattern) }));
  await events.send(new PutTargetsCommand({ Rule: name, EventBusName: bus.busName, Targets: [{ Id: 'queue', Arn: Attributes?.QueueArn }] }));
  return QueueUrl as string;
}

async function received(queueUrl: string): Promise<DeliveredEvent[]> {
  const { Messages } = await emulatorClientFactory()
    .create(SQSClient)
    .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}') as DeliveredEvent);
}

describe('publishResultEvent', () => {
  let results: string;
  let failures: string;

  beforeEach(async () => {
    await resetEmulator();
    await emulatorClientFactory()
      .create(EventBridgeClient)
      .send(new CreateEventBusCommand({ Name: bus.busName }));
    results = await ruleToQueue('riposte-results-all', { source: ['riposte'], 'detail-type': [RESULT_EVENT_DETAIL_TYPE] });
    failures = await ruleToQueue('riposte-results-failed', { source: ['riposte'], 'detail-type': [RESULT_EVENT_DETAIL_TYPE], detail: { status: ['failed'] } });
  });

  it('puts the run summary on the bus, where a rule on source and detail type delivers it to a queue', async () => {
    const summary = hugeSummary(2, 20);

    const { eventId } = await publishResultEvent(emulatorClientFactory(), bus, summary);

    const [event, ...more] = await received(results);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      id: eventId,
      source: 'riposte',
      'detail-type': 'Riposte Remediation Result',
      resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718'],
    });
    expect(event?.detail).toEqual(summary);
    expect(await received(failures)).toEqual([]);
  });

  it('lets rules route on the run’s fields, e.g. only failed runs', async () => {
    await publishResultEvent(emulatorClientFactory(), bus, passwordPolicySummary({ status: 'failed', outcome: { summary: 'AccessDenied' } }));

    expect((await received(failures)).map((event) => [event.detail.runId, event.detail.status, event.resources])).toEqual([['run-0001', 'failed', []]]);
  });

  it('delivers a run too big for one event cut down, marked truncated', async () => {
    const summary = hugeSummary(60, 8_000);

    await publishResultEvent(emulatorClientFactory(), bus, summary);

    const [event] = await received(results);
    expect(event?.detail).toMatchObject({ runId: 'run-0001', truncated: true });
    expect(event?.detail.steps).toHaveLength(60);
  });

  it('fails with a typed error giving the failed entry’s code and message', async () => {
    // moto fails an entry without a source, as EventBridge does (FailedEntryCount 1, ErrorCode InvalidArgument).
    const error: unknown = await publishResultEvent(emulatorClientFactory(), { ...bus, source: '' }, passwordPolicySummary()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ResultEventError);
    expect(error).toMatchObject({
      errorCode: 'InvalidArgument',
      retryable: false,
      message: 'EventBridge did not take the result event on riposte-results: InvalidArgument Parameter Source is not valid. Reason: Source is a required argument.',
      context: { account: '111122223333', region: 'us-east-1', resource: 'riposte-results', runId: 'run-0001', playbook: 'cis-password-policy', errorCode: 'InvalidArgument' },
    });
  });

  it('wraps a failed call (no such bus) in the same typed error', async () => {
    const error: unknown = await publishResultEvent(emulatorClientFactory(), { ...bus, busName: 'no-such-bus' }, passwordPolicySummary()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ResultEventError);
    expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(/^putting the result event on no-such-bus failed: ResourceNotFoundException/) });
  });
});
