import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';

import { NotificationPublishError, publishNotification, runNotification } from '../../../src/pipeline/record/index.js';
import { emulatorClientFactory, emulatorData, resetEmulator } from '../../support/emulator.js';
import { passwordPolicySummary } from './summaries.js';

/** A topic with an SQS queue subscribed (raw delivery: the queue gets the message itself), in `region`. */
async function topicWithQueue(region: string): Promise<{ topicArn: string; queueUrl: string }> {
  const factory = emulatorClientFactory(region);
  const sns = factory.create(SNSClient);
  const sqs = factory.create(SQSClient);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'riposte-runs' }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'riposte-runs-inbox' }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn, Attributes: { RawMessageDelivery: 'true' } }));
  return { topicArn: TopicArn as string, queueUrl: QueueUrl as string };
}

describe('publishNotification', () => {
  beforeEach(() => resetEmulator());

  it('publishes the run notification in the topic’s region, delivered to a subscribed queue', async () => {
    // The factory's default region is us-east-1: the topic's ARN must decide.
    const { topicArn, queueUrl } = await topicWithQueue('eu-west-1');
    const notification = runNotification(passwordPolicySummary());

    const { messageId } = await publishNotification(emulatorClientFactory('us-east-1'), topicArn, notification);

    const { Messages } = await emulatorClientFactory('eu-west-1')
      .create(SQSClient)
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(Messages?.map((message) => message.Body)).toEqual([notification.message]);
    // moto keeps each topic's sent notifications as [message id, message, subject, attributes, group id].
    const data = (await emulatorData()) as { sns: { Topic: Array<{ arn: string; sent_notifications: Array<[string, string, string]> }> } };
    const sent = data.sns.Topic.find((topic) => topic.arn === topicArn)?.sent_notifications ?? [];
    expect(sent.map(([id, , subject]) => [id, subject])).toEqual([[messageId, 'Riposte RESOLVED: cis-password-policy on MEDIUM finding in 111122223333']]);
  });

  it('fails with a typed error carrying the topic’s account and region when the topic does not exist', async () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:no-such-topic';

    const error: unknown = await publishNotification(emulatorClientFactory(), topicArn, { subject: 's', message: 'm' }, { runId: 'run-0001' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotificationPublishError);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringMatching(/^publishing to arn:aws:sns:us-east-1:123456789012:no-such-topic failed: NotFound/),
      context: { account: '123456789012', region: 'us-east-1', resource: topicArn, runId: 'run-0001' },
    });
  });

  it('refuses what is not an SNS topic ARN before calling SNS', async () => {
    const error: unknown = await publishNotification(emulatorClientFactory(), 'riposte-runs', { subject: 's', message: 'm' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(NotificationPublishError);
    expect(error).toMatchObject({ message: 'not an SNS topic ARN: riposte-runs', context: { resource: 'riposte-runs' } });
  });
});
