import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';

import { clampDelaySeconds, InvalidResumeRequestError, MemoryResumeQueue, readResumeRequests, ResumeQueueError, SqsResumeQueue, type ResumeRequest } from '../../../src/pipeline/record/index.js';

const request: ResumeRequest = { kind: 'riposte.resume', runId: 'run-0001', resumes: 0, correlationId: 'corr-0001' };

/** A Lambda SQS event record, as the SQS event source mapping delivers it. */
const sqsRecord = (messageId: string, body: string): Record<string, unknown> => ({
  messageId,
  receiptHandle: `handle-${messageId}`,
  body,
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1767258000000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1767258000001' },
  messageAttributes: {},
  md5OfBody: '0'.repeat(32),
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:999988887777:riposte-resume',
  awsRegion: 'us-east-1',
});

describe('clampDelaySeconds', () => {
  it('keeps delays within what SQS takes per message, rounding up', () => {
    expect([-5, 0, 1.2, 899.5, 900, 5_000, Number.POSITIVE_INFINITY, Number.NaN].map(clampDelaySeconds)).toEqual([0, 0, 2, 900, 900, 900, 900, 0]);
  });
});

describe('MemoryResumeQueue', () => {
  it('keeps what is scheduled, clamped, and hands requests out once due', async () => {
    let now = new Date('2026-05-01T10:00:00.000Z');
    const queue = new MemoryResumeQueue(() => now);

    await queue.schedule(request, 30);
    await queue.schedule({ ...request, runId: 'run-0002', resumes: 3 }, 4_000);

    expect(queue.scheduled).toEqual([
      { request, delaySeconds: 30, at: '2026-05-01T10:00:00.000Z' },
      { request: { ...request, runId: 'run-0002', resumes: 3 }, delaySeconds: 900, at: '2026-05-01T10:00:00.000Z' },
    ]);
    now = new Date('2026-05-01T10:00:29.000Z');
    expect(queue.take()).toEqual([]);
    now = new Date('2026-05-01T10:00:30.000Z');
    expect(queue.take()).toEqual([request]);
    expect(queue.scheduled.map((entry) => entry.request.runId)).toEqual(['run-0002']);
  });

  it('refuses a request a reader would reject', async () => {
    const error: unknown = await new MemoryResumeQueue().schedule({ ...request, resumes: -1 }, 0).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidResumeRequestError);
    expect(error).toMatchObject({ context: { runId: 'run-0001' }, message: expect.stringContaining('resumes:') });
  });
});

describe('SqsResumeQueue', () => {
  it('refuses a FIFO queue, which cannot delay single messages', () => {
    expect(() => new SqsResumeQueue(new SQSClient({ region: 'us-east-1' }), 'https://sqs.us-east-1.amazonaws.com/999988887777/riposte-resume.fifo')).toThrow(ResumeQueueError);
  });
});

describe('readResumeRequests', () => {
  it('reads every good record and turns each bad one into a typed error naming its message', () => {
    const event = {
      Records: [
        sqsRecord('m-good', JSON.stringify(request)),
        sqsRecord('m-not-json', '{"kind": "riposte.resume", '),
        sqsRecord('m-wrong-kind', JSON.stringify({ ...request, kind: 'riposte.something-else' })),
        sqsRecord('m-bad-resumes', JSON.stringify({ ...request, runId: 'run-0009', resumes: 'two' })),
        sqsRecord('m-good-2', JSON.stringify({ ...request, runId: 'run-0002', resumes: 1, extra: 'ignored' })),
        { receiptHandle: 'no-id', body: 'x' },
      ],
    };

    const { requests, errors, received } = readResumeRequests(event);

    expect(requests).toEqual([request, { ...request, runId: 'run-0002', resumes: 1 }]);
    expect(received.map((entry) => entry.messageId)).toEqual(['m-good', 'm-good-2']);
    expect(errors.every((error) => error instanceof InvalidResumeRequestError && !error.retryable)).toBe(true);
    expect(errors.map((error) => [error.messageId, error.context.field])).toEqual([
      ['m-not-json', 'Records[1].body'],
      ['m-wrong-kind', 'Records[2].body.kind'],
      ['m-bad-resumes', 'Records[3].body.resumes'],
      [undefined, 'Records[5]'],
    ]);
    expect(errors[0]?.message).toMatch(/^SQS message m-not-json: body is not JSON/);
    expect(errors[2]).toMatchObject({ context: { runId: 'run-0009', source: 'aws:sqs' }, message: expect.stringMatching(/^SQS message m-bad-resumes is not a resume request: resumes: /) });
  });

  it('answers an event that is not from SQS with one error, without throwing', () => {
    for (const input of [undefined, null, 'text', { Records: 'nope' }, { detail: {} }]) {
      const { requests, errors } = readResumeRequests(input);

      expect(requests).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'RESUME_REQUEST_INVALID', context: { field: 'Records' } });
    }
  });
});
