import { createHash } from 'node:crypto';

import type { Message } from '@aws-sdk/client-sqs';

import type { SqsRecord } from './types.js';

/**
 * A message received from a queue as Lambda's SQS event source mapping
 * hands it to a function (field names and attributes as AWS spells them):
 * what the demo and the tests do in its place, after ReceiveMessage.
 */
export function sqsRecordOf(message: Pick<Message, 'MessageId' | 'ReceiptHandle' | 'Body' | 'Attributes' | 'MD5OfBody'>, queueArn: string, region: string): SqsRecord {
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body as string,
    attributes: message.Attributes ?? {},
    messageAttributes: {},
    md5OfBody:
      message.MD5OfBody ??
      createHash('md5')
        .update(message.Body ?? '')
        .digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}
