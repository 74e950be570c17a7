import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';

import { readResumeRequests, SqsResumeQueue, type ResumeRequest } from '../../../src/pipeline/record/index.js';
import { emulatorClientFactory, resetEmulator } from '../../support/emulator.js';

const request: ResumeRequest = { kind: 'riposte.resume', runId: 'run-0001', resumes: 1, correlationId: 'corr-0001' };

describe('SqsResumeQueue', () => {
  let sqs: SQSClient;
  let queueUrl: string;
  /** The messages visible now; `visibilityTimeout` 0 leaves them visible (a look that takes nothing). */
  const receive = async (visibilityTimeout?: number): Promise<{ messageId: string; body: string }[]> => {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: visibilityTimeout }));
    return (Messages ?? []).map((message) => ({ messageId: message.MessageId ?? '', body: message.Body ?? '' }));
  };

  beforeEach(async () => {
    await resetEmulator();
    sqs = emulatorClientFactory().create(SQSClient);
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'riposte-resume' }))).QueueUrl as string;
  });

  it('delays the message as asked: not receivable at once, not before 2 s, and read back by readResumeRequests', async () => {
    const delays: Array<number | undefined> = [];
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageCommand') delays.push((args.input as { DelaySeconds?: number }).DelaySeconds);
        return next(args);
      },
      { step: 'initialize', name: 'recordDelaySeconds' },
    );
    const started = Date.now();
    await new SqsResumeQueue(sqs, queueUrl).schedule(request, 2);

    // Not receivable at once: a message seen now came early, unless the machine was slow enough for the 2 s to pass (then nothing is proven here, and the wait below still is).
    const early = await receive(0);
    const lookedBy = Date.now();
    expect(early.length === 0 || lookedBy - started >= 2_000, `a message was seen ${String(lookedBy - started)} ms after it was sent with a 2 s delay`).toBe(true);
    let messages = await receive();
    // The bound only stops a hang: a loaded machine polls late, but the emulator never delivers early.
    while (messages.length === 0 && Date.now() - started < 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      messages = await receive();
    }
    const waited = Date.now() - started;

    expect(delays).toEqual([2]);
    // From before the send: SQS's delay starts later, when it accepts the message, so this holds on any machine.
    expect(waited).toBeGreaterThanOrEqual(2_000);
    const event = { Records: messages.map((message) => ({ ...message, eventSource: 'aws:sqs', awsRegion: 'us-east-1' })) };
    expect(readResumeRequests(event)).toEqual({ requests: [request], errors: [], received: [{ messageId: messages[0]?.messageId, request }] });
  });

  it('clamps delays to what SQS takes: past 900 s to 900, below 0 to 0', async () => {
    const queue = new SqsResumeQueue(sqs, queueUrl);

    // The emulator refuses 901 as SQS does: the clamped 900 is what made the first call succeed.
    const refused: unknown = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{}', DelaySeconds: 901 })).catch((caught: unknown) => caught);
    await queue.schedule({ ...request, runId: 'run-late' }, 5_000);
    await queue.schedule({ ...request, runId: 'run-now' }, -30);

    expect(refused).toMatchObject({ message: expect.stringContaining('DelaySeconds must be >= 0 and <= 900') });
    expect((await receive()).map((message) => (JSON.parse(message.body) as ResumeRequest).runId)).toEqual(['run-now']);
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }));
    expect(Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });
});
